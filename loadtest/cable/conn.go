package cable

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// Conn is a blocking client connection.
type Conn struct {
	nc  net.Conn
	br  *bufio.Reader
	buf []byte
}

// Dial connects and completes the handshake. It does not wait for welcome:
// a refused token is a disconnect message after the upgrade, as Action
// Cable does it.
func Dial(ctx context.Context, r Request) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return nil, err
	}
	c, err := Upgrade(ctx, nc, r)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// Upgrade performs the handshake on an open connection.
func Upgrade(ctx context.Context, nc net.Conn, r Request) (*Conn, error) {
	req, key := r.Build()
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
		defer nc.SetDeadline(time.Time{})
	}
	if _, err := nc.Write(req); err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, br: bufio.NewReaderSize(nc, 4096)}
	head, err := c.ReadHead()
	if err != nil {
		return nil, err
	}
	if err := CheckResponse(head, key); err != nil {
		return nil, err
	}
	return c, nil
}

// Wrap makes a Conn of a connection whose handshake the caller did
// itself, reading through br (which may hold bytes already read).
func Wrap(nc net.Conn, br *bufio.Reader) *Conn { return &Conn{nc: nc, br: br} }

// Detach hands the connection to a reader of its own (a socket pool, or a
// client with its own frame loop): it returns the connection and a copy of
// the bytes already read past what this Conn consumed (frames the server
// sent right after the handshake). The Conn must not be used afterwards.
func (c *Conn) Detach() (net.Conn, []byte) {
	var rest []byte
	if n := c.br.Buffered(); n > 0 {
		b, _ := c.br.Peek(n)
		rest = append([]byte(nil), b...)
	}
	return c.nc, rest
}

// ReadHead reads an HTTP response head through its blank line.
func (c *Conn) ReadHead() ([]byte, error) {
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return head, err
		}
		head = append(head, line...)
		if len(head) > 16<<10 {
			return head, errors.New("cable: response head too large")
		}
	}
	return head, nil
}

// NetConn is the underlying connection, for tests that misbehave on purpose.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection without a closing handshake.
func (c *Conn) Close() error { return c.nc.Close() }

// WriteFrame sends one masked frame.
func (c *Conn) WriteFrame(op byte, payload []byte) error {
	c.buf = AppendClientFrame(c.buf[:0], op, payload)
	_, err := c.nc.Write(c.buf)
	return err
}

// Send sends a text message.
func (c *Conn) Send(payload []byte) error { return c.WriteFrame(OpText, payload) }

// Subscribe sends a subscribe command.
func (c *Conn) Subscribe(identifier string) error {
	return c.Send(Command("subscribe", identifier, ""))
}

// Unsubscribe sends an unsubscribe command.
func (c *Conn) Unsubscribe(identifier string) error {
	return c.Send(Command("unsubscribe", identifier, ""))
}

// Perform sends a message command running action with data's other members.
func (c *Conn) Perform(identifier, data string) error {
	return c.Send(Command("message", identifier, data))
}

// ErrClosed is returned once the server closed the connection; a close
// frame's code is in CloseError.
var ErrClosed = errors.New("cable: connection closed")

// ReadFrame reads the next frame, answering nothing by itself.
func (c *Conn) ReadFrame(timeout time.Duration) (op byte, payload []byte, err error) {
	if timeout > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
		defer c.nc.SetReadDeadline(time.Time{})
	}
	var hdr [10]byte
	if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
		return 0, nil, err
	}
	n, hl := int(hdr[1]&0x7F), 2
	switch n {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	if hl > 2 {
		if _, err := io.ReadFull(c.br, hdr[2:hl]); err != nil {
			return 0, nil, err
		}
	}
	_, _, _, _, err = ParseServerFrame(hdr[:hl])
	if err != nil {
		return 0, nil, err
	}
	if hl == 4 {
		n = int(hdr[2])<<8 | int(hdr[3])
	} else if hl == 10 {
		n = 0
		for _, b := range hdr[2:10] {
			n = n<<8 | int(b)
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0] & 0x0F, payload, nil
}

// Next returns the next text message, skipping pings when skipPings is
// set. A close frame or the end of the stream (even inside a frame) is
// ErrClosed.
func (c *Conn) Next(timeout time.Duration, skipPings bool) (Message, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			// Pings skipped up to the deadline: ReadFrame takes a
			// timeout of 0 or less as none and would wait for ever.
			return Message{}, os.ErrDeadlineExceeded
		}
		op, payload, err := c.ReadFrame(left)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
				return Message{}, ErrClosed
			}
			return Message{}, err
		}
		switch op {
		case OpClose:
			return Message{}, ErrClosed
		case OpText:
			m, err := Decode(payload)
			if err != nil {
				return m, fmt.Errorf("cable: undecodable message %q: %w", payload, err)
			}
			if skipPings && m.Type == "ping" {
				continue
			}
			return m, nil
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}
