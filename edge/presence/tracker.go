package presence

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
)

// Config tunes a Tracker.
type Config struct {
	// Node names this edge process; unique in the fleet.
	Node string
	// Grace is how long a user stays online after their last socket on
	// this node closes.
	Grace time.Duration
	// NodeTTL is how long this node's heartbeat lasts. Heartbeats go every
	// NodeTTL/4 and dead nodes are looked for every NodeTTL/8, so a dead
	// node's users go offline within NodeTTL*9/8.
	NodeTTL time.Duration
	// Flush is the batch tick for ups and downs.
	Flush time.Duration
}

// lastSeenTTL is how long PresenceLast survives a user's last visit.
const lastSeenTTL = 30 * 24 * time.Hour

// refreshSlices: each heartbeat re-asserts one slice of this node's users
// (their field and their hash's TTL), so a node with many users writes a
// small batch every heartbeat rather than every user every time. A user's
// hash lives userTTLBeats heartbeats, twice a full round: long enough never
// to lapse while its node lives, short enough to vanish should every edge
// die at once. A dead node's users do not wait for it: the reaper removes
// their fields within NodeTTL.
const (
	refreshSlices = 30
	userTTLBeats  = 2 * refreshSlices
)

// up: KEYS[1] = Presence(u); ARGV = node, count, ttl ms. Returns the
// number of fields before, so the caller knows whether u came online.
var upScript = rueidis.NewLuaScript(`
local before = redis.call('HLEN', KEYS[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return before`)

// down: KEYS[1] = Presence(u); ARGV[1] = node. Returns {removed, left}:
// u went offline when this removed the last field.
var downScript = rueidis.NewLuaScript(`
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
return {removed, redis.call('HLEN', KEYS[1])}`)

// Tracker counts this node's sockets per user and keeps Redis in step.
type Tracker struct {
	rdb  rueidis.Client
	keys rkey.Space
	app  *event.Appender
	cfg  Config
	log  *slog.Logger
	m    *metrics

	beats int // heartbeats sent; picks the slice to refresh

	mu     sync.Mutex
	counts map[id.ID]int32
	up     map[id.ID]struct{}
	down   map[id.ID]time.Time
}

// New returns a Tracker; Run must be running for changes to reach Redis.
func New(rdb rueidis.Client, keys rkey.Space, app *event.Appender, cfg Config, log *slog.Logger, reg prometheus.Registerer) *Tracker {
	if cfg.Flush <= 0 {
		cfg.Flush = 250 * time.Millisecond
	}
	return &Tracker{rdb: rdb, keys: keys, app: app, cfg: cfg, log: log, m: newMetrics(reg),
		counts: make(map[id.ID]int32), up: make(map[id.ID]struct{}), down: make(map[id.ID]time.Time)}
}

// Connect records a new socket of u and returns u's socket count on this
// node (which the server also uses for its per-user cap).
func (t *Tracker) Connect(u id.ID) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.counts[u] + 1
	t.counts[u] = n
	if n == 1 {
		if _, pending := t.down[u]; pending {
			delete(t.down, u) // still announced; nothing to do
		} else {
			t.up[u] = struct{}{}
		}
	}
	return int(n)
}

// Disconnect records a closed socket of u.
func (t *Tracker) Disconnect(u id.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.counts[u] - 1
	if n > 0 {
		t.counts[u] = n
		return
	}
	delete(t.counts, u)
	if _, pending := t.up[u]; pending {
		delete(t.up, u) // never reached Redis
		return
	}
	t.down[u] = time.Now()
}

// Users is the number of users with sockets on this node.
func (t *Tracker) Users() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.counts)
}

