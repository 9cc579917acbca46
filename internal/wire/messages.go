package wire

import (
	"encoding/binary"
	"errors"
	"iter"

	"github.com/OneOfOne/xxhash"

	"github.com/shoalstream/shoal/internal/batch"
)

// SendMessages (code 101, OpSendMessages), messages.md §1.
//
//	[metadata_length u32]   size of the next four fields
//	[stream Identifier][topic Identifier][Partitioning][messages_count u32]
//	[batch]                 the rest of the body: 256-byte header + frames
//
// The batch layout (validation, checksums, stamping) is package batch's.

// SendMessagesRequest is a SendMessages body.
type SendMessagesRequest struct {
	Stream, Topic Identifier
	Partitioning  Partitioning
	// MessagesCount is the count the metadata declares; the server checks
	// that it equals the batch header's message_count.
	MessagesCount uint32
	// Batch is everything after the metadata. Decode only slices it: it
	// aliases the decoded body and is not validated (batch.Validate does
	// that, messages.md §1.7 steps 4-5).
	Batch []byte
}

// AppendTo appends the encoded body: the metadata (its length computed)
// then Batch as it is.
func (m *SendMessagesRequest) AppendTo(dst []byte) []byte {
	start := len(dst)
	dst = AppendU32(dst, 0)
	dst = m.Stream.AppendTo(dst)
	dst = m.Topic.AppendTo(dst)
	dst = m.Partitioning.AppendTo(dst)
	dst = AppendU32(dst, m.MessagesCount)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return append(dst, m.Batch...)
}

// Decode decodes the metadata section and slices the batch (aliasing b).
// A body shorter than 4 bytes, a metadata_length past the body, or a
// metadata section that does not decode to exactly metadata_length bytes
// is an *Error with CodeResourceNotFound: the status the server answers
// (messages.md §1.7 step 1). The batch is not looked at.
func (m *SendMessagesRequest) Decode(b []byte) error {
	*m = SendMessagesRequest{}
	if len(b) < 4 {
		return ErrorForCode(CodeResourceNotFound).With("send body of %d bytes has no metadata_length", len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return ErrorForCode(CodeResourceNotFound).With("metadata_length %d overruns the %d-byte body", n, len(b))
	}
	end := 4 + int(n)
	r := NewReader(b[4:end])
	v := SendMessagesRequest{
		Stream:        ReadIdentifier(r),
		Topic:         ReadIdentifier(r),
		Partitioning:  ReadPartitioning(r),
		MessagesCount: r.U32(),
	}
	if err := r.Complete(); err != nil {
		return ErrorForCode(CodeResourceNotFound).With("send metadata: %s", detailOf(err))
	}
	v.Batch = b[end:len(b):len(b)]
	*m = v
	return nil
}

// detailOf returns the detail of an *Error, or err's text.
func detailOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Detail != "" {
		return e.Detail
	}
	return err.Error()
}

// AppendSendMessages appends a SendMessages body for one batch, taking
// messages_count from the batch header (0 if b is shorter than a header).
func AppendSendMessages(dst []byte, stream, topic Identifier, p Partitioning, b []byte) []byte {
	var count uint32
	if h, err := batch.ParseHeader(b); err == nil {
		count = h.Count
	}
	m := SendMessagesRequest{Stream: stream, Topic: topic, Partitioning: p, MessagesCount: count, Batch: b}
	return m.AppendTo(dst)
}

// KeyPartition returns the partition a MessagesKey send goes to:
// XXH32(key, seed 0) % count, an index into the topic's partitions
// (messages.md §1.2). It returns 0 when count is 0.
func KeyPartition(key []byte, count uint32) uint32 {
	if count == 0 {
		return 0
	}
	return xxhash.Checksum32(key) % count
}

// SendConfirmationSize is the encoded size of one SendConfirmation.
const SendConfirmationSize = 20

// SendConfirmation says where a batch landed: the numeric ids (even when
// the request named them) and the offset of its first message. The send
// reply (not result-framed) is [count u32] then count of these:
//
//	[stream_id u32][topic_id u32][partition_id u32][base_offset u64]
//
// A server sends exactly one (messages.md §1.9); never an empty body.
type SendConfirmation struct {
	Stream, Topic, Partition uint32
	BaseOffset               uint64
}

