package fleet_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// TestFleet runs the whole stack on the Redis Cluster; its subtests share
// it and run in order, the master kill last (it leaves the cluster with a
// master that has no replica).
func TestFleet(t *testing.T) {
	f := startFleet(t)
	ann, bob, cat := f.register(0, "ann"), f.register(1, "bob"), f.register(0, "cat")

	// Conversations enough that their shard streams sit on every master.
	var convs []id.ID
	onMaster := map[int]bool{}
	for len(convs) < 4 || len(onMaster) < 3 {
		require.Less(t, len(convs), 40, "conversations never reached every master")
		c := f.group(len(convs)%2, ann, bob, cat)
		convs = append(convs, c)
		m, err := cluster.MasterOf(f.keys.Stream(f.keys.ShardOf(rkey.ConversationTopic(c))))
		require.NoError(t, err)
		onMaster[m.Port] = true
	}
	// Sockets on both edges: each user's events cross from the api that
	// took the send, through the cluster, to the edge holding the socket.
	sockets := []*socket{
		f.connect(0, ann, convs...), f.connect(1, bob, convs...),
		f.connect(0, cat, convs...), f.connect(1, cat, convs...),
	}

	t.Run("messages cross every node", func(t *testing.T) {
		var msgs []sent
		for i, c := range convs {
			for api := 0; api < 2; api++ {
				m, _, err := f.send(api, []user{ann, bob, cat}[(i+api)%3], c, "hello", fmt.Sprintf("x%d-%d", i, api), 10*time.Second)
				require.NoError(t, err)
				msgs = append(msgs, m)
			}
		}
		for _, s := range sockets {
			missing, err := s.waitFor(msgs, 10*time.Second)
			require.NoError(t, err, s.name)
			require.Zero(t, missing, "%s misses messages", s.name)
			_, recovered, gaps, _ := s.stats()
			require.Zero(t, recovered+gaps, "%s: on a healthy cluster every event arrives live, in order", s.name)
		}
	})

	t.Run("two api nodes", func(t *testing.T) { twoAPINodes(t, f, ann, bob) })

	t.Run("revocation disconnects within 1 s", func(t *testing.T) {
		dan := f.register(1, "dan")
		var conns []*cable.Conn
		for edge := 0; edge < 2; edge++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := cable.Dial(ctx, cable.Request{Addr: f.edges[edge].addr, Token: dan.Token})
			cancel()
			require.NoError(t, err)
			defer c.Close()
			m, err := c.Next(10*time.Second, true)
			require.NoError(t, err)
			require.Equal(t, "welcome", m.Type, "%s", m.Raw)
			conns = append(conns, c)
		}
		f.must(0, "DELETE", "/auth/logout", dan.Token, nil, 204, nil)
		within := time.Now().Add(time.Second)
		for edge, c := range conns {
			m, err := c.Next(time.Until(within), true)
			require.NoError(t, err, "edge %d: no disconnect within 1 s of the logout", edge)
			require.Equal(t, "disconnect", m.Type, "%s", m.Raw)
			require.Equal(t, "unauthorized", m.Reason, "%s", m.Raw)
		}
		// The denylist, on the cluster, refuses the token at once.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := cable.Dial(ctx, cable.Request{Addr: f.edges[1].addr, Token: dan.Token})
		require.NoError(t, err)
		defer c.Close()
		m, err := c.Next(5*time.Second, true)
		require.NoError(t, err)
		require.Equal(t, "disconnect", m.Type, "a revoked token is refused: %s", m.Raw)
		require.Equal(t, "unauthorized", m.Reason, "%s", m.Raw)
	})

	// The edge's client-side cache of member sets lives on the cluster's
	// nodes' connections: a member removed through an api node is refused
	// at the next subscribe on an edge that had the set cached.
	t.Run("a removed member is refused at once", func(t *testing.T) {
		c := f.group(1, ann, bob)
		ident := cable.Identifier("ConversationChannel", "id", c.String())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := cable.Dial(ctx, cable.Request{Addr: f.edges[1].addr, Token: bob.Token})
		require.NoError(t, err)
		defer conn.Close()
		next := func(want string) {
			t.Helper()
			for {
				m, err := conn.Next(10*time.Second, true)
				require.NoError(t, err)
				if m.Type == "" { // an event of the subscription
					continue
				}
				require.Equal(t, want, m.Type, "%s", m.Raw)
				return
			}
		}
		next("welcome")
		require.NoError(t, conn.Subscribe(ident))
		next("confirm_subscription")
		require.NoError(t, conn.Unsubscribe(ident))
		f.must(0, "DELETE", "/conversations/"+c.String()+"/members/"+bob.ID.String(), ann.Token, nil, 204, nil)
		require.NoError(t, conn.Subscribe(ident))
		next("reject_subscription")
	})

	t.Run("a master killed mid-traffic loses nothing accepted", func(t *testing.T) {
		masterKilled(t, f, sockets, convs, []user{ann, bob, cat})
	})
}

