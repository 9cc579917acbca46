package wire

// Topics (wire.md §5.5).

// Topic compression algorithms (the header's compression byte). Part of
// the protocol.
const (
	CompressionNone uint8 = 1
	CompressionGzip uint8 = 2
)

// TopicHeader is a topic record, alone in the GetTopics list:
//
//	off  0 [id u32]
//	     4 [created_at u64]
//	    12 [partitions_count u32]
//	    16 [message_expiry u64]      µs; ExpiryNever = never
//	    24 [compression u8]
//	    25 [max_topic_size u64]      MaxTopicSizeUnlimited = no limit
//	    33 [size_bytes u64]
//	    41 [messages_count u64]
//	    49 [name name8]
//	       [explicit_len u32][explicit options][derived_len u32][derived options]
//
// MessageExpiry, Compression and MaxTopicSize hold resolved values. The
// decoder does not check Compression (decoder fixtures carry 0).
type TopicHeader struct {
	ID              uint32
	CreatedAt       uint64 // µs since the epoch
	PartitionsCount uint32
	MessageExpiry   uint64
	Compression     uint8
	MaxTopicSize    uint64
	SizeBytes       uint64
	MessagesCount   uint64
	Name            string
	Options         Options // set explicitly by the client
	DerivedOptions  Options // every other catalog key, resolved
}

// minTopicHeaderSize is the fixed part, a one-byte name and two empty
// option blocks.
const minTopicHeaderSize = 50 + 1 + 4 + 4

// AppendTo appends the encoded record.
func (t TopicHeader) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, t.ID)
	dst = AppendU64(dst, t.CreatedAt)
	dst = AppendU32(dst, t.PartitionsCount)
	dst = AppendU64(dst, t.MessageExpiry)
	dst = append(dst, t.Compression)
	dst = AppendU64(dst, t.MaxTopicSize)
	dst = AppendU64(dst, t.SizeBytes)
	dst = AppendU64(dst, t.MessagesCount)
	dst = AppendName8(dst, t.Name)
	dst = appendOptionsField(dst, t.Options)
	return appendOptionsField(dst, t.DerivedOptions)
}

// Decode decodes a record that is exactly b.
func (t *TopicHeader) Decode(b []byte) error {
	var v TopicHeader
	if err := ctlDecode(b, func(r *Reader) { v = readTopicHeader(r) }); err != nil {
		return err
	}
	*t = v
	return nil
}

func readTopicHeader(r *Reader) TopicHeader {
	var t TopicHeader
	t.ID = r.U32()
	t.CreatedAt = r.U64()
	t.PartitionsCount = r.U32()
	t.MessageExpiry = r.U64()
	t.Compression = r.U8()
	t.MaxTopicSize = r.U64()
	t.SizeBytes = r.U64()
	t.MessagesCount = r.U64()
	t.Name = r.Name8()
	t.Options = readOptionsField(r)
	t.DerivedOptions = readOptionsField(r)
	if r.Err() != nil {
		return TopicHeader{}
	}
	return t
}

// Partition is a partition record, 40 bytes:
// [id u32][created_at u64][segments_count u32][current_offset u64][size_bytes u64][messages_count u64].
type Partition struct {
	ID            uint32
	CreatedAt     uint64 // µs since the epoch
	SegmentsCount uint32
	CurrentOffset uint64
	SizeBytes     uint64
	MessagesCount uint64
}

// PartitionSize is the encoded size of a Partition. Part of the protocol.
const PartitionSize = 40

// AppendTo appends the encoded record.
func (p Partition) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, p.ID)
	dst = AppendU64(dst, p.CreatedAt)
	dst = AppendU32(dst, p.SegmentsCount)
	dst = AppendU64(dst, p.CurrentOffset)
	dst = AppendU64(dst, p.SizeBytes)
	return AppendU64(dst, p.MessagesCount)
}

// Decode decodes a record that is exactly b.
func (p *Partition) Decode(b []byte) error {
	var v Partition
	if err := ctlDecode(b, func(r *Reader) { v = readPartition(r) }); err != nil {
		return err
	}
	*p = v
	return nil
}

func readPartition(r *Reader) Partition {
	return Partition{
		ID:            r.U32(),
		CreatedAt:     r.U64(),
		SegmentsCount: r.U32(),
		CurrentOffset: r.U64(),
		SizeBytes:     r.U64(),
		MessagesCount: r.U64(),
	}
}

// TopicDetails is the GetTopic and CreateTopic (framed) reply: TopicHeader
// then the Partition records.
//
// A server sends PartitionsCount records, but the Go SDK reads records
// until the body ends without comparing their number with the count, and
// its own fixtures carry a count with no records; so Decode reads records
// to the end (the rest must be a multiple of 40 bytes) and AppendTo writes
// PartitionsCount as set.
type TopicDetails struct {
	TopicHeader
	Partitions []Partition // nil when empty
}

// AppendTo appends the encoded details.
func (d TopicDetails) AppendTo(dst []byte) []byte {
	dst = d.TopicHeader.AppendTo(dst)
	for _, p := range d.Partitions {
		dst = p.AppendTo(dst)
	}
	return dst
}

