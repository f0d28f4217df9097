// Package compat proves the edge works with the official Action Cable
// client: its test builds and starts the api and the edge, installs
// @rails/actioncable and ws from the committed lockfile (npm ci, when
// node_modules is missing) and runs compat.mjs under Node, which logs in
// through the api, subscribes, receives a message posted through the api,
// performs typing, stays connected across several pings and reconnects
// after the edge restarts.
package compat