// twoAPINodes: the same client_msg_id sent to both api processes at once
// makes one message; the two processes' ids never collide (each has its own
// node); the conversation's seq has no gap and no repeat.
func twoAPINodes(t *testing.T, f *fleet, a, b user) {
	c := f.group(0, a, b)
	const twins, singles = 20, 40
	var mu sync.Mutex
	byAPI := map[int][]id.ID{}
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < twins; i++ {
		got := make([]sent, 2)
		errs := make([]error, 2)
		var pair sync.WaitGroup
		for api := 0; api < 2; api++ {
			pair.Add(1)
			go func() {
				defer pair.Done()
				var st []int
				got[api], st, errs[api] = f.send(api, a, c, "twin", fmt.Sprintf("twin-%d", i), 10*time.Second)
				mu.Lock()
				statuses[st[len(st)-1]]++
				mu.Unlock()
			}()
		}
		pair.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.Equal(t, got[0].ID, got[1].ID, "twin %d: one message for one client_msg_id", i)
	}
	require.Equal(t, map[int]int{201: twins, 200: twins}, statuses, "each twin: one 201, one 200")
	for i := 0; i < singles; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			api := i % 2
			m, st, err := f.send(api, b, c, "single", fmt.Sprintf("single-%d", i), 10*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			if st[len(st)-1] != 201 {
				t.Errorf("single %d: status %v", i, st)
			}
			mu.Lock()
			byAPI[api] = append(byAPI[api], m.ID)
			mu.Unlock()
		}()
	}
	wg.Wait()
	node := func(x id.ID) int64 { return int64(x) >> 12 & id.MaxNode }
	seen := map[id.ID]bool{}
	nodes := map[int]map[int64]bool{0: {}, 1: {}}
	for api, ids := range byAPI {
		for _, x := range ids {
			require.False(t, seen[x], "id %s made twice", x)
			seen[x] = true
			nodes[api][node(x)] = true
		}
	}
	require.Len(t, nodes[0], 1, "api 0 makes ids on one node")
	require.Len(t, nodes[1], 1, "api 1 makes ids on one node")
	for n := range nodes[0] {
		require.False(t, nodes[1][n], "the two api processes draw distinct nodes")
	}

	// The log: seqs 1..last, each once, and one message.created per
	// message made.
	var seqs []int64
	created := map[string]int{}
	for after := int64(0); ; {
		var page struct {
			Items []event.Envelope `json:"items"`
		}
		f.must(1, "GET", fmt.Sprintf("/conversations/%s/events?after_seq=%d&limit=500", c, after), a.Token, nil, 200, &page)
		if len(page.Items) == 0 {
			break
		}
		for _, e := range page.Items {
			seqs = append(seqs, e.Seq)
			created[e.Type]++
			after = e.Seq
		}
	}
	require.True(t, sort.SliceIsSorted(seqs, func(i, j int) bool { return seqs[i] < seqs[j] }))
	for i, s := range seqs {
		require.EqualValues(t, i+1, s, "seq %d of the log", i)
	}
	require.Equal(t, twins+singles, created[event.MessageCreated], "events: %v", created)
	require.EqualValues(t, len(seqs), f.lastSeq(a, c))
}

