package wire_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/wire"
)

func TestSendMessagesVectors(t *testing.T) {
	for _, file := range msgVectorFiles(t, "send_messages__*.json") {
		t.Run(file, func(t *testing.T) {
			v := loadMsgVector(t, file)
			in := jObj(t, v, "inputs")
			body := jHex(t, v, "body_hex")
			if got := requestBody(t, jHex(t, v, "frame_hex"), wire.OpSendMessages, wire.CmdSendMessages); !bytes.Equal(got, body) {
				t.Fatalf("frame body differs")
			}

			// The SDK resolves Balanced and MessagesKey to a partition id
			// itself: the wire always carries kind 2.
			part := jObj(t, in, "partitioning")
			var pid uint32
			if _, ok := v["resolved_partition_id"]; ok {
				pid = uint32(jU64(t, v, "resolved_partition_id"))
			} else {
				pid = uint32(jU64(t, part, "value"))
			}
			if jStr(t, part, "kind") == "messages_key" {
				n := uint32(jU64(t, in, "partitions_count_from_get_topic_reply"))
				if got := wire.KeyPartition([]byte(jStr(t, part, "value_utf8")), n); got != pid {
					t.Fatalf("KeyPartition = %d, the SDK chose %d", got, pid)
				}
			}
			msgs := in["messages"].([]any)
			layout := jObj(t, v, "body_layout")
			mdLen := jU64(t, layout, "metadata_length")

			var got wire.SendMessagesRequest
			if err := got.Decode(body); err != nil {
				t.Fatal(err)
			}
			want := wire.SendMessagesRequest{
				Stream:        jIdentifier(t, jObj(t, in, "stream_id")),
				Topic:         jIdentifier(t, jObj(t, in, "topic_id")),
				Partitioning:  wire.PartitionID(pid),
				MessagesCount: uint32(len(msgs)),
				Batch:         body[4+mdLen:],
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %+v, want %+v", got, want)
			}
			if &got.Batch[0] != &body[4+mdLen] {
				t.Fatal("Batch does not alias the body")
			}
			if enc := want.AppendTo(nil); !bytes.Equal(enc, body) {
				t.Fatalf("encoded %x\nwant    %x", enc, body)
			}
			if enc := wire.AppendSendMessages(nil, want.Stream, want.Topic, want.Partitioning, want.Batch); !bytes.Equal(enc, body) {
				t.Fatalf("AppendSendMessages differs")
			}

			// The batch is package batch's to validate; check it is the
			// SDK's messages.
			h, err := batch.Validate(got.Batch)
			if err != nil {
				t.Fatal(err)
			}
			if h.Count != got.MessagesCount {
				t.Fatalf("batch count %d, metadata %d", h.Count, got.MessagesCount)
			}
			i := 0
			for m := range batch.Messages(got.Batch) {
				want := msgs[i].(jsonObj)
				if !bytes.Equal(m.ID[:], jHex(t, want, "id_bytes_hex")) ||
					!bytes.Equal(m.Payload, jHex(t, want, "payload_hex")) ||
					!bytes.Equal(m.UserHeaders, jHex(t, want, "user_headers_hex")) ||
					m.OriginTimestamp != jU64(t, want, "origin_timestamp") {
					t.Fatalf("message %d differs from the inputs", i)
				}
				i++
			}
			if i != len(msgs) {
				t.Fatalf("%d messages, want %d", i, len(msgs))
			}

			// What the raw encoder would send for an unresolved key.
			if s, ok := v["unsent_key_partitioning_body_hex"].(string); ok {
				raw := msgUnhex(t, s)
				var k wire.SendMessagesRequest
				if err := k.Decode(raw); err != nil {
					t.Fatal(err)
				}
				if k.Partitioning.Kind != wire.PartitionByMessageKey || string(k.Partitioning.Value) != jStr(t, part, "value_utf8") {
					t.Fatalf("key partitioning %+v", k.Partitioning)
				}
				if enc := k.AppendTo(nil); !bytes.Equal(enc, raw) {
					t.Fatal("key body does not re-encode")
				}
			}

			// The test double's reply in the transcript: zero
			// confirmations.
			if _, ok := v["transcript"]; ok {
				step := transcriptStep(t, v, uint64(wire.CmdSendMessages))
				cs, err := wire.DecodeSendConfirmations(replyBody(t, jHex(t, step, "reply_frame_hex"), wire.OpSendMessages))
				if err != nil || len(cs) != 0 {
					t.Fatalf("transcript reply: %v %v", cs, err)
				}
			}
		})
	}
}

