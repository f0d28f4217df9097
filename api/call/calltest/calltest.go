// Package calltest holds the fixtures the calls' and the worker's tests
// share: users and DMs written straight into a test database (as the auth
// and conversation packages would write them, without their side effects),
// and a reader of the events a topic's shard stream holds.
package calltest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// User inserts a user with a fresh id from ids.
func User(t testing.TB, db *pgxpool.Pool, ids *id.Generator) id.ID {
	t.Helper()
	u := ids.Next()
	_, err := db.Exec(context.Background(), `INSERT INTO users (id, email, username, display_name, password_hash)
VALUES ($1, $2, $2, $2, 'x')`, int64(u), "u"+u.String())
	require.NoError(t, err)
	return u
}

// DM inserts the DM of a and b with both as members.
func DM(t testing.TB, db *pgxpool.Pool, ids *id.Generator, a, b id.ID) id.ID {
	t.Helper()
	ctx := context.Background()
	conv := ids.Next()
	lo, hi := min(a, b), max(a, b)
	_, err := db.Exec(ctx, `INSERT INTO conversations (id, kind, dm_key, created_by) VALUES ($1, 'dm', $2, $3)`,
		int64(conv), lo.String()+":"+hi.String(), int64(a))
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO memberships (conversation_id, user_id, role) VALUES ($1, $2, 'member'), ($1, $3, 'member')`,
		int64(conv), int64(a), int64(b))
	require.NoError(t, err)
	return conv
}

// Events returns, in stream order, the envelopes of topic on its shard
// stream.
func Events(t testing.TB, rdb rueidis.Client, keys rkey.Space, topic string) []event.Envelope {
	t.Helper()
	entries, err := rdb.Do(context.Background(),
		rdb.B().Xrange().Key(keys.Stream(keys.ShardOf(topic))).Start("-").End("+").Build()).AsXRange()
	require.NoError(t, err)
	var out []event.Envelope
	for _, x := range entries {
		ent, err := event.DecodeEntry(x.FieldValues)
		require.NoError(t, err)
		if ent.Topic != topic {
			continue
		}
		var env event.Envelope
		require.NoError(t, json.Unmarshal(ent.Envelope, &env))
		out = append(out, env)
	}
	return out
}

// Types lists the envelopes' types.
func Types(envs []event.Envelope) []string {
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = e.Type
	}
	return out
}
