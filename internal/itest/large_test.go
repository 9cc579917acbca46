package itest

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/wire"
)

// bigPayload is message i's payload of n bytes, recognisable on return.
func bigPayload(i, n int) []byte {
	b := bytes.Repeat([]byte{byte('a' + i%26)}, n)
	binary.LittleEndian.PutUint64(b, uint64(i))
	return b
}

// TestLargeMessages sends batches near the 64 MiB frame limit and polls
// more than one reply can hold: the poll is cut at a batch boundary, never
// past the limit.
func TestLargeMessages(t *testing.T) {
	eachBackendInTurn(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "t", 1, client.TopicSettings{}))
		sizes := []int{ // message i's payload size
			client.MaxPayloadSize, client.MaxPayloadSize, client.MaxPayloadSize, client.MaxPayloadSize,
			client.MaxPayloadSize, client.MaxPayloadSize, 7_000_000, // batch 1: a frame ~108 KB under the limit
			client.MaxPayloadSize, client.MaxPayloadSize, client.MaxPayloadSize, client.MaxPayloadSize, // batch 2: 40 MB
		}
		payloads := make([][]byte, len(sizes))
		for i, size := range sizes {
			payloads[i] = bigPayload(i, size)
		}
		send := func(from, to int) uint64 {
			t.Helper()
			var msgs []client.Message
			frame := wire.HeaderSize + 4 + 16 + 256
			for i := from; i < to; i++ {
				msgs = append(msgs, client.Message{Payload: payloads[i]})
				frame += 48 + sizes[i]
			}
			if frame > wire.MaxFrameSize {
				t.Fatalf("test batch of %d bytes is over the limit", frame)
			}
			confs := must[[]client.SendConfirmation](t)(c.SendMessages(ctx, name("s"), name("t"), client.PartitionID(0), msgs))
			return confs[0].BaseOffset
		}
		if base := send(0, 7); base != 0 {
			t.Fatalf("first batch at %d", base)
		}
		if base := send(7, 11); base != 7 {
			t.Fatalf("second batch at %d", base)
		}
		check := func(what string, pm *client.PolledMessages, from, to int) {
			t.Helper()
			if len(pm.Messages) != to-from {
				t.Fatalf("%s: %d messages, want %d..%d", what, len(pm.Messages), from, to-1)
			}
			for k, m := range pm.Messages {
				i := from + k
				if m.Offset != uint64(i) || !bytes.Equal(m.Payload, payloads[i]) {
					t.Fatalf("%s: message %d at offset %d, %d bytes", what, i, m.Offset, len(m.Payload))
				}
			}
		}
		req := func(s client.PollingStrategy) client.PollRequest {
			return client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name("t"),
				Partition: client.InPartition(0), Strategy: s, Count: 100}
		}
		// 107 MB asked for: the reply stops after the first batch, whole
		// or sliced. (Every poll here moves tens of MB, which the race
		// detector makes slow: the cases are few on purpose.)
		check("from 0", poll(t, c, req(client.FirstStrategy())), 0, 7)
		check("from 3", poll(t, c, req(client.OffsetStrategy(3))), 3, 7)
		// The same from sealed segments.
		ok(t, n.b.Log().Seal(ctx))
		check("sealed, last 5", poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name("t"),
			Partition: client.InPartition(0), Strategy: client.LastStrategy(), Count: 5}), 6, 7)
		// Next with auto-commit gets through everything in two polls.
		walker := client.PollRequest{Consumer: client.SingleConsumer(id(1)), Stream: name("s"), Topic: name("t"),
			Partition: client.InPartition(0), Strategy: client.NextStrategy(), Count: 100, AutoCommit: true}
		check("sealed, next 1", poll(t, c, walker), 0, 7)
		check("sealed, next 2", poll(t, c, walker), 7, 11)
		check("sealed, next 3", poll(t, c, walker), 11, 11)

		// Over the limit: refused before it is sent; the connection goes on.
		var over []client.Message
		for i := range 7 {
			over = append(over, client.Message{Payload: payloads[i%6]})
		}
		_, err := c.SendMessages(ctx, name("s"), name("t"), client.PartitionID(0), over)
		isErr(t, "a batch over the frame limit", err, client.ErrInvalidConfiguration)
		_, err = c.SendMessages(ctx, name("s"), name("t"), client.PartitionID(0),
			[]client.Message{{Payload: make([]byte, client.MaxPayloadSize+1)}})
		isErr(t, "a payload over the limit", err, client.ErrTooBigMessagePayload)
		ok(t, c.Ping(ctx))
		if part := must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("t"))).Partitions[0]; part.MessagesCount != 11 {
			t.Fatalf("partition after the refused batches: %+v", part)
		}
	})
}

// TestSendsOnOneConnection sends batches large enough for the log to keep
// where they arrived (not copied), one after the other on one connection,
// each smaller than the one before so that it would fit the buffer of the
// one before: every message polls back as it was sent, from the tail and
// from sealed segments.
func TestSendsOnOneConnection(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "t", 1, client.TopicSettings{}))
		var payloads [][]byte
		for b := range 6 {
			var msgs []client.Message
			for range 3 {
				pl := bigPayload(len(payloads), 200_000-b*20_000)
				payloads = append(payloads, pl)
				msgs = append(msgs, client.Message{Payload: pl})
			}
			must[[]client.SendConfirmation](t)(c.SendMessages(ctx, name("s"), name("t"), client.PartitionID(0), msgs))
		}
		check := func(what string) {
			t.Helper()
			pm := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name("t"),
				Partition: client.InPartition(0), Strategy: client.FirstStrategy(), Count: 100})
			if len(pm.Messages) != len(payloads) {
				t.Fatalf("%s: %d messages, want %d", what, len(pm.Messages), len(payloads))
			}
			for i, m := range pm.Messages {
				if m.Offset != uint64(i) || !bytes.Equal(m.Payload, payloads[i]) {
					t.Fatalf("%s: message %d at offset %d differs from what was sent", what, i, m.Offset)
				}
			}
		}
		check("tail")
		ok(t, n.b.Log().Seal(ctx))
		check("sealed")
	})
}
