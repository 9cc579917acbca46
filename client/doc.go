// Package client is shoal's Go client for the Apache Iggy binary protocol
// (protocol 0.11, the 256-byte consensus framing over TCP or TLS). It talks
// to shoal and to any server the official Iggy SDKs talk to, and puts the
// same bytes on the wire as the official Go SDK.
//
// # Connections and requests
//
// A Client owns one connection and keeps the protocol's lockstep: one
// request in flight, one reply (or eviction) read back before the next
// request goes out. Concurrent calls queue for the connection; every call
// takes a context, whose deadline and cancellation bound both the wait for
// the connection and the exchange itself, and Options.RequestTimeout
// (default 30 s) bounds each exchange further. A request that is
// interrupted half-way leaves the stream out of step, so the client drops
// the connection; the next call dials again.
//
// Each connection has a random non-zero 128-bit client id, a session (0
// until a login binds one) and a request watermark that starts at 1.
// Metadata operations (creates, updates, deletes, joins, …) and Logout
// consume one id each; reads and other non-replicated commands and the
// partition operations (send, store and delete offset) repeat the current
// watermark; a login travels with request 0 and session 0. A Logout or an
// eviction draws a new client id and clears the session.
//
// # Logging in and reconnecting
//
// A login runs as the official SDK's does: Logout first if the connection
// is logged in, Register (request 0, session 0), then GetClusterMetadata,
// whose failure is only logged. If Options carries credentials (a username
// and password, or a personal access token), Dial logs in. The client remembers the credentials of the
// last successful login and, after the connection was lost (an eviction, a
// network error, a timeout), logs in again on the next call over a fresh
// connection, unless Logout was called since. The call that failed is not
// repeated: its error is returned.
//
// # Errors
//
// Protocol errors are *Error values carrying the protocol's numeric code;
// compare them with errors.Is against the Err* values of this package
// (errors.Is(err, client.ErrStreamNotFound)), which match any *Error with
// the same code. Errors the client raises itself use the protocol's codes
// for them too: ErrUnauthenticated when a command needs a login and there
// is none, ErrDisconnected when the connection broke, ErrClosed after
// Close. Context errors and timeouts match context.Canceled or
// context.DeadlineExceeded.
//
// Reads of one entity that the server answers with an empty body become
// the error the official SDK reports: GetStream ErrStreamNotFound, GetTopic
// ErrTopicNotFound, GetUser ErrResourceNotFound, GetConsumerGroup
// ErrConsumerGroupNotFound. GetConsumerOffset returns nil and no error when
// nothing is stored.
//
// # Messages
//
// SendMessages builds one batch from its messages: a zero id becomes a
// random UUIDv4, a zero origin timestamp becomes the current time, and
// typed user headers are encoded as the protocol's key/value block. With
// Balanced or MessagesKey partitioning the client first asks the server
// for the topic's partition count (GetTopic, cached per topic) and sends to
// an explicit partition: round-robin per topic, starting at a random
// partition (the official SDK starts at 0, so its short-lived producers
// all begin on the same partitions), or XXH32(key) modulo the count.
// PollMessages for a consumer group without a partition is
// orchestrated as the official SDK does: the group's assignment is synced
// (and cached for 5 s), the client joins the group unless it left it
// explicitly, and polls its assigned partitions in turn.
package client
