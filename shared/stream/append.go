// Package stream appends events to the Redis shard streams. Events of a
// conversation's log are appended by the api's ordered publisher (which
// guards seq order); this is the plain append for events without seq:
// user-topic events (calls, read markers, session.revoked) and the edge's
// ephemeral ones (typing, signals, presence).
package stream

import (
	"context"
	"fmt"
	"strconv"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

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
		FieldValue().FieldValue(event.FieldTopic, topic).
		FieldValue(event.FieldEnvelope, rueidis.BinaryString(envelope)).Build()
}

// Append adds one encoded envelope under topic and returns its entry id.
func (a *Appender) Append(ctx context.Context, topic string, envelope []byte) (string, error) {
	sid, err := a.rdb.Do(ctx, a.Command(topic, envelope)).ToString()
	if err != nil {
		return "", fmt.Errorf("stream: append to %s: %w", topic, err)
	}
	return sid, nil
}

// AppendEvent encodes env and appends it under topic.
func (a *Appender) AppendEvent(ctx context.Context, topic string, env event.Envelope) (string, error) {
	b, err := event.Encode(env)
	if err != nil {
		return "", err
	}
	return a.Append(ctx, topic, b)
}