// Run flushes, heartbeats and reaps until ctx ends.
func (t *Tracker) Run(ctx context.Context) {
	flush := time.NewTicker(t.cfg.Flush)
	defer flush.Stop()
	beat := time.NewTicker(t.cfg.NodeTTL / 4)
	defer beat.Stop()
	reap := time.NewTicker(t.cfg.NodeTTL / 8)
	defer reap.Stop()
	// Each round has a deadline: rueidis retries a read on a broken
	// connection until its context ends, and a Redis that stops answering
	// would otherwise hold the tracker in one round, unnoticed, for the
	// whole outage. A round cut short is retried by the next tick.
	limit := max(t.cfg.NodeTTL/8, time.Second)
	round := func(f func(context.Context)) {
		rctx, cancel := context.WithTimeout(ctx, limit)
		f(rctx)
		cancel()
	}
	round(t.heartbeat)
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			round(func(ctx context.Context) { t.flush(ctx, false) })
		case <-beat.C:
			round(t.heartbeat)
		case <-reap.C:
			round(t.reap)
		}
	}
}

// Goodbye, at shutdown after every socket closed, applies the pending
// downs and removes this node, all before ctx ends: it waits out their
// grace for at most half of ctx's time (a page reload onto another node
// then does not flicker), applies what is left at once, and gives up on
// what Redis does not take in time (the fields expire with their TTL, and
// other edges reap this node within NodeTTL).
func (t *Tracker) Goodbye(ctx context.Context) {
	wait := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wait, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)/2))
		defer cancel()
	}
	tick := time.NewTicker(t.cfg.Flush)
	defer tick.Stop()
	for wait.Err() == nil {
		t.flush(wait, false)
		t.mu.Lock()
		left := len(t.down) + len(t.counts)
		t.mu.Unlock()
		if left == 0 {
			break
		}
		select {
		case <-wait.Done():
		case <-tick.C:
		}
	}
	t.flush(ctx, true) // do not leave our fields for the reaper
	t.rdb.DoMulti(ctx,
		t.rdb.B().Zrem().Key(t.keys.EdgeNodes()).Member(t.cfg.Node).Build(),
		t.rdb.B().Del().Key(t.keys.EdgeNodeUsers(t.cfg.Node)).Build())
}

// flush applies pending ups and due downs (all downs when now is set).
func (t *Tracker) flush(ctx context.Context, now bool) {
	t.mu.Lock()
	var ups []id.ID
	var counts []int32
	for u := range t.up {
		ups = append(ups, u)
		counts = append(counts, t.counts[u])
	}
	clear(t.up)
	var downs []id.ID
	var since []time.Time
	cutoff := time.Now().Add(-t.cfg.Grace)
	for u, at := range t.down {
		if now || at.Before(cutoff) {
			downs = append(downs, u)
			since = append(since, at)
			delete(t.down, u)
		}
	}
	t.mu.Unlock()
	if len(ups) > 0 {
		if err := t.applyUps(ctx, ups, counts); err != nil {
			t.fail("presence up", err)
			t.mu.Lock()
			for _, u := range ups {
				if t.counts[u] > 0 {
					t.up[u] = struct{}{}
				}
			}
			t.mu.Unlock()
		}
	}
	if len(downs) > 0 {
		if err := t.applyDowns(ctx, t.cfg.Node, downs); err != nil {
			t.fail("presence down", err)
			t.mu.Lock()
			for i, u := range downs {
				if t.counts[u] == 0 {
					t.down[u] = since[i]
				}
			}
			t.mu.Unlock()
		}
	}
}

