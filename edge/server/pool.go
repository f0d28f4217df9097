package server

import (
	"context"
	"sync"
)

// pool runs the edge's blocking work (token checks, Redis reads and
// appends) on a fixed set of goroutines, so an event loop never waits on
// I/O. Its queue is bounded: when full, submit refuses and the loop
// answers the client as busy instead of queueing without limit.
type pool struct {
	jobs chan func(context.Context)
	ctx  context.Context
	wg   sync.WaitGroup
}

func newPool(ctx context.Context, workers, queue int) *pool {
	p := &pool{jobs: make(chan func(context.Context), queue), ctx: ctx}
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for job := range p.jobs {
				job(p.ctx)
			}
		}()
	}
	return p
}

// submit queues job, or reports false when the queue is full.
func (p *pool) submit(job func(context.Context)) bool {
	select {
	case p.jobs <- job:
		return true
	default:
		return false
	}
}

// close stops taking jobs and waits for the queued ones, at most until
// ctx ends. Jobs see the pool's context, which the caller cancels first,
// so their Redis calls return at once.
func (p *pool) close(ctx context.Context) {
	close(p.jobs)
	within(ctx, p.wg.Wait)
}
