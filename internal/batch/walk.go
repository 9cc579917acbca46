package batch

import (
	"encoding/binary"
	"errors"
	"iter"
)

// errStopped ends a walk its callback stopped.
var errStopped = errors.New("stopped")

// Walk walks the frames of a batch record from its header to the end of
// rec, as a consumer reads a poll reply: it checks that each frame fits
// and has a zero reserved field, and nothing else (not the message count,
// the offset deltas or the checksums), so it reads a stored batch as well
// as a server's slice of one, whose first offset_delta may be above 0.
// Each message's Offset is base_offset + offset_delta. fn may be nil; it
// returns false to stop the walk. Walk returns how many frames it read
// and the first malformed one as an error matching ErrInvalid.
func Walk(rec []byte, fn func(Message) bool) (int, error) {
	h, err := ParseHeader(rec)
	if err != nil {
		return 0, err
	}
	n := 0
	for pos := HeaderSize; pos < len(rec); n++ {
		f, err := frameAt(rec, pos, uint32(n))
		if err != nil {
			return n, err
		}
		if fn != nil && !fn(messageAt(rec[pos:pos+f.size], h, f)) {
			return n + 1, errStopped
		}
		pos += f.size
	}
	return n, nil
}

// messageAt is the message of frame fb of a batch with header h.
func messageAt(fb []byte, h Header, f frame) Message {
	le := binary.LittleEndian
	pl := int(le.Uint32(fb[fOffPayloadLen:]))
	m := Message{
		Offset:          h.BaseOffset + uint64(f.delta),
		Timestamp:       h.BaseTimestamp,
		OriginTimestamp: h.OriginTimestamp + uint64(le.Uint32(fb[fOffTimestampDelta:])),
		Checksum:        f.checksum,
		Payload:         fb[FrameHeaderSize : FrameHeaderSize+pl : FrameHeaderSize+pl],
		UserHeaders:     fb[FrameHeaderSize+pl:],
		Frame:           fb,
	}
	copy(m.ID[:], fb[fOffID:fOffID+16])
	return m
}

// Records iterates over the messages of a record, as Walk reads them, and
// stops at the first malformed frame.
func Records(rec []byte) iter.Seq[Message] {
	return func(yield func(Message) bool) { _, _ = Walk(rec, yield) }
}

// Slice appends to dst the part of a stored batch whose messages have
// offsets in [first, last], as a poll reply carries it (messages.md §2.4):
//
//   - every message in range: the stored batch, byte for byte;
//   - some: the stored header with batch_length = HeaderSize + the frames
//     kept, message_count = their number and batch_checksum recomputed
//     (partition, base_offset and timestamps unchanged), then those frames
//     as stored (they keep their offset_delta, so the first may be > 0);
//   - none: nothing.
//
// It returns how many messages it appended. stored must be one whole
// batch (batch_length = len(stored), message_count frames tiling it with
// zero reserved fields, offset deltas ascending); its checksums are not
// verified. A malformed one is an error matching ErrInvalid and nothing is
// appended.
func Slice(dst, stored []byte, first, last uint64) ([]byte, uint32, error) {
	h, err := ParseHeader(stored)
	if err != nil {
		return dst, 0, err
	}
	if h.Count == 0 || uint64(h.Count) > uint64(len(stored)-HeaderSize)/FrameHeaderSize {
		return dst, 0, invalid("message_count %d for %d bytes of frames", h.Count, len(stored)-HeaderSize)
	}
	if h.Length != uint64(len(stored)) {
		return dst, 0, invalid("batch_length %d, but %d bytes", h.Length, len(stored))
	}
	from, to := -1, -1
	var kept, prev uint32
	pos := HeaderSize
	for i := range h.Count {
		f, err := frameAt(stored, pos, i)
		if err != nil {
			return dst, 0, err
		}
		if i > 0 && f.delta <= prev {
			return dst, 0, invalid("message %d: offset_delta %d after %d", i, f.delta, prev)
		}
		prev = f.delta
		end := pos + f.size
		off := h.BaseOffset + uint64(f.delta)
		if off < h.BaseOffset {
			return dst, 0, invalid("message %d: offset overflows", i)
		}
		if off >= first && off <= last {
			if from < 0 {
				from = pos
			}
			to = end
			kept++
		}
		pos = end
	}
	if pos != len(stored) {
		return dst, 0, invalid("%d bytes after the last of %d messages", len(stored)-pos, h.Count)
	}
	switch kept {
	case 0:
		return dst, 0, nil
	case h.Count:
		return append(dst, stored...), kept, nil
	}
	start := len(dst)
	dst = append(dst, stored[:HeaderSize]...)
	dst = append(dst, stored[from:to]...)
	rec := dst[start:]
	le := binary.LittleEndian
	le.PutUint64(rec[offLength:], uint64(len(rec)))
	le.PutUint32(rec[offCount:], kept)
	le.PutUint64(rec[offChecksum:], Checksum(rec))
	return dst, kept, nil
}