func TestSendMessagesMalformedMetadata(t *testing.T) {
	good := wire.AppendSendMessages(nil, wire.NumericID(1), wire.NumericID(2), wire.PartitionID(1), []byte("batch"))
	withLen := func(n uint32) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b, n)
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"3 bytes", []byte{22, 0, 0}},
		{"metadata_length past the body", withLen(uint32(len(good)))},
		{"metadata_length huge", withLen(0xFFFFFFFF)},
		{"metadata_length one short", withLen(21)},
		{"metadata_length one long", withLen(23)},
		{"metadata_length 0", withLen(0)},
		{"bad stream kind", append([]byte{22, 0, 0, 0, 9}, good[5:]...)},
		{"bad partitioning kind", func() []byte { b := append([]byte(nil), good...); b[16] = 7; return b }()},
		{"balanced with a value", func() []byte { b := append([]byte(nil), good...); b[16] = wire.PartitionBalanced; return b }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m wire.SendMessagesRequest
			err := m.Decode(tc.b)
			if err == nil {
				t.Fatalf("decoded %+v", m)
			}
			if !errors.Is(err, wire.ErrResourceNotFound) {
				t.Fatalf("%v is not ResourceNotFound", err)
			}
		})
	}
	// The batch part is not Decode's business.
	var m wire.SendMessagesRequest
	if err := m.Decode(good[:26]); err != nil || len(m.Batch) != 0 {
		t.Fatalf("metadata alone: %v, batch %x", err, m.Batch)
	}
}

