package swarm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/loadtest/child"
	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/token"
)

// ring is how many events' slowest-socket lags a worker remembers: more
// than a run publishes between two resets.
const ring = 1 << 21

// workerReq is a request of the coordinator to a worker (loadtest/child's
// protocol): ready (answered once the sockets are connected), reset,
// report (the slowest lags of events First to Last), close.
type workerReq struct {
	Cmd         string `json:"cmd"`
	First, Last int64  `json:",omitempty"`
}

// workerMsg is a worker's answer.
type workerMsg struct {
	Type      string        `json:"type"` // ready, report
	Connected int           `json:"connected,omitempty"`
	Failed    int           `json:"failed,omitempty"`
	FirstErr  string        `json:"first_err,omitempty"`
	Confirms  int64         `json:"confirms,omitempty"`
	Rejects   int64         `json:"rejects,omitempty"`
	ElapsedMS int64         `json:"elapsed_ms,omitempty"`
	Frames    int64         `json:"frames,omitempty"`
	Pings     int64         `json:"pings,omitempty"`
	Closed    int64         `json:"closed,omitempty"`
	Lag       hist.Snapshot `json:"lag"`
	// EventMax is each event's slowest lag here, in µs, keyed by event
	// number, for events numbered from Low to High.
	EventMax map[int64]int64 `json:"event_max,omitempty"`
	PID      int             `json:"pid"`
}

// worker measures what its sockets receive.
type worker struct {
	lag      atomic.Pointer[hist.Histogram]
	eventMax []atomic.Int64
}

var (
	tsKey = []byte(`"ts":`)
	nKey  = []byte(`"n":`)
)

// onMessage reads a frame's event number and publication time.
func (w *worker) onMessage(recv time.Time, payload []byte) {
	ts, ok1 := intAfter(payload, tsKey)
	n, ok2 := intAfter(payload, nKey)
	if !ok1 || !ok2 {
		return
	}
	lag := recv.UnixNano() - ts
	w.lag.Load().Record(time.Duration(lag))
	us := lag / 1000
	slot := &w.eventMax[n&(ring-1)]
	for {
		m := slot.Load()
		if us <= m || slot.CompareAndSwap(m, us) {
			break
		}
	}
}

// intAfter parses the decimal number right after key.
func intAfter(b, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	var v int64
	j := i + len(key)
	start := j
	for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
		v = v*10 + int64(b[j]-'0')
	}
	return v, j > start
}

func (w *worker) reset() {
	w.lag.Store(hist.New())
	for i := range w.eventMax {
		w.eventMax[i].Store(0)
	}
}

// RunWorker is a worker process: it opens sockets From..From+Count-1,
// then answers the coordinator's requests on stdin (workerReq) until close
// or the end of its input.
func RunWorker(cfg Config, in io.Reader, out io.Writer) error {
	w := &worker{eventMax: make([]atomic.Int64, ring)}
	w.reset()
	pool, err := cable.NewPool(cable.PoolConfig{Loops: cfg.Loops, OnMessage: w.onMessage})
	if err != nil {
		return err
	}
	defer pool.Close()
	priv, err := token.LoadSigningKey(cfg.KeyDir, false)
	if err != nil {
		return err
	}
	iss, err := token.NewIssuer(priv, 6*time.Hour)
	if err != nil {
		return err
	}
	start := time.Now()
	var (
		mu        sync.Mutex
		connected int
		failed    int
		firstErr  string
		next      = cfg.From
	)
	var wg sync.WaitGroup
	for d := 0; d < cfg.Dialers; d++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= cfg.From+cfg.Count {
					return
				}
				err := dialOne(pool, iss, cfg, i)
				mu.Lock()
				if err != nil {
					failed++
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else {
					connected++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for pool.Confirms.Load()+pool.Rejects.Load() < int64(connected) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	ready := workerMsg{Type: "ready", Connected: connected, Failed: failed, FirstErr: firstErr,
		Confirms: pool.Confirms.Load(), Rejects: pool.Rejects.Load(), ElapsedMS: time.Since(start).Milliseconds(),
		PID: os.Getpid()}
	var base int64
	return child.Serve(in, out, func(req workerReq) (any, bool) {
		switch req.Cmd {
		case "ready":
			return ready, false
		case "reset":
			w.reset()
			base = pool.Messages.Load()
		case "report":
			m := workerMsg{Type: "report", Frames: pool.Messages.Load() - base, Pings: pool.Pings.Load(),
				Closed: pool.Closed.Load(), Lag: w.lag.Load().Snapshot(), PID: os.Getpid(),
				EventMax: map[int64]int64{}}
			for n := max(req.First, 1); n <= req.Last && req.Last-req.First < ring; n++ {
				if v := w.eventMax[n&(ring-1)].Load(); v > 0 {
					m.EventMax[n] = v
				}
			}
			return m, false
		}
		return workerMsg{Type: req.Cmd}, req.Cmd == "close"
	})
}

func dialOne(pool *cable.Pool, iss *token.Issuer, cfg Config, i int) error {
	tok, _, err := iss.Issue(id.ID(cfg.user(i)), id.ID(cfg.user(i)))
	if err != nil {
		return err
	}
	ident := cable.Identifier("ConversationChannel", "id", fmt.Sprint(cfg.conv(i)))
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := pool.Dial(ctx, cable.Request{Addr: cfg.Target, Token: tok}, ident)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	return last
}

// ensureKey makes a signing key in dir when there is none.
func ensureKey(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "signing.key")); err == nil {
		return nil
	}
	return token.GenerateKey(dir)
}
