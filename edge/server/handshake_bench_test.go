package server

import (
	"strings"
	"testing"
)

// benchHead is an upgrade request as @rails/actioncable sends it from a
// browser: token in the query, the two subprotocols, an allowed origin.
const benchHead = "GET /cable?token=eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiI3MzQwMDMyMDAwMDAwMDA1In0.c2lnbmF0dXJl HTTP/1.1\r\n" +
	"Host: 127.0.0.1:8081\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: http://127.0.0.1:3000\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"Sec-WebSocket-Protocol: actioncable-v1-json, actioncable-unsupported\r\n\r\n"

// BenchmarkHandshakeHead is the loop's work on one upgrade request, from
// the whole head in the buffer to the 101 answer written: gobwas/ws's
// header parser with the edge's callbacks (path, token, origin,
// subprotocol). It is what bounds handshakes per second per loop before
// the token check, which runs on the worker pool.
func BenchmarkHandshakeHead(b *testing.B) {
	l := &loop{srv: &Server{
		cfg:     Config{MaxHandshakeBytes: 8 << 10},
		origins: map[string]bool{"http://127.0.0.1:3000": true},
	}}
	h := &l.hs
	h.init(l)
	head := []byte(benchHead)
	upgrade := func() error {
		h.in.Reset(head)
		h.out.Reset()
		h.token, h.originBad = "", false
		_, err := h.up.Upgrade(h.rw)
		return err
	}
	if err := upgrade(); err != nil || !strings.HasPrefix(h.out.String(), "HTTP/1.1 101 ") ||
		!strings.Contains(h.out.String(), "Sec-WebSocket-Protocol: actioncable-v1-json\r\n") || !strings.HasPrefix(h.token, "eyJ") {
		b.Fatalf("upgrade: %v, token %q, answer:\n%s", err, h.token, h.out.String())
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		_ = upgrade()
	}
}
