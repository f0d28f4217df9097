// Package cable is the edge's codec for the Action Cable protocol over
// WebSocket: it reads client frames and commands and writes the server's
// messages, byte for byte as the official @rails/actioncable client expects.
//
// Everything here is pure and allocation-conscious: parsers work on the
// bytes the caller peeked from its inbound buffer and return sub-slices of
// them (valid until the caller discards those bytes); encoders append to a
// caller's buffer. Nothing here knows about sockets, Redis or channels'
// authorization.
//
// Two byte-exactness rules matter to the official client:
//
//   - A command's identifier is a JSON string whose content the client made
//     with JSON.stringify(params). The server echoes that string literal
//     exactly as received (Command.Identifier), never re-encoded, because
//     the client matches replies to subscriptions by string equality.
//   - Server messages are single unfragmented text frames.
package cable