func (t *Tracker) applyUps(ctx context.Context, users []id.ID, counts []int32) error {
	ttl := strconv.FormatInt((t.cfg.NodeTTL / 4 * userTTLBeats).Milliseconds(), 10)
	execs := make([]rueidis.LuaExec, len(users))
	members := make([]string, len(users))
	for i, u := range users {
		members[i] = u.String()
		execs[i] = rueidis.LuaExec{Keys: []string{t.keys.Presence(u)},
			Args: []string{t.cfg.Node, strconv.Itoa(int(counts[i])), ttl}}
	}
	res := upScript.ExecMulti(ctx, t.rdb, execs...)
	var online []State
	now := time.Now()
	for i, r := range res {
		before, err := r.AsInt64()
		if err != nil {
			return err
		}
		if before == 0 {
			online = append(online, State{ID: users[i], Online: true, LastActive: &now})
		}
	}
	if err := t.rdb.Do(ctx, t.rdb.B().Sadd().Key(t.keys.EdgeNodeUsers(t.cfg.Node)).Member(members...).Build()).Error(); err != nil {
		return err
	}
	return t.announce(ctx, online)
}

// applyDowns removes node's field from users' hashes and announces those
// whose last field it was.
func (t *Tracker) applyDowns(ctx context.Context, node string, users []id.ID) error {
	execs := make([]rueidis.LuaExec, len(users))
	for i, u := range users {
		execs[i] = rueidis.LuaExec{Keys: []string{t.keys.Presence(u)}, Args: []string{node}}
	}
	res := downScript.ExecMulti(ctx, t.rdb, execs...)
	now := time.Now()
	var offline []State
	var cmds rueidis.Commands
	members := make([]string, len(users))
	for i, r := range res {
		members[i] = users[i].String()
		v, err := r.AsIntSlice()
		if err != nil {
			return err
		}
		if len(v) != 2 {
			return errors.New("presence: unexpected down script reply")
		}
		if v[0] == 1 && v[1] == 0 {
			offline = append(offline, State{ID: users[i], LastActive: &now})
			cmds = append(cmds, t.rdb.B().Set().Key(t.keys.PresenceLast(users[i])).
				Value(strconv.FormatInt(now.UnixMilli(), 10)).Px(lastSeenTTL).Build())
		}
	}
	cmds = append(cmds, t.rdb.B().Srem().Key(t.keys.EdgeNodeUsers(node)).Member(members...).Build())
	for _, r := range t.rdb.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return t.announce(ctx, offline)
}

// announce appends one presence event per changed user to its topic.
func (t *Tracker) announce(ctx context.Context, changes []State) error {
	if len(changes) == 0 {
		return nil
	}
	cmds := make(rueidis.Commands, len(changes))
	for i, s := range changes {
		cmds[i] = t.app.Command(rkey.PresenceTopic(s.ID), Envelope([]State{s}, time.Now()))
	}
	for _, r := range t.rdb.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	for _, s := range changes {
		if s.Online {
			t.m.online.Inc()
		} else {
			t.m.offline.Inc()
		}
	}
	return nil
}

// heartbeat extends this node's life and re-asserts one slice of its
// users' fields (which also restores them should Redis have lost them).
func (t *Tracker) heartbeat(ctx context.Context) {
	until := time.Now().Add(t.cfg.NodeTTL)
	cmds := rueidis.Commands{
		t.rdb.B().Zadd().Key(t.keys.EdgeNodes()).ScoreMember().ScoreMember(float64(until.UnixMilli()), t.cfg.Node).Build(),
		t.rdb.B().Pexpire().Key(t.keys.EdgeNodeUsers(t.cfg.Node)).Milliseconds(3 * t.cfg.NodeTTL.Milliseconds()).Build(),
	}
	for _, r := range t.rdb.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			t.fail("heartbeat", err)
			return
		}
	}
	slice := int64(t.beats % refreshSlices)
	t.beats++
	t.mu.Lock()
	var users []id.ID
	var counts []int32
	for u, n := range t.counts {
		if _, pending := t.up[u]; !pending && int64(u)%refreshSlices == slice {
			users = append(users, u)
			counts = append(counts, n)
		}
	}
	t.mu.Unlock()
	const batch = 1000
	for i := 0; i < len(users); i += batch {
		j := min(i+batch, len(users))
		if err := t.applyUps(ctx, users[i:j], counts[i:j]); err != nil {
			t.fail("heartbeat", err)
			return
		}
	}
}

