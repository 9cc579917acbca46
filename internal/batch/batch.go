// Package batch owns the message-batch layout of the Iggy protocol, which is
// also shoal's storage format: a batch arrives from a producer in this
// layout, is validated, stamped with its partition, base offset and append
// time, stored as it is, and served back to consumers byte for byte.
//
//	batch header (HeaderSize = 256 bytes, little-endian)
//	  0  partition_id      u64   stamped by the server
//	  8  base_offset       u64   stamped by the server
//	 16  base_timestamp    u64   µs, stamped by the server (append time)
//	 24  origin_timestamp  u64   µs, minimum of the messages' origin times
//	 32  batch_length      u64   HeaderSize + length of all frames
//	 40  batch_checksum    u64   XXH3-64, see Checksum
//	 48  message_count     u32   ≥ 1
//	 52  reserved          204 bytes, all zero
//	frames, message_count of them, back to back:
//	  0  checksum          u64   XXH3-64 of frame[8:]
//	  8  id                16 bytes, opaque
//	 24  offset_delta      u32   index of the message in the batch
//	 28  timestamp_delta   u32   origin time − batch origin time, µs
//	 32  user_headers_len  u32
//	 36  payload_len       u32
//	 40  reserved          u64   zero
//	 48  payload, then user headers
//
// These offsets are the protocol's and, through logstore, part of shoal's
// storage format: never change them.
//
// Validate never panics on any input, and checks every length against the
// bytes at hand before it reads.
package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/zeebo/xxh3"
)

// Sizes of the fixed parts of the layout. Part of the format.
const (
	HeaderSize      = 256
	FrameHeaderSize = 48
)

// Byte offsets inside the batch header. Part of the format.
const (
	offPartitionID     = 0
	offBaseOffset      = 8
	offBaseTimestamp   = 16
	offOriginTimestamp = 24
	offLength          = 32
	offChecksum        = 40
	offCount           = 48
	offReserved        = 52
)

// Byte offsets inside a frame header. Part of the format.
const (
	fOffChecksum       = 0
	fOffID             = 8
	fOffOffsetDelta    = 24
	fOffTimestampDelta = 28
	fOffHeadersLen     = 32
	fOffPayloadLen     = 36
	fOffReserved       = 40
)

// ErrInvalid is matched (errors.Is) by every error Validate returns.
var ErrInvalid = errors.New("invalid message batch")

// ErrChecksum is matched, together with ErrInvalid, when a checksum is wrong
// (as opposed to a malformed layout).
var ErrChecksum = errors.New("checksum mismatch")

// ErrBatchChecksum is matched, together with ErrChecksum, when the batch
// checksum is wrong (and every message checksum right).
var ErrBatchChecksum = errors.New("batch checksum mismatch")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Header is the decoded batch header.
type Header struct {
	PartitionID     uint64
	BaseOffset      uint64
	BaseTimestamp   uint64 // µs
	OriginTimestamp uint64 // µs
	Length          uint64 // HeaderSize + frames
	Checksum        uint64
	Count           uint32
}

// LastOffset is the offset of the batch's last message.
func (h Header) LastOffset() uint64 { return h.BaseOffset + uint64(h.Count) - 1 }

// ParseHeader decodes the header at the start of b without validating the
// rest of the batch.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, invalid("%d bytes, shorter than the %d-byte header", len(b), HeaderSize)
	}
	le := binary.LittleEndian
	return Header{
		PartitionID:     le.Uint64(b[offPartitionID:]),
		BaseOffset:      le.Uint64(b[offBaseOffset:]),
		BaseTimestamp:   le.Uint64(b[offBaseTimestamp:]),
		OriginTimestamp: le.Uint64(b[offOriginTimestamp:]),
		Length:          le.Uint64(b[offLength:]),
		Checksum:        le.Uint64(b[offChecksum:]),
		Count:           le.Uint32(b[offCount:]),
	}, nil
}