func TestSendConfirmationVectors(t *testing.T) {
	for _, file := range msgVectorFiles(t, "replies/send_messages__*.json") {
		t.Run(file, func(t *testing.T) {
			v := loadMsgVector(t, file)
			body := jHex(t, v, "reply_body_hex")
			dec := jObj(t, v, "decoded")
			cs, err := wire.DecodeSendConfirmations(body)
			if _, isErr := dec["error_code"]; isErr || file == "replies/send_messages__unreadable_confirmations.json" {
				// An empty body (the SDK's transport refuses it with 3)
				// or one that does not decode (the SDK swallows it).
				if err == nil {
					t.Fatalf("decoded %v", cs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []wire.SendConfirmation
			for _, c := range dec["confirmations"].([]any) {
				c := c.(jsonObj)
				want = append(want, wire.SendConfirmation{
					Stream:     uint32(jU64(t, c, "stream_id")),
					Topic:      uint32(jU64(t, c, "topic_id")),
					Partition:  uint32(jU64(t, c, "partition_id")),
					BaseOffset: jU64(t, c, "base_offset"),
				})
			}
			if len(cs) != len(want) || (len(want) > 0 && !reflect.DeepEqual(cs, want)) {
				t.Fatalf("decoded %+v, want %+v", cs, want)
			}
			if enc := wire.AppendSendConfirmations(nil, cs); !bytes.Equal(enc, body) {
				t.Fatalf("encoded %x, want %x", enc, body)
			}
		})
	}
}

func TestPollMessagesRequestVectors(t *testing.T) {
	for _, file := range msgVectorFiles(t, "poll_messages__*.json") {
		t.Run(file, func(t *testing.T) {
			v := loadMsgVector(t, file)
			in := jObj(t, v, "inputs")
			body := jHex(t, v, "body_hex")
			if got := requestBody(t, jHex(t, v, "frame_hex"), wire.OpNonReplicated, wire.CmdPollMessages); !bytes.Equal(got, body) {
				t.Fatal("frame body differs")
			}
			strat := jObj(t, in, "strategy")
			want := wire.PollMessagesRequest{
				Consumer:   jConsumer(t, jObj(t, in, "consumer")),
				Stream:     jIdentifier(t, jObj(t, in, "stream_id")),
				Topic:      jIdentifier(t, jObj(t, in, "topic_id")),
				Partition:  jOptionalPartition(t, in, "partition_id"),
				Strategy:   wire.PollingStrategy{Kind: uint8(jU64(t, strat, "kind_byte")), Value: jU64(t, strat, "value")},
				Count:      uint32(jU64(t, in, "count")),
				AutoCommit: in["auto_commit"].(bool),
			}
			if _, ok := v["transcript"]; ok {
				// A partition-less group poll: the SDK synced, joined and
				// polls the first partition it was assigned, explicitly.
				want.Partition = wire.OptionalPartition{Set: true, ID: 0}
				step := transcriptStep(t, v, uint64(wire.CmdPollMessages))
				if got := requestBody(t, jHex(t, step, "request_frame_hex"), wire.OpNonReplicated, wire.CmdPollMessages); !bytes.Equal(got, body) {
					t.Fatal("transcript body differs")
				}
				var rep wire.PollReply
				if err := rep.Decode(replyBody(t, jHex(t, step, "reply_frame_hex"), wire.OpNonReplicated)); err != nil || rep.MessagesCount != 0 {
					t.Fatalf("transcript reply %+v %v", rep, err)
				}
			}
			var got wire.PollMessagesRequest
			if err := got.Decode(body); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %+v, want %+v", got, want)
			}
			if enc := want.AppendTo(nil); !bytes.Equal(enc, body) {
				t.Fatalf("encoded %x, want %x", enc, body)
			}
		})
	}
}

func TestPollMessagesRequestMalformed(t *testing.T) {
	good := (&wire.PollMessagesRequest{
		Consumer: wire.Consumer{Kind: wire.ConsumerSingle, ID: wire.NumericID(7)},
		Stream:   wire.NumericID(1), Topic: wire.NumericID(2),
		Partition: wire.OptionalPartition{Set: true, ID: 1},
		Strategy:  wire.PollingStrategy{Kind: wire.PollNext}, Count: 10,
	}).AppendTo(nil)
	mut := func(i int, v byte) []byte { b := append([]byte(nil), good...); b[i] = v; return b }
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"consumer kind 3", mut(0, 3)},
		{"consumer id kind 0", mut(1, 0)},
		{"numeric id of length 5", mut(2, 5)},
		{"strategy kind 0", mut(24, 0)},
		{"strategy kind 6", mut(24, 6)},
	} {
		var p wire.PollMessagesRequest
		if err := p.Decode(tc.b); err == nil || wire.CodeOf(err) != wire.CodeInvalidCommand {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

func TestPollReplyVectors(t *testing.T) {
	for _, file := range msgVectorFiles(t, "replies/poll_messages__*.json") {
		t.Run(file, func(t *testing.T) {
			v := loadMsgVector(t, file)
			body := jHex(t, v, "reply_body_hex")
			dec := jObj(t, v, "decoded")
			var got wire.PollReply
			if err := got.Decode(body); err != nil {
				t.Fatal(err)
			}
			if got.PartitionID != uint32(jU64(t, dec, "partition_id")) ||
				got.CurrentOffset != jU64(t, dec, "current_offset") ||
				got.MessagesCount != uint32(jU64(t, dec, "messages_count")) {
				t.Fatalf("decoded %+v, want %v", got, dec)
			}
			want := dec["messages"].([]any)
			i := 0
			for m := range got.Messages() {
				w := want[i].(jsonObj)
				if m.Offset != jU64(t, w, "offset") || m.Timestamp != jU64(t, w, "timestamp") ||
					m.OriginTimestamp != jU64(t, w, "origin_timestamp") || m.Checksum != jU64(t, w, "checksum") ||
					!bytes.Equal(m.ID[:], jHex(t, w, "id_bytes_hex")) ||
					!bytes.Equal(m.Payload, jHex(t, w, "payload_hex")) ||
					!bytes.Equal(m.UserHeaders, jHex(t, w, "user_headers_hex")) {
					t.Fatalf("message %d: %+v, want %v", i, m, w)
				}
				i++
			}
			if i != len(want) {
				t.Fatalf("%d messages, want %d", i, len(want))
			}
			if fh, ok := v["reply_frame_hex"].(string); ok {
				if b := replyBody(t, msgUnhex(t, fh), wire.OpNonReplicated); !bytes.Equal(b, body) {
					t.Fatal("frame body differs")
				}
			}
			if len(body) == 0 {
				return // the SDK's empty reply; a server always sends the prefix
			}
			if enc := got.AppendTo(nil); !bytes.Equal(enc, body) {
				t.Fatalf("encoded %x, want %x", enc, body)
			}
		})
	}
	// The sentinel reply the server sends on a failed group fence.
	v := loadMsgVector(t, "replies/poll_messages__resync_sentinel.json")
	e := wire.PollEmpty(wire.PollResyncPartition, 0)
	if enc := e.AppendTo(nil); !bytes.Equal(enc, jHex(t, v, "reply_body_hex")) {
		t.Fatalf("PollEmpty %x", enc)
	}
}

// storedBatch builds a batch of n messages as a producer does and stamps
// it as the server stores it.
func storedBatch(t testing.TB, n int, base uint64) []byte {
	t.Helper()
	var msgs []batch.NewMessage
	for i := range n {
		msgs = append(msgs, batch.NewMessage{
			ID:              [16]byte{byte(i + 1)},
			OriginTimestamp: 1000 + uint64(i)*10,
			Payload:         bytes.Repeat([]byte{'a' + byte(i)}, i+1),
			UserHeaders:     bytes.Repeat([]byte{'h'}, i%2),
		})
	}
	b, err := batch.Build(nil, msgs)
	if err != nil {
		t.Fatal(err)
	}
	batch.Stamp(b, 3, base, 5000)
	return b
}

func TestSliceBatch(t *testing.T) {
	stored := storedBatch(t, 5, 100)
	sh, err := batch.Validate(stored)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		first, last uint64
		offsets     []uint64
	}{
		{"all", 0, ^uint64(0), []uint64{100, 101, 102, 103, 104}},
		{"exactly all", 100, 104, []uint64{100, 101, 102, 103, 104}},
		{"middle", 102, 103, []uint64{102, 103}},
		{"head", 0, 100, []uint64{100}},
		{"tail", 104, 200, []uint64{104}},
		{"from the middle on", 101, ^uint64(0), []uint64{101, 102, 103, 104}},
		{"before", 0, 99, nil},
		{"after", 105, 1000, nil},
		{"empty range", 103, 102, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("prefix")
			out, n, err := wire.SliceBatch(append([]byte(nil), prefix...), stored, tc.first, tc.last)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out, prefix) || int(n) != len(tc.offsets) {
				t.Fatalf("appended %d messages, want %d", n, len(tc.offsets))
			}
			rec := out[len(prefix):]
			if n == 0 {
				if len(rec) != 0 {
					t.Fatalf("appended %d bytes for no message", len(rec))
				}
				return
			}
			if int(n) == int(sh.Count) && !bytes.Equal(rec, stored) {
				t.Fatal("a whole batch is not served byte for byte")
			}
			h, err := batch.ParseHeader(rec)
			if err != nil {
				t.Fatal(err)
			}
			if h.PartitionID != sh.PartitionID || h.BaseOffset != sh.BaseOffset || h.BaseTimestamp != sh.BaseTimestamp ||
				h.OriginTimestamp != sh.OriginTimestamp || h.Length != uint64(len(rec)) || h.Count != n ||
				h.Checksum != batch.Checksum(rec) {
				t.Fatalf("record header %+v (checksum should be %#x)", h, batch.Checksum(rec))
			}
			// As a client reads it.
			body := wire.AppendPollPrefix(nil, 3, 104, n)
			body = append(body, rec...)
			var rep wire.PollReply
			if err := rep.Decode(body); err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for m := range rep.Messages() {
				got = append(got, m.Offset)
				// The frames are the stored ones, byte for byte.
				if !bytes.Contains(stored, m.Frame) || m.Timestamp != 5000 || m.OriginTimestamp != 1000+(m.Offset-100)*10 {
					t.Fatalf("message %d: %+v", m.Offset, m)
				}
			}
			if !reflect.DeepEqual(got, tc.offsets) {
				t.Fatalf("offsets %v, want %v", got, tc.offsets)
			}
		})
	}
}

