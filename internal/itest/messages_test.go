package itest

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/wire"
)

// sendN sends n messages "<tag>-<i>" as one batch to partition p and
// returns the offset of the first.
func sendN(t *testing.T, c *client.Client, stream, topic client.Identifier, p uint32, n int, tag string) uint64 {
	t.Helper()
	msgs := make([]client.Message, n)
	for i := range msgs {
		msgs[i] = client.NewMessage(fmt.Appendf(nil, "%s-%d", tag, i))
	}
	confs, err := c.SendMessages(t.Context(), stream, topic, client.PartitionID(p), msgs)
	if err != nil {
		t.Fatalf("send %d messages %q to partition %d: %v", n, tag, p, err)
	}
	if len(confs) != 1 || confs[0].Partition != p {
		t.Fatalf("send to partition %d: confirmations %+v", p, confs)
	}
	return confs[0].BaseOffset
}

func poll(t *testing.T, c *client.Client, req client.PollRequest) *client.PolledMessages {
	t.Helper()
	pm, err := c.PollMessages(t.Context(), req)
	if err != nil {
		t.Fatalf("poll %+v: %v", req, err)
	}
	return pm
}

func payloads(ms []client.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Payload)
	}
	return out
}

func offsets(ms []client.Message) []uint64 {
	out := make([]uint64, len(ms))
	for i, m := range ms {
		out[i] = m.Offset
	}
	return out
}

func span(from, to uint64) []uint64 {
	var out []uint64
	for o := from; o <= to; o++ {
		out = append(out, o)
	}
	return out
}

