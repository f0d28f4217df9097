// Package shared is the root of what Chatterly's processes must agree on:
// configuration loading (config), ids (id), tokens (token), the event
// envelope and its stream entry codec (event), Redis key and stream names
// (rkey), a process's background loops (background), logging and metrics.
// Nothing here knows about HTTP resources or sockets.
package shared
