// Package cable is a Go Action Cable client over WebSocket, written for
// tests and load generation against the edge (it is not a browser client):
// the wire code (handshake request and check, masked client frames, server
// frame parsing, commands and identifiers) and Conn, a blocking client for
// tests and scripted scenarios. The many-socket client of the bench and of
// chatterly-load (loadtest/sockets) dials with Dial, then takes the
// connection over with Conn.Detach and runs its own frame loop on this
// package's parser.
package cable
