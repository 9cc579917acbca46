package wire_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/shoalstream/shoal/internal/wire"
)

// offsetRequest is what the three consumer-offset requests share.
type offsetRequest interface {
	AppendTo([]byte) []byte
	Decode([]byte) error
}

func TestConsumerOffsetVectors(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		op      uint8
		code    uint32
		want    func(t *testing.T, in jsonObj) offsetRequest
		got     func() offsetRequest
	}{
		{"get_consumer_offset*.json", wire.OpNonReplicated, wire.CmdGetConsumerOffset,
			func(t *testing.T, in jsonObj) offsetRequest {
				return &wire.GetConsumerOffsetRequest{
					Consumer:  jConsumer(t, jObj(t, in, "consumer")),
					Stream:    jIdentifier(t, jObj(t, in, "stream_id")),
					Topic:     jIdentifier(t, jObj(t, in, "topic_id")),
					Partition: jOptionalPartition(t, in, "partition_id"),
				}
			},
			func() offsetRequest { return new(wire.GetConsumerOffsetRequest) }},
		{"store_consumer_offset*.json", wire.OpStoreConsumerOffset, wire.CmdStoreConsumerOffset,
			func(t *testing.T, in jsonObj) offsetRequest {
				return &wire.StoreConsumerOffsetRequest{
					Consumer:  jConsumer(t, jObj(t, in, "consumer")),
					Stream:    jIdentifier(t, jObj(t, in, "stream_id")),
					Topic:     jIdentifier(t, jObj(t, in, "topic_id")),
					Partition: jOptionalPartition(t, in, "partition_id"),
					Offset:    jU64(t, in, "offset"),
					Ack:       uint8(jU64(t, in, "ack")),
				}
			},
			func() offsetRequest { return new(wire.StoreConsumerOffsetRequest) }},
		{"delete_consumer_offset*.json", wire.OpDeleteConsumerOffset, wire.CmdDeleteConsumerOffset,
			func(t *testing.T, in jsonObj) offsetRequest {
				return &wire.DeleteConsumerOffsetRequest{
					Consumer:  jConsumer(t, jObj(t, in, "consumer")),
					Stream:    jIdentifier(t, jObj(t, in, "stream_id")),
					Topic:     jIdentifier(t, jObj(t, in, "topic_id")),
					Partition: jOptionalPartition(t, in, "partition_id"),
					Ack:       uint8(jU64(t, in, "ack")),
				}
			},
			func() offsetRequest { return new(wire.DeleteConsumerOffsetRequest) }},
	} {
		for _, file := range msgVectorFiles(t, tc.pattern) {
			t.Run(file, func(t *testing.T) {
				v := loadMsgVector(t, file)
				body := jHex(t, v, "body_hex")
				if got := requestBody(t, jHex(t, v, "frame_hex"), tc.op, tc.code); !bytes.Equal(got, body) {
					t.Fatal("frame body differs")
				}
				want := tc.want(t, jObj(t, v, "inputs"))
				got := tc.got()
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
}

func TestConsumerOffsetMalformed(t *testing.T) {
	store := (&wire.StoreConsumerOffsetRequest{
		Consumer: wire.Consumer{Kind: wire.ConsumerGroup, ID: wire.NamedID("g")},
		Stream:   wire.NumericID(1), Topic: wire.NamedID("t"),
		Partition: wire.OptionalPartition{Set: true, ID: 2}, Offset: 9, Ack: wire.AckQuorum,
	}).AppendTo(nil)
	del := (&wire.DeleteConsumerOffsetRequest{
		Consumer: wire.Consumer{Kind: wire.ConsumerSingle, ID: wire.NumericID(1)},
		Stream:   wire.NumericID(1), Topic: wire.NumericID(2), Ack: wire.AckNone,
	}).AppendTo(nil)
	get := (&wire.GetConsumerOffsetRequest{
		Consumer: wire.Consumer{Kind: wire.ConsumerSingle, ID: wire.NumericID(1)},
		Stream:   wire.NumericID(1), Topic: wire.NumericID(2),
	}).AppendTo(nil)
	flush := (&wire.FlushUnsavedBufferRequest{Stream: wire.NumericID(1), Topic: wire.NumericID(2), Partition: 3, Fsync: true}).AppendTo(nil)
	with := func(b []byte, i int, v byte) []byte { c := append([]byte(nil), b...); c[i] = v; return c }
	plus := func(b []byte) []byte { return append(append([]byte(nil), b...), 0) }
	for _, tc := range []struct {
		name string
		req  offsetRequest
		b    []byte
	}{
		{"store: ack 2", new(wire.StoreConsumerOffsetRequest), with(store, len(store)-1, 2)},
		{"store: truncated", new(wire.StoreConsumerOffsetRequest), store[:len(store)-1]},
		{"store: trailing", new(wire.StoreConsumerOffsetRequest), plus(store)},
		{"store: consumer kind 0", new(wire.StoreConsumerOffsetRequest), with(store, 0, 0)},
		{"delete: ack 255", new(wire.DeleteConsumerOffsetRequest), with(del, len(del)-1, 255)},
		{"delete: truncated", new(wire.DeleteConsumerOffsetRequest), del[:len(del)-1]},
		{"delete: trailing", new(wire.DeleteConsumerOffsetRequest), plus(del)},
		{"get: truncated", new(wire.GetConsumerOffsetRequest), get[:len(get)-1]},
		{"get: trailing", new(wire.GetConsumerOffsetRequest), plus(get)},
		{"get: empty", new(wire.GetConsumerOffsetRequest), nil},
		{"flush: truncated", new(wire.FlushUnsavedBufferRequest), flush[:len(flush)-1]},
		{"flush: trailing", new(wire.FlushUnsavedBufferRequest), plus(flush)},
		{"flush: bad topic", new(wire.FlushUnsavedBufferRequest), with(flush, 6, 3)},
		{"offset info: 19 bytes", new(wire.ConsumerOffsetInfo), make([]byte, 19)},
		{"offset info: 21 bytes", new(wire.ConsumerOffsetInfo), make([]byte, 21)},
		{"offset info: empty", new(wire.ConsumerOffsetInfo), nil},
	} {
		if err := tc.req.Decode(tc.b); err == nil || wire.CodeOf(err) != wire.CodeInvalidCommand {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

func TestConsumerOffsetInfoAndFlush(t *testing.T) {
	info := wire.ConsumerOffsetInfo{PartitionID: 1, CurrentOffset: 1 << 40, StoredOffset: 42}
	b := info.AppendTo(nil)
	if len(b) != wire.ConsumerOffsetInfoSize {
		t.Fatalf("%d bytes", len(b))
	}
	var got wire.ConsumerOffsetInfo
	if err := got.Decode(b); err != nil || got != info {
		t.Fatalf("%+v %v", got, err)
	}

	// messages.md §5: 17 bytes with numeric ids.
	f := wire.FlushUnsavedBufferRequest{Stream: wire.NumericID(1), Topic: wire.NumericID(2), Partition: 3, Fsync: true}
	fb := f.AppendTo(nil)
	if len(fb) != 17 {
		t.Fatalf("flush body of %d bytes", len(fb))
	}
	var gf wire.FlushUnsavedBufferRequest
	if err := gf.Decode(fb); err != nil || gf != f {
		t.Fatalf("%+v %v", gf, err)
	}
}

func TestConsumerKey(t *testing.T) {
	if k := wire.ConsumerKey(wire.NumericID(7)); k != 7 {
		t.Fatalf("numeric key %d", k)
	}
	// "worker-1" of the poll_messages__first vector, hashed by the
	// reference implementation of XXH32.
	if k := wire.ConsumerKey(wire.NamedID("worker-1")); k != 0xda0257b2 {
		t.Fatalf("named key %#x", k)
	}
}
