package cable

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// clientFrame builds a masked client frame, as a browser sends it.
func clientFrame(op byte, fin bool, payload []byte, mask [4]byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n <= 0xFFFF:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	out = append(out, mask[:]...)
	start := len(out)
	out = append(out, payload...)
	Unmask(out[start:], mask, 0)
	return out
}

func TestNextFrameSizes(t *testing.T) {
	t.Parallel()
	mask := [4]byte{1, 2, 3, 4}
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		p := bytes.Repeat([]byte{'x'}, n)
		f := clientFrame(OpText, true, p, mask)
		h, payload, used, err := NextFrame(f, 1<<20)
		require.NoError(t, err)
		require.Equal(t, len(f), used, "size %d", n)
		require.True(t, h.Fin)
		require.Equal(t, OpText, h.Op)
		got := append([]byte(nil), payload...)
		Unmask(got, h.Mask, 0)
		require.Equal(t, string(p), string(got))
		// Every proper prefix is "not yet".
		for _, cut := range []int{0, 1, h.Size - 1, h.Size, len(f) - 1} {
			if cut < 0 || cut >= len(f) {
				continue
			}
			_, _, used, err := NextFrame(f[:cut], 1<<20)
			require.NoError(t, err)
			require.Zero(t, used)
		}
	}
}

func TestParseHeaderRefusals(t *testing.T) {
	t.Parallel()
	mask := [4]byte{9, 9, 9, 9}
	cases := map[string]struct {
		frame []byte
		max   int
		want  error
	}{
		"unmasked":        {[]byte{0x81, 0x01, 'a'}, 100, ErrUnmasked},
		"reserved bits":   {[]byte{0xC1, 0x81, 0, 0, 0, 0, 'a'}, 100, ErrReservedBits},
		"bad opcode":      {[]byte{0x83, 0x80, 0, 0, 0, 0}, 100, ErrBadOpcode},
		"long ping":       {clientFrame(OpPing, true, make([]byte, 126), mask), 1000, ErrControlFrame},
		"fragmented ping": {clientFrame(OpPing, false, nil, mask), 100, ErrControlFrame},
		"too large 16":    {clientFrame(OpText, true, make([]byte, 200), mask), 100, ErrFrameTooLarge},
		"too large 64":    {clientFrame(OpText, true, make([]byte, 70000), mask), 65536, ErrFrameTooLarge},
		"huge length":     {[]byte{0x81, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 1}, 1 << 20, ErrFrameTooLarge},
	}
	for name, c := range cases {
		_, _, _, err := NextFrame(c.frame, c.max)
		require.ErrorIs(t, err, c.want, name)
	}
}

func TestServerFrames(t *testing.T) {
	t.Parallel()
	require.Equal(t, append([]byte{0x81, 18}, `{"type":"welcome"}`...), Welcome)
	require.Equal(t, `{"type":"disconnect","reason":"unauthorized","reconnect":false}`, string(DisconnectFrame(Unauthorized)[2:]))
	require.Equal(t, `{"type":"disconnect","reason":"server_restart","reconnect":true}`, string(DisconnectFrame(ServerRestart)[2:]))
	require.Equal(t, `{"type":"ping","message":1700000000}`, string(AppendPing(nil, 1700000000)[2:]))
	ident := []byte(`"{\"channel\":\"ConversationChannel\",\"id\":\"7\"}"`)
	require.Equal(t, `{"identifier":`+string(ident)+`,"type":"confirm_subscription"}`, string(AppendConfirm(nil, ident)[2:]))
	require.Equal(t, `{"identifier":`+string(ident)+`,"type":"reject_subscription"}`, string(AppendReject(nil, ident)[2:]))
	msg := bytes.Repeat([]byte("m"), 300)
	b := AppendBroadcast(nil, ident, msg)
	require.Len(t, b, BroadcastLen(ident, msg))
	require.Equal(t, byte(0x81), b[0])
	require.Equal(t, byte(126), b[1])
	require.Equal(t, `{"identifier":`+string(ident)+`,"message":`+string(msg)+`}`, string(b[4:]))
	require.Equal(t, []byte{0x88, 2, 0x03, 0xE8}, AppendClose(nil, CloseNormal))
}
