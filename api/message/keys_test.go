package message_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/message"
	"github.com/stretchr/testify/require"
)

func TestIdempotencyKeysAreKeptADayThenTrimmed(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ctx := context.Background()
	ann := convtest.NewUser(t, s, "ann")
	g := convtest.Create(t, s, ann, "group", "g")
	send := func() int {
		return s.Do("POST", msgs(g.ID), ann.Token, map[string]any{"body": "x", "client_msg_id": "once"}).Status
	}
	require.Equal(t, http.StatusCreated, send())

	n, err := message.TrimIdempotencyKeys(ctx, s.Deps.DB, time.Now().Add(23*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "a key younger than a day stays")
	require.Equal(t, http.StatusOK, send())

	n, err = message.TrimIdempotencyKeys(ctx, s.Deps.DB, time.Now().Add(25*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Equal(t, http.StatusCreated, send(), "after the key is forgotten the id is new again")
}