// Validate checks that b is exactly one well-formed batch: the header's
// reserved bytes are zero, batch_length equals len(b), message_count ≥ 1 and
// the frames tile the rest exactly with zero reserved fields and offset
// deltas 0..N-1, every message checksum and the batch checksum match.
func Validate(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Header{}, err
	}
	for i := offReserved; i < HeaderSize; i++ {
		if b[i] != 0 {
			return Header{}, invalid("reserved header byte %d is not zero", i)
		}
	}
	if h.Length != uint64(len(b)) {
		return Header{}, invalid("batch_length %d, but the batch has %d bytes", h.Length, len(b))
	}
	if h.Count == 0 {
		return Header{}, invalid("message_count is 0")
	}
	// Each frame needs at least FrameHeaderSize bytes: bound the count
	// before looping over it.
	if uint64(h.Count) > uint64(len(b)-HeaderSize)/FrameHeaderSize {
		return Header{}, invalid("message_count %d does not fit in %d bytes of frames", h.Count, len(b)-HeaderSize)
	}
	d := xxh3.New()
	writeChecksumPrefix(d, b)
	var scratch [8]byte
	pos := HeaderSize
	for i := uint32(0); i < h.Count; i++ {
		f, err := frameAt(b, pos, i)
		if err != nil {
			return Header{}, err
		}
		if f.delta != i {
			return Header{}, invalid("message %d has offset_delta %d", i, f.delta)
		}
		if sum := xxh3.Hash(b[pos+8 : pos+f.size]); sum != f.checksum {
			return Header{}, fmt.Errorf("%w: %w: message %d: stored %#x, computed %#x", ErrInvalid, ErrChecksum, i, f.checksum, sum)
		}
		binary.LittleEndian.PutUint64(scratch[:], f.checksum)
		_, _ = d.Write(scratch[:])
		pos += f.size
	}
	if pos != len(b) {
		return Header{}, invalid("%d bytes after the last of %d messages", len(b)-pos, h.Count)
	}
	if sum := d.Sum64(); sum != h.Checksum {
		return Header{}, fmt.Errorf("%w: %w: %w: stored %#x, computed %#x", ErrInvalid, ErrChecksum, ErrBatchChecksum, h.Checksum, sum)
	}
	return h, nil
}

// frame is what Validate, Walk and Slice need of a frame header.
type frame struct {
	checksum uint64
	delta    uint32 // offset_delta
	size     int    // FrameHeaderSize + payload + user headers
}

// frameAt decodes and bounds-checks the i-th frame at pos (its reserved
// field must be zero; the offset delta is the caller's to check).
func frameAt(b []byte, pos int, i uint32) (frame, error) {
	if len(b)-pos < FrameHeaderSize {
		return frame{}, invalid("message %d: %d bytes left, shorter than a frame header", i, len(b)-pos)
	}
	le := binary.LittleEndian
	fh := b[pos : pos+FrameHeaderSize]
	if le.Uint64(fh[fOffReserved:]) != 0 {
		return frame{}, invalid("message %d: reserved field is not zero", i)
	}
	body := uint64(le.Uint32(fh[fOffPayloadLen:])) + uint64(le.Uint32(fh[fOffHeadersLen:]))
	if body > uint64(len(b)-pos-FrameHeaderSize) {
		return frame{}, invalid("message %d: %d bytes of payload and headers, only %d left", i, body, len(b)-pos-FrameHeaderSize)
	}
	return frame{checksum: le.Uint64(fh[fOffChecksum:]), delta: le.Uint32(fh[fOffOffsetDelta:]), size: FrameHeaderSize + int(body)}, nil
}

// writeChecksumPrefix feeds the header fields the batch checksum covers.
func writeChecksumPrefix(d *xxh3.Hasher, b []byte) {
	_, _ = d.Write(b[offPartitionID : offLength+8]) // partition, base offset, base ts, origin ts, length
	_, _ = d.Write(b[offCount : offCount+4])
}

