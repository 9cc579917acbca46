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

// The fuzz targets of the message-plane codecs. Each checks, besides "no
// panic", that an accepted input re-encodes to itself (or, where the
// encoding has non-canonical spellings such as a flag byte 2 for true, to
// an input of the same length that decodes to the same value), that a
// refused one is refused with the right error, and what aliasing the
// decoder promises.

func FuzzDecodeLoginRequest(f *testing.F) {
	seedFromVectors(f, "login_*.json", "body_hex")
	f.Add(loginBody([]byte{1}, []byte("u"), []byte{1}, []byte("p"), []byte{3, 0, 0, 0}, []byte("ctx")))
	f.Add(loginBody([]byte{0}, []byte{0xff, 0xff, 0xff, 0xff}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l wire.LoginRequest
		err := l.Decode(b)
		if err != nil {
			var me *wire.MalformedLoginError
			if !errors.As(err, &me) || !errors.Is(err, wire.ErrMalformedLogin) || wire.CodeOf(err) != wire.CodeInvalidFormat {
				t.Fatalf("error %v is not a malformed-login error", err)
			}
			return
		}
		// The encoding is the part of the input that was read: all of it,
		// or a password or token tail followed by ignored bytes.
		enc := l.AppendTo(nil)
		if len(enc) > len(b) || !bytes.Equal(enc, b[:len(enc)]) {
			t.Fatalf("re-encoded %x is not a prefix of %x", enc, b)
		}
		var again wire.LoginRequest
		if err := again.Decode(enc); err != nil || !reflect.DeepEqual(again, l) {
			t.Fatalf("the read prefix decodes to %+v (%v), want %+v", again, err, l)
		}
	})
}

func FuzzDecodeRegisterReply(f *testing.F) {
	seedFromVectors(f, "replies/login_*.json", "payload_hex")
	f.Fuzz(func(t *testing.T, b []byte) {
		var p wire.RegisterReply
		if err := p.Decode(b); err != nil {
			if wire.CodeOf(err) != wire.CodeInvalidCommand {
				t.Fatalf("error %v", err)
			}
			return
		}
		if enc := p.AppendTo(nil); !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded %x, input %x", enc, b)
		}
	})
}

func FuzzDecodeSendMessagesRequest(f *testing.F) {
	seedFromVectors(f, "send_messages__*.json", "body_hex")
	seedFromVectors(f, "send_messages__message_key.json", "unsent_key_partitioning_body_hex")
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m wire.SendMessagesRequest
		if err := m.Decode(b); err != nil {
			if !errors.Is(err, wire.ErrResourceNotFound) {
				t.Fatalf("error %v is not ResourceNotFound", err)
			}
			return
		}
		if enc := m.AppendTo(nil); !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded %x, input %x", enc, b)
		}
		meta := len(b) - len(m.Batch)
		if len(m.Batch) > 0 && &m.Batch[0] != &b[meta] {
			t.Fatal("Batch does not alias the input's tail")
		}
		if cap(m.Batch) != len(m.Batch) {
			t.Fatal("Batch can be appended to over the input")
		}
		// The metadata alone decodes the same, with no batch.
		var head wire.SendMessagesRequest
		if err := head.Decode(b[:meta]); err != nil || len(head.Batch) != 0 {
			t.Fatalf("metadata prefix: %v", err)
		}
		head.Batch = m.Batch
		if !reflect.DeepEqual(head, m) {
			t.Fatalf("metadata prefix decodes to %+v, want %+v", head, m)
		}
	})
}

func FuzzDecodeSendConfirmations(f *testing.F) {
	seedFromVectors(f, "replies/send_messages__*.json", "reply_body_hex")
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := wire.DecodeSendConfirmations(b)
		if err != nil {
			if wire.CodeOf(err) != wire.CodeInvalidCommand {
				t.Fatalf("error %v", err)
			}
			return
		}
		if enc := wire.AppendSendConfirmations(nil, cs); !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded %x, input %x", enc, b)
		}
	})
}

// checkCanonical checks a decoded request against its input: the
// re-encoding has the input's length and decodes to the same value.
func checkCanonical[T any, P interface {
	*T
	AppendTo([]byte) []byte
	Decode([]byte) error
}](t *testing.T, b []byte) {
	var v T
	if err := P(&v).Decode(b); err != nil {
		if wire.CodeOf(err) != wire.CodeInvalidCommand {
			t.Fatalf("error %v", err)
		}
		return
	}
	enc := P(&v).AppendTo(nil)
	if len(enc) != len(b) {
		t.Fatalf("re-encoded %x, input %x", enc, b)
	}
	var again T
	if err := P(&again).Decode(enc); err != nil || !reflect.DeepEqual(again, v) {
		t.Fatalf("re-encoding decodes to %+v (%v), want %+v", again, err, v)
	}
}

func FuzzDecodePollMessagesRequest(f *testing.F) {
	seedFromVectors(f, "poll_messages__*.json", "body_hex")
	f.Fuzz(func(t *testing.T, b []byte) { checkCanonical[wire.PollMessagesRequest](t, b) })
}

func FuzzDecodeGetConsumerOffsetRequest(f *testing.F) {
	seedFromVectors(f, "get_consumer_offset*.json", "body_hex")
	f.Fuzz(func(t *testing.T, b []byte) { checkCanonical[wire.GetConsumerOffsetRequest](t, b) })
}

func FuzzDecodeStoreConsumerOffsetRequest(f *testing.F) {
	seedFromVectors(f, "store_consumer_offset*.json", "body_hex")
	f.Fuzz(func(t *testing.T, b []byte) { checkCanonical[wire.StoreConsumerOffsetRequest](t, b) })
}

