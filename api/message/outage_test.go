package message_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/membership"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/tcpproxy"
	"github.com/stretchr/testify/require"
)

func TestNoEventIsLostWhenStreamsRedisIsDownBetweenCommitAndXADD(t *testing.T) {
	t.Parallel()
	px, streams := tcpproxy.Through(t, redistest.URL(t))
	s := apitest.Start(t, map[string]string{
		"REDIS_STREAMS_URL": streams,
		"PUBLISH_TIMEOUT":   "300ms",
	})
	startRelay(t, s)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, ann, "group", "g", bob) // seqs 1, 2
	convtest.Send(t, s, ann, g.ID, "before")           // seq 3
	convtest.WaitSeqs(t, s, g.ID, 3)

	// The streams Redis goes away: writes still commit and answer 201;
	// their events cannot be appended.
	px.Down()
	for range 5 {
		convtest.Send(t, s, bob, g.ID, "while down") // seqs 4..8
	}
	require.Equal(t, []int64{1, 2, 3}, convtest.Seqs(t, s, g.ID))

	// Back up: the relay appends every committed event, in order, once.
	px.Up()
	convtest.Send(t, s, ann, g.ID, "after") // seq 9, parked until 4..8 land
	convtest.WaitSeqs(t, s, g.ID, 9)
}

// startRelay runs, for the test, the relay the worker runs in production:
// over the stack's database and streams, with the member set repair hook.
func startRelay(t *testing.T, s *apitest.Stack) {
	d := s.Deps
	guard := eventlog.NewGuard(d.Streams, d.Keys, d.Cfg.StreamMaxLen, d.DB)
	relay := eventlog.NewRelay(guard, d.DB, d.Log, time.Now,
		eventlog.RelayConfig{Grace: 200 * time.Millisecond, Interval: 50 * time.Millisecond}, nil,
		membership.New(d.Redis, d.Keys, d.DB).RelayHook())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); relay.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}
