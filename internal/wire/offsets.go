package wire

import "github.com/OneOfOne/xxhash"

// Consumer offsets (messages.md §3) and FlushUnsavedBuffer (§5).
//
//	GetConsumerOffset    120  [Consumer][stream][topic][OptionalPartition]
//	  reply                   [partition_id u32][current_offset u64][stored_offset u64], or empty
//	StoreConsumerOffset  121  [Consumer][stream][topic][OptionalPartition][offset u64][ack u8]
//	DeleteConsumerOffset 122  [Consumer][stream][topic][OptionalPartition][ack u8]
//	FlushUnsavedBuffer   102  [stream][topic][partition_id u32][fsync u8]

// Ack levels of the consumer-offset writes. Part of the protocol.
const (
	// AckNone: persist and apply on the primary, reply, do not replicate.
	AckNone uint8 = 0
	// AckQuorum: reply once committed (what the Go SDK always sends).
	AckQuorum uint8 = 1
)

// readAck reads an ack level, 0 or 1.
func readAck(r *Reader) uint8 {
	a := r.U8()
	if r.Err() == nil && a != AckNone && a != AckQuorum {
		r.Failf("ack level %d", a)
	}
	return a
}

// ConsumerKey returns the key a single consumer's offsets are kept under:
// a numeric id is itself, a name is XXH32(name bytes, seed 0)
// (messages.md §0.2). Groups are keyed by their group id instead.
func ConsumerKey(id Identifier) uint32 {
	if id.Kind == IDNumeric {
		return id.ID
	}
	return xxhash.Checksum32([]byte(id.Name))
}

// GetConsumerOffsetRequest is a GetConsumerOffset body. An absent
// partition means partition 0.
type GetConsumerOffsetRequest struct {
	Consumer      Consumer
	Stream, Topic Identifier
	Partition     OptionalPartition
}

// AppendTo appends the encoded body.
func (g *GetConsumerOffsetRequest) AppendTo(dst []byte) []byte {
	dst = g.Consumer.AppendTo(dst)
	dst = g.Stream.AppendTo(dst)
	dst = g.Topic.AppendTo(dst)
	return g.Partition.AppendTo(dst)
}

// Decode decodes a body that must be exactly one request.
func (g *GetConsumerOffsetRequest) Decode(b []byte) error {
	r := NewReader(b)
	v := GetConsumerOffsetRequest{
		Consumer:  ReadConsumer(r),
		Stream:    ReadIdentifier(r),
		Topic:     ReadIdentifier(r),
		Partition: ReadOptionalPartition(r),
	}
	if err := r.Complete(); err != nil {
		*g = GetConsumerOffsetRequest{}
		return err
	}
	*g = v
	return nil
}

// ConsumerOffsetInfoSize is the size of a GetConsumerOffset reply that
// found an offset.
const ConsumerOffsetInfoSize = 20

// ConsumerOffsetInfo is the GetConsumerOffset reply when an offset is
// stored. When none is (or the stream, topic or group is unknown) the
// reply is an empty body with status 0 instead, which the client reads as
// "no offset": check for it before Decode, which wants 20 bytes.
type ConsumerOffsetInfo struct {
	PartitionID   uint32
	CurrentOffset uint64 // the partition's committed high-water offset
	StoredOffset  uint64
}

// AppendTo appends the encoded reply.
func (c *ConsumerOffsetInfo) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, c.PartitionID)
	dst = AppendU64(dst, c.CurrentOffset)
	return AppendU64(dst, c.StoredOffset)
}

// Decode decodes a 20-byte reply.
func (c *ConsumerOffsetInfo) Decode(b []byte) error {
	r := NewReader(b)
	v := ConsumerOffsetInfo{PartitionID: r.U32(), CurrentOffset: r.U64(), StoredOffset: r.U64()}
	if err := r.Complete(); err != nil {
		*c = ConsumerOffsetInfo{}
		return err
	}
	*c = v
	return nil
}

