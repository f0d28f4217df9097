package cable

import (
	"bufio"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNextEndsAtItsDeadlineWhilePingsArrive: a stream of pings must not
// keep Next reading past its timeout. Once the deadline had passed between
// two pings, Next used to read with no deadline at all, for ever; a
// timeout that is over before the first read shows it every time.
func TestNextEndsAtItsDeadlineWhilePingsArrive(t *testing.T) {
	t.Parallel()
	client, server := net.Pipe()
	defer client.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		ping := []byte(`{"type":"ping","message":1}`)
		frame := append([]byte{0x81, byte(len(ping))}, ping...)
		for {
			select {
			case <-stop:
				server.Close()
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := server.Write(frame); err != nil {
				return
			}
		}
	}()
	c := Wrap(client, bufio.NewReader(client))
	done := make(chan error, 1)
	go func() {
		_, err := c.Next(200*time.Millisecond, true)
		if err == nil {
			t.Error("Next returned a message, not a timeout")
		}
		_, err = c.Next(-time.Millisecond, true)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	case <-time.After(30 * time.Second):
		t.Fatal("Next still reading after 30 s of pings")
	}
}