// Decode decodes details that are exactly b.
func (d *TopicDetails) Decode(b []byte) error {
	var v TopicDetails
	err := ctlDecode(b, func(r *Reader) {
		v.TopicHeader = readTopicHeader(r)
		if r.Err() != nil {
			return
		}
		if r.Len()%PartitionSize != 0 {
			r.Failf("%d bytes after the topic header are not whole %d-byte partitions", r.Len(), PartitionSize)
			return
		}
		if n := r.Len() / PartitionSize; n > 0 {
			v.Partitions = make([]Partition, n)
			for i := range v.Partitions {
				v.Partitions[i] = readPartition(r)
			}
		}
	})
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// AppendTopics appends the GetTopics reply: [count u32] then count
// TopicHeader records (the one list with a count prefix).
func AppendTopics(dst []byte, ts []TopicHeader) []byte {
	dst = AppendU32(dst, uint32(len(ts)))
	for _, t := range ts {
		dst = t.AppendTo(dst)
	}
	return dst
}

// DecodeTopics decodes a GetTopics reply that is exactly b; an empty list
// decodes to nil.
func DecodeTopics(b []byte) ([]TopicHeader, error) {
	var ts []TopicHeader
	err := ctlDecode(b, func(r *Reader) {
		n := r.Count(minTopicHeaderSize)
		if n > 0 {
			ts = make([]TopicHeader, 0, n)
		}
		for range n {
			t := readTopicHeader(r)
			if r.Err() != nil {
				return
			}
			ts = append(ts, t)
		}
	})
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// GetTopicRequest is [stream id][topic id]; the reply is TopicDetails, or
// an empty body when the stream or topic does not exist.
type GetTopicRequest struct {
	Stream Identifier
	Topic  Identifier
}

// AppendTo appends the encoded request.
func (q GetTopicRequest) AppendTo(dst []byte) []byte { return ctlAppendIDs(dst, q.Stream, q.Topic) }

// Decode decodes a request that is exactly b.
func (q *GetTopicRequest) Decode(b []byte) error { return ctlDecodeIDs(b, &q.Stream, &q.Topic) }

// GetTopicsRequest is [stream id].
type GetTopicsRequest struct {
	Stream Identifier
}

// AppendTo appends the encoded request.
func (q GetTopicsRequest) AppendTo(dst []byte) []byte { return q.Stream.AppendTo(dst) }

// Decode decodes a request that is exactly b.
func (q *GetTopicsRequest) Decode(b []byte) error { return ctlDecodeIDs(b, &q.Stream) }

// CreateTopicRequest is [stream id][partitions_count u32][name name8][options to the end].
type CreateTopicRequest struct {
	Stream          Identifier
	PartitionsCount uint32
	Name            string
	Options         Options
}

// AppendTo appends the encoded request.
func (q CreateTopicRequest) AppendTo(dst []byte) []byte {
	dst = q.Stream.AppendTo(dst)
	dst = AppendU32(dst, q.PartitionsCount)
	dst = AppendName8(dst, q.Name)
	return q.Options.AppendTo(dst)
}

// Decode decodes a request that is exactly b.
func (q *CreateTopicRequest) Decode(b []byte) error {
	var v CreateTopicRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Stream = ReadIdentifier(r)
		v.PartitionsCount = r.U32()
		v.Name = r.Name8()
		v.Options = readOptionsRest(r)
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// UpdateTopicRequest is [stream id][topic id][name name8][options to the end].
type UpdateTopicRequest struct {
	Stream  Identifier
	Topic   Identifier
	Name    string
	Options Options
}

// AppendTo appends the encoded request.
func (q UpdateTopicRequest) AppendTo(dst []byte) []byte {
	dst = ctlAppendIDs(dst, q.Stream, q.Topic)
	dst = AppendName8(dst, q.Name)
	return q.Options.AppendTo(dst)
}

// Decode decodes a request that is exactly b.
func (q *UpdateTopicRequest) Decode(b []byte) error {
	var v UpdateTopicRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Stream = ReadIdentifier(r)
		v.Topic = ReadIdentifier(r)
		v.Name = r.Name8()
		v.Options = readOptionsRest(r)
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// DeleteTopicRequest is [stream id][topic id].
type DeleteTopicRequest struct {
	Stream Identifier
	Topic  Identifier
}

// AppendTo appends the encoded request.
func (q DeleteTopicRequest) AppendTo(dst []byte) []byte { return ctlAppendIDs(dst, q.Stream, q.Topic) }

// Decode decodes a request that is exactly b.
func (q *DeleteTopicRequest) Decode(b []byte) error { return ctlDecodeIDs(b, &q.Stream, &q.Topic) }

// PurgeTopicRequest is [stream id][topic id].
type PurgeTopicRequest struct {
	Stream Identifier
	Topic  Identifier
}

// AppendTo appends the encoded request.
func (q PurgeTopicRequest) AppendTo(dst []byte) []byte { return ctlAppendIDs(dst, q.Stream, q.Topic) }

// Decode decodes a request that is exactly b.
func (q *PurgeTopicRequest) Decode(b []byte) error { return ctlDecodeIDs(b, &q.Stream, &q.Topic) }