// AppendSendConfirmations appends a send reply body.
func AppendSendConfirmations(dst []byte, cs []SendConfirmation) []byte {
	dst = AppendU32(dst, uint32(len(cs)))
	for _, c := range cs {
		dst = AppendU32(dst, c.Stream)
		dst = AppendU32(dst, c.Topic)
		dst = AppendU32(dst, c.Partition)
		dst = AppendU64(dst, c.BaseOffset)
	}
	return dst
}

// DecodeSendConfirmations decodes a send reply body, which must be exactly
// 4 + 20·count bytes (an empty body is an error too). Count 0 gives an
// empty, non-nil slice.
func DecodeSendConfirmations(b []byte) ([]SendConfirmation, error) {
	r := NewReader(b)
	n := r.Count(SendConfirmationSize)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if len(b) != 4+n*SendConfirmationSize {
		return nil, Malformed("send reply of %d bytes for %d confirmations", len(b), n)
	}
	cs := make([]SendConfirmation, n)
	for i := range cs {
		cs[i] = SendConfirmation{Stream: r.U32(), Topic: r.U32(), Partition: r.U32(), BaseOffset: r.U64()}
	}
	if err := r.Complete(); err != nil {
		return nil, err
	}
	return cs, nil
}

// PollMessages (code 100, OpNonReplicated), messages.md §2.
//
//	[Consumer][stream Identifier][topic Identifier][OptionalPartition]
//	[PollingStrategy][count u32][auto_commit u8]

// PollMessagesRequest is a PollMessages body.
type PollMessagesRequest struct {
	Consumer      Consumer
	Stream, Topic Identifier
	Partition     OptionalPartition
	Strategy      PollingStrategy
	Count         uint32
	AutoCommit    bool // any non-zero byte
}

// AppendTo appends the encoded body.
func (p *PollMessagesRequest) AppendTo(dst []byte) []byte {
	dst = p.Consumer.AppendTo(dst)
	dst = p.Stream.AppendTo(dst)
	dst = p.Topic.AppendTo(dst)
	dst = p.Partition.AppendTo(dst)
	dst = p.Strategy.AppendTo(dst)
	dst = AppendU32(dst, p.Count)
	return AppendBool(dst, p.AutoCommit)
}

// Decode decodes a body that must be exactly one request.
func (p *PollMessagesRequest) Decode(b []byte) error {
	r := NewReader(b)
	v := PollMessagesRequest{
		Consumer:  ReadConsumer(r),
		Stream:    ReadIdentifier(r),
		Topic:     ReadIdentifier(r),
		Partition: ReadOptionalPartition(r),
		Strategy:  ReadPollingStrategy(r),
		Count:     r.U32(),
	}
	v.AutoCommit = r.Bool()
	if err := r.Complete(); err != nil {
		*p = PollMessagesRequest{}
		return err
	}
	*p = v
	return nil
}

// Sentinel partition ids of an empty poll reply.
const (
	// PollResyncPartition is what the server answers a group poll whose
	// fence fails (not a member, not the owner, revocation pending): the
	// client drops its assignment and syncs again.
	PollResyncPartition uint32 = 0xFFFFFFFF
	// PollNoAssignmentPartition is what the client itself reports when its
	// group assignment is empty; the server never sends it.
	PollNoAssignmentPartition uint32 = 0xFFFFFFFE
)

// PollPrefixSize is the size of the poll reply prefix; messages_count is
// its last 4 bytes (offset 12).
const PollPrefixSize = 16

// PollReply is a poll reply body (not result-framed):
//
//	[partition_id u32][current_offset u64][messages_count u32]
//	[batch record]...  each a 256-byte batch header + frames, batch_length long
//
// A record is a stored batch byte for byte, or a server-made slice of one
// (SliceBatch) whose first frame may have offset_delta > 0.
type PollReply struct {
	PartitionID   uint32
	CurrentOffset uint64 // the partition's committed high-water offset
	MessagesCount uint32 // the sum of the records' messages
	// Batches are the records. Decode slices them out of its input
	// (aliasing it).
	Batches [][]byte
}

// PollEmpty returns a reply with no messages; partition may be
// PollResyncPartition.
func PollEmpty(partition uint32, current uint64) PollReply {
	return PollReply{PartitionID: partition, CurrentOffset: current}
}

