package server

import (
	"syscall"
)

// Descriptors. gnet's acceptor stops the whole engine when accept(2) fails
// with anything but EINTR, EAGAIN, ECONNRESET or ECONNABORTED, and EMFILE
// is not among them: one burst of connections past the open-files limit
// would take every socket down. The edge makes EMFILE impossible instead:
// it caps its sockets (MaxSockets, handshakes included) below the limit and
// keeps FDHeadroom descriptors for everything else, which is bounded by
// construction (the listener, two descriptors per event loop and the Go
// poller, a few Redis connections, at most 16 admin connections, and the
// transient descriptor of a connection refused at the cap, which gnet
// accepts only to close). A connection past the cap is refused with a 503
// the moment it opens, so the process never reaches the limit, keeps
// serving the sockets it has, and spends one accept and one close per
// refused connection (no retry loop, no spinning). LoadConfig refuses a
// cap that would leave less than minReserve descriptors spare.
//
// What this cannot prevent is the whole system running out (ENFILE) or
// out of socket memory (ENOBUFS, ENOMEM): those stop gnet's engine, and the
// process exits with an error for its supervisor to restart.

// minReserve is the fewest descriptors the edge keeps for non-sockets.
const minReserve = 32

// openFilesLimit is the soft RLIMIT_NOFILE (which the Go runtime raises to
// the hard limit at start).
func openFilesLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 1024
	}
	return int(r.Cur)
}
