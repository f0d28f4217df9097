package rkey

import (
	"strings"
	"testing"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

func TestStreamAndGuardKeysShareHashTag(t *testing.T) {
	t.Parallel()
	s := New("p:", 16)
	for c := id.ID(1); c < 200; c++ {
		shard := s.ShardOf(ConversationTopic(c))
		require.Less(t, shard, 16)
		stream := s.Stream(shard)
		tagOf := func(k string) string { return k[strings.IndexByte(k, '{') : strings.IndexByte(k, '}')+1] }
		require.Equal(t, tagOf(stream), tagOf(s.PublishedSeq(c)))
		require.Equal(t, tagOf(stream), tagOf(s.PendingSeq(c)))
	}
	require.Len(t, s.Streams(), 16)
	require.True(t, strings.HasPrefix(s.Denied(5), "p:"))
}

func TestShardsSpread(t *testing.T) {
	t.Parallel()
	s := New("", 8)
	counts := make([]int, 8)
	for c := id.ID(1); c <= 8000; c++ {
		counts[s.ShardOf(ConversationTopic(c))]++
	}
	for _, n := range counts {
		require.Greater(t, n, 500)
	}
}
