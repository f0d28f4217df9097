package replica_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// node starts an api on pair's primary and replica. The first node of a
// test gets its own Redis prefix and keys; later ones share them, as the
// api nodes of one deployment do.
func node(t *testing.T, pair *pgtest.Pair, first *apitest.Stack, nodeID string, env map[string]string) *apitest.Stack {
	t.Helper()
	vars := map[string]string{"DATABASE_URL": pair.PrimaryURL, "DATABASE_REPLICA_URL": pair.ReplicaURL,
		"NODE_ID": nodeID, "LOG_LEVEL": "info"}
	if first != nil {
		vars["REDIS_URL"], vars["REDIS_KEY_PREFIX"], vars["JWT_KEY_DIR"] = first.RedisURL, first.Deps.Keys.Prefix, first.KeyDir
	}
	for k, v := range env {
		vars[k] = v
	}
	return apitest.Start(t, vars)
}

// metric is the value of the api's metric name with labels (name="v"
// pairs), 0 when it has none yet.
func metric(t *testing.T, s *apitest.Stack, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := s.Deps.Metrics.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue next
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// usable waits until every node routes lagging reads to the replica.
func usable(t *testing.T, nodes ...*apitest.Stack) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, s := range nodes {
			if metric(t, s, "chatterly_api_replica_usable") != 1 {
				return false
			}
		}
		return true
	}, 20*time.Second, 20*time.Millisecond, "the replica never became usable")
}

// older is u's page of c's messages older than anything sent so far (a
// read that may lag), as bodies.
func older(t *testing.T, s *apitest.Stack, u convtest.User, c id.ID) []string {
	t.Helper()
	p := convtest.Get[convtest.Page[convtest.Message]](t, s, u, "/conversations/"+c.String()+"/messages?before="+s.Deps.IDs.Next().String())
	return bodies(p.Items)
}

func bodies(ms []convtest.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, *m.Body)
	}
	return out
}

