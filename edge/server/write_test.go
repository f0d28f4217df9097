package server

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestRawWritesAndPartialWritev(t *testing.T) {
	t.Parallel()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	require.NoError(t, unix.SetNonblock(fds[0], true))

	n, errno := rawWrite(fds[0], []byte("hello "))
	require.Zero(t, errno)
	require.Equal(t, 6, n)
	var iov []unix.Iovec
	n, errno, iov = rawWritev(fds[0], [][]byte{[]byte("wide "), nil, []byte("world")}, iov)
	require.Zero(t, errno)
	require.Equal(t, 10, n)
	buf := make([]byte, 64)
	got, err := unix.Read(fds[1], buf)
	require.NoError(t, err)
	require.Equal(t, "hello wide world", string(buf[:got]))
	require.Nil(t, iov[0].Base, "the scratch keeps no pointer into frames")

	// A full socket: the raw write says EAGAIN rather than block.
	big := bytes.Repeat([]byte("x"), 1<<20)
	for {
		if _, errno := rawWrite(fds[0], big); errno != 0 {
			require.Equal(t, syscall.EAGAIN, errno)
			break
		}
	}

	rest := skip([][]byte{[]byte("abc"), []byte("defg"), []byte("hi")}, 5)
	require.Equal(t, [][]byte{[]byte("fg"), []byte("hi")}, rest)
	require.Empty(t, skip([][]byte{[]byte("ab")}, 2))
}
