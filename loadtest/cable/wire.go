package cable

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Opcodes of the frames a client sees or sends.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Protocol is the subprotocol every Action Cable client offers first.
const Protocol = "actioncable-v1-json"

// Request describes a handshake.
type Request struct {
	// Addr is host:port; Path defaults to /cable.
	Addr string
	Path string
	// Token goes in the token query parameter, or as a
	// Sec-WebSocket-Protocol entry with TokenInProtocol.
	Token           string
	TokenInProtocol bool
	// Origin, when set, is sent as the Origin header (browsers always send
	// one; server-side clients do not).
	Origin string
	// Header lines added verbatim ("Name: value").
	Header []string
}

// Build renders the HTTP upgrade request and returns it with the key
// whose accept value the response must carry.
func (r Request) Build() (req []byte, key string) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key = base64.StdEncoding.EncodeToString(nonce[:])
	path := r.Path
	if path == "" {
		path = "/cable"
	}
	protocols := Protocol + ", actioncable-unsupported"
	if r.Token != "" {
		if r.TokenInProtocol {
			protocols += ", " + r.Token
		} else {
			path += "?token=" + url.QueryEscape(r.Token)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, r.Addr)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n", key, protocols)
	if r.Origin != "" {
		fmt.Fprintf(&b, "Origin: %s\r\n", r.Origin)
	}
	for _, h := range r.Header {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes(), key
}

// ErrHandshake is wrapped by handshake failures; Status carries the
// server's HTTP status.
var ErrHandshake = errors.New("cable: handshake refused")

// HandshakeError is a refused upgrade.
type HandshakeError struct {
	Status int
	Head   string
}

func (e *HandshakeError) Error() string { return fmt.Sprintf("%v: HTTP %d", ErrHandshake, e.Status) }
func (e *HandshakeError) Unwrap() error { return ErrHandshake }

// CheckResponse verifies a response head (through the blank line) against
// key: 101, the accept hash, and the actioncable-v1-json subprotocol.
func CheckResponse(head []byte, key string) error {
	lines := strings.Split(string(head), "\r\n")
	var status int
	if _, err := fmt.Sscanf(lines[0], "HTTP/1.1 %d", &status); err != nil {
		return fmt.Errorf("cable: bad status line %q", lines[0])
	}
	if status != 101 {
		return &HandshakeError{Status: status, Head: string(head)}
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	want := base64.StdEncoding.EncodeToString(sum[:])
	var accept, proto string
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "sec-websocket-accept":
			accept = strings.TrimSpace(v)
		case "sec-websocket-protocol":
			proto = strings.TrimSpace(v)
		}
	}
	if accept != want {
		return errors.New("cable: bad Sec-WebSocket-Accept")
	}
	if proto != Protocol {
		return fmt.Errorf("cable: subprotocol %q, want %s", proto, Protocol)
	}
	return nil
}

// AppendClientFrame appends a masked frame, as clients must send.
func AppendClientFrame(dst []byte, op byte, payload []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= mask[i&3]
	}
	return dst
}

// ParseServerFrame reads one unmasked server frame from the start of b;
// n == 0 means b does not hold a whole frame yet.
func ParseServerFrame(b []byte) (op byte, fin bool, payload []byte, n int, err error) {
	if len(b) < 2 {
		return 0, false, nil, 0, nil
	}
	op, fin = b[0]&0x0F, b[0]&0x80 != 0
	if b[1]&0x80 != 0 {
		return 0, false, nil, 0, errors.New("cable: server frame is masked")
	}
	l, hl := int(b[1]&0x7F), 2
	switch l {
	case 126:
		if len(b) < 4 {
			return 0, false, nil, 0, nil
		}
		l, hl = int(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return 0, false, nil, 0, nil
		}
		l, hl = int(binary.BigEndian.Uint64(b[2:10])), 10
	}
	if len(b) < hl+l {
		return 0, false, nil, 0, nil
	}
	return op, fin, b[hl : hl+l], hl + l, nil
}

// Command renders a client command; identifier is the JSON text of the
// params (what JSON.stringify makes) and data, for message, the JSON text
// of the action's data.
func Command(command, identifier, data string) []byte {
	m := map[string]string{"command": command, "identifier": identifier}
	if data != "" {
		m["data"] = data
	}
	b, _ := json.Marshal(m)
	return b
}

// Identifier renders channel params the way the official client does:
// {"channel":…} followed by the other params in the order given.
func Identifier(channel string, kv ...string) string {
	var b strings.Builder
	b.WriteString(`{"channel":`)
	q, _ := json.Marshal(channel)
	b.Write(q)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		b.WriteByte(',')
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

// Message is a decoded server message.
type Message struct {
	Type       string          `json:"type"`
	Identifier string          `json:"identifier"`
	Message    json.RawMessage `json:"message"`
	Reason     string          `json:"reason"`
	Reconnect  *bool           `json:"reconnect"`
	// Raw is the frame's payload as received.
	Raw []byte `json:"-"`
}

// Decode reads a server message.
func Decode(payload []byte) (Message, error) {
	var m Message
	err := json.Unmarshal(payload, &m)
	m.Raw = append([]byte(nil), payload...)
	return m, err
}
