package wire

// Partitions and segments (wire.md §5.6, §5.7). Their replies are framed
// and empty (DeleteSegments: see §5.7.3).

// CreatePartitionsRequest is [stream id][topic id][partitions_count u32].
type CreatePartitionsRequest struct {
	Stream Identifier
	Topic  Identifier
	Count  uint32
}

// AppendTo appends the encoded request.
func (q CreatePartitionsRequest) AppendTo(dst []byte) []byte {
	return AppendU32(ctlAppendIDs(dst, q.Stream, q.Topic), q.Count)
}

// Decode decodes a request that is exactly b.
func (q *CreatePartitionsRequest) Decode(b []byte) error {
	s, t, n, err := decodePartitionsBody(b)
	if err != nil {
		return err
	}
	*q = CreatePartitionsRequest{Stream: s, Topic: t, Count: n}
	return nil
}

// DeletePartitionsRequest is [stream id][topic id][partitions_count u32]:
// the last Count partitions go.
type DeletePartitionsRequest struct {
	Stream Identifier
	Topic  Identifier
	Count  uint32
}

// AppendTo appends the encoded request.
func (q DeletePartitionsRequest) AppendTo(dst []byte) []byte {
	return AppendU32(ctlAppendIDs(dst, q.Stream, q.Topic), q.Count)
}

// Decode decodes a request that is exactly b.
func (q *DeletePartitionsRequest) Decode(b []byte) error {
	s, t, n, err := decodePartitionsBody(b)
	if err != nil {
		return err
	}
	*q = DeletePartitionsRequest{Stream: s, Topic: t, Count: n}
	return nil
}

func decodePartitionsBody(b []byte) (stream, topic Identifier, n uint32, err error) {
	err = ctlDecode(b, func(r *Reader) {
		stream = ReadIdentifier(r)
		topic = ReadIdentifier(r)
		n = r.U32()
	})
	return stream, topic, n, err
}

// DeleteSegmentsRequest is [stream id][topic id][partition_id u32][segments_count u32]:
// up to Count of the oldest sealed segments of the partition go (0 is a
// successful no-op).
type DeleteSegmentsRequest struct {
	Stream    Identifier
	Topic     Identifier
	Partition uint32
	Count     uint32
}

// AppendTo appends the encoded request.
func (q DeleteSegmentsRequest) AppendTo(dst []byte) []byte {
	dst = ctlAppendIDs(dst, q.Stream, q.Topic)
	dst = AppendU32(dst, q.Partition)
	return AppendU32(dst, q.Count)
}

// Decode decodes a request that is exactly b.
func (q *DeleteSegmentsRequest) Decode(b []byte) error {
	var v DeleteSegmentsRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Stream = ReadIdentifier(r)
		v.Topic = ReadIdentifier(r)
		v.Partition = r.U32()
		v.Count = r.U32()
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}
