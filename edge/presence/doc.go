// Package presence keeps users' online state in Redis for the whole fleet
// of edges and announces changes on the users' presence topics.
//
// State (keys in shared/rkey):
//
//   - Presence(u), a hash of edge node -> the node's socket count for u,
//     with a TTL. A user is online while the hash has a field. Each edge
//     refreshes the fields and TTLs of its users in batches (heartbeat).
//   - EdgeNodes, a sorted set of nodes scored by heartbeat expiry, and
//     EdgeNodeUsers(node), the users a node holds. An edge that finds a
//     node whose heartbeat expired removes it (ZREM decides which edge
//     does) and takes its fields out of its users' hashes.
//
// Transitions: a user's first socket on a node marks them "up"; their last
// socket closing marks them "down" after a grace period, cancelled by a new
// socket, so a page reload does not flicker. A Tracker applies pending ups
// and downs every flush tick in one pipeline. Whoever makes a hash go from
// empty to one field announces the user online; whoever removes its last
// field announces them offline, so one change is announced once whichever
// edges hold the user's sockets. A node that dies without saying goodbye
// is reaped within NodeTTL plus one reap interval.
package presence