// logLines are the api's log lines whose msg is msg.
func logLines(t *testing.T, s *apitest.Stack, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(s.Log.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

const (
	offLine = "replica not used: reads that may lag go to the primary"
	onLine  = "replica in use: reads that may lag go to it"
)

// With the replica's replay paused, it lags: the reads that may lag show
// what it has, but never to the person who wrote what it lacks, on any api
// node; the reads that must not lag show everything to everyone. The lag
// is exported, and once replay resumes everybody sees everything.
func TestLaggingReadsUseTheReplicaButNeverHideOwnWrites(t *testing.T) {
	t.Parallel()
	pair := pgtest.Replicated(t)
	env := map[string]string{"DATABASE_REPLICA_MAX_LAG": "1m"}
	a := node(t, pair, nil, "1", env)
	b := node(t, pair, a, "2", env)
	ann, bob := convtest.NewUser(t, a, "ann"), convtest.NewUser(t, a, "bob")
	g := convtest.Create(t, a, ann, "group", "lag", bob)
	first := convtest.Send(t, a, ann, g.ID, "first")
	usable(t, a, b)
	require.Eventually(t, func() bool { return len(older(t, b, bob, g.ID)) == 1 }, 10*time.Second, 20*time.Millisecond)

	events := func() int {
		return len(convtest.Get[convtest.Page[struct{ Seq int64 }]](t, b, bob, "/conversations/"+g.ID.String()+"/events").Items)
	}
	logged := events()

	pair.Replica.PauseReplay()
	convtest.Send(t, a, ann, g.ID, "second")
	ch := convtest.Create(t, a, ann, "channel", "later")

	// ann wrote through node a and reads through node b: her own writes.
	require.Equal(t, []string{"second", "first"}, older(t, b, ann, g.ID))
	require.Len(t, convtest.Get[convtest.Page[convtest.Conversation]](t, b, ann, "/channels").Items, 1)
	require.Len(t, convtest.Get[convtest.Page[json.RawMessage]](t, b, ann, "/conversations/"+ch.ID.String()+"/members").Items, 1)
	require.Positive(t, metric(t, b, "chatterly_api_replica_reads_total", "served_by", "primary", "reason", "own_write"))

	// bob wrote nothing: the older page, the channel directory and the
	// member list come from the replica, which lacks ann's writes.
	for _, s := range []*apitest.Stack{a, b} {
		require.Equal(t, []string{"first"}, older(t, s, bob, g.ID))
		require.Empty(t, convtest.Get[convtest.Page[convtest.Conversation]](t, s, bob, "/channels").Items)
		require.Empty(t, convtest.Get[convtest.Page[json.RawMessage]](t, s, bob, "/conversations/"+ch.ID.String()+"/members").Items)
	}
	require.Positive(t, metric(t, b, "chatterly_api_replica_reads_total", "served_by", "replica", "reason", "caught_up"))

	// The reads that must not lag see ann's message for bob too: the
	// newest page, what came after a message, the log, the conversation
	// list and the conversation.
	require.Len(t, convtest.Get[convtest.Page[convtest.Message]](t, b, bob, "/conversations/"+g.ID.String()+"/messages").Items, 2)
	require.Len(t, convtest.Get[convtest.Page[convtest.Message]](t, b, bob, "/conversations/"+g.ID.String()+"/messages?after="+first.ID.String()).Items, 1)
	require.Equal(t, logged+1, events())
	list := convtest.Get[convtest.Page[convtest.Conversation]](t, b, bob, "/conversations")
	require.Len(t, list.Items, 1)
	require.Equal(t, "second", *list.Items[0].LastMessage.Body)
	require.Equal(t, http.StatusOK, b.Do("GET", "/messages/"+first.ID.String()+"/replies", bob.Token, nil).Status)

	// The lag shows in the metrics of both nodes.
	for _, s := range []*apitest.Stack{a, b} {
		require.Eventually(t, func() bool {
			return metric(t, s, "chatterly_api_replica_lag_bytes") > 0 && metric(t, s, "chatterly_api_replica_lag_seconds") > 0
		}, 10*time.Second, 20*time.Millisecond)
	}

	pair.Replica.ResumeReplay()
	require.Eventually(t, func() bool { return len(older(t, b, bob, g.ID)) == 2 }, 10*time.Second, 20*time.Millisecond)
	for _, s := range []*apitest.Stack{a, b} {
		require.Eventually(t, func() bool {
			return metric(t, s, "chatterly_api_replica_lag_bytes") == 0 && metric(t, s, "chatterly_api_replica_lag_seconds") == 0
		}, 10*time.Second, 20*time.Millisecond)
	}
	// Caught up, ann's reads are the replica's again.
	before := metric(t, b, "chatterly_api_replica_reads_total", "served_by", "replica", "reason", "caught_up")
	require.Equal(t, []string{"second", "first"}, older(t, b, ann, g.ID))
	require.Greater(t, metric(t, b, "chatterly_api_replica_reads_total", "served_by", "replica", "reason", "caught_up"), before)
}

// A replica stopped with pg_ctl: the reads that may lag go on, from the
// primary (counted, and logged once, not per read); an api node starts
// while it is down; once it is started again the reads return to it.
func TestStoppedReplicaFallsBackToThePrimaryAndReturns(t *testing.T) {
	t.Parallel()
	pair := pgtest.Replicated(t)
	a := node(t, pair, nil, "1", nil)
	ann, bob := convtest.NewUser(t, a, "ann"), convtest.NewUser(t, a, "bob")
	g := convtest.Create(t, a, ann, "group", "down", bob)
	convtest.Send(t, a, ann, g.ID, "first")
	usable(t, a)
	require.Eventually(t, func() bool { return len(older(t, a, bob, g.ID)) == 1 }, 10*time.Second, 20*time.Millisecond)

	pair.Replica.Stop()
	for range 5 {
		require.Equal(t, []string{"first"}, older(t, a, bob, g.ID))
	}
	convtest.Send(t, a, ann, g.ID, "second")
	require.Equal(t, []string{"second", "first"}, older(t, a, bob, g.ID), "the primary answers while the replica is down")
	require.Zero(t, metric(t, a, "chatterly_api_replica_usable"))
	require.Positive(t, metric(t, a, "chatterly_api_replica_reads_total", "served_by", "primary", "reason", "replica_down")+
		metric(t, a, "chatterly_api_replica_reads_total", "served_by", "primary", "reason", "replica_failed"))
	off := logLines(t, a, offLine)
	require.Len(t, off, 1, "one line however many reads:\n%s", a.Log)
	require.Equal(t, "replica_down", off[0]["reason"])

	// Another api node starts with its replica down, and serves.
	c := node(t, pair, a, "2", nil)
	require.Equal(t, []string{"second", "first"}, older(t, c, bob, g.ID))
	require.Zero(t, metric(t, c, "chatterly_api_replica_usable"))

	pair.Replica.Start()
	usable(t, a, c)
	on := logLines(t, a, onLine)
	require.Len(t, on, 2, "in use at start, then again after the outage:\n%s", a.Log)
	require.Equal(t, "replica_down", on[1]["was"])
	require.Positive(t, on[1]["reads_on_primary"])

	// The reads are the replica's again: paused, it lacks a new message
	// that only the primary has.
	require.Eventually(t, func() bool { return len(older(t, c, bob, g.ID)) == 2 }, 10*time.Second, 20*time.Millisecond)
	pair.Replica.PauseReplay()
	convtest.Send(t, a, ann, g.ID, "third")
	for _, s := range []*apitest.Stack{a, c} {
		require.Equal(t, []string{"second", "first"}, older(t, s, bob, g.ID))
	}
	require.Equal(t, []string{"third", "second", "first"}, older(t, c, ann, g.ID))
	pair.Replica.ResumeReplay()
}

// A replica further behind than DATABASE_REPLICA_MAX_LAG serves nothing
// until it has caught up again.
func TestReplicaTooFarBehindIsNotUsed(t *testing.T) {
	t.Parallel()
	pair := pgtest.Replicated(t)
	a := node(t, pair, nil, "1", map[string]string{"DATABASE_REPLICA_MAX_LAG": "1s"})
	ann, bob := convtest.NewUser(t, a, "ann"), convtest.NewUser(t, a, "bob")
	g := convtest.Create(t, a, ann, "group", "behind", bob)
	usable(t, a)

	pair.Replica.PauseReplay()
	convtest.Send(t, a, ann, g.ID, "first")
	require.Eventually(t, func() bool { return metric(t, a, "chatterly_api_replica_usable") == 0 }, 10*time.Second, 20*time.Millisecond)
	require.GreaterOrEqual(t, metric(t, a, "chatterly_api_replica_lag_seconds"), 1.0)
	require.Equal(t, []string{"first"}, older(t, a, bob, g.ID))
	require.Positive(t, metric(t, a, "chatterly_api_replica_reads_total", "served_by", "primary", "reason", "replica_behind"))
	require.Equal(t, "replica_behind", logLines(t, a, offLine)[0]["reason"])

	pair.Replica.ResumeReplay()
	usable(t, a)
}