// AppendPollPrefix appends the 16-byte prefix of a poll reply; the records
// follow it.
func AppendPollPrefix(dst []byte, partition uint32, current uint64, count uint32) []byte {
	dst = AppendU32(dst, partition)
	dst = AppendU64(dst, current)
	return AppendU32(dst, count)
}

// AppendTo appends the encoded body: the prefix, then Batches as they are.
func (p *PollReply) AppendTo(dst []byte) []byte {
	dst = AppendPollPrefix(dst, p.PartitionID, p.CurrentOffset, p.MessagesCount)
	for _, b := range p.Batches {
		dst = append(dst, b...)
	}
	return dst
}

// Decode decodes a poll reply with the Go SDK's rules (messages.md §2.4):
// an empty body is an empty reply for partition 0; otherwise the 16-byte
// prefix, then records walked by batch_length (≥ 256, within the body),
// each record's frames walked by their lengths up to its end (a 48-byte
// header with a zero reserved field, payload and user headers within the
// record); the frames of all records must number messages_count. Like
// the SDK it reads neither checksums nor a record's own message_count.
// Batches alias b.
func (p *PollReply) Decode(b []byte) error {
	*p = PollReply{}
	if len(b) == 0 {
		return nil
	}
	r := NewReader(b)
	v := PollReply{PartitionID: r.U32(), CurrentOffset: r.U64(), MessagesCount: r.U32()}
	if r.Err() != nil {
		return Malformed("poll reply of %d bytes is shorter than its %d-byte prefix", len(b), PollPrefixSize)
	}
	var frames uint64
	for pos := PollPrefixSize; pos < len(b); {
		rest := b[pos:]
		if len(rest) < batch.HeaderSize {
			return Malformed("poll record at offset %d: %d bytes, shorter than a batch header", pos, len(rest))
		}
		h, _ := batch.ParseHeader(rest) // long enough: checked above
		n := h.Length
		if n < batch.HeaderSize || n > uint64(len(rest)) {
			return Malformed("poll record at offset %d: batch_length %d outside [%d, %d]", pos, n, batch.HeaderSize, len(rest))
		}
		rec := rest[:n:n]
		c, err := batch.Walk(rec, nil)
		if err != nil {
			return Malformed("poll record at offset %d: %s", pos, err)
		}
		frames += uint64(c)
		v.Batches = append(v.Batches, rec)
		pos += int(n)
	}
	if frames != uint64(v.MessagesCount) {
		return Malformed("poll reply declares %d messages, its records hold %d", v.MessagesCount, frames)
	}
	*p = v
	return nil
}

// Messages iterates over the messages of every record, as the SDK
// resolves them: Offset = base_offset + offset_delta, Timestamp = the
// record's base_timestamp, OriginTimestamp = origin_timestamp +
// timestamp_delta. It stops at the first malformed frame (none, after a
// successful Decode). The messages alias the records. (batch.Walk reads
// the records: unlike a stored batch, a sliced record's offset deltas
// need not start at 0.)
func (p *PollReply) Messages() iter.Seq[batch.Message] {
	return func(yield func(batch.Message) bool) {
		for _, rec := range p.Batches {
			stopped := false
			_, err := batch.Walk(rec, func(m batch.Message) bool {
				stopped = !yield(m)
				return !stopped
			})
			if stopped || err != nil {
				return
			}
		}
	}
}

// SliceBatch is batch.Slice with a protocol error (InvalidCommand) for a
// malformed stored batch: it appends to dst the part of a stored batch
// whose messages have offsets in [first, last], as a poll reply record
// (messages.md §2.4):
//
//   - every message in range: the stored batch, byte for byte;
//   - some: the stored header with batch_length = 256 + the frames kept,
//     message_count = their number and batch_checksum recomputed (partition,
//     base_offset, timestamps unchanged), then those frames as stored (they
//     keep their offset_delta, so the first may be > 0);
//   - none: nothing.
//
// It returns how many messages it appended. stored must be one whole
// batch (as stored: batch_length = len(stored), frames tiling it with
// zero reserved fields, offset deltas ascending); it is not
// checksum-verified. A malformed one is an
// error and nothing is appended.
func SliceBatch(dst, stored []byte, first, last uint64) ([]byte, uint32, error) {
	out, n, err := batch.Slice(dst, stored, first, last)
	if err != nil {
		return dst, 0, Malformed("stored batch: %s", err)
	}
	return out, n, nil
}
