// Package swarm runs many Action Cable sockets against an edge from
// several processes and measures it: handshakes per second, the edge's
// resident memory per socket, delivered frames per second, the edge's CPU
// per frame, and the lag from stream entry to socket.
//
// One coordinator process seeds Redis the way the api would (member sets),
// optionally starts the edge itself, spawns workers (this same binary in
// worker mode) so the sockets can exceed one process's open-files limit,
// publishes events to the shard streams at a set rate, and merges what the
// workers measured. Workers and coordinator talk over the workers'
// stdin (commands) and stdout (JSON lines).
//
// Every published event carries its number and the time it was appended
// (nanoseconds), so a worker knows each frame's lag and each event's
// slowest socket. Everything runs against 127.0.0.1, bounded in sockets
// and in time.
package swarm
