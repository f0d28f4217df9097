// Package swarm is chatterly-load's coordinator: it runs many Action Cable
// sockets against an edge and measures it: handshakes per second, the
// edge's resident memory per socket, delivered frames per second, the
// edge's CPU per frame, and the lag and loss from stream entry to socket.
//
// It seeds Redis the way the api would (member sets), optionally starts
// the edge itself, signs the sockets' tokens, and hands them to socket
// children (loadtest/sockets, the client the bench uses too: this same
// binary as `chatterly-load sockets`) so the sockets can exceed one
// process's open-files limit. It then appends tagged ephemeral events to
// the shard streams at a set rate, and the children account every event
// at every subscriber (loadtest/sockets' tags and reports). Everything runs
// against 127.0.0.1, bounded in sockets and in time.
package swarm
