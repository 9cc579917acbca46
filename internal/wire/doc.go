// Package wire owns the bytes of the Iggy binary protocol (protocol 0.11,
// the 256-byte consensus framing) that shoal speaks: the frame headers of
// requests, replies and evictions, the result section of framed replies, and
// the request and reply payload of every command. It is pure code: no
// sockets, no state.
//
// # Conventions
//
// Every integer is little-endian. Encoders are append-style
// (AppendTo(dst []byte) []byte) and never fail; decoders (Decode(b []byte)
// error) never panic, check every length against the bytes at hand before
// they allocate, and report malformed input as an *Error carrying the
// protocol code (usually CodeInvalidCommand). Decoding uses Reader, whose
// getters latch the first error and return zero values after it, so a
// decoder checks once, at the end.
//
// Every command has one Go type per direction, used by both sides: the
// server decodes requests and encodes replies, the client does the reverse.
//
// # Frames
//
//	header (HeaderSize = 256 bytes), then size − 256 body bytes
//	  48  size       u32  header + body, in [256, MaxFrameSize]
//	  60  command    u8   5 request, 8 reply, 13 eviction
//	request (bytes 128..255)
//	 128  client     u128
//	 168  request    u64
//	 176  operation  u8
//	 184  session    u64
//	 196  code       u32  only when operation = OpNonReplicated
//	reply
//	 128  request_checksum u128 (echoed)
//	 160  client     u128 (echoed)
//	 200  request    u64  echoed
//	 208  operation  u8   echoed
//	 216  status     u32  0, or an error code with an empty body
//	eviction
//	 128  client     u128
//	 144  server protocol version (max, min) u32 ×2, only for reason 14
//	 255  reason     u8
//
// The facts come from the protocol specification (wire.md and messages.md
// of the shoal project) and the Apache Iggy sources they cite.
package wire