// StoreConsumerOffsetRequest is a StoreConsumerOffset body. The server
// refuses an absent partition (status 20); Decode does not.
type StoreConsumerOffsetRequest struct {
	Consumer      Consumer
	Stream, Topic Identifier
	Partition     OptionalPartition
	Offset        uint64
	Ack           uint8 // AckNone or AckQuorum
}

// AppendTo appends the encoded body.
func (s *StoreConsumerOffsetRequest) AppendTo(dst []byte) []byte {
	dst = s.Consumer.AppendTo(dst)
	dst = s.Stream.AppendTo(dst)
	dst = s.Topic.AppendTo(dst)
	dst = s.Partition.AppendTo(dst)
	dst = AppendU64(dst, s.Offset)
	return AppendU8(dst, s.Ack)
}

// Decode decodes a body that must be exactly one request; an ack other
// than 0 or 1 is an error.
func (s *StoreConsumerOffsetRequest) Decode(b []byte) error {
	r := NewReader(b)
	v := StoreConsumerOffsetRequest{
		Consumer:  ReadConsumer(r),
		Stream:    ReadIdentifier(r),
		Topic:     ReadIdentifier(r),
		Partition: ReadOptionalPartition(r),
		Offset:    r.U64(),
	}
	v.Ack = readAck(r)
	if err := r.Complete(); err != nil {
		*s = StoreConsumerOffsetRequest{}
		return err
	}
	*s = v
	return nil
}

// DeleteConsumerOffsetRequest is a DeleteConsumerOffset body. The server
// refuses an absent partition (status 20); Decode does not.
type DeleteConsumerOffsetRequest struct {
	Consumer      Consumer
	Stream, Topic Identifier
	Partition     OptionalPartition
	Ack           uint8 // AckNone or AckQuorum
}

// AppendTo appends the encoded body.
func (d *DeleteConsumerOffsetRequest) AppendTo(dst []byte) []byte {
	dst = d.Consumer.AppendTo(dst)
	dst = d.Stream.AppendTo(dst)
	dst = d.Topic.AppendTo(dst)
	dst = d.Partition.AppendTo(dst)
	return AppendU8(dst, d.Ack)
}

// Decode decodes a body that must be exactly one request; an ack other
// than 0 or 1 is an error.
func (d *DeleteConsumerOffsetRequest) Decode(b []byte) error {
	r := NewReader(b)
	v := DeleteConsumerOffsetRequest{
		Consumer:  ReadConsumer(r),
		Stream:    ReadIdentifier(r),
		Topic:     ReadIdentifier(r),
		Partition: ReadOptionalPartition(r),
	}
	v.Ack = readAck(r)
	if err := r.Complete(); err != nil {
		*d = DeleteConsumerOffsetRequest{}
		return err
	}
	*d = v
	return nil
}

// FlushUnsavedBufferRequest is a FlushUnsavedBuffer body. The Go SDK has
// no way to send it; the Rust SDK does.
type FlushUnsavedBufferRequest struct {
	Stream, Topic Identifier
	Partition     uint32
	Fsync         bool // any non-zero byte
}

// AppendTo appends the encoded body.
func (f *FlushUnsavedBufferRequest) AppendTo(dst []byte) []byte {
	dst = f.Stream.AppendTo(dst)
	dst = f.Topic.AppendTo(dst)
	dst = AppendU32(dst, f.Partition)
	return AppendBool(dst, f.Fsync)
}

// Decode decodes a body that must be exactly one request.
func (f *FlushUnsavedBufferRequest) Decode(b []byte) error {
	r := NewReader(b)
	v := FlushUnsavedBufferRequest{Stream: ReadIdentifier(r), Topic: ReadIdentifier(r), Partition: r.U32()}
	v.Fsync = r.Bool()
	if err := r.Complete(); err != nil {
		*f = FlushUnsavedBufferRequest{}
		return err
	}
	*f = v
	return nil
}