// TestSendMessages covers sends: confirmations, every partitioning, ids,
// timestamps, every header kind, and send errors.
func TestSendMessages(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s2"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s2"), "t", 3, client.TopicSettings{}))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s2"), "none", 0, client.TopicSettings{}))

		// Names in, numeric ids out; base offsets grow batch to batch.
		for i, want := range []uint64{0, 2, 4} {
			confs := must[[]client.SendConfirmation](t)(c.SendMessages(ctx, name("s2"), name("t"), client.PartitionID(2),
				[]client.Message{client.NewMessage([]byte("a")), client.NewMessage([]byte("b"))}))
			if len(confs) != 1 || confs[0] != (client.SendConfirmation{Stream: 1, Topic: 0, Partition: 2, BaseOffset: want}) {
				t.Fatalf("send %d: %+v", i, confs)
			}
		}

		// Headers of every kind, explicit ids and origin timestamps.
		var i128 [16]byte
		for i := range i128 {
			i128[i] = byte(i + 1)
		}
		headers := []client.Header{
			client.NewHeader("raw", client.RawValue([]byte{0, 1, 2})),
			client.NewHeader("str", client.StringValue("héllo")),
			client.NewHeader("bool", client.BoolValue(true)),
			client.NewHeader("i8", client.Int8Value(-8)),
			client.NewHeader("i16", client.Int16Value(-16)),
			client.NewHeader("i32", client.Int32Value(-32)),
			client.NewHeader("i64", client.Int64Value(-64)),
			client.NewHeader("i128", client.Int128Value(i128)),
			client.NewHeader("u8", client.Uint8Value(8)),
			client.NewHeader("u16", client.Uint16Value(16)),
			client.NewHeader("u32", client.Uint32Value(32)),
			client.NewHeader("u64", client.Uint64Value(64)),
			client.NewHeader("u128", client.Uint128Value(i128)),
			client.NewHeader("f32", client.Float32Value(1.5)),
			client.NewHeader("f64", client.Float64Value(-2.25)),
			{Key: client.Int32Value(7), Value: client.StringValue("an int key")},
		}
		ids := [][16]byte{client.NewUUID(), client.NewUUID(), {}}
		origin := uint64(time.Now().UnixMicro()) - 1_000_000
		sent := []client.Message{
			{ID: ids[0], OriginTimestamp: origin, Payload: []byte("with headers"), Headers: headers},
			{ID: ids[1], OriginTimestamp: origin + 5, Payload: []byte("raw headers"), RawHeaders: must[[]byte](t)(client.AppendHeaders(nil, headers[:2]))},
			{Payload: []byte("plain")},
		}
		confs := must[[]client.SendConfirmation](t)(c.SendMessages(ctx, name("s2"), name("t"), client.PartitionID(0), sent))
		pm := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s2"), Topic: name("t"),
			Partition: client.InPartition(0), Strategy: client.OffsetStrategy(confs[0].BaseOffset), Count: 10})
		if len(pm.Messages) != 3 {
			t.Fatalf("polled %d messages", len(pm.Messages))
		}
		got := pm.Messages
		if !reflect.DeepEqual(got[0].Headers, headers) {
			t.Fatalf("headers came back as %v, sent %v", got[0].Headers, headers)
		}
		if !reflect.DeepEqual(got[1].Headers, headers[:2]) || len(got[2].Headers) != 0 || len(got[2].RawHeaders) != 0 {
			t.Fatalf("headers of messages 1 and 2: %v / %v %x", got[1].Headers, got[2].Headers, got[2].RawHeaders)
		}
		if got[0].ID != ids[0] || got[1].ID != ids[1] || got[2].ID == ([16]byte{}) {
			t.Fatalf("ids %x %x %x", got[0].ID, got[1].ID, got[2].ID)
		}
		if got[0].OriginTimestamp != origin || got[1].OriginTimestamp != origin+5 || got[2].OriginTimestamp < origin {
			t.Fatalf("origin timestamps %d %d %d", got[0].OriginTimestamp, got[1].OriginTimestamp, got[2].OriginTimestamp)
		}
		if got[0].Timestamp == 0 || got[0].Timestamp != got[2].Timestamp || got[0].Checksum == 0 ||
			!slices.Equal(offsets(got), []uint64{0, 1, 2}) {
			t.Fatalf("server fields %+v", got)
		}

		// Balanced: round-robin over the partitions; a key always lands on
		// the same partition.
		seen := map[uint32]int{}
		for range 6 {
			confs := must[[]client.SendConfirmation](t)(c.SendMessages(ctx, name("s2"), name("t"), client.Balanced(), []client.Message{client.NewMessage([]byte("b"))}))
			seen[confs[0].Partition]++
		}
		if len(seen) != 3 || seen[0] != 2 || seen[1] != 2 || seen[2] != 2 {
			t.Fatalf("balanced sends went to %v", seen)
		}
		var keyed []uint32
		for _, key := range []client.Partitioning{client.MessagesKeyString("order-42"), client.MessagesKeyString("order-42"),
			client.MessagesKeyUint64(42), client.MessagesKeyUint64(42), client.MessagesKeyUint32(7), client.MessagesKeyUint32(7)} {
			confs := must[[]client.SendConfirmation](t)(c.SendMessages(ctx, name("s2"), name("t"), key, []client.Message{client.NewMessage([]byte("k"))}))
			keyed = append(keyed, confs[0].Partition)
		}
		if keyed[0] != keyed[1] || keyed[2] != keyed[3] || keyed[4] != keyed[5] {
			t.Fatalf("keyed sends went to %v", keyed)
		}
		// The same partitionings resolved by the server (the official Go
		// SDK resolves them itself; other SDKs send them): a key lands
		// where the client's hash put it, balanced sends go round-robin.
		rawSend := func(pt wire.Partitioning) uint32 {
			t.Helper()
			bt := must[[]byte](t)(batch.Build(nil, []batch.NewMessage{{ID: client.NewUUID(), OriginTimestamp: 1, Payload: []byte("r")}}))
			reply := must[[]byte](t)(c.Do(ctx, wire.CmdSendMessages, wire.AppendSendMessages(nil, name("s2"), name("t"), pt, bt)))
			confs, err := wire.DecodeSendConfirmations(reply)
			if err != nil || len(confs) != 1 {
				t.Fatalf("raw send confirmations %+v %v", confs, err)
			}
			return confs[0].Partition
		}
		if got := rawSend(wire.Partitioning{Kind: wire.PartitionByMessageKey, Value: []byte("order-42")}); got != keyed[0] {
			t.Fatalf("the server put key order-42 on partition %d, the client on %d", got, keyed[0])
		}
		serverSeen := map[uint32]int{}
		for range 6 {
			serverSeen[rawSend(wire.Partitioning{Kind: wire.PartitionBalanced})]++
		}
		if len(serverSeen) != 3 || serverSeen[0] != 2 || serverSeen[1] != 2 || serverSeen[2] != 2 {
			t.Fatalf("server-balanced sends went to %v", serverSeen)
		}

		// Sends that do not resolve are 20, whatever is missing.
		one := []client.Message{client.NewMessage([]byte("x"))}
		_, err := c.SendMessages(ctx, name("s2"), name("t"), client.PartitionID(3), one)
		isErr(t, "send to a missing partition", err, client.ErrResourceNotFound)
		_, err = c.SendMessages(ctx, name("s2"), name("nope"), client.PartitionID(0), one)
		isErr(t, "send to a missing topic", err, client.ErrResourceNotFound)
		_, err = c.SendMessages(ctx, id(9), id(0), client.PartitionID(0), one)
		isErr(t, "send to a missing stream", err, client.ErrResourceNotFound)
		_, err = c.SendMessages(ctx, name("s2"), name("none"), client.PartitionID(0), one)
		isErr(t, "send to a topic without partitions", err, client.ErrResourceNotFound)
		// Balanced needs the topic's partition count first.
		_, err = c.SendMessages(ctx, name("s2"), name("nope"), client.Balanced(), one)
		isErr(t, "balanced send to a missing topic", err, client.ErrTopicNotFound)
		_, err = c.SendMessages(ctx, name("s2"), name("none"), client.Balanced(), one)
		isErr(t, "balanced send to a topic without partitions", err, client.ErrTopicNotFound)
		// Local checks.
		_, err = c.SendMessages(ctx, name("s2"), name("t"), client.PartitionID(0), nil)
		isErr(t, "no messages", err, client.ErrInvalidMessagesCount)

		// A batch the server must refuse, sent raw: a corrupted message,
		// and a count that disagrees with the batch.
		bt := must[[]byte](t)(batch.Build(nil, []batch.NewMessage{{ID: client.NewUUID(), OriginTimestamp: origin, Payload: []byte("abc")}}))
		bad := slices.Clone(bt)
		bad[len(bad)-1] ^= 0xff
		_, err = c.Do(ctx, wire.CmdSendMessages, wire.AppendSendMessages(nil, name("s2"), name("t"), wire.PartitionID(1), bad))
		isErr(t, "corrupted message", err, wire.ErrorForCode(wire.CodeInvalidMessageChecksum))
		body := wire.AppendSendMessages(nil, name("s2"), name("t"), wire.PartitionID(1), bt)
		body[4+(2+2)+(2+1)+6] = 2 // messages_count in the metadata
		_, err = c.Do(ctx, wire.CmdSendMessages, body)
		if err == nil {
			t.Fatal("a send whose count disagrees with its batch succeeded")
		}
		// Nothing of them landed; the raw path itself works.
		must[[]byte](t)(c.Do(ctx, wire.CmdSendMessages, wire.AppendSendMessages(nil, name("s2"), name("t"), wire.PartitionID(1), bt)))
		pm = poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s2"), Topic: name("t"),
			Partition: client.InPartition(1), Strategy: client.FirstStrategy(), Count: 100})
		if last := pm.Messages[len(pm.Messages)-1]; string(last.Payload) != "abc" || pm.CurrentOffset != last.Offset || int(last.Offset) != len(pm.Messages)-1 {
			t.Fatalf("partition 1 after refused sends: %q", payloads(pm.Messages))
		}
	})
}

