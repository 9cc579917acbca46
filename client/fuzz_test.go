package client

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/shoalstream/shoal/internal/wire"
)

// FuzzDecodeReply feeds arbitrary answer frames to the reply decoder of a
// client without a connection: it must not panic, and a payload it
// returns must lie inside the frame.
func FuzzDecodeReply(f *testing.F) {
	h := wire.Request{Client: vecClientID, Request: vecWatermark, Operation: wire.OpCreateStream, Session: vecSession}
	f.Add(wire.AppendReplyHeader(nil, h, wire.OpCreateStream, 0, 4), []byte{0, 0, 0, 0})
	f.Add(wire.AppendReplyHeader(nil, h, wire.OpCreateStream, 0, 12), wire.AppendResultErr(nil, 1012))
	f.Add(wire.AppendReplyHeader(nil, h, wire.OpCreateStream, 41, 0), []byte(nil))
	f.Add(wire.AppendEviction(nil, vecClientID, wire.EvictIncompatibleProtocol, 11264, 11264), []byte(nil))
	f.Add(wire.AppendReplyHeader(nil, h, wire.OpSendMessages, 0, 0), []byte(nil))
	f.Fuzz(func(t *testing.T, header, body []byte) {
		if len(header) < wire.HeaderSize {
			return
		}
		frame := append(append([]byte(nil), header[:wire.HeaderSize]...), body...)
		c := &Client{log: slog.New(slog.DiscardHandler), opts: Options{newClientID: func() wire.Uint128 { return vecClientID }}}
		c.topics.init()
		c.groups.init()
		payload, err := c.decodeReplyLocked(h, frame)
		if err == nil && len(payload) > 0 && !bytes.Contains(frame, payload) {
			t.Fatalf("payload %x is not part of the frame", payload)
		}
	})
}

// FuzzDecodePoll checks that any poll reply decodes without panicking and
// that a decoded reply holds the number of messages it declares.
func FuzzDecodePoll(f *testing.F) {
	f.Add([]byte{})
	f.Add(wire.AppendPollPrefix(nil, 1, 2, 0))
	f.Add(wire.AppendPollPrefix(nil, wire.PollResyncPartition, 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := decodePoll(b)
		if err != nil {
			return
		}
		var rep wire.PollReply
		if rep.Decode(b) != nil || len(res.Messages) != int(rep.MessagesCount) {
			t.Fatalf("%d messages decoded, %d declared", len(res.Messages), rep.MessagesCount)
		}
	})
}

// FuzzParseHeaders checks that a header block that parses encodes back to
// the same bytes.
func FuzzParseHeaders(f *testing.F) {
	block, _ := AppendHeaders(nil, []Header{NewHeader("k", StringValue("v")), {Key: Int32Value(7), Value: Float64Value(1.5)}})
	f.Add(block)
	f.Add([]byte{2, 1, 0, 0, 0, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := ParseHeaders(b)
		if err != nil {
			return
		}
		back, err := AppendHeaders(nil, hs)
		if err != nil {
			// Parsing accepts kinds the encoder does not know, and
			// strings that are not UTF-8.
			return
		}
		if !bytes.Equal(back, b) {
			t.Fatalf("%x parsed and encoded back as %x", b, back)
		}
	})
}