func TestSliceBatchMalformed(t *testing.T) {
	stored := storedBatch(t, 3, 0)
	mut := func(f func(b []byte)) []byte { b := append([]byte(nil), stored...); f(b); return b }
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"header only", stored[:batch.HeaderSize]},
		{"short", stored[:len(stored)-1]},
		{"long", append(append([]byte(nil), stored...), 0)},
		{"count 0", mut(func(b []byte) { le.PutUint32(b[48:], 0) })},
		{"count 4", mut(func(b []byte) { le.PutUint32(b[48:], 4) })},
		{"count 2", mut(func(b []byte) { le.PutUint32(b[48:], 2) })},
		{"count huge", mut(func(b []byte) { le.PutUint32(b[48:], 0xFFFFFFFF) })},
		{"payload overruns", mut(func(b []byte) { le.PutUint32(b[256+36:], 1<<30) })},
		{"frame reserved", mut(func(b []byte) { b[256+49+40] = 1 })},
		{"deltas not ascending", mut(func(b []byte) { le.PutUint32(b[256+24:], 1) })},
		{"offset overflows", mut(func(b []byte) { le.PutUint64(b[8:], ^uint64(0)) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, n, err := wire.SliceBatch([]byte("x"), tc.b, 1, 1)
			if err == nil || n != 0 || string(out) != "x" {
				t.Fatalf("out %q, n %d, err %v", out, n, err)
			}
		})
	}
}