// Clients that send a few batches each with Balanced partitioning spread
// them over the topic's partitions: each client's round-robin cursor
// starts at a random partition, not all of them at partition 0 (which
// put every short-lived producer on the same few partitions, and a
// consumer group's data all on the member owning them).
func TestBalancedClientsSpread(t *testing.T) {
	ctx := t.Context()
	n := start(t, memPlace(t), config{})
	admin := n.root()
	s, tp := name("s"), name("t")
	must[*client.StreamDetails](t)(admin.CreateStream(ctx, "s"))
	must[*client.TopicDetails](t)(admin.CreateTopic(ctx, s, "t", 1000, client.TopicSettings{}))
	used := map[uint32]bool{}
	for i := range 16 {
		c := n.root()
		confs := must[[]client.SendConfirmation](t)(c.SendMessages(ctx, s, tp, client.Balanced(),
			[]client.Message{client.NewMessage(fmt.Appendf(nil, "m%d", i))}))
		if len(confs) != 1 {
			t.Fatalf("%d confirmations", len(confs))
		}
		used[confs[0].Partition] = true
		// The same client goes on round-robin from where it started.
		next := must[[]client.SendConfirmation](t)(c.SendMessages(ctx, s, tp, client.Balanced(),
			[]client.Message{client.NewMessage(fmt.Appendf(nil, "m%d'", i))}))
		if want := (confs[0].Partition + 1) % 1000; len(next) != 1 || next[0].Partition != want {
			t.Fatalf("second send to %+v, want partition %d", next, want)
		}
		ok(t, c.Close())
	}
	// 16 random starts among 1,000 partitions: the chance that they all
	// agree is 1e-45.
	if len(used) < 2 {
		t.Fatalf("16 clients all started on partitions %v", used)
	}
}

