package worker_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/worker/workertest"
	"github.com/stretchr/testify/require"
)

// TestReplayFromBeforeTheRetentionHorizonAsksForAResync runs the api and
// the worker: messages are sent and replayable; the worker, on a clock
// three months ahead, runs the retention job; replay from before the
// horizon then answers 410 resync_required, and the log goes on from
// there.
func TestReplayFromBeforeTheRetentionHorizonAsksForAResync(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	convtest.Send(t, s, ann, g.ID, "one")
	convtest.Send(t, s, bob, g.ID, "two")
	events := "/conversations/" + g.ID.String() + "/events?after_seq="
	page := convtest.Get[convtest.Page[map[string]any]](t, s, ann, events+"0")
	require.NotEmpty(t, page.Items)
	last := len(page.Items)

	ahead := time.Until(time.Now().AddDate(0, 3, 0))
	vars := workertest.Vars(s)
	vars["EVENT_RETENTION"] = "720h"
	workertest.StartWith(t, vars, func() time.Time { return time.Now().Add(ahead) })
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, s.Deps.DB.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE kind = 'event_retention' AND state = 'completed'`).Scan(&n))
		return n > 0
	}, 15*time.Second, 20*time.Millisecond, "the retention job runs when the worker starts")

	r := s.Do("GET", events+"0", ann.Token, nil)
	require.Equal(t, http.StatusGone, r.Status, "%s", r.Body)
	require.Equal(t, "resync_required", r.Code())

	convtest.Send(t, s, ann, g.ID, "three")
	page = convtest.Get[convtest.Page[map[string]any]](t, s, ann, events+strconv.Itoa(last))
	require.Len(t, page.Items, 1, "replay after the horizon goes on")
}
