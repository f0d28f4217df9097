package server

import (
	"errors"
	"os"
	"syscall"
)

// Descriptors. gnet's own acceptor stops the whole engine when accept(2)
// fails with anything but EINTR, EAGAIN, ECONNRESET or ECONNABORTED, and
// EMFILE is not among them: one burst of connections past the open-files
// limit would take every socket down. So the edge accepts on its own
// goroutine (a plain net.Listener) and hands each connection to gnet's
// event loops; it caps sockets below the limit (MaxSockets, leaving
// FDHeadroom for Redis, the admin server and the transient duplicate gnet
// makes of each new socket); and should the process still run out, the
// acceptor sheds the pending connection with a reserved descriptor and
// backs off, never spinning, while the sockets it has keep being served.

// openFilesLimit is the soft RLIMIT_NOFILE (which the Go runtime raises to
// the hard limit at start).
func openFilesLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 1024
	}
	return int(r.Cur)
}

// isFDExhaustion reports whether err means no descriptor (or socket
// memory) was available.
func isFDExhaustion(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// reserve is one descriptor held back so the acceptor can free it, accept
// and close a pending connection, and take it again: without it, a
// connection left in the listen queue at the limit would make every
// accept fail at once, forever.
type reserve struct{ f *os.File }

func (r *reserve) take() {
	if r.f == nil {
		r.f, _ = os.Open(os.DevNull)
	}
}

func (r *reserve) release() {
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
}
