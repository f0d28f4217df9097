package conversation_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/stretchr/testify/require"
)

// eventlogTrim trims the stack's log as if the retention window ended at
// until.
func eventlogTrim(s *apitest.Stack, until time.Time) (int64, error) {
	return eventlog.Trim(context.Background(), s.Deps.DB, until.Add(s.Deps.Cfg.Messaging.EventRetention), s.Deps.Cfg.Messaging.EventRetention)
}

func mustField(t *testing.T, data json.RawMessage, name string) json.RawMessage {
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &m))
	v, ok := m[name]
	require.True(t, ok, "no %s in %s", name, data)
	return v
}
