package event

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// The stream entry's codec, both directions: Appender writes an entry
// {t: topic, e: envelope JSON} to the topic's shard stream, DecodeEntry reads
// one back. Events of a conversation's log are appended by the api's ordered
// publisher (api/eventlog's guard, which writes the same two fields under a
// seq check); Appender is the plain append for events without seq:
// user-topic events (calls, read markers, session.revoked) and the edge's
// ephemeral ones (typing, signals, presence).

// Stream entry fields. An entry is {t: topic, e: envelope JSON}; the edge
// reads the topic without decoding the envelope and forwards e as it is.
const (
	FieldTopic    = "t"
	FieldEnvelope = "e"
)

// Entry is a decoded stream entry.
type Entry struct {
	Topic    string
	Envelope []byte
}

// ErrBadEntry is returned for a stream entry that lacks a field.
var ErrBadEntry = errors.New("event: stream entry lacks topic or envelope")

// DecodeEntry reads a stream entry's fields.
func DecodeEntry(fields map[string]string) (Entry, error) {
	t, ok1 := fields[FieldTopic]
	e, ok2 := fields[FieldEnvelope]
	if !ok1 || !ok2 || t == "" || e == "" {
		return Entry{}, ErrBadEntry
	}
	return Entry{Topic: t, Envelope: []byte(e)}, nil
}

// Appender appends to the shard streams of one key space.
type Appender struct {
	rdb    rueidis.Client
	keys   rkey.Space
	maxLen string
}

// NewAppender returns an Appender trimming each stream to about maxLen.
func NewAppender(rdb rueidis.Client, keys rkey.Space, maxLen int) *Appender {
	return &Appender{rdb: rdb, keys: keys, maxLen: strconv.Itoa(maxLen)}
}

// Command builds the XADD of an encoded envelope under topic, for callers
// that pipeline several.
func (a *Appender) Command(topic string, envelope []byte) rueidis.Completed {
	return a.rdb.B().Xadd().Key(a.keys.Stream(a.keys.ShardOf(topic))).
		Maxlen().Almost().Threshold(a.maxLen).Id("*").
		FieldValue().FieldValue(FieldTopic, topic).
		FieldValue(FieldEnvelope, rueidis.BinaryString(envelope)).Build()
}

// Append adds one encoded envelope under topic and returns its entry id.
func (a *Appender) Append(ctx context.Context, topic string, envelope []byte) (string, error) {
	sid, err := a.rdb.Do(ctx, a.Command(topic, envelope)).ToString()
	if err != nil {
		return "", fmt.Errorf("event: append to %s: %w", topic, err)
	}
	return sid, nil
}

// AppendAll adds the encoded entries in one pipeline (each to its topic's
// shard stream) and returns how many were appended before the first
// failure, with that failure.
func (a *Appender) AppendAll(ctx context.Context, entries []Entry) (int, error) {
	cmds := make(rueidis.Commands, len(entries))
	for i, e := range entries {
		cmds[i] = a.Command(e.Topic, e.Envelope)
	}
	for i, res := range a.rdb.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return i, fmt.Errorf("event: append to %s: %w", entries[i].Topic, err)
		}
	}
	return len(entries), nil
}

// AppendEvent encodes env and appends it under topic.
func (a *Appender) AppendEvent(ctx context.Context, topic string, env Envelope) (string, error) {
	b, err := Encode(env)
	if err != nil {
		return "", err
	}
	return a.Append(ctx, topic, b)
}
