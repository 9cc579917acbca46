package wire

// Streams (wire.md §5.4). GetStreams (201) has an empty request.

// Stream is a stream record, alone in the GetStreams list:
//
//	[id u32][created_at u64][topics_count u32][size_bytes u64][messages_count u64]
//	[name name8][options_len u32][options]
//
// In a list TopicsCount is informational; StreamDetails is followed by
// that many TopicHeader records.
type Stream struct {
	ID            uint32
	CreatedAt     uint64 // µs since the epoch
	TopicsCount   uint32
	SizeBytes     uint64
	MessagesCount uint64
	Name          string
	Options       Options // explicit keys only; the catalog is empty today
}

// AppendTo appends the encoded record.
func (s Stream) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, s.ID)
	dst = AppendU64(dst, s.CreatedAt)
	dst = AppendU32(dst, s.TopicsCount)
	dst = AppendU64(dst, s.SizeBytes)
	dst = AppendU64(dst, s.MessagesCount)
	dst = AppendName8(dst, s.Name)
	return appendOptionsField(dst, s.Options)
}

// Decode decodes a record that is exactly b.
func (s *Stream) Decode(b []byte) error {
	var v Stream
	if err := ctlDecode(b, func(r *Reader) { v = readStream(r) }); err != nil {
		return err
	}
	*s = v
	return nil
}

func readStream(r *Reader) Stream {
	var s Stream
	s.ID = r.U32()
	s.CreatedAt = r.U64()
	s.TopicsCount = r.U32()
	s.SizeBytes = r.U64()
	s.MessagesCount = r.U64()
	s.Name = r.Name8()
	s.Options = readOptionsField(r)
	if r.Err() != nil {
		return Stream{}
	}
	return s
}

// StreamDetails is the GetStream and CreateStream (framed) reply: Stream
// then topics_count × TopicHeader.
type StreamDetails struct {
	Stream
	Topics []TopicHeader // nil when empty
}

// AppendTo appends the encoded details; the topics count written is
// len(Topics) (Stream.TopicsCount is ignored).
func (d StreamDetails) AppendTo(dst []byte) []byte {
	s := d.Stream
	s.TopicsCount = uint32(len(d.Topics))
	dst = s.AppendTo(dst)
	for _, t := range d.Topics {
		dst = t.AppendTo(dst)
	}
	return dst
}

// Decode decodes details that are exactly b: exactly topics_count topics.
func (d *StreamDetails) Decode(b []byte) error {
	var v StreamDetails
	err := ctlDecode(b, func(r *Reader) {
		v.Stream = readStream(r)
		n := ctlBound(r, v.TopicsCount, minTopicHeaderSize, "topics")
		if n > 0 {
			v.Topics = make([]TopicHeader, 0, n)
		}
		for range n {
			t := readTopicHeader(r)
			if r.Err() != nil {
				return
			}
			v.Topics = append(v.Topics, t)
		}
	})
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// AppendStreams appends the GetStreams reply: records back to back, no
// count.
func AppendStreams(dst []byte, ss []Stream) []byte {
	for _, s := range ss {
		dst = s.AppendTo(dst)
	}
	return dst
}

// DecodeStreams decodes a GetStreams reply; an empty body decodes to nil.
func DecodeStreams(b []byte) ([]Stream, error) {
	var ss []Stream
	err := ctlDecode(b, func(r *Reader) {
		for r.Len() > 0 {
			s := readStream(r)
			if r.Err() != nil {
				return
			}
			ss = append(ss, s)
		}
	})
	if err != nil {
		return nil, err
	}
	return ss, nil
}

// GetStreamRequest is [stream id]; the reply is StreamDetails, or an empty
// body when the stream does not exist.
type GetStreamRequest struct {
	Stream Identifier
}

// AppendTo appends the encoded request.
func (q GetStreamRequest) AppendTo(dst []byte) []byte { return q.Stream.AppendTo(dst) }

// Decode decodes a request that is exactly b.
func (q *GetStreamRequest) Decode(b []byte) error { return ctlDecodeIDs(b, &q.Stream) }

// CreateStreamRequest is [name name8][options to the end].
type CreateStreamRequest struct {
	Name    string
	Options Options
}

// AppendTo appends the encoded request.
func (q CreateStreamRequest) AppendTo(dst []byte) []byte {
	dst = AppendName8(dst, q.Name)
	return q.Options.AppendTo(dst)
}

// Decode decodes a request that is exactly b.
func (q *CreateStreamRequest) Decode(b []byte) error {
	var v CreateStreamRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Name = r.Name8()
		v.Options = readOptionsRest(r)
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// UpdateStreamRequest is [stream id][name name8][options to the end].
type UpdateStreamRequest struct {
	Stream  Identifier
	Name    string
	Options Options
}

// AppendTo appends the encoded request.
func (q UpdateStreamRequest) AppendTo(dst []byte) []byte {
	dst = q.Stream.AppendTo(dst)
	dst = AppendName8(dst, q.Name)
	return q.Options.AppendTo(dst)
}

// Decode decodes a request that is exactly b.
func (q *UpdateStreamRequest) Decode(b []byte) error {
	var v UpdateStreamRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Stream = ReadIdentifier(r)
		v.Name = r.Name8()
		v.Options = readOptionsRest(r)
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// DeleteStreamRequest is [stream id].
type DeleteStreamRequest struct {
	Stream Identifier
}

// AppendTo appends the encoded request.
func (q DeleteStreamRequest) AppendTo(dst []byte) []byte { return q.Stream.AppendTo(dst) }

// Decode decodes a request that is exactly b.
func (q *DeleteStreamRequest) Decode(b []byte) error { return ctlDecodeIDs(b, &q.Stream) }

// PurgeStreamRequest is [stream id].
type PurgeStreamRequest struct {
	Stream Identifier
}

// AppendTo appends the encoded request.
func (q PurgeStreamRequest) AppendTo(dst []byte) []byte { return q.Stream.AppendTo(dst) }

// Decode decodes a request that is exactly b.
func (q *PurgeStreamRequest) Decode(b []byte) error { return ctlDecodeIDs(b, &q.Stream) }
