// Package background starts a process's long-running loops (publisher
// markers, relays, timers, stream consumers) and hands back the one
// function that stops them, so the process's Run or Shutdown decides the
// order things stop in.
package background

import (
	"context"
	"sync"
)

// Start runs each loop in a goroutine on one context of its own, which
// carries ctx's values but not its cancellation (the caller, not ctx's
// owner, decides when the loops end). A loop must return once its context
// is cancelled. stop cancels that context and waits until every loop has
// returned; it may be called once.
func Start(ctx context.Context, loops ...func(context.Context)) (stop func()) {
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, loop := range loops {
		wg.Add(1)
		go func() { defer wg.Done(); loop(lctx) }()
	}
	return func() { cancel(); wg.Wait() }
}