// TestPollBoundaries polls with every strategy at the edges, from the
// journal tail and again from sealed segments.
func TestPollBoundaries(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "t", 2, client.TopicSettings{}))
		// Partition 0: batches A (offsets 0..9), B (10..14), C (15).
		sendN(t, c, name("s"), name("t"), 0, 10, "A")
		sendN(t, c, name("s"), name("t"), 0, 5, "B")
		sendN(t, c, name("s"), name("t"), 0, 1, "C")
		all := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name("t"),
			Partition: client.InPartition(0), Strategy: client.FirstStrategy(), Count: 100}).Messages
		if len(all) != 16 {
			t.Fatalf("%d messages", len(all))
		}
		tsA, tsB, tsC := all[0].Timestamp, all[10].Timestamp, all[15].Timestamp
		if tsA >= tsB || tsB >= tsC || all[9].Timestamp != tsA || all[14].Timestamp != tsB {
			t.Fatalf("batch timestamps %d %d %d", tsA, tsB, tsC)
		}
		want := func(from, to uint64) []string {
			var out []string
			for o := from; o <= to; o++ {
				switch {
				case o < 10:
					out = append(out, fmt.Sprintf("A-%d", o))
				case o < 15:
					out = append(out, fmt.Sprintf("B-%d", o-10))
				default:
					out = append(out, "C-0")
				}
			}
			return out
		}
		type pollCase struct {
			name     string
			part     client.OptionalPartition
			strategy client.PollingStrategy
			count    uint32
			consumer client.Consumer
			partID   uint32
			current  uint64
			from, to uint64 // to < from: no messages
		}
		p0 := client.InPartition(0)
		cases := []pollCase{
			{"offset 0", p0, client.OffsetStrategy(0), 100, client.DefaultConsumer(), 0, 15, 0, 15},
			{"offset in a batch", p0, client.OffsetStrategy(3), 4, client.DefaultConsumer(), 0, 15, 3, 6},
			{"across batches", p0, client.OffsetStrategy(8), 4, client.DefaultConsumer(), 0, 15, 8, 11},
			{"the last offset", p0, client.OffsetStrategy(15), 4, client.DefaultConsumer(), 0, 15, 15, 15},
			{"offset past the end", p0, client.OffsetStrategy(16), 10, client.DefaultConsumer(), 0, 15, 1, 0},
			{"offset far past the end", p0, client.OffsetStrategy(1 << 40), 10, client.DefaultConsumer(), 0, 15, 1, 0},
			{"first", p0, client.FirstStrategy(), 3, client.DefaultConsumer(), 0, 15, 0, 2},
			{"last", p0, client.LastStrategy(), 3, client.DefaultConsumer(), 0, 15, 13, 15},
			{"last, more than there are", p0, client.LastStrategy(), 100, client.DefaultConsumer(), 0, 15, 0, 15},
			{"last one", p0, client.LastStrategy(), 1, client.DefaultConsumer(), 0, 15, 15, 15},
			{"next, nothing stored", p0, client.NextStrategy(), 5, client.SingleConsumer(id(99)), 0, 15, 0, 4},
			{"timestamp before everything", p0, client.TimestampStrategy(1), 100, client.DefaultConsumer(), 0, 15, 0, 15},
			{"timestamp of batch B", p0, client.TimestampStrategy(tsB), 3, client.DefaultConsumer(), 0, 15, 10, 12},
			{"timestamp inside batch A's time", p0, client.TimestampStrategy(tsA + 1), 100, client.DefaultConsumer(), 0, 15, 10, 15},
			{"timestamp of the last batch", p0, client.TimestampStrategy(tsC), 100, client.DefaultConsumer(), 0, 15, 15, 15},
			{"timestamp after everything", p0, client.TimestampStrategy(tsC + 1), 100, client.DefaultConsumer(), 0, 15, 1, 0},
			{"count 0", p0, client.OffsetStrategy(0), 0, client.DefaultConsumer(), 0, 15, 1, 0},
			{"count 0, last", p0, client.LastStrategy(), 0, client.DefaultConsumer(), 0, 15, 1, 0},
			{"no partition: partition 0", client.AnyPartition(), client.OffsetStrategy(14), 10, client.DefaultConsumer(), 0, 15, 14, 15},
			{"named consumer", p0, client.NextStrategy(), 2, client.SingleConsumer(name("reader")), 0, 15, 0, 1},
		}
		for _, s := range []client.PollingStrategy{client.OffsetStrategy(0), client.FirstStrategy(), client.LastStrategy(),
			client.NextStrategy(), client.TimestampStrategy(0)} {
			cases = append(cases, pollCase{fmt.Sprintf("empty partition, strategy %d", s.Kind), client.InPartition(1), s, 10, client.DefaultConsumer(), 1, 0, 1, 0})
		}
		check := func(phase string) {
			for _, pc := range cases {
				pm := poll(t, c, client.PollRequest{Consumer: pc.consumer, Stream: name("s"), Topic: name("t"),
					Partition: pc.part, Strategy: pc.strategy, Count: pc.count})
				var wantOffs []uint64
				var wantPay []string
				if pc.to >= pc.from {
					wantOffs, wantPay = span(pc.from, pc.to), want(pc.from, pc.to)
				}
				if pm.PartitionID != pc.partID || pm.CurrentOffset != pc.current ||
					!slices.Equal(offsets(pm.Messages), wantOffs) || !slices.Equal(payloads(pm.Messages), wantPay) {
					t.Fatalf("%s, %s: partition %d, current %d, offsets %v %q; want partition %d, current %d, offsets %v",
						phase, pc.name, pm.PartitionID, pm.CurrentOffset, offsets(pm.Messages), payloads(pm.Messages), pc.partID, pc.current, wantOffs)
				}
				for _, m := range pm.Messages {
					if !sameMessage(m, all[m.Offset]) {
						t.Fatalf("%s, %s: message %d differs: %+v, first read %+v", phase, pc.name, m.Offset, m, all[m.Offset])
					}
				}
			}
			// Missing things are errors for a single consumer.
			for _, e := range []struct {
				stream, topic client.Identifier
				part          uint32
				want          *client.Error
			}{
				{name("s"), name("t"), 2, client.ErrPartitionNotFound},
				{name("s"), name("x"), 0, client.ErrTopicNotFound},
				{name("x"), name("t"), 0, client.ErrStreamNotFound},
			} {
				_, err := c.PollMessages(ctx, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: e.stream, Topic: e.topic,
					Partition: client.InPartition(e.part), Strategy: client.FirstStrategy(), Count: 1})
				isErr(t, phase+": poll of a missing thing", err, e.want)
			}
		}
		check("journal tail")
		// Next with auto-commit walks the partition once.
		walker := client.SingleConsumer(id(7))
		var walked []uint64
		for range 5 {
			pm := poll(t, c, client.PollRequest{Consumer: walker, Stream: name("s"), Topic: name("t"),
				Partition: p0, Strategy: client.NextStrategy(), Count: 6, AutoCommit: true})
			walked = append(walked, offsets(pm.Messages)...)
		}
		if !slices.Equal(walked, span(0, 15)) {
			t.Fatalf("next with auto-commit walked %v", walked)
		}
		if pm := poll(t, c, client.PollRequest{Consumer: walker, Stream: name("s"), Topic: name("t"),
			Partition: p0, Strategy: client.NextStrategy(), Count: 6}); len(pm.Messages) != 0 || pm.CurrentOffset != 15 || pm.PartitionID != 0 {
			t.Fatalf("next after everything: %+v", pm)
		}
		eventually(t, "auto-committed offset", func() bool {
			o := must[*client.ConsumerOffsetInfo](t)(c.GetConsumerOffset(ctx, walker, name("s"), name("t"), p0))
			return o != nil && o.StoredOffset == 15 && o.CurrentOffset == 15
		})
		// The same from sealed segments.
		ok(t, n.b.Log().Seal(ctx))
		if part := must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("t"))).Partitions[0]; part.SegmentsCount < 2 {
			t.Fatalf("not sealed: %+v", part)
		}
		check("sealed segments")
		// A poll that starts in a segment and runs into the tail.
		sendN(t, c, name("s"), name("t"), 0, 2, "D")
		pm := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name("t"),
			Partition: p0, Strategy: client.OffsetStrategy(14), Count: 10})
		if got := payloads(pm.Messages); !slices.Equal(got, []string{"B-4", "C-0", "D-0", "D-1"}) || pm.CurrentOffset != 17 {
			t.Fatalf("poll across the seal: %q (current %d)", got, pm.CurrentOffset)
		}
		if pm := poll(t, c, client.PollRequest{Consumer: walker, Stream: name("s"), Topic: name("t"),
			Partition: p0, Strategy: client.NextStrategy(), Count: 6, AutoCommit: true}); !slices.Equal(payloads(pm.Messages), []string{"D-0", "D-1"}) {
			t.Fatalf("next after new messages: %q", payloads(pm.Messages))
		}
	})
}

func sameMessage(a, b client.Message) bool {
	return a.ID == b.ID && a.Offset == b.Offset && a.Timestamp == b.Timestamp && a.OriginTimestamp == b.OriginTimestamp &&
		a.Checksum == b.Checksum && bytes.Equal(a.Payload, b.Payload) && bytes.Equal(a.RawHeaders, b.RawHeaders)
}
