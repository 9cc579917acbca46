package client

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/wire"
)

// sendInputs are the messages of a send vector.
type sendInputs struct {
	Messages []struct {
		IDBytesHex      string `json:"id_bytes_hex"`
		OriginTimestamp uint64 `json:"origin_timestamp"`
		PayloadHex      string `json:"payload_hex"`
		UserHeadersHex  string `json:"user_headers_hex"`
		UserHeaders     []struct {
			Key, Value struct {
				Kind     HeaderKind `json:"kind"`
				BytesHex string     `json:"bytes_hex"`
			}
		} `json:"user_headers"`
	} `json:"messages"`
}

// vectorMessages builds a send vector's messages with typed headers.
func vectorMessages(t *testing.T, v vector) []Message {
	t.Helper()
	var in sendInputs
	if err := json.Unmarshal(v.Inputs, &in); err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	for _, m := range in.Messages {
		msg := Message{OriginTimestamp: m.OriginTimestamp, Payload: unhex(t, m.PayloadHex)}
		copy(msg.ID[:], unhex(t, m.IDBytesHex))
		for _, h := range m.UserHeaders {
			msg.Headers = append(msg.Headers, Header{
				Key:   HeaderValue{Kind: h.Key.Kind, Data: unhex(t, h.Key.BytesHex)},
				Value: HeaderValue{Kind: h.Value.Kind, Data: unhex(t, h.Value.BytesHex)},
			})
		}
		// The typed headers encode to the block the SDK wrote.
		block, err := AppendHeaders(nil, msg.Headers)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(block); got != m.UserHeadersHex {
			t.Errorf("headers encode to %s, want %s", got, m.UserHeadersHex)
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

func confirmation(stream, topic, partition uint32, base uint64) []byte {
	return wire.AppendSendConfirmations(nil, []wire.SendConfirmation{{Stream: stream, Topic: topic, Partition: partition, BaseOffset: base}})
}

func TestSendMessagesVectors(t *testing.T) {
	for _, tc := range []struct {
		vector        string
		stream, topic Identifier
		p             Partitioning
	}{
		{"send_messages__partition_id", stream1, topic2, PartitionID(1)},
		{"send_messages__named_ids", sOrders, tEvents, PartitionID(0)},
	} {
		t.Run(tc.vector, func(t *testing.T) {
			v := loadVector(t, tc.vector)
			s := newFakeServer(t, step{want: unhex(t, v.FrameHex), body: confirmation(1, 2, tc.p.ID(), 100)})
			c := dialTest(t, testOptions(s.addr()))
			bindVectorSession(c)
			confs, err := c.SendMessages(testContext(t), tc.stream, tc.topic, tc.p, vectorMessages(t, v))
			if err != nil {
				t.Fatal(err)
			}
			want := []SendConfirmation{{Stream: 1, Topic: 2, Partition: tc.p.ID(), BaseOffset: 100}}
			if len(confs) != 1 || confs[0] != want[0] {
				t.Errorf("confirmations %+v, want %+v", confs, want)
			}
			if _, _, next := c.state(); next != vecWatermark {
				t.Errorf("watermark %d after a send, want %d (not consumed)", next, vecWatermark)
			}
		})
	}
}

// TestSendMessagesClientSidePartitioning replays the Balanced and
// MessagesKey transcripts (GetTopic, then a send to an explicit
// partition), then checks that later sends use the cached partition count.
func TestSendMessagesClientSidePartitioning(t *testing.T) {
	t.Run("balanced", func(t *testing.T) {
		v := loadVector(t, "send_messages__balanced")
		s := newFakeServer(t, transcriptSteps(t, v)...)
		c := dialTest(t, testOptions(s.addr()))
		bindVectorSession(c)
		msgs := vectorMessages(t, v)
		ctx := testContext(t)
		if _, err := c.SendMessages(ctx, stream1, topic2, Balanced(), msgs); err != nil {
			t.Fatal(err)
		}
		// The cursor goes round the 3 partitions without asking again.
		for _, want := range []uint32{1, 2, 0, 1} {
			s.add(step{check: sendTo(want), body: confirmation(1, 2, want, 0)})
			if _, err := c.SendMessages(ctx, stream1, topic2, Balanced(), msgs); err != nil {
				t.Fatal(err)
			}
		}
		// Creating partitions forgets the count: the next send asks again.
		s.add(step{body: ok4},
			step{check: isCode(wire.CmdGetTopic), body: topicWithPartitions(5)},
			step{check: sendTo(0), body: confirmation(1, 2, 0, 0)}) // cursor 5 of 5 partitions
		if err := c.CreatePartitions(ctx, stream1, topic2, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SendMessages(ctx, stream1, topic2, Balanced(), msgs); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("messages key", func(t *testing.T) {
		v := loadVector(t, "send_messages__message_key")
		s := newFakeServer(t, transcriptSteps(t, v)...)
		c := dialTest(t, testOptions(s.addr()))
		bindVectorSession(c)
		msgs := vectorMessages(t, v)
		ctx := testContext(t)
		if _, err := c.SendMessages(ctx, stream1, topic2, MessagesKeyString("user-42"), msgs); err != nil {
			t.Fatal(err)
		}
		s.add(step{check: sendTo(2), body: confirmation(1, 2, 2, 0)})
		if _, err := c.SendMessages(ctx, stream1, topic2, MessagesKeyString("user-42"), msgs); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("missing topic", func(t *testing.T) {
		s := newFakeServer(t,
			step{check: isCode(wire.CmdGetTopic)}, // empty body: no such topic
			step{check: isCode(wire.CmdGetTopic), body: topicWithPartitions(0)})
		c := dialTest(t, testOptions(s.addr()))
		bindVectorSession(c)
		msg := []Message{{Payload: []byte("x")}}
		for range 2 {
			if _, err := c.SendMessages(testContext(t), stream1, topic2, Balanced(), msg); !errors.Is(err, ErrTopicNotFound) {
				t.Errorf("send to a topic without partitions: %v, want topic not found", err)
			}
		}
	})
	t.Run("partition not found forgets the count", func(t *testing.T) {
		s := newFakeServer(t,
			step{check: isCode(wire.CmdGetTopic), body: topicWithPartitions(2)},
			step{check: sendTo(0), status: wire.CodePartitionNotFound},
			step{check: isCode(wire.CmdGetTopic), body: topicWithPartitions(1)},
			step{check: sendTo(0), body: confirmation(1, 2, 0, 0)})
		c := dialTest(t, testOptions(s.addr()))
		bindVectorSession(c)
		msg := []Message{{Payload: []byte("x")}}
		if _, err := c.SendMessages(testContext(t), stream1, topic2, Balanced(), msg); !errors.Is(err, ErrPartitionNotFound) {
			t.Fatalf("send: %v, want partition not found", err)
		}
		if _, err := c.SendMessages(testContext(t), stream1, topic2, Balanced(), msg); err != nil {
			t.Fatal(err)
		}
	})
}

func topicWithPartitions(n uint32) []byte {
	return wire.TopicDetails{TopicHeader: wire.TopicHeader{ID: 2, PartitionsCount: n, Name: "events"}}.AppendTo(nil)
}

func isCode(code uint32) func(t *testing.T, h wire.Request, _ []byte) {
	return func(t *testing.T, h wire.Request, _ []byte) {
		if h.Code != code {
			t.Errorf("request for command %d, want %d", h.Code, code)
		}
	}
}

// sendTo checks that a request is a send to partition p.
func sendTo(p uint32) func(t *testing.T, h wire.Request, body []byte) {
	return func(t *testing.T, h wire.Request, body []byte) {
		var req wire.SendMessagesRequest
		if h.Code != wire.CmdSendMessages {
			t.Errorf("request for command %d, want a send", h.Code)
			return
		}
		if err := req.Decode(body); err != nil {
			t.Error(err)
			return
		}
		if req.Partitioning.Kind != wire.PartitionByID || req.Partitioning.ID() != p {
			t.Errorf("send with partitioning %+v, want partition %d", req.Partitioning, p)
		}
		if _, err := batch.Validate(req.Batch); err != nil {
			t.Errorf("the batch does not validate: %v", err)
		}
	}
}

func TestSendMessagesMintsIDsAndTimestamps(t *testing.T) {
	now := time.UnixMicro(1_767_225_600_123_456)
	var got []batch.Message
	s := newFakeServer(t, step{check: func(t *testing.T, h wire.Request, body []byte) {
		var req wire.SendMessagesRequest
		if err := req.Decode(body); err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages(req.Batch) {
			m.Payload = bytes.Clone(m.Payload)
			got = append(got, m)
		}
	}, body: confirmation(1, 2, 0, 0)})
	opts := testOptions(s.addr())
	opts.now = func() time.Time { return now }
	c := dialTest(t, opts)
	bindVectorSession(c)
	fixed := [16]byte{1, 2, 3}
	msgs := []Message{{Payload: []byte("a")}, {Payload: []byte("b"), ID: fixed, OriginTimestamp: uint64(now.UnixMicro()) - 5}, {Payload: []byte("c")}, {Payload: []byte("d")}}
	if _, err := c.SendMessages(testContext(t), stream1, topic2, PartitionID(0), msgs); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d messages sent, want 4", len(got))
	}
	minted := map[[16]byte]bool{}
	for _, i := range []int{0, 2, 3} {
		id := got[i].ID
		if id == ([16]byte{}) || id[6]>>4 != 4 || id[8]>>6 != 2 {
			t.Errorf("minted id %x is not a UUIDv4", id)
		}
		if minted[id] {
			t.Errorf("id %x minted twice in one batch", id)
		}
		minted[id] = true
	}
	if got[0].OriginTimestamp != uint64(now.UnixMicro()) {
		t.Errorf("origin timestamp %d, want the clock's %d", got[0].OriginTimestamp, now.UnixMicro())
	}
	if got[1].ID != fixed || got[1].OriginTimestamp != uint64(now.UnixMicro())-5 {
		t.Errorf("message 2 sent as %x at %d, want it as given", got[1].ID, got[1].OriginTimestamp)
	}
	if msgs[0].ID != ([16]byte{}) {
		t.Error("SendMessages changed the caller's message")
	}
}

func TestSendConfirmationReplies(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  []SendConfirmation
		err   error
	}{
		{"send_messages__golden_rust", []SendConfirmation{{Stream: 1, Topic: 2, Partition: 3, BaseOffset: 4}}, nil},
		{"send_messages__three_confirmations_fixture", []SendConfirmation{
			{Stream: 1, Topic: 2}, {Stream: 1, Topic: 2, Partition: 1, BaseOffset: 1 << 40}, {Stream: 9, Topic: 8, Partition: 7, BaseOffset: ^uint64(0)},
		}, nil},
		{"send_messages__zero_confirmations", []SendConfirmation{}, nil},
		// Unreadable: the batch counts as sent, with no placement.
		{"send_messages__unreadable_confirmations", []SendConfirmation{}, nil},
		// Empty: not a confirmation at all.
		{"send_messages__empty_body", nil, ErrInvalidCommand},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			r := loadReply(t, tc.reply)
			s := newFakeServer(t, step{body: unhex(t, r.ReplyBodyHex)})
			c := dialTest(t, testOptions(s.addr()))
			bindVectorSession(c)
			confs, err := c.SendMessages(testContext(t), stream1, topic2, PartitionID(0), []Message{{Payload: []byte("x")}})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(confs) != len(tc.want) || (len(confs) > 0 && !equalConfs(confs, tc.want)) {
				t.Errorf("confirmations %+v, want %+v", confs, tc.want)
			}
		})
	}
}

func equalConfs(a, b []SendConfirmation) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pollDecoded is the "decoded" field of a poll reply vector.
type pollDecoded struct {
	PartitionID   uint32 `json:"partition_id"`
	CurrentOffset uint64 `json:"current_offset"`
	Messages      []struct {
		IDBytesHex      string `json:"id_bytes_hex"`
		Offset          uint64 `json:"offset"`
		Timestamp       uint64 `json:"timestamp"`
		OriginTimestamp uint64 `json:"origin_timestamp"`
		Checksum        string `json:"checksum"`
		PayloadHex      string `json:"payload_hex"`
		UserHeadersHex  string `json:"user_headers_hex"`
	} `json:"messages"`
}

func TestPollReplies(t *testing.T) {
	for _, name := range []string{
		"poll_messages__golden_rust", "poll_messages__sliced_record_fixture", "poll_messages__two_messages_fixture",
		"poll_messages__empty_body", "poll_messages__empty_batch", "poll_messages__resync_sentinel",
	} {
		t.Run(name, func(t *testing.T) {
			r := loadReply(t, name)
			// Some fixtures quote their body; both forms are the same bytes.
			bodyHex := r.ReplyBodyHex
			if s, err := strconv.Unquote(bodyHex); err == nil {
				bodyHex = s
			}
			var want pollDecoded
			if err := json.Unmarshal(r.Decoded, &want); err != nil {
				if s, uerr := strconv.Unquote(string(r.Decoded)); uerr == nil {
					err = json.Unmarshal([]byte(s), &want)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			s := newFakeServer(t, step{body: unhex(t, bodyHex)})
			c := dialTest(t, testOptions(s.addr()))
			bindVectorSession(c)
			res, err := c.PollMessages(testContext(t), PollRequest{Consumer: DefaultConsumer(), Stream: stream1, Topic: topic2,
				Partition: InPartition(want.PartitionID), Strategy: NextStrategy(), Count: 10})
			if err != nil {
				t.Fatal(err)
			}
			if res.PartitionID != want.PartitionID || res.CurrentOffset != want.CurrentOffset || len(res.Messages) != len(want.Messages) {
				t.Fatalf("poll result %d/%d/%d messages, want %d/%d/%d", res.PartitionID, res.CurrentOffset, len(res.Messages),
					want.PartitionID, want.CurrentOffset, len(want.Messages))
			}
			for i, w := range want.Messages {
				m := res.Messages[i]
				sum, _ := strconv.ParseUint(w.Checksum[2:], 16, 64)
				if hex.EncodeToString(m.ID[:]) != w.IDBytesHex || m.Offset != w.Offset || m.Timestamp != w.Timestamp ||
					m.OriginTimestamp != w.OriginTimestamp || m.Checksum != sum ||
					hex.EncodeToString(m.Payload) != w.PayloadHex || hex.EncodeToString(m.RawHeaders) != w.UserHeadersHex {
					t.Errorf("message %d: %+v, want %+v", i, m, w)
				}
			}
		})
	}
}

func TestPollDecodesTypedHeaders(t *testing.T) {
	hs := []Header{
		NewHeader("content-type", StringValue("application/json")),
		NewHeader("retry", BoolValue(true)),
		{Key: Int32Value(7), Value: RawValue([]byte{0xde, 0xad})},
	}
	block, err := AppendHeaders(nil, hs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.Build(nil, []batch.NewMessage{{ID: [16]byte{9}, OriginTimestamp: 10, Payload: []byte("p"), UserHeaders: block}})
	if err != nil {
		t.Fatal(err)
	}
	batch.Stamp(b, 0, 40, 1000)
	body := wire.AppendPollPrefix(nil, 0, 40, 1)
	body = append(body, b...)
	s := newFakeServer(t, step{body: body})
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	res, err := c.PollMessages(testContext(t), PollRequest{Consumer: DefaultConsumer(), Stream: stream1, Topic: topic2,
		Partition: InPartition(0), Strategy: FirstStrategy(), Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 1 {
		t.Fatalf("%d messages", len(res.Messages))
	}
	m := res.Messages[0]
	if m.Offset != 40 || m.Timestamp != 1000 || len(m.Headers) != 3 {
		t.Fatalf("message %+v", m)
	}
	if v, err := m.Headers[0].Value.AsString(); err != nil || v != "application/json" {
		t.Errorf("header 0: %q, %v", v, err)
	}
	if v, err := m.Headers[1].Value.AsBool(); err != nil || !v {
		t.Errorf("header 1: %v, %v", v, err)
	}
	if k, err := m.Headers[2].Key.AsInt(); err != nil || k != 7 {
		t.Errorf("header 2 key: %d, %v", k, err)
	}
}

func TestHeaderValues(t *testing.T) {
	if v, err := Int8Value(-3).AsInt(); err != nil || v != -3 {
		t.Errorf("int8: %d %v", v, err)
	}
	if v, err := Int16Value(-300).AsInt(); err != nil || v != -300 {
		t.Errorf("int16: %d %v", v, err)
	}
	if v, err := Int64Value(-42).AsInt(); err != nil || v != -42 {
		t.Errorf("int64: %d %v", v, err)
	}
	if v, err := Uint16Value(65000).AsUint(); err != nil || v != 65000 {
		t.Errorf("uint16: %d %v", v, err)
	}
	if v, err := Uint64Value(1 << 60).AsUint(); err != nil || v != 1<<60 {
		t.Errorf("uint64: %d %v", v, err)
	}
	if v, err := Float32Value(1.5).AsFloat(); err != nil || v != 1.5 {
		t.Errorf("float32: %v %v", v, err)
	}
	if v, err := Float64Value(12.5).AsFloat(); err != nil || v != 12.5 {
		t.Errorf("float64: %v %v", v, err)
	}
	if !bytes.Equal(Float64Value(12.5).Data, []byte{0, 0, 0, 0, 0, 0, 0x29, 0x40}) {
		t.Errorf("float64 bytes %x", Float64Value(12.5).Data)
	}
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:], 1)
	if Uint128Value(u).Kind != KindUint128 || len(Int128Value(u).Data) != 16 {
		t.Error("128-bit values")
	}
	if _, err := StringValue("x").AsInt(); !errors.Is(err, ErrInvalidHeaderValue) {
		t.Errorf("string as int: %v", err)
	}
	if _, err := Uint8Value(1).AsInt(); err == nil {
		t.Error("uint8 read as a signed int")
	}
	if got := Int32Value(-7).String(); got != "-7" {
		t.Errorf("String() = %q", got)
	}
	hs := []Header{NewHeader("a", Uint32Value(3)), {Key: RawValue([]byte{0xca, 0xfe}), Value: Uint128Value(u)}}
	block, err := AppendHeaders(nil, hs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseHeaders(block)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].Key.String() != `"a"` || back[1].Value.Kind != KindUint128 {
		t.Errorf("round trip %+v", back)
	}
	if _, err := ParseHeaders([]byte{2, 1, 0, 0, 0, 'a'}); err == nil {
		t.Error("a key without a value parsed")
	}
	big := make([]Header, 0, 500)
	for range 500 {
		big = append(big, NewHeader("k", RawValue(make([]byte, 255))))
	}
	if _, err := AppendHeaders(nil, big); !errors.Is(err, ErrTooBigUserHeaders) {
		t.Errorf("oversized headers: %v", err)
	}
}

// TestLargeSend sends a batch bigger than the inline threshold, which is
// written after its header without a copy.
func TestLargeSend(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 10_000)
	s := newFakeServer(t, step{check: func(t *testing.T, h wire.Request, body []byte) {
		sendTo(3)(t, h, body)
		var req wire.SendMessagesRequest
		if err := req.Decode(body); err != nil {
			t.Fatal(err)
		}
		var n int
		for m := range batch.Messages(req.Batch) {
			if !bytes.Equal(m.Payload, payload) {
				t.Errorf("message %d: payload of %d bytes differs", n, len(m.Payload))
			}
			n++
		}
		if n != 3 {
			t.Errorf("%d messages, want 3", n)
		}
	}, body: confirmation(1, 2, 3, 0)})
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	msgs := []Message{NewMessage(payload), NewMessage(payload), NewMessage(payload, NewHeader("k", StringValue("v")))}
	for i := 0; i < 2; i++ { // the second send reuses the pooled buffer
		if i == 1 {
			s.add(step{check: sendTo(3), body: confirmation(1, 2, 3, 3)})
		}
		if _, err := c.SendMessages(testContext(t), stream1, topic2, PartitionID(3), msgs); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFlushUnsavedBuffer(t *testing.T) {
	req := wire.FlushUnsavedBufferRequest{Stream: stream1, Topic: topic2, Partition: 4, Fsync: true}
	want := wire.AppendRequest(nil, wire.Request{
		Client: vecClientID, Request: vecWatermark, Operation: wire.OpNonReplicated,
		Session: vecSession, Code: wire.CmdFlushUnsavedBuffer,
	}, req.AppendTo(nil))
	s := newFakeServer(t, step{want: want}, step{status: wire.CodeFeatureUnavailable})
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	if err := c.FlushUnsavedBuffer(testContext(t), req); err != nil {
		t.Fatal(err)
	}
	if err := c.FlushUnsavedBuffer(testContext(t), req); !errors.Is(err, ErrFeatureUnavailable) {
		t.Errorf("flush: %v, want feature unavailable", err)
	}
}

func TestKeyHelpers(t *testing.T) {
	if p := MessagesKeyUint32(7); !bytes.Equal(p.Value, []byte{7, 0, 0, 0}) || p.Kind != wire.PartitionByMessageKey {
		t.Errorf("u32 key %+v", p)
	}
	if p := MessagesKeyUint64(7); len(p.Value) != 8 {
		t.Errorf("u64 key %+v", p)
	}
}
