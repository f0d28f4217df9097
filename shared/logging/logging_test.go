package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRequestIDReachesEveryLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, "info", "api").With("route", "/me")
	ctx := WithRequestID(context.Background(), "abc123")
	log.InfoContext(ctx, "handled", "status", 200)
	log.DebugContext(ctx, "hidden")
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "abc123", line["request_id"])
	require.Equal(t, "api", line["process"])
	require.Equal(t, "/me", line["route"])
	require.Len(t, NewRequestID(), 16)
}
