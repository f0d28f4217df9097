package id

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNextIncreasesAndEncodesTime(t *testing.T) {
	t.Parallel()
	g, err := NewGenerator(7)
	require.NoError(t, err)
	fixed := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return fixed }
	prev := ID(0)
	for range 10_000 { // more than 4,096 in one millisecond
		v := g.Next()
		require.Greater(t, v, prev)
		prev = v
	}
	first := func() ID { g2, _ := NewGenerator(7); g2.now = func() time.Time { return fixed }; return g2.Next() }()
	require.Equal(t, fixed, first.Time())
	require.Equal(t, Floor(fixed), first&^(MaxNode<<seqBits|maxSeq))
	require.Less(t, Floor(fixed.Add(-time.Millisecond)), first)
}

func TestClockStepBackStillIncreases(t *testing.T) {
	t.Parallel()
	g, _ := NewGenerator(1)
	now := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	g.now = func() time.Time { return now }
	a := g.Next()
	now = now.Add(-time.Second)
	require.Greater(t, g.Next(), a)
}

func TestNodesNeverCollide(t *testing.T) {
	t.Parallel()
	seen := sync.Map{}
	var wg sync.WaitGroup
	for n := range 4 {
		g, _ := NewGenerator(n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5000 {
				_, dup := seen.LoadOrStore(g.Next(), true)
				if dup {
					t.Error("duplicate id")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(struct{ ID ID }{ID(9007199254740993)})
	require.NoError(t, err)
	require.JSONEq(t, `{"ID":"9007199254740993"}`, string(b))
	var v struct{ ID ID }
	require.NoError(t, json.Unmarshal([]byte(`{"ID":"9007199254740993"}`), &v))
	require.Equal(t, ID(9007199254740993), v.ID)
	for _, bad := range []string{`{"ID":123}`, `{"ID":"-1"}`, `{"ID":"0"}`, `{"ID":"x"}`, `{"ID":""}`, `{"ID":"99999999999999999999"}`} {
		require.Error(t, json.Unmarshal([]byte(bad), &v), bad)
	}
}

func TestNodeRange(t *testing.T) {
	t.Parallel()
	_, err := NewGenerator(MaxNode + 1)
	require.Error(t, err)
	_, err = NewGenerator(-1)
	require.Error(t, err)
}
