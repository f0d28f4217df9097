// Package hub keeps the edge's subscriptions and fans events out to them.
//
// There is one Shard per event loop. A shard owns the subscriptions of its
// loop's sockets, indexed by topic (conv:<id>, user:<id>, presence:<id>);
// it is touched only from its loop's goroutine, so the hot path takes no
// lock. The Hub holds the shards and
// the identifier intern table, and hands every batch of stream events to
// every shard as one task per loop.
//
// Delivery contract, per shard and per event:
//
//   - A frame is encoded once per (event, identifier), shared by every
//     shard and socket (Event.frame), and written synchronously inside the
//     loop; identifiers are the clients' literals, never re-encoded.
//   - Events reach a shard in stream order, so a conversation's events keep
//     their order; a subscription drops an event whose seq it has already
//     delivered (the api's relay may publish an event twice).
//   - typing is never sent to its sender's sockets; member.left removes the
//     leaving user's subscriptions right after delivering it, with a
//     reject_subscription so the client stops re-subscribing; session.revoked
//     disconnects the session's sockets and is never forwarded.
//
// Re-entrancy: writing to a socket may close it (a write error, or a
// socket over its outbound bound), and closing calls Shard.Detach from
// inside Deliver. Detach marks the socket gone at once, so nothing more is
// written to it, and defers unlinking its subscriptions until the
// delivery in progress ends.
package hub
