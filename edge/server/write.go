package server

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Writing to sockets. gnet writes with unix.Write, a syscall that tells the
// Go scheduler it may block: a loopback write takes 5-20 µs (the kernel
// runs the receiver's side too), long enough that the runtime's monitor
// takes the loop's P away mid-write, and the loop must win a P back after
// every write; at tens of thousands of writes per second that churn (futex
// wakeups, spinning threads) costs more than the writes. The sockets are
// non-blocking, so a write never blocks: the edge writes with a raw
// syscall while the socket's outbound buffer is empty, and hands gnet only
// what the kernel would not take (gnet buffers it and waits for EPOLLOUT),
// or a write that failed (gnet closes the connection and calls OnClose).

// rawWrite writes p to fd without the scheduler's syscall bookkeeping.
func rawWrite(fd int, p []byte) (int, syscall.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), e
}

// rawWritev writes bufs to fd in one writev, using iov as scratch.
func rawWritev(fd int, bufs [][]byte, iov []unix.Iovec) (int, syscall.Errno, []unix.Iovec) {
	iov = iov[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			v := unix.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			iov = append(iov, v)
		}
	}
	if len(iov) == 0 {
		return 0, 0, iov
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	clear(iov) // drop the pointers into the frames
	return int(n), e, iov
}

// skip drops the first n bytes from bufs (a partial writev), in place.
func skip(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 && n > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}