// reap removes nodes whose heartbeat expired, and their users' fields.
func (t *Tracker) reap(ctx context.Context) {
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	dead, err := t.rdb.Do(ctx, t.rdb.B().Zrangebyscore().Key(t.keys.EdgeNodes()).Min("-inf").Max(now).
		Limit(0, 16).Build()).AsStrSlice()
	if err != nil {
		t.fail("reap", err)
		return
	}
	for _, node := range dead {
		if node == t.cfg.Node {
			continue // our own heartbeat is late (Redis was away); the next one fixes it
		}
		won, err := t.rdb.Do(ctx, t.rdb.B().Zrem().Key(t.keys.EdgeNodes()).Member(node).Build()).AsInt64()
		if err != nil || won == 0 {
			continue // another edge is reaping it
		}
		members, err := t.rdb.Do(ctx, t.rdb.B().Smembers().Key(t.keys.EdgeNodeUsers(node)).Build()).AsStrSlice()
		if err != nil {
			t.fail("reap", err)
			continue
		}
		users := make([]id.ID, 0, len(members))
		for _, m := range members {
			if u, err := id.Parse(m); err == nil {
				users = append(users, u)
			}
		}
		if len(users) > 0 {
			if err := t.applyDowns(ctx, node, users); err != nil {
				t.fail("reap", err)
			}
		}
		t.rdb.Do(ctx, t.rdb.B().Del().Key(t.keys.EdgeNodeUsers(node)).Build())
		t.m.reaped.Inc()
		t.log.Info("reaped dead edge node", "node", node, "users", len(users))
	}
}

func (t *Tracker) fail(what string, err error) {
	t.m.errors.Inc()
	t.log.Debug(what+" failed", "err", err)
}

// State is one user's presence.
type State struct {
	ID     id.ID
	Online bool
	// LastActive is when the user went offline (or, for an online user,
	// the time of the answer); nil when never seen.
	LastActive *time.Time
}

type userJSON struct {
	ID         id.ID   `json:"id"`
	Online     bool    `json:"online"`
	LastActive *string `json:"last_active_at"`
}

// Envelope encodes a presence event: {"type":"presence","at":…,
// "data":{"users":[{"id","online","last_active_at"}]}}.
func Envelope(states []State, at time.Time) []byte {
	users := make([]userJSON, len(states))
	for i, s := range states {
		users[i] = userJSON{ID: s.ID, Online: s.Online}
		if s.LastActive != nil {
			v := s.LastActive.UTC().Format("2006-01-02T15:04:05.000Z")
			users[i].LastActive = &v
		}
	}
	data, _ := json.Marshal(struct {
		Users []userJSON `json:"users"`
	}{users})
	b, _ := event.Encode(event.Envelope{Type: event.Presence, At: at, Data: data})
	return b
}

// Snapshot reads the presence of users.
func (t *Tracker) Snapshot(ctx context.Context, users []id.ID) ([]State, error) {
	cmds := make(rueidis.Commands, 0, 2*len(users))
	for _, u := range users {
		cmds = append(cmds, t.rdb.B().Hlen().Key(t.keys.Presence(u)).Build(),
			t.rdb.B().Get().Key(t.keys.PresenceLast(u)).Build())
	}
	res := t.rdb.DoMulti(ctx, cmds...)
	now := time.Now()
	out := make([]State, len(users))
	for i, u := range users {
		n, err := res[2*i].AsInt64()
		if err != nil {
			return nil, err
		}
		out[i] = State{ID: u, Online: n > 0}
		if out[i].Online {
			out[i].LastActive = &now
			continue
		}
		if ms, err := res[2*i+1].AsInt64(); err == nil {
			at := time.UnixMilli(ms)
			out[i].LastActive = &at
		} else if !rueidis.IsRedisNil(err) {
			return nil, err
		}
	}
	return out, nil
}
