package dial

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/outage"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgGuard is a pool's pgx tracer, which pgx calls around every connect,
// acquire, query, batch, prepare and copy. It does two things there:
//
//   - a call whose context has no deadline (every call a REST request
//     makes: fasthttp's requests have none) gets one, timeout away, so a
//     Postgres that does not answer turns the request into 503 unavailable
//     instead of a hang. A caller's own deadline (River jobs, shutdown) is
//     left alone, so a long maintenance statement is not cut short;
//   - each outcome goes to the pool's outage tracker, which logs an outage
//     once when it starts and once when it ends.
type pgGuard struct {
	timeout time.Duration
	outage  *outage.Tracker
}

// bounded is the deadline a start hook added, found again by its end hook.
// ctx is the context the start hook returned: an end hook cancels only
// the deadline of its own start, never an outer one (a connect runs
// inside an acquire). pgx may run a call inside another on the very same
// context (a query prepares its statement first): nested counts those
// inner starts, whose ends must not cancel the outer call's deadline.
type bounded struct {
	ctx    context.Context
	cancel context.CancelFunc
	nested atomic.Int32
}

type boundedKey struct{}

func (g *pgGuard) start(ctx context.Context) context.Context {
	if g.timeout <= 0 {
		return ctx
	}
	if b, ok := ctx.Value(boundedKey{}).(*bounded); ok && b.ctx == ctx {
		b.nested.Add(1)
		return ctx
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx
	}
	tctx, cancel := context.WithTimeout(ctx, g.timeout)
	b := &bounded{cancel: cancel}
	b.ctx = context.WithValue(tctx, boundedKey{}, b)
	return b.ctx
}

func (g *pgGuard) end(ctx context.Context, err error, track bool) {
	if b, ok := ctx.Value(boundedKey{}).(*bounded); ok && b.ctx == ctx {
		if b.nested.Load() > 0 {
			b.nested.Add(-1)
		} else {
			b.cancel()
		}
	}
	if !track {
		return
	}
	switch {
	case err == nil:
		g.outage.OK()
	case errors.Is(err, context.Canceled):
		// the caller gave up (shutdown): says nothing about Postgres
	case fault.DependencyDown(err):
		g.outage.Fail(err)
	default:
		g.outage.OK() // Postgres answered, with an error about the statement
	}
}

func (g *pgGuard) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return g.start(ctx)
}

func (g *pgGuard) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	g.end(ctx, d.Err, true)
}

func (g *pgGuard) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return g.start(ctx)
}

func (g *pgGuard) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (g *pgGuard) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	g.end(ctx, d.Err, true)
}

func (g *pgGuard) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	return g.start(ctx)
}

func (g *pgGuard) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromEndData) {
	g.end(ctx, d.Err, true)
}

func (g *pgGuard) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	return g.start(ctx)
}

func (g *pgGuard) TracePrepareEnd(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareEndData) {
	g.end(ctx, d.Err, true)
}

func (g *pgGuard) TraceConnectStart(ctx context.Context, _ pgx.TraceConnectStartData) context.Context {
	return g.start(ctx)
}

func (g *pgGuard) TraceConnectEnd(ctx context.Context, d pgx.TraceConnectEndData) {
	g.end(ctx, d.Err, true)
}

func (g *pgGuard) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	return g.start(ctx)
}

// TraceAcquireEnd tracks failures only: a connection handed out of the
// pool is no answer from Postgres.
func (g *pgGuard) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	g.end(ctx, d.Err, d.Err != nil)
}
