// Package rkey names every Redis key and stream Chatterly uses, in one place.
//
// All names start with a configurable prefix (REDIS_KEY_PREFIX) so that
// deployments, and tests, can share one Redis without seeing each other.
// Stream names and the keys a publishing script touches together carry the
// same hash tag ({s<shard>}), so on a Redis Cluster each shard lives on one
// node and the script's keys share a slot.
package rkey

import (
	"encoding/hex"
	"hash/fnv"
	"strconv"

	"github.com/chatterly/chatterly/shared/id"
)

// Space is a key namespace: a prefix and the number of stream shards.
type Space struct {
	Prefix string
	Shards int
}

// New returns a Space. shards below 1 is treated as 1.
func New(prefix string, shards int) Space {
	if shards < 1 {
		shards = 1
	}
	return Space{Prefix: prefix, Shards: shards}
}

// Topic names. A topic is what the edge routes on; every event of one topic
// goes to one shard stream, which keeps its order.
const (
	TopicConversation = "conv:"
	TopicUser         = "user:"
	TopicPresence     = "presence:"
)

// ConversationTopic is the topic of a conversation's events.
func ConversationTopic(c id.ID) string { return TopicConversation + c.String() }

// UserTopic is a user's own topic: calls, signals, read markers, revocations.
func UserTopic(u id.ID) string { return TopicUser + u.String() }

// PresenceTopic carries a user's online/offline changes.
func PresenceTopic(u id.ID) string { return TopicPresence + u.String() }

// ShardOf is the shard stream a topic's events go to.
func (s Space) ShardOf(topic string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(topic))
	return int(h.Sum32() % uint32(s.Shards))
}

func tag(shard int) string { return "{s" + strconv.Itoa(shard) + "}" }

// Stream is the name of shard stream n.
func (s Space) Stream(shard int) string { return s.Prefix + "stream:" + tag(shard) }

// Streams lists every shard stream, in shard order.
func (s Space) Streams() []string {
	out := make([]string, s.Shards)
	for i := range out {
		out[i] = s.Stream(i)
	}
	return out
}

// PublishedSeq holds the last seq of a conversation appended to its shard
// stream, and PendingSeq parks events that arrived before their predecessor.
// Both share the stream's hash tag so one script can touch all three.
func (s Space) PublishedSeq(c id.ID) string {
	return s.Prefix + "pubseq:" + tag(s.ShardOf(ConversationTopic(c))) + ":" + c.String()
}

// PendingSeq is the hash of parked, not yet appended events (seq -> entry).
func (s Space) PendingSeq(c id.ID) string {
	return s.Prefix + "pubpending:" + tag(s.ShardOf(ConversationTopic(c))) + ":" + c.String()
}

// RefreshGrace holds, for the reuse grace after a rotation, the successor
// of the refresh token whose SHA-256 is hash, sealed with that token.
func (s Space) RefreshGrace(hash []byte) string {
	return s.Prefix + "refresh:grace:" + hex.EncodeToString(hash)
}

// Denied marks a revoked session (sid) until its last access token expires.
func (s Space) Denied(sid id.ID) string { return s.Prefix + "deny:" + sid.String() }

// Members is the set of user ids in a conversation, kept by the api for the
// edge's subscribe check.
func (s Space) Members(c id.ID) string { return s.Prefix + "members:" + c.String() }

// CallParticipants is the set of the two user ids of a calling, ringing or
// active call, kept by the api for the edge's send_signal check.
func (s Space) CallParticipants(call id.ID) string {
	return s.Prefix + "call:" + call.String() + ":participants"
}

// Presence holds a user's online state: a hash of edge node -> that node's
// socket count for the user, with a TTL that the edges holding the user's
// sockets refresh in batches. The user is online while the hash exists;
// the edge that removes the last field announces the user offline.
func (s Space) Presence(u id.ID) string { return s.Prefix + "presence:" + u.String() }

// PresenceLast holds when a user was last seen online (Unix milliseconds),
// written when they go offline, for presence snapshots.
func (s Space) PresenceLast(u id.ID) string { return s.Prefix + "presence:" + u.String() + ":last" }

// EdgeNodes is a sorted set of live edge nodes scored by the Unix
// millisecond time their heartbeat expires. An edge whose heartbeat has
// expired died without saying goodbye; another edge removes it and takes
// its fields out of the Presence hashes.
func (s Space) EdgeNodes() string { return s.Prefix + "edge:nodes" }

// EdgeNodeUsers is the set of users with sockets on edge node, so the edge
// that reaps a dead node knows whose presence to clean.
func (s Space) EdgeNodeUsers(node string) string { return s.Prefix + "edge:" + node + ":users" }

// RateLimit is a fixed-window counter for one limit and one subject.
func (s Space) RateLimit(limit, subject string) string {
	return s.Prefix + "rl:" + limit + ":" + subject
}

// Cache is a read-through cache entry.
func (s Space) Cache(kind, key string) string { return s.Prefix + "cache:" + kind + ":" + key }
