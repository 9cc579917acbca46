package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/logstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/wire"
)

// Large sends are read into buffers of the server's pool, kept by the log
// as the partition's tail, and used again for later requests once the
// tail is sealed and the polls that read it have let go; every message
// reads back as sent, from the tail and from the segments.
func TestLargeSendBuffersReused(t *testing.T) {
	ts := startServerWith(t, mem.New(), Options{}, logstore.Options{SegmentBytes: 1 << 30, SealCheckInterval: time.Hour})
	c := dial(t, ts)
	c.login("iggy", "iggy")
	c.ok(wire.CmdCreateStream, enc(&wire.CreateStreamRequest{Name: "orders"}))
	c.ok(wire.CmdCreateTopic, enc(&wire.CreateTopicRequest{Stream: wire.NumericID(0), PartitionsCount: 1, Name: "events"}))
	one := uint32(0)
	single := wire.Consumer{Kind: wire.ConsumerSingle, ID: wire.NumericID(1)}
	pad := strings.Repeat("x", 2000)
	var want []string
	var size int
	send := func(i int) {
		t.Helper()
		var msgs []batch.NewMessage
		for j := range 100 { // about 200 KB: held by reference, not copied
			// Of one size, so every request's buffer is of one class.
			msgs = append(msgs, batch.NewMessage{OriginTimestamp: 1, Payload: fmt.Appendf(nil, "%03d-%03d-%s", i, j, pad)})
			want = append(want, string(msgs[j].Payload))
		}
		b, err := batch.Build(nil, msgs)
		if err != nil {
			t.Fatal(err)
		}
		req := wire.AppendSendMessages(nil, wire.NamedID("orders"), wire.NamedID("events"), wire.PartitionID(0), b)
		size = len(req) + wire.HeaderSize
		c.ok(wire.CmdSendMessages, req)
		// Read back at once, from the tail in memory.
		_, got, _ := payloads(t, c.ok(wire.CmdPollMessages, pollBody(single, &one, wire.PollOffset, uint64(100*i), 100, false)))
		if !slices.Equal(got, want[100*i:]) {
			t.Fatalf("batch %d reads back wrong", i)
		}
	}
	for i := range 10 {
		send(i)
	}
	if s := ts.srv.BufferStats(); s.FreeBytes != 0 {
		t.Fatalf("buffers went back to the pool while the tail held them: %+v", s)
	}
	// The seal lets go of the tail: the ten buffers are free, the polls
	// that read them having let go.
	if err := ts.b.Log().Seal(t.Context()); err != nil {
		t.Fatal(err)
	}
	class, _ := bufpool.New(0).Get(size)
	if s := ts.srv.BufferStats(); s.FreeBytes != 10*int64(len(class.Bytes())) {
		t.Fatalf("after the seal, %d bytes free in the pool, want the ten buffers of %d: %+v", s.FreeBytes, len(class.Bytes()), s)
	}
	// Ten more sends: each one's buffer is made ready from the pool.
	before := ts.srv.BufferStats().Reused
	for i := 10; i < 20; i++ {
		send(i)
	}
	if s := ts.srv.BufferStats(); s.Reused-before != 10 {
		t.Fatalf("%d buffers were used again for ten sends, want 10: %+v", s.Reused-before, s)
	}
	_, got, _ := payloads(t, c.ok(wire.CmdPollMessages, pollBody(single, &one, wire.PollFirst, 0, uint32(len(want)), false)))
	if !slices.Equal(got, want) {
		t.Fatalf("read %d messages back, not the %d sent", len(got), len(want))
	}
}
