package sockets

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/stats"
)

// Clients are several children, driven together.
type Clients []*Client

// SpawnAll starts n children of bin (Spawn), child i named and logging as
// at(i) says; on error, the children started are closed.
func SpawnAll(bin string, n int, at func(i int) (name, logPath string)) (Clients, error) {
	var cs Clients
	for i := 0; i < n; i++ {
		name, logPath := at(i)
		c, err := Spawn(bin, name, logPath)
		if err != nil {
			return nil, errors.Join(err, cs.Close())
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// call sends every child its request (req(i) for child i) at once and
// returns the answers, in order, with the errors joined.
func (cs Clients) call(req func(i int) Request) ([]Response, error) {
	out := make([]Response, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = c.call(req(i))
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// Start hands child i jobs[i] and returns, when every socket connected or
// failed, the merged outcome.
func (cs Clients) Start(jobs []Job) (Start, error) {
	outs, err := cs.call(func(i int) Request { return Request{Cmd: "start", Job: &jobs[i]} })
	var all Start
	h := hist.New()
	for _, o := range outs {
		if o.Start == nil {
			continue
		}
		all.Wanted += o.Start.Wanted
		all.Connected += o.Start.Connected
		all.Failed += o.Start.Failed
		all.Rate += o.Start.Rate
		if all.FirstErr == "" {
			all.FirstErr = o.Start.FirstErr
		}
		h.MergeSnapshot(o.Start.Handshake)
	}
	all.Handshake = h.Snapshot()
	return all, err
}

// Status sums the children's states.
func (cs Clients) Status() (Status, error) {
	outs, err := cs.call(func(int) Request { return Request{Cmd: "status"} })
	all := Status{Disconnects: map[string]int64{}}
	for _, o := range outs {
		if st := o.Status; st != nil {
			all.Open += st.Open
			all.Subscribed += st.Subscribed
			all.Reconnects += st.Reconnects
			all.Rejected += st.Rejected
			all.Fetches += st.Fetches
			all.FetchErrs += st.FetchErrs
			all.Resyncs += st.Resyncs
			for k, v := range st.Disconnects {
				all.Disconnects[k] += v
			}
		}
	}
	return all, err
}

// Count sums the children's records of phase.
func (cs Clients) Count(phase uint16) (int64, error) {
	outs, err := cs.call(func(int) Request { return Request{Cmd: "count", Phase: phase} })
	var n int64
	for _, o := range outs {
		n += o.Count
	}
	return n, err
}

// Report merges the children's accounting of phase: sums, the merged
// latency, and per event the latest of its last subscribers.
func (cs Clients) Report(phase uint16, sent []Expect) (Report, *hist.Histogram, error) {
	return cs.ReportTail(phase, sent, 0)
}

// ReportTail is Report with, in its Tail, the tail slowest deliveries of
// all the children.
func (cs Clients) ReportTail(phase uint16, sent []Expect, tail int) (Report, *hist.Histogram, error) {
	outs, err := cs.call(func(int) Request { return Request{Cmd: "report", Phase: phase, Sent: sent, Tail: tail} })
	all := Report{Last: map[uint32]int64{}}
	h := hist.New()
	for _, o := range outs {
		r := o.Report
		if r == nil {
			continue
		}
		all.Expected += r.Expected
		all.Delivered += r.Delivered
		all.Lost += r.Lost
		all.Duplicates += r.Duplicates
		all.Unexpected += r.Unexpected
		h.MergeSnapshot(r.Latency)
		for k, v := range r.Last {
			all.Last[k] = max(all.Last[k], v)
		}
		all.Tail = append(all.Tail, r.Tail...)
	}
	all.Latency = h.Snapshot()
	all.Tail = slowest(all.Tail, tail)
	return all, h, err
}

// slowest keeps the n slowest of ds (none when n is 0).
func slowest(ds []Delivery, n int) []Delivery {
	if n <= 0 {
		return nil
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Lat > ds[j].Lat })
	return ds[:min(n, len(ds))]
}

// Runtime reads each child's Go runtime (GC, scheduler latency), in order.
func (cs Clients) Runtime() ([]stats.Runtime, error) {
	outs, err := cs.call(func(int) Request { return Request{Cmd: "runtime"} })
	rts := make([]stats.Runtime, len(outs))
	for i, o := range outs {
		if o.Runtime != nil {
			rts[i] = *o.Runtime
		}
	}
	return rts, err
}

// PIDs are the children's process ids.
func (cs Clients) PIDs() []int {
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i] = c.PID()
	}
	return out
}

// Settle waits until the children hold expected records of phase, or no
// new one arrived for quiet (what is missing by then is lost, after the
// clients' own recovery had its chance), or longest passed, and returns
// when the last record arrived.
func (cs Clients) Settle(ctx context.Context, phase uint16, expected int64, quiet, longest time.Duration) time.Time {
	last, lastAt := int64(-1), time.Now()
	deadline := time.Now().Add(longest)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := cs.Count(phase)
		now := time.Now()
		if err != nil || n >= expected || now.After(deadline) || ctx.Err() != nil {
			return now
		}
		if n != last {
			last, lastAt = n, now
		} else if now.Sub(lastAt) > quiet {
			return lastAt
		}
		<-tick.C
	}
}

// Close asks every child to close its sockets and exit, and waits.
func (cs Clients) Close() error {
	_, err := cs.call(func(int) Request { return Request{Cmd: "close"} })
	errs := []error{err}
	for _, c := range cs {
		errs = append(errs, c.wait())
	}
	return errors.Join(errs...)
}
