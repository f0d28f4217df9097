package stack

import "strconv"

// edgeEnv is edge i's own configuration: its listen address and a node
// name that tells the edges apart in Redis (presence counts per node).
func edgeEnv(i int, addr string) map[string]string {
	return map[string]string{
		"EDGE_ADDR":    addr,
		"EDGE_NODE_ID": strconv.Itoa(i + 1),
	}
}
