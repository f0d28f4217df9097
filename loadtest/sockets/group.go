package sockets

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/load"
)

// Group is one process's sockets.
type Group struct {
	job     Job
	sockets []*socket
	http    *load.HTTP
	done    chan struct{}
	closed  atomic.Bool

	rejected, fetches, fetchErrs, resyncs atomic.Int64

	mu          sync.Mutex
	disconnects map[string]int64
}

// NewGroup prepares the sockets of job; Connect opens them.
func NewGroup(job Job) *Group {
	g := &Group{job: job, done: make(chan struct{}), disconnects: map[string]int64{}, http: load.NewHTTP(job.API, 64)}
	for _, sp := range job.Sockets {
		g.sockets = append(g.sockets, newSocket(g, sp))
	}
	return g
}

// Connect opens every socket at the job's rate (an open model: a slow
// handshake delays the ones behind it, and that wait is in the latency).
func (g *Group) Connect(ctx context.Context) Start {
	rate := g.job.ConnectRate
	if rate <= 0 {
		rate = 2000
	}
	workers := max(1, g.job.ConnectWorkers)
	r := load.Run(ctx, load.Plan{Rate: rate, Ops: int64(len(g.sockets)), Workers: workers, Grace: time.Minute},
		func(ctx context.Context, c load.Call) error { return g.sockets[c.I].connect(ctx) })
	st := Start{Wanted: len(g.sockets), Connected: g.Status().Subscribed, Rate: r.Throughput(), FirstErr: r.FirstError,
		Handshake: r.Latency.Snapshot()}
	st.Failed = st.Wanted - st.Connected
	return st
}

// Status reports the sockets' state.
func (g *Group) Status() Status {
	st := Status{Rejected: g.rejected.Load(), Fetches: g.fetches.Load(), FetchErrs: g.fetchErrs.Load(),
		Resyncs: g.resyncs.Load()}
	for _, s := range g.sockets {
		s.mu.Lock()
		if s.open {
			st.Open++
		}
		if s.open && s.subscribed == len(s.subs) {
			st.Subscribed++
		}
		st.Reconnects += s.reconnects
		s.mu.Unlock()
	}
	g.mu.Lock()
	if len(g.disconnects) > 0 {
		st.Disconnects = map[string]int64{}
		for k, v := range g.disconnects {
			st.Disconnects[k] = v
		}
	}
	g.mu.Unlock()
	return st
}

// Count is how many records of phase the sockets hold (duplicates of
// events without seq included): the parent polls it to know when
// deliveries have stopped arriving.
func (g *Group) Count(phase uint16) int64 {
	var n int64
	for _, s := range g.sockets {
		s.mu.Lock()
		n += s.perPhase[phase]
		s.mu.Unlock()
	}
	return n
}

// key identifies one event at one subscription.
type key struct {
	sub uint16
	k   uint32
}

// Report accounts phase against what was sent, and forgets its records.
func (g *Group) Report(phase uint16, sent []Expect) Report { return g.ReportTail(phase, sent, 0) }

// ReportTail is Report with, in its Tail, the tail slowest deliveries.
func (g *Group) ReportTail(phase uint16, sent []Expect, tail int) Report {
	top := &slowHeap{n: tail}
	want := make(map[int64]map[uint32]bool, len(sent))
	for _, e := range sent {
		m := make(map[uint32]bool, len(e.Ks))
		for _, k := range e.Ks {
			m[k] = true
		}
		want[e.Conv] = m
	}
	h := hist.New()
	rep := Report{Last: map[uint32]int64{}}
	for _, s := range g.sockets {
		s.mu.Lock()
		seen := map[key]int64{}
		kept := s.recs[:0]
		for _, r := range s.recs {
			if r.phase != phase {
				kept = append(kept, r)
				continue
			}
			kk := key{r.sub, r.k}
			if _, dup := seen[kk]; dup {
				rep.Duplicates++
				continue
			}
			seen[kk] = r.lat
		}
		s.recs = kept
		delete(s.perPhase, phase)
		rep.Duplicates += s.dups
		s.dups = 0
		s.mu.Unlock()
		for i, sb := range s.subs {
			ks := want[sb.conv]
			for k := range ks {
				rep.Expected++
				lat, ok := seen[key{uint16(i), k}]
				if !ok {
					rep.Lost++
					continue
				}
				rep.Delivered++
				h.RecordValue(lat)
				top.offer(Delivery{K: k, Conv: sb.conv, Lat: lat})
				rep.Last[k] = max(rep.Last[k], lat)
			}
		}
		for kk := range seen {
			if !want[s.subs[kk.sub].conv][kk.k] {
				rep.Unexpected++
			}
		}
	}
	rep.Latency = h.Snapshot()
	rep.Tail = top.ds
	return rep
}

// slowHeap keeps the n slowest deliveries offered: a min-heap on latency.
type slowHeap struct {
	n  int
	ds []Delivery
}

func (h *slowHeap) Len() int           { return len(h.ds) }
func (h *slowHeap) Less(i, j int) bool { return h.ds[i].Lat < h.ds[j].Lat }
func (h *slowHeap) Swap(i, j int)      { h.ds[i], h.ds[j] = h.ds[j], h.ds[i] }
func (h *slowHeap) Push(x any)         { h.ds = append(h.ds, x.(Delivery)) }
func (h *slowHeap) Pop() any {
	d := h.ds[len(h.ds)-1]
	h.ds = h.ds[:len(h.ds)-1]
	return d
}

func (h *slowHeap) offer(d Delivery) {
	switch {
	case h.n <= 0:
	case len(h.ds) < h.n:
		heap.Push(h, d)
	case d.Lat > h.ds[0].Lat:
		h.ds[0] = d
		heap.Fix(h, 0)
	}
}

// Close closes every socket and stops reconnecting.
func (g *Group) Close() {
	if g.closed.Swap(true) {
		return
	}
	close(g.done)
	for _, s := range g.sockets {
		s.mu.Lock()
		if s.nc != nil {
			s.nc.Close()
		}
		s.mu.Unlock()
	}
}

// sleep waits d, or returns false when the group closes first.
func (g *Group) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-g.done:
		return false
	}
}

func (g *Group) disconnect(payload []byte) {
	var m struct{ Reason string }
	_ = json.Unmarshal(payload, &m)
	g.mu.Lock()
	g.disconnects[m.Reason]++
	g.mu.Unlock()
}

// errResync is the api's 410: the log no longer holds what was missed.
var errResync = errors.New("resync required")

// replay fetches one page of conv's events after seq, as the client whose
// token it is, and says whether more pages follow.
func (g *Group) replay(conv, after int64, token string) (items []json.RawMessage, more bool, err error) {
	path := "/conversations/" + strconv.FormatInt(conv, 10) + "/events?limit=500&after_seq=" + strconv.FormatInt(after, 10)
	st, body, err := g.http.Do("GET", path, token, nil, true)
	switch {
	case st == http.StatusGone:
		return nil, false, errResync
	case err != nil:
		return nil, false, err
	}
	var page struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor *string           `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, false, err
	}
	return page.Items, page.NextCursor != nil && strings.TrimSpace(*page.NextCursor) != "", nil
}
