package sockets

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"

	"github.com/chatterly/chatterly/loadtest/child"

	"github.com/chatterly/chatterly/loadtest/hist"
)

// Client is the parent's handle on one child process (loadtest/child).
type Client struct{ *child.Proc }

// Spawn starts `bin sockets` as a child, its stderr in logPath.
func Spawn(bin, name, logPath string) (*Client, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "sockets")
	cmd.Stderr = f
	p, err := child.Start(name, cmd, func() { f.Close() })
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Client{p}, nil
}

// call sends one request and reads its response.
func (c *Client) call(req Request) (Response, error) {
	var resp Response
	if err := c.Call(req, &resp); err != nil {
		return Response{}, err
	}
	if resp.Err != "" {
		return resp, fmt.Errorf("sockets: %s: %s", c.Name, resp.Err)
	}
	return resp, nil
}

// Start hands the child its job and returns when every socket connected
// or failed.
func (c *Client) Start(job Job) (Start, error) {
	r, err := c.call(Request{Cmd: "start", Job: &job})
	if err != nil {
		return Start{}, err
	}
	return *r.Start, nil
}

// Status asks for the sockets' state.
func (c *Client) Status() (Status, error) {
	r, err := c.call(Request{Cmd: "status"})
	if err != nil {
		return Status{}, err
	}
	return *r.Status, nil
}

// Count asks how many records of phase the child holds.
func (c *Client) Count(phase uint16) (int64, error) {
	r, err := c.call(Request{Cmd: "count", Phase: phase})
	return r.Count, err
}

// Report asks for the accounting of phase.
func (c *Client) Report(phase uint16, sent []Expect) (Report, error) {
	r, err := c.call(Request{Cmd: "report", Phase: phase, Sent: sent})
	if err != nil {
		return Report{}, err
	}
	return *r.Report, nil
}

// Close asks the child to close its sockets and exit, and waits.
func (c *Client) Close() error {
	_, err := c.call(Request{Cmd: "close"})
	return errors.Join(err, c.Proc.Close())
}

// Clients are several children, driven together.
type Clients []*Client

// each runs fn on every child at once and joins the errors.
func (cs Clients) each(fn func(*Client) error) error {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(c)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Start starts jobs[i] on child i and merges the outcomes.
func (cs Clients) Start(jobs []Job) (Start, error) {
	outs := make([]Start, len(cs))
	err := cs.each(func(c *Client) error {
		i := cs.index(c)
		var err error
		outs[i], err = c.Start(jobs[i])
		return err
	})
	var all Start
	h := hist.New()
	for _, o := range outs {
		all.Wanted += o.Wanted
		all.Connected += o.Connected
		all.Failed += o.Failed
		all.Rate += o.Rate
		if all.FirstErr == "" {
			all.FirstErr = o.FirstErr
		}
		h.MergeSnapshot(o.Handshake)
	}
	all.Handshake = h.Snapshot()
	return all, err
}

func (cs Clients) index(c *Client) int {
	for i, x := range cs {
		if x == c {
			return i
		}
	}
	return -1
}

// Status sums the children's states.
func (cs Clients) Status() (Status, error) {
	var mu sync.Mutex
	all := Status{Disconnects: map[string]int64{}}
	err := cs.each(func(c *Client) error {
		st, err := c.Status()
		mu.Lock()
		defer mu.Unlock()
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
		return err
	})
	return all, err
}

// Count sums the children's records of phase.
func (cs Clients) Count(phase uint16) (int64, error) {
	var mu sync.Mutex
	var n int64
	err := cs.each(func(c *Client) error {
		k, err := c.Count(phase)
		mu.Lock()
		n += k
		mu.Unlock()
		return err
	})
	return n, err
}

// Report merges the children's accounting of phase: sums, the merged
// latency, and per event the latest of its last subscribers.
func (cs Clients) Report(phase uint16, sent []Expect) (Report, *hist.Histogram, error) {
	var mu sync.Mutex
	all := Report{Last: map[uint32]int64{}}
	h := hist.New()
	err := cs.each(func(c *Client) error {
		r, err := c.Report(phase, sent)
		mu.Lock()
		defer mu.Unlock()
		all.Expected += r.Expected
		all.Delivered += r.Delivered
		all.Lost += r.Lost
		all.Duplicates += r.Duplicates
		all.Unexpected += r.Unexpected
		h.MergeSnapshot(r.Latency)
		for k, v := range r.Last {
			all.Last[k] = max(all.Last[k], v)
		}
		return err
	})
	all.Latency = h.Snapshot()
	return all, h, err
}

// Close closes every child.
func (cs Clients) Close() error { return cs.each(func(c *Client) error { return c.Close() }) }