func FuzzDecodeDeleteConsumerOffsetRequest(f *testing.F) {
	seedFromVectors(f, "delete_consumer_offset*.json", "body_hex")
	f.Fuzz(func(t *testing.T, b []byte) { checkCanonical[wire.DeleteConsumerOffsetRequest](t, b) })
}

func FuzzDecodeFlushUnsavedBufferRequest(f *testing.F) {
	f.Add((&wire.FlushUnsavedBufferRequest{Stream: wire.NumericID(1), Topic: wire.NamedID("events"), Partition: 3, Fsync: true}).AppendTo(nil))
	f.Add([]byte{1, 4, 1, 0, 0, 0, 2, 1, 'x', 0, 0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) { checkCanonical[wire.FlushUnsavedBufferRequest](t, b) })
}

func FuzzDecodeConsumerOffsetInfo(f *testing.F) {
	f.Add((&wire.ConsumerOffsetInfo{PartitionID: 1, CurrentOffset: 2, StoredOffset: 3}).AppendTo(nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var c wire.ConsumerOffsetInfo
		if err := c.Decode(b); err != nil {
			if wire.CodeOf(err) != wire.CodeInvalidCommand {
				t.Fatalf("error %v", err)
			}
			return
		}
		if enc := c.AppendTo(nil); !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded %x, input %x", enc, b)
		}
	})
}

func FuzzDecodePollReply(f *testing.F) {
	seedFromVectors(f, "replies/poll_messages__*.json", "reply_body_hex")
	rec := storedBatch(f, 3, 7)
	two := append(wire.AppendPollPrefix(nil, 1, 9, 6), rec...)
	two = append(two, rec...)
	f.Add(two)
	sliced, _, _ := wire.SliceBatch(wire.AppendPollPrefix(nil, 1, 9, 2), rec, 8, 9)
	f.Add(sliced)
	f.Fuzz(func(t *testing.T, b []byte) {
		var p wire.PollReply
		if err := p.Decode(b); err != nil {
			if wire.CodeOf(err) != wire.CodeInvalidCommand {
				t.Fatalf("error %v", err)
			}
			return
		}
		var n uint32
		for m := range p.Messages() {
			n++
			if !aliases(b, m.Frame) {
				t.Fatal("a message does not alias the input")
			}
		}
		if n != p.MessagesCount {
			t.Fatalf("Messages yields %d, MessagesCount %d", n, p.MessagesCount)
		}
		if len(b) == 0 {
			return
		}
		if enc := p.AppendTo(nil); !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded %x, input %x", enc, b)
		}
		// The reply cut after any record, its count fixed, decodes to
		// those records.
		for k := range p.Batches {
			cut := wire.PollReply{PartitionID: p.PartitionID, CurrentOffset: p.CurrentOffset, Batches: p.Batches[:k]}
			for range cut.Messages() {
				cut.MessagesCount++
			}
			var got wire.PollReply
			if err := got.Decode(cut.AppendTo(nil)); err != nil || got.MessagesCount != cut.MessagesCount || len(got.Batches) != k {
				t.Fatalf("first %d records: %+v, %v", k, got, err)
			}
		}
	})
}

// aliases reports whether s lies inside b.
func aliases(b, s []byte) bool {
	if len(s) == 0 {
		return true
	}
	for i := range b {
		if &b[i] == &s[0] {
			return len(b)-i >= len(s)
		}
	}
	return false
}

func FuzzSliceBatch(f *testing.F) {
	f.Add(storedBatch(f, 5, 100), uint64(101), uint64(103))
	f.Add(storedBatch(f, 1, 0), uint64(0), uint64(0))
	f.Add(storedBatch(f, 3, 1<<40), uint64(0), ^uint64(0))
	f.Fuzz(func(t *testing.T, stored []byte, first, last uint64) {
		out, n, err := wire.SliceBatch([]byte("p"), stored, first, last)
		if err != nil || n == 0 {
			if n != 0 || string(out) != "p" {
				t.Fatalf("appended %d messages, %q, with error %v", n, out, err)
			}
			return
		}
		rec := out[1:]
		h, _ := batch.ParseHeader(stored)
		if n == h.Count {
			if !bytes.Equal(rec, stored) {
				t.Fatal("a whole batch is not served byte for byte")
			}
		} else {
			rh, err := batch.ParseHeader(rec)
			if err != nil || rh.Count != n || rh.Length != uint64(len(rec)) || rh.Checksum != batch.Checksum(rec) ||
				!bytes.Equal(rec[:32], stored[:32]) || !bytes.Equal(rec[52:batch.HeaderSize], stored[52:batch.HeaderSize]) {
				t.Fatalf("record header %+v, %v", rh, err)
			}
		}
		// A client reads n messages, in range, ascending.
		var p wire.PollReply
		body := append(wire.AppendPollPrefix(nil, 0, 0, n), rec...)
		if err := p.Decode(body); err != nil {
			t.Fatalf("the record does not decode: %v", err)
		}
		var prev uint64
		i := 0
		for m := range p.Messages() {
			if m.Offset < first || m.Offset > last || (i > 0 && m.Offset <= prev) {
				t.Fatalf("message %d has offset %d (range %d..%d, previous %d)", i, m.Offset, first, last, prev)
			}
			prev = m.Offset
			i++
		}
		// A valid stored batch slices to a record whose checksum covers
		// its frames' checksums.
		if _, err := batch.Validate(stored); err == nil && n < h.Count {
			if binary.LittleEndian.Uint64(rec[40:]) != batch.Checksum(rec) {
				t.Fatal("slice checksum")
			}
		}
	})
}
