// Package scenario holds the bench's scenarios, each a function that
// drives the running stack (or, for the auth check, the shared code in
// process) and records its steps in the run's report. Which figures become
// target rows, and against what, is decided once in targets.go.
//
// Every scenario is open-model (loadtest/load): operations are due on a fixed
// schedule and latency counts from the due time. A scenario whose pieces
// have not landed records why it was not measured instead of a figure.
package scenario

import (
	"context"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/bench/seed"
	"github.com/chatterly/chatterly/bench/stack"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
)

// Env is what every scenario runs with.
type Env struct {
	Stack *stack.Stack
	World *seed.World
	Size  Size
	Run   *report.Run
	// Redis and DB are the bench's own clients of the stack's services;
	// Keys is the stack's key space.
	Redis rueidis.Client
	DB    *pgxpool.Pool
	Keys  rkey.Space
	// ResultsDir is where profiles are written (bench/results for a full
	// run); profile paths in the report are relative to its parent.
	ResultsDir string
	Logf       func(format string, args ...any)
	// Open connects the bench's clients to another stack of the run and
	// seeds it as this one was (the fleet scenario's own stack).
	Open func(ctx context.Context, st *stack.Stack) (*Env, func(), error)
}

// Func is a scenario.
type Func func(ctx context.Context, e *Env) error

func (e *Env) logf(format string, args ...any) {
	if e.Logf != nil {
		e.Logf(format, args...)
	}
}

// seconds turns a float number of seconds into a duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