func TestPollReplyMalformed(t *testing.T) {
	rec := storedBatch(t, 2, 10)
	good := append(wire.AppendPollPrefix(nil, 1, 11, 2), rec...)
	mut := func(f func(b []byte)) []byte { b := append([]byte(nil), good...); f(b); return b }
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"1 byte", []byte{1}},
		{"15 bytes", good[:15]},
		{"record shorter than a header", good[:16+255]},
		{"record truncated", good[:len(good)-1]},
		{"count too high", mut(func(b []byte) { le.PutUint32(b[12:], 3) })},
		{"count too low", mut(func(b []byte) { le.PutUint32(b[12:], 1) })},
		{"batch_length < 256", mut(func(b []byte) { le.PutUint64(b[16+32:], 255) })},
		{"batch_length past the body", mut(func(b []byte) { le.PutUint64(b[16+32:], uint64(len(rec)+1)) })},
		{"batch_length huge", mut(func(b []byte) { le.PutUint64(b[16+32:], ^uint64(0)) })},
		{"frame reserved", mut(func(b []byte) { b[16+256+40] = 1 })},
		{"frame overruns", mut(func(b []byte) { le.PutUint32(b[16+256+36:], 1<<31) })},
		{"trailing bytes", append(append([]byte(nil), good...), 1, 2, 3)},
	} {
		var p wire.PollReply
		if err := p.Decode(tc.b); err == nil || wire.CodeOf(err) != wire.CodeInvalidCommand {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	// Two records, the second a slice.
	two, _, err := wire.SliceBatch(append([]byte(nil), good...), rec, 11, 11)
	if err != nil {
		t.Fatal(err)
	}
	le.PutUint32(two[12:], 3)
	var p wire.PollReply
	if err := p.Decode(two); err != nil || len(p.Batches) != 2 {
		t.Fatalf("two records: %v, %d", err, len(p.Batches))
	}
	var offs []uint64
	for m := range p.Messages() {
		offs = append(offs, m.Offset)
	}
	if !reflect.DeepEqual(offs, []uint64{10, 11, 11}) {
		t.Fatalf("offsets %v", offs)
	}
}

func TestKeyPartitionXXH32(t *testing.T) {
	// Known answers of XXH32 with seed 0 (the reference implementation).
	seq := make([]byte, 100)
	for i := range seq {
		seq[i] = byte(i)
	}
	for _, tc := range []struct {
		in   []byte
		want uint32
	}{
		{nil, 0x02cc5d05},
		{[]byte("a"), 0x550d7456},
		{[]byte("abc"), 0x32d153ff},
		{[]byte("Nobody inspects the spammish repetition"), 0xe2293b2f},
		{[]byte("user-42"), 0x61819a7e},
		{seq, 0x7f89ba44},
	} {
		if got := wire.KeyPartition(tc.in, 0xFFFFFFFF); got != tc.want%0xFFFFFFFF {
			t.Errorf("XXH32(%q) %% max = %#x, want %#x", tc.in, got, tc.want)
		}
		if got := wire.ConsumerKey(wire.NamedID(string(tc.in))); len(tc.in) > 0 && got != tc.want {
			t.Errorf("ConsumerKey(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
	if got := wire.KeyPartition([]byte("user-42"), 3); got != 2 {
		t.Errorf("KeyPartition(user-42, 3) = %d, want 2", got)
	}
	if got := wire.KeyPartition([]byte("k"), 0); got != 0 {
		t.Errorf("KeyPartition with no partitions = %d", got)
	}
}

// The Rust encoder's stamped batch is a valid stored batch by package
// batch's checksums, and slicing it gives what a client reads as those
// messages.
func TestSliceBatchRustGolden(t *testing.T) {
	v := loadMsgVector(t, "replies/poll_messages__golden_rust.json")
	var p wire.PollReply
	if err := p.Decode(jHex(t, v, "reply_body_hex")); err != nil {
		t.Fatal(err)
	}
	stored := p.Batches[0]
	if _, err := batch.Validate(stored); err != nil {
		t.Fatalf("the Rust batch does not validate: %v", err)
	}
	whole, n, err := wire.SliceBatch(nil, stored, 100, 101)
	if err != nil || n != 2 || !bytes.Equal(whole, stored) {
		t.Fatalf("whole batch: %d messages, %v", n, err)
	}
	rec, n, err := wire.SliceBatch(nil, stored, 101, 101)
	if err != nil || n != 1 {
		t.Fatalf("slice: %d messages, %v", n, err)
	}
	var got wire.PollReply
	if err := got.Decode(append(wire.AppendPollPrefix(nil, 3, 101, 1), rec...)); err != nil {
		t.Fatal(err)
	}
	want := v["decoded"].(jsonObj)["messages"].([]any)[1].(jsonObj)
	for m := range got.Messages() {
		if m.Offset != 101 || m.OriginTimestamp != jU64(t, want, "origin_timestamp") || m.Timestamp != 5000 ||
			!bytes.Equal(m.Payload, jHex(t, want, "payload_hex")) || !bytes.Equal(m.UserHeaders, jHex(t, want, "user_headers_hex")) {
			t.Fatalf("sliced message %+v", m)
		}
	}
	if binary.LittleEndian.Uint64(rec[40:]) != batch.Checksum(rec) || len(rec) != batch.HeaderSize+len(stored)-batch.HeaderSize-(48+13) {
		t.Fatal("slice header")
	}
}
