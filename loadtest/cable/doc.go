// Package cable is a Go Action Cable client over WebSocket, written for
// tests and load generation against the edge (it is not a browser client).
//
// Two forms share the wire code here: Conn, a blocking client for tests
// and scripted scenarios, one goroutine per connection; and Pool (in
// pool.go), which holds thousands of connections on a few gnet event
// loops with no goroutine per socket, for the many-socket load generator.
package cable
