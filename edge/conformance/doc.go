// Package conformance is the edge's black-box suite: its tests build the
// chatterly-edge binary, start it against a Redis key prefix of their
// own, and drive it over real sockets with scripted Action Cable
// scenarios, seeding Redis (member sets, call participants, stream
// entries, revoked sessions) the way the api would. Nothing here imports
// the edge's packages: only the wire, the process and Redis.
package conformance
