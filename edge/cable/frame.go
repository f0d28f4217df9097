package cable

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Frame errors. Each is a protocol violation after which the connection
// is closed.
var (
	ErrReservedBits  = errors.New("cable: frame uses reserved bits (no extension was negotiated)")
	ErrUnmasked      = errors.New("cable: client frame is not masked")
	ErrBadOpcode     = errors.New("cable: unknown opcode")
	ErrControlFrame  = errors.New("cable: control frame fragmented or longer than 125 bytes")
	ErrFrameTooLarge = errors.New("cable: frame larger than the limit")
)

// Header is a parsed client frame header.
type Header struct {
	Fin    bool
	Op     byte
	Mask   [4]byte
	Length int // payload length
	Size   int // header length in bytes (2 to 14)
}

// ParseHeader reads a client frame header from the start of b. It returns
// ok == false, with no error, when b does not yet hold the whole header.
// Payloads longer than max are refused before they are buffered, so a
// client cannot make the server hold a large frame.
func ParseHeader(b []byte, max int) (h Header, ok bool, err error) {
	if len(b) < 2 {
		return h, false, nil
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.Op = b0 & 0x0F
	if b0&0x70 != 0 {
		return h, false, ErrReservedBits
	}
	switch h.Op {
	case OpContinuation, OpText, OpBinary:
	case OpClose, OpPing, OpPong:
		if !h.Fin || b1&0x7F > 125 {
			return h, false, ErrControlFrame
		}
	default:
		return h, false, ErrBadOpcode
	}
	if b1&0x80 == 0 {
		return h, false, ErrUnmasked
	}
	n := int(b1 & 0x7F)
	h.Size = 2
	switch n {
	case 126:
		if len(b) < 4 {
			return h, false, nil
		}
		n = int(binary.BigEndian.Uint16(b[2:4]))
		h.Size = 4
	case 127:
		if len(b) < 10 {
			return h, false, nil
		}
		l := binary.BigEndian.Uint64(b[2:10])
		if l > uint64(max) {
			return h, false, ErrFrameTooLarge
		}
		n = int(l)
		h.Size = 10
	}
	if n > max {
		return h, false, ErrFrameTooLarge
	}
	if len(b) < h.Size+4 {
		return h, false, nil
	}
	copy(h.Mask[:], b[h.Size:h.Size+4])
	h.Size += 4
	h.Length = n
	return h, true, nil
}

// Unmask XORs p with mask, in place. offset is p's position within the
// frame payload, for payloads unmasked in pieces.
func Unmask(p []byte, mask [4]byte, offset int) {
	for i := range p {
		p[i] ^= mask[(offset+i)&3]
	}
}

// AppendHeader appends an unmasked server frame header with FIN set.
func AppendHeader(dst []byte, op byte, length int) []byte {
	switch {
	case length < 126:
		return append(dst, 0x80|op, byte(length))
	case length <= 0xFFFF:
		return append(dst, 0x80|op, 126, byte(length>>8), byte(length))
	default:
		dst = append(dst, 0x80|op, 127)
		return binary.BigEndian.AppendUint64(dst, uint64(length))
	}
}

// HeaderLen is the length of the server frame header for a payload of n bytes.
func HeaderLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xFFFF:
		return 4
	default:
		return 10
	}
}

// AppendFrame appends one unmasked, unfragmented frame.
func AppendFrame(dst []byte, op byte, payload []byte) []byte {
	dst = AppendHeader(dst, op, len(payload))
	return append(dst, payload...)
}

// Close status codes the edge sends (RFC 6455 §7.4.1).
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001
	CloseProtocolError = 1002
	CloseUnsupported   = 1003
	CloseInvalidData   = 1007
	ClosePolicy        = 1008
	CloseTooBig        = 1009
)

// AppendClose appends a close frame carrying code.
func AppendClose(dst []byte, code uint16) []byte {
	dst = AppendHeader(dst, OpClose, 2)
	return binary.BigEndian.AppendUint16(dst, code)
}

// NextFrame reads the next whole frame from the start of b: its header,
// its still-masked payload (a sub-slice of b) and the number of bytes it
// spans. n == 0 with no error means b does not hold a whole frame yet; the
// caller waits for more bytes without consuming any.
func NextFrame(b []byte, max int) (h Header, payload []byte, n int, err error) {
	h, ok, err := ParseHeader(b, max)
	if err != nil || !ok {
		return h, nil, 0, err
	}
	end := h.Size + h.Length
	if len(b) < end {
		return h, nil, 0, nil
	}
	return h, b[h.Size:end], end, nil
}

// CloseReply is the code to answer a client's close frame with, given its
// payload (RFC 6455 §5.5.1, §7.4): the client's own code when it is one a
// peer may send, 1000 when it sent none, 1002 (protocol error) for a
// one-byte payload or a code no peer may send (below 1000, 1004-1006,
// 1015, unassigned 1016-2999, 5000 and up), and 1007 for a reason that is
// not UTF-8. Echoing whatever arrived would answer 999 with 999.
func CloseReply(payload []byte) uint16 {
	switch {
	case len(payload) == 0:
		return CloseNormal
	case len(payload) == 1:
		return CloseProtocolError
	}
	code := uint16(payload[0])<<8 | uint16(payload[1])
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
	default:
		return CloseProtocolError
	}
	if !utf8.Valid(payload[2:]) {
		return CloseInvalidData
	}
	return code
}