// Checksum computes the batch checksum of a batch whose frames are already
// known to be well-formed (Validate passed): XXH3-64 of partition_id ‖
// base_offset ‖ base_timestamp ‖ origin_timestamp ‖ batch_length ‖
// message_count ‖ each message's checksum field.
func Checksum(b []byte) uint64 {
	d := xxh3.New()
	writeChecksumPrefix(d, b)
	count := binary.LittleEndian.Uint32(b[offCount:])
	pos := HeaderSize
	for range count {
		_, _ = d.Write(b[pos : pos+8])
		le := binary.LittleEndian
		pos += FrameHeaderSize + int(le.Uint32(b[pos+fOffPayloadLen:])) + int(le.Uint32(b[pos+fOffHeadersLen:]))
	}
	return d.Sum64()
}

// Stamp writes the server's fields into a validated batch in place and
// recomputes its checksum, as the server does at append; it returns the
// new checksum.
func Stamp(b []byte, partitionID, baseOffset, baseTimestamp uint64) uint64 {
	le := binary.LittleEndian
	le.PutUint64(b[offPartitionID:], partitionID)
	le.PutUint64(b[offBaseOffset:], baseOffset)
	le.PutUint64(b[offBaseTimestamp:], baseTimestamp)
	sum := Checksum(b)
	le.PutUint64(b[offChecksum:], sum)
	return sum
}

// Message is a view of one message inside a batch; its slices alias the
// batch's bytes.
type Message struct {
	Offset          uint64
	Timestamp       uint64 // the batch's base timestamp, µs
	OriginTimestamp uint64 // µs
	Checksum        uint64
	ID              [16]byte
	Payload         []byte
	UserHeaders     []byte
	// Frame is the whole frame (header, payload, user headers).
	Frame []byte
}

// Messages iterates over the messages of a batch that passed Validate
// (see Walk for the rules; here Offset = base_offset + index).
func Messages(b []byte) iter.Seq[Message] { return Records(b) }

// NewMessage is the input of Build.
type NewMessage struct {
	ID              [16]byte
	OriginTimestamp uint64 // µs
	Payload         []byte
	UserHeaders     []byte
}

// Build encodes messages as a producer does (partition, base offset and
// base timestamp zero, checksums computed) and appends the batch to dst.
func Build(dst []byte, msgs []NewMessage) ([]byte, error) {
	if len(msgs) == 0 {
		return dst, invalid("no messages")
	}
	origin := msgs[0].OriginTimestamp
	size := HeaderSize
	for _, m := range msgs {
		origin = min(origin, m.OriginTimestamp)
		size += FrameHeaderSize + len(m.Payload) + len(m.UserHeaders)
	}
	for i, m := range msgs {
		if m.OriginTimestamp-origin > 0xFFFFFFFF {
			return dst, invalid("message %d: origin timestamps in one batch span more than 2^32 µs", i)
		}
	}
	// Every byte of the batch is written below (the header cleared first,
	// each frame field by field), so dst's spare capacity, which may hold
	// an earlier batch, is not cleared first: a producer's CPU went on
	// that as much as on the copy.
	start := len(dst)
	dst = slices.Grow(dst, size)[:start+size]
	b := dst[start:]
	clear(b[:HeaderSize])
	le := binary.LittleEndian
	le.PutUint64(b[offOriginTimestamp:], origin)
	le.PutUint64(b[offLength:], uint64(size))
	le.PutUint32(b[offCount:], uint32(len(msgs)))
	pos := HeaderSize
	for i, m := range msgs {
		fb := b[pos : pos+FrameHeaderSize+len(m.Payload)+len(m.UserHeaders)]
		copy(fb[fOffID:], m.ID[:])
		le.PutUint32(fb[fOffOffsetDelta:], uint32(i))
		le.PutUint32(fb[fOffTimestampDelta:], uint32(m.OriginTimestamp-origin))
		le.PutUint32(fb[fOffHeadersLen:], uint32(len(m.UserHeaders)))
		le.PutUint32(fb[fOffPayloadLen:], uint32(len(m.Payload)))
		le.PutUint64(fb[fOffReserved:], 0)
		copy(fb[FrameHeaderSize:], m.Payload)
		copy(fb[FrameHeaderSize+len(m.Payload):], m.UserHeaders)
		le.PutUint64(fb[fOffChecksum:], xxh3.Hash(fb[8:]))
		pos += len(fb)
	}
	le.PutUint64(b[offChecksum:], Checksum(b))
	return dst, nil
}