// masterKilled sends messages through both api nodes into convs while the
// master holding the first conversation's shard stream is killed (SIGKILL)
// and its replica, paused just before so that it misses the last writes,
// takes over. The edges are paused over the same moments, so they never
// read those writes before the master dies, and after the kill no message
// goes to a conversation on the killed master: nothing later shows the
// clients the gap. Every message the api accepted must still reach every
// socket: the worker sees the new master and appends the events of the
// seconds before it again (api/worker MasterWatch). The test logs the
// failover and recovery times; they are figures, not asserted.
func masterKilled(t *testing.T, f *fleet, sockets []*socket, convs []id.ID, users []user) {
	victim, err := cluster.MasterOf(f.keys.Stream(f.keys.ShardOf(rkey.ConversationTopic(convs[0]))))
	require.NoError(t, err)
	var hit, spared []id.ID // conversations whose stream is on the victim, and the others
	for _, c := range convs {
		if m, err := cluster.MasterOf(f.keys.Stream(f.keys.ShardOf(rkey.ConversationTopic(c)))); err == nil && m == victim {
			hit = append(hit, c)
		} else {
			spared = append(spared, c)
		}
	}
	require.NotEmpty(t, spared, "conversations on other masters carry the traffic after the kill")

	var (
		mu        sync.Mutex
		accepted  []sent
		retried   int
		refused   int // 503s answered during the failover
		afterKill bool
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for api := 0; api < 2; api++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				c := convs[n%len(convs)]
				if afterKill {
					c = spared[n%len(spared)]
				}
				mu.Unlock()
				m, st, err := f.send(api, users[n%len(users)], c, "traffic", fmt.Sprintf("k%d-%d", api, n), 30*time.Second)
				mu.Lock()
				if len(st) > 1 {
					retried++
				}
				for _, s := range st {
					if s == 503 {
						refused++
					}
				}
				if err == nil {
					accepted = append(accepted, m)
				}
				mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}

	// The replica is paused and cut off first, so the master takes writes
	// it never replicates: the promoted replica lacks the newest stream
	// entries and guard marks, which the api had acknowledged (replication
	// is asynchronous). The edges are paused too: what they had not read
	// of those writes before the kill is on no stream after it.
	replica, err := cluster.ReplicaOf(victim)
	require.NoError(t, err)
	time.Sleep(time.Second)
	cluster.Pause(replica)
	for _, e := range f.edges {
		e.p.Signal(syscall.SIGSTOP)
	}
	require.NoError(t, cluster.CutReplication(victim))
	mu.Lock()
	unreplicatedFrom := len(accepted)
	mu.Unlock()
	// Until the master has taken a few sends unreplicated on the stream
	// watched (the first conversation's).
	onHit := func() (n int) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range accepted[unreplicatedFrom:] {
			if f.keys.ShardOf(rkey.ConversationTopic(m.Conv)) == f.keys.ShardOf(rkey.ConversationTopic(convs[0])) {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return onHit() >= 5 }, 20*time.Second, 10*time.Millisecond)
	rdb := clusterClient(t)
	stream := f.keys.Stream(f.keys.ShardOf(rkey.ConversationTopic(convs[0])))
	ctx := context.Background()
	before, err := rdb.Do(ctx, rdb.B().Xrange().Key(stream).Start("-").End("+").Build()).AsXRange()
	require.NoError(t, err)
	require.NotEmpty(t, before)
	mu.Lock()
	afterKill = true
	killed := time.Now()
	cluster.Kill(victim)
	var unreplicated []sent // accepted on the victim's conversations, not replicated
	for _, m := range accepted[unreplicatedFrom:] {
		if contains(hit, m.Conv) {
			unreplicated = append(unreplicated, m)
		}
	}
	mu.Unlock()
	cluster.Resume(replica)
	for _, e := range f.edges {
		e.p.Signal(syscall.SIGCONT)
	}
	require.NoError(t, cluster.WaitHealthy(30*time.Second), "the replica takes over")
	failover := time.Since(killed)
	var kept []rueidis.XRangeEntry
	require.Eventually(t, func() bool {
		kept, err = rdb.Do(ctx, rdb.B().Xrange().Key(stream).Start("-").End(before[len(before)-1].ID).Build()).AsXRange()
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "the promoted replica answers: %v", err)
	lost := len(before) - len(kept)
	require.Positive(t, lost, "the promoted replica lacks the entries it was not sent")
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	for _, s := range sockets {
		missing, err := s.waitFor(accepted, 60*time.Second)
		require.NoError(t, err, s.name)
		live, recovered, gaps, dups := s.stats()
		t.Logf("%s: %d live, %d by after_seq (%d gaps), %d duplicates dropped", s.name, live, recovered, gaps, dups)
		require.Zero(t, missing, "%s lost %d of %d accepted messages", s.name, missing, len(accepted))
	}

	// Recovery: from the kill until every socket had, live, every message
	// the killed master took without replicating it.
	var recovery time.Duration
	for _, s := range sockets {
		for _, m := range unreplicated {
			at := s.liveAt(m.ID)
			require.False(t, at.IsZero(), "%s: message %s arrived live", s.name, m.ID)
			recovery = max(recovery, at.Sub(killed))
		}
	}
	t.Logf("redis master :%d killed with %d messages accepted (%d on its conversations while its replica and the edges were paused; "+
		"%d sends retried, %d answers 503); the promoted replica lacked %d of the %d entries of the stream watched; "+
		"failover (cluster_state ok, replica promoted) %s; every socket had every unreplicated message live %s after the kill; loss 0",
		victim.Port, len(accepted), len(unreplicated), retried, refused, lost, len(before),
		failover.Round(time.Millisecond), recovery.Round(time.Millisecond))
}

// clusterClient is a client of the package's cluster, closed when the test
// ends.
func clusterClient(t *testing.T) rueidis.Client {
	opt, err := rueidis.ParseURL(cluster.URL())
	require.NoError(t, err)
	c, err := rueidis.NewClient(opt)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func contains(ids []id.ID, x id.ID) bool {
	for _, i := range ids {
		if i == x {
			return true
		}
	}
	return false
}
