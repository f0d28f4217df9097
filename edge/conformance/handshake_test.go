package conformance

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/stretchr/testify/require"
)

// rawDial opens a plain TCP connection to the edge.
func rawDial(t *testing.T, e *edge) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", e.Addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return nc
}

// readHead reads an HTTP response head.
func readHead(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for !strings.HasSuffix(b.String(), "\r\n\r\n") {
		line, err := br.ReadString('\n')
		require.NoError(t, err, b.String())
		b.WriteString(line)
	}
	return b.String()
}

// TestHandshakeSplitIntoSingleBytes sends the upgrade request and, right
// behind it in the same stream, a subscribe frame, one byte per TCP write:
// the edge must assemble the head, answer 101 with the subprotocol, and
// not lose the frame that followed the head.
func TestHandshakeSplitIntoSingleBytes(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	st.member(7, 1)
	req, key := cable.Request{Addr: e.Addr, Token: st.token(1, 11)}.Build()
	stream := append(req, cable.AppendClientFrame(nil, cable.OpText, cable.Command("subscribe", convIdent(7), ""))...)
	nc := rawDial(t, e)
	for i := range stream {
		_, err := nc.Write(stream[i : i+1])
		require.NoError(t, err)
		time.Sleep(100 * time.Microsecond) // pacing, so each byte leaves as its own segment
	}
	br := bufio.NewReader(nc)
	head := readHead(t, br)
	require.NoError(t, cable.CheckResponse([]byte(head), key), head)
	c := connOver(t, nc, br)
	require.Equal(t, "welcome", next(t, c).Type)
	m := next(t, c)
	require.Equal(t, "confirm_subscription", m.Type)
	require.Equal(t, convIdent(7), m.Identifier)
}

// connOver wraps an upgraded raw connection in a cable.Conn reader.
func connOver(t *testing.T, nc net.Conn, br *bufio.Reader) *cable.Conn {
	return cable.Wrap(nc, br)
}

func TestFirefoxConnectionHeaderAndTokenInProtocol(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	req, key := cable.Request{Addr: e.Addr, Token: st.token(1, 11), TokenInProtocol: true}.Build()
	firefox := strings.Replace(string(req), "Connection: Upgrade", "Connection: keep-alive, Upgrade", 1)
	nc := rawDial(t, e)
	_, err := nc.Write([]byte(firefox))
	require.NoError(t, err)
	br := bufio.NewReader(nc)
	head := readHead(t, br)
	require.NoError(t, cable.CheckResponse([]byte(head), key), head)
	require.Contains(t, head, "\r\nSec-WebSocket-Protocol: actioncable-v1-json\r\n", "only the subprotocol, never the token, is echoed")
	require.Equal(t, "welcome", next(t, connOver(t, nc, br)).Type)
}

func TestOriginAllowList(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"ALLOWED_ORIGINS": "https://app.example,http://localhost:3000"})
	for origin, ok := range map[string]bool{"": true, "https://app.example": true, "http://localhost:3000": true,
		"https://evil.example": false, "http://localhost:3001": false} {
		r := cable.Request{Addr: e.Addr, Token: st.token(1, 11), Origin: origin}
		c, err := cable.Dial(t.Context(), r)
		if ok {
			require.NoError(t, err, origin)
			require.Equal(t, "welcome", next(t, c).Type)
			c.Close()
			continue
		}
		var he *cable.HandshakeError
		require.ErrorAs(t, err, &he, origin)
		require.Equal(t, 403, he.Status)
	}
	require.Equal(t, float64(2), e.metric("chatterly_edge_handshakes_total", `outcome="forbidden_origin"`))
}

func TestBadRequestsAreRefused(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_MAX_HANDSHAKE_BYTES": "2048"})
	cases := map[string]int{
		"GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n": 404,
		"GET /cable HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n":                                               400,
		"POST /cable HTTP/1.1\r\nHost: x\r\n\r\n":                                            405,
		"GET /cable HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 3000) + "\r\n\r\n": 431,
	}
	for req, status := range cases {
		nc := rawDial(t, e)
		_, err := nc.Write([]byte(req))
		require.NoError(t, err)
		head := readHead(t, bufio.NewReader(nc))
		require.True(t, strings.HasPrefix(head, "HTTP/1.1 "+strconv.Itoa(status)), "%q -> %s", req[:20], head)
	}
}

// TestHalfOpenHandshakeIsClosed leaves a handshake unfinished: the edge
// closes the connection once the handshake time limit passes.
func TestHalfOpenHandshakeIsClosed(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_HANDSHAKE_TIMEOUT": "500ms"})
	nc := rawDial(t, e)
	_, err := nc.Write([]byte("GET /cable HTTP/1.1\r\nHost: x\r\n"))
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = nc.Read(make([]byte, 1))
	require.Error(t, err, "the edge closes the connection")
	require.False(t, isTimeout(err), "closed by the edge, not by our deadline: %v", err)
	require.Less(t, time.Since(start), 3*time.Second)
	require.Equal(t, float64(1), e.metric("chatterly_edge_handshakes_total", `outcome="timeout"`))
	require.Eventually(t, func() bool { return e.metric("chatterly_edge_sockets_open", "") == 0 }, 2*time.Second, 20*time.Millisecond)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
