// Package fleet proves Chatterly on the topology that outgrows one machine,
// with the real binaries: a Redis Cluster (3 masters with a replica each,
// from redis-server), two api processes, two edges and a worker, each
// process given a different cluster node's URL and nothing else about the
// cluster. Its tests send messages across the nodes, through both api
// nodes at once, revoke a session, and kill a Redis master in the middle
// of the traffic. The package has no code of its own; its tests are the
// point.
package fleet
