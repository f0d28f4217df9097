package sockets

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	lcable "github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

// broadcast renders a message exactly as the edge does (edge/cable), for
// an envelope exactly as the api encodes it (shared/event).
func broadcast(t *testing.T, ident string, env event.Envelope) []byte {
	t.Helper()
	b, err := event.Encode(env)
	require.NoError(t, err)
	q, _ := json.Marshal(ident)
	return serverPayload(t, cable.AppendBroadcast(nil, q, b))
}

// serverPayload unwraps a server frame as the client reads it.
func serverPayload(t *testing.T, frame []byte) []byte {
	t.Helper()
	_, _, payload, n, err := lcable.ParseServerFrame(frame)
	require.NoError(t, err)
	require.Equal(t, len(frame), n)
	return payload
}

func TestParseBroadcastOfAMessage(t *testing.T) {
	t.Parallel()
	sent := time.Unix(1_800_000_000, 123456789)
	data, _ := json.Marshal(map[string]any{"id": "99", "conversation_id": "77", "body": Tag(3, 41, sent), "seq": 5})
	p := broadcast(t, `{"channel":"ConversationChannel","id":"384979603740852226"}`, event.Envelope{
		Type: event.MessageCreated, ConversationID: id.ID(384979603740852226), Seq: 42, At: sent, Data: data})
	require.Equal(t, kindEvent, classify(p))
	conv, seq, tg := parseEnvelope(envelopeOf(p))
	require.Equal(t, int64(384979603740852226), conv)
	require.Equal(t, int64(42), seq)
	require.Equal(t, tag{phase: 3, k: 41, sent: sent.UnixNano(), ok: true}, tg)
}

func TestParseEphemeralEventHasNoSeq(t *testing.T) {
	t.Parallel()
	p := broadcast(t, `{"channel":"ConversationChannel","id":"5"}`, event.Envelope{
		Type: event.Typing, ConversationID: 5, At: time.Now(), Data: json.RawMessage(`{"user_id":"1","body":"b:1:2:3"}`)})
	conv, seq, tg := parseEnvelope(envelopeOf(p))
	require.Equal(t, int64(5), conv)
	require.Zero(t, seq)
	require.Equal(t, tag{phase: 1, k: 2, sent: 3, ok: true}, tg)
}

func TestClassifyControlMessages(t *testing.T) {
	t.Parallel()
	ident := []byte(`"{\"channel\":\"ConversationChannel\",\"id\":\"123\"}"`)
	p := serverPayload(t, cable.AppendConfirm(nil, ident))
	require.Equal(t, kindConfirm, classify(p))
	require.Equal(t, int64(123), identConv(p))
	p = serverPayload(t, cable.AppendReject(nil, ident))
	require.Equal(t, kindReject, classify(p))
	require.Equal(t, kindPing, classify(serverPayload(t, cable.AppendPing(nil, 1700000000))))
	require.Equal(t, kindWelcome, classify([]byte(`{"type":"welcome"}`)))
	require.Equal(t, kindDisconnect, classify(serverPayload(t, cable.DisconnectFrame(cable.Reason("server_restart")))))
}

func TestParseTagRejectsDamage(t *testing.T) {
	t.Parallel()
	for _, s := range []string{``, `1:2"`, `1:2:"`, `x:2:3"`, `1:2:3`, `99999:1:1"`, `1::3"`} {
		require.False(t, parseTag([]byte(s)).ok, s)
	}
	require.True(t, parseTag([]byte(`65535:4294967295:1"`)).ok)
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"type":"message.created","conversation_id":"1","seq":2,"data":{"body":"b:1:2:3"}}`))
	f.Add([]byte(`"seq":99999999999999999999999`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, tg := parseEnvelope(b)
		if tg.ok {
			require.LessOrEqual(t, tg.phase, uint16(0xFFFF))
		}
		classify(b)
		identConv(b)
	})
}

// TestTagOfReadsAStreamEntry reads the tag of an envelope as a stream
// entry holds it (the bench finds its events' entry ids this way).
func TestTagOfReadsAStreamEntry(t *testing.T) {
	t.Parallel()
	data, _ := json.Marshal(map[string]any{"id": "99", "body": Tag(7, 1234, time.Unix(1_800_000_000, 0))})
	env, err := event.Encode(event.Envelope{Type: event.MessageCreated, ConversationID: 77, Seq: 3, At: time.Now(), Data: data})
	require.NoError(t, err)
	ph, k, ok := TagOf(env)
	require.True(t, ok)
	require.Equal(t, uint16(7), ph)
	require.Equal(t, uint32(1234), k)
	_, _, ok = TagOf([]byte(`{"type":"typing","data":{"body":"hello"}}`))
	require.False(t, ok)
}
