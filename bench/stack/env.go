package stack

import "strconv"

// edgeEnv is edge i's own configuration: its WebSocket and admin
// addresses and a node name that tells the edges apart in Redis (presence
// counts per node).
func edgeEnv(i int, addr, admin string) map[string]string {
	return map[string]string{
		"EDGE_ADDR":       addr,
		"EDGE_ADMIN_ADDR": admin,
		"EDGE_NODE_ID":    "bench-edge-" + strconv.Itoa(i),
		// Go's profiles on the admin address, for the rows that miss.
		"EDGE_PPROF": "1",
	}
}

// KeyPrefix and Shards fix the Redis key space of every process of the
// stack (REDIS_KEY_PREFIX, STREAM_SHARDS), so the bench's own clients name
// the same keys and streams.
const (
	KeyPrefix = "chatterly:"
	Shards    = 8
)
