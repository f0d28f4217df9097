package fault

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/rueidis"
)

// UnavailableRetry is the Retry-After of an unavailable answer that names
// none: a dependency that did not answer is retried about a second later,
// when a restarted Postgres or Redis has usually come back.
const UnavailableRetry = time.Second

// DependencyDown reports whether err means that Postgres or Redis did not
// answer — it refused or dropped the connection, did not answer within the
// call's deadline, or is shutting down or starting up — as opposed to an
// answer that says the request itself is wrong (a constraint violation, a
// WRONGTYPE reply) or a bug. Such a request is not the client's fault nor
// ours: it is answered 503 unavailable with Retry-After, never 500.
//
// A cancelled context counts: the api cancels requests only when it stops.
func DependencyDown(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, rueidis.ErrClosing) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // refused, reset, unreachable, timed out
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return postgresUnavailable(pe.Code)
	}
	var re *rueidis.RedisError
	if errors.As(err, &re) {
		return re.IsLoading() || re.IsTryAgain() || re.IsClusterDown()
	}
	return false
}

// postgresUnavailable: the SQLSTATEs of a server that cannot serve now —
// connection exceptions (class 08), too many connections (53300), query
// cancelled by a timeout (57014), admin or crash shutdown and "starting
// up" (57P01-57P03), and a write sent to a standby mid-failover (25006).
func postgresUnavailable(code string) bool {
	switch code {
	case "53300", "57014", "57P01", "57P02", "57P03", "25006":
		return true
	}
	return len(code) == 5 && code[:2] == "08"
}

// Classify returns the problem to answer for err, a handler's or the
// router's: the *Error in its chain, unless that is internal (or there is
// none) and the cause is a dependency that did not answer, which is
// unavailable with Retry-After instead. An unavailable error without a
// Retry-After gets UnavailableRetry.
func Classify(err error) *Error {
	fe, ok := As(err)
	if !ok || fe.Code == Internal {
		if DependencyDown(err) {
			return &Error{Code: Unavailable, Message: "a service this request needs is not answering; retry shortly",
				RetryAfter: UnavailableRetry, Err: err}
		}
		if !ok {
			return Wrap(err, "unexpected error")
		}
	}
	if fe.Code == Unavailable && fe.RetryAfter == 0 {
		c := *fe
		c.RetryAfter = UnavailableRetry
		return &c
	}
	return fe
}
