// Package journal owns the byte format of shoal's journal: the unit of
// group commit (a flush frame) and the records inside it, how they are
// encoded, and how a reader tells a torn tail from corruption.
//
// A journal is a sequence of flush frames. On an object store each frame is
// one object (journal/<seq>); on a local file system frames are appended to
// a journal file, one write and one fsync per frame.
//
//	flush frame
//	+-------+--------+--------+--------+-------+----------+----------------+
//	| magic | length | seq    | epoch  | crc   | reserved | body           |
//	| u32   | u32    | u64    | u64    | u32   | u32 = 0  | length bytes   |
//	+-------+--------+--------+--------+-------+----------+----------------+
//	 0       4        8        16       24      28         32 (FrameHeaderSize)
//
//	magic  = FrameMagic ("SHJ1" little-endian)
//	seq    = the frame's place in the journal (dense: 1, 2, 3, …)
//	epoch  = the writer's epoch: the seq at which the writing server claimed
//	         the journal (see logstore's fencing)
//	crc    = CRC-32C (Castagnoli) over bytes 0..24 of the header, then the body
//	body   = records back to back:
//	         +------+-----------+-----------------+
//	         | type | length    | payload         |
//	         | u8   | u32       | length bytes    |
//	         +------+-----------+-----------------+
//
// All integers are little-endian. Every constant marked "part of the
// format" must never change: journals written by one version are read by
// the next.
//
// # Torn tails and corruption
//
// A frame is whole or it is not: its CRC covers it all, so a write torn by a
// crash (short, zeroed, or with pages from before the crash) fails the
// check. A flush is written only after the previous one is durable, so the
// only frame a crash can tear is the last one. Reader therefore reports a
// bad frame with no valid frame after it as ErrTornTail (recovery cuts the
// journal there and goes on), and a bad frame followed by a valid one as
// ErrCorrupt (recovery stops: acknowledged data would be lost). A writer
// that overlaps flushes can leave more than one frame in doubt at the end;
// the caller knows how many (logstore's journal files: two).
package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
)

// Part of the format; never change.
const (
	FrameMagic       uint32 = 0x314a4853 // "SHJ1"
	FrameHeaderSize         = 32
	RecordHeaderSize        = 5
)

// MaxFrameBody bounds a frame body, so a reader never allocates or trusts a
// length beyond it.
const MaxFrameBody = 1 << 30

// castagnoli is the CRC-32C table; the polynomial is part of the format.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of Reader, checked with errors.Is.
var (
	// ErrTornTail: the journal ends in an incomplete or damaged frame with
	// nothing valid after it, as a crash during a flush leaves it.
	ErrTornTail = errors.New("torn journal tail")
	// ErrCorrupt: a damaged frame or record is followed by valid data.
	ErrCorrupt = errors.New("corrupt journal")
)

// RecordType says what a record holds. Part of the format.
type RecordType uint8

// Record types. Part of the format; never reuse a value.
const (
	// RecordBatch holds one stamped message batch of one partition.
	RecordBatch RecordType = 1
	// RecordMeta holds one metadata change (streams, topics, users, offsets…).
	RecordMeta RecordType = 2
	// RecordSegment says a run of a partition was sealed into a segment.
	RecordSegment RecordType = 3
	// RecordTrim says a partition's segments before an offset were deleted.
	RecordTrim RecordType = 4
	// RecordDrop says a partition and all its data were deleted.
	RecordDrop RecordType = 5
	// RecordLinkedSegment says a run of a partition was sealed into a
	// linked segment: one that points at the batches in the journal files
	// instead of holding a copy.
	RecordLinkedSegment RecordType = 6
)

// Record is one entry of a frame body.
type Record struct {
	Type    RecordType
	Payload []byte
}

// FrameBuilder assembles one flush frame. Records are written into its
// buffer, except the large payloads a caller hands over by reference
// (AddRecordRef): those stay where they are, and the finished frame is the
// buffer's pieces with them in between, so that a batch is never copied on
// its way to storage.
type FrameBuilder struct {
	buf    []byte
	refs   []frameRef
	refLen int // bytes of all refs
}

// frameRef is a payload held by reference, which comes after buf[:at].
type frameRef struct {
	at   int
	data []byte
}

// Reset starts a new frame, keeping the buffer's capacity.
func (b *FrameBuilder) Reset() {
	b.buf = append(b.buf[:0], make([]byte, FrameHeaderSize)...)
	clear(b.refs)
	b.refs, b.refLen = b.refs[:0], 0
}

// Add appends a record to the frame being built.
func (b *FrameBuilder) Add(t RecordType, payload []byte) {
	if len(b.buf) < FrameHeaderSize {
		b.Reset()
	}
	b.buf = append(b.buf, byte(t))
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(payload)))
	b.buf = append(b.buf, payload...)
}

// AddRecord starts a record of type t and length n and returns the n bytes
// to fill in, for payloads assembled in place.
func (b *FrameBuilder) AddRecord(t RecordType, n int) []byte {
	if len(b.buf) < FrameHeaderSize {
		b.Reset()
	}
	b.buf = append(b.buf, byte(t))
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(n))
	start := len(b.buf)
	b.buf = slices.Grow(b.buf, n)[:start+n]
	return b.buf[start:]
}

// AddRecordRef adds a record of type t whose payload is head bytes, which
// it returns to fill in, followed by data, which the frame holds by
// reference until it is written: the caller must not change data after
// the frame is finished.
func (b *FrameBuilder) AddRecordRef(t RecordType, head int, data []byte) []byte {
	if len(b.buf) < FrameHeaderSize {
		b.Reset()
	}
	b.buf = append(b.buf, byte(t))
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(head+len(data)))
	start := len(b.buf)
	b.buf = slices.Grow(b.buf, head)[:start+head]
	if len(data) > 0 {
		b.refs = append(b.refs, frameRef{at: len(b.buf), data: data})
		b.refLen += len(data)
	}
	return b.buf[start:]
}

// Room is how many bytes can be added to the buffer without moving it.
func (b *FrameBuilder) Room() int { return cap(b.buf) - len(b.buf) }

// Grow makes room for n more bytes in the buffer (moving it if it must).
func (b *FrameBuilder) Grow(n int) { b.buf = slices.Grow(b.buf, n) }

// ResetWith starts a new frame in buf's memory (its length is ignored): a
// caller can prepare buffers ahead of time, away from the hot path.
func (b *FrameBuilder) ResetWith(buf []byte) {
	b.buf = buf[:0]
	b.Reset()
}

// BodyLen is how many body bytes the frame holds so far, references
// included.
func (b *FrameBuilder) BodyLen() int { return max(len(b.buf)-FrameHeaderSize, 0) + b.refLen }

// BufferLen is how many bytes of the frame, header included, are in its
// buffer (not held by reference).
func (b *FrameBuilder) BufferLen() int { return max(len(b.buf), FrameHeaderSize) }

// Buffer is the frame's buffer: its header and every byte not held by
// reference. A record's bytes in it are found with the buffer lengths
// before and after the record was added (BufferLen).
func (b *FrameBuilder) Buffer() []byte { return b.buf }

// Finish seals the frame with its sequence number and writer epoch and
// returns its bytes in one slice (payloads held by reference are copied
// in), which stay valid until the next Reset or Add.
func (b *FrameBuilder) Finish(seq, epoch uint64) []byte {
	built := b.FinishPieces(seq, epoch)
	if len(built.Pieces) == 1 {
		return built.Pieces[0]
	}
	return slices.Concat(built.Pieces...)
}

// Built is a finished frame as the pieces to write one after the other.
type Built struct {
	Pieces [][]byte
	// Len is the frame's length: all pieces together.
	Len int
	// CRC32C is the CRC-32C (Castagnoli) of the whole frame, header
	// included: the checksum of the object that holds it alone, which an
	// object store can verify without reading the bytes once more.
	CRC32C uint32
}

// FinishPieces seals the frame with its sequence number and writer epoch
// and returns it in pieces: the buffer's, with the payloads held by
// reference between them. The CRCs are computed in one pass over the
// bytes.
func (b *FrameBuilder) FinishPieces(seq, epoch uint64) Built {
	if len(b.buf) < FrameHeaderSize {
		b.Reset()
	}
	pieces := make([][]byte, 0, 2*len(b.refs)+1)
	at := 0
	for _, r := range b.refs {
		if r.at > at {
			pieces = append(pieces, b.buf[at:r.at])
		}
		pieces = append(pieces, r.data)
		at = r.at
	}
	if at < len(b.buf) || len(pieces) == 0 {
		pieces = append(pieces, b.buf[at:])
	}
	bodyLen := len(b.buf) - FrameHeaderSize + b.refLen
	// The body's CRC, once; then the frame's CRC (header bytes 0..24, then
	// the body) and the object's (the whole header, then the body) from it.
	var body uint32
	for i, p := range pieces {
		if i == 0 {
			p = p[FrameHeaderSize:]
		}
		body = crc32.Update(body, castagnoli, p)
	}
	le := binary.LittleEndian
	h := b.buf[:FrameHeaderSize]
	le.PutUint32(h[0:], FrameMagic)
	le.PutUint32(h[4:], uint32(bodyLen))
	le.PutUint64(h[8:], seq)
	le.PutUint64(h[16:], epoch)
	le.PutUint32(h[28:], 0)
	le.PutUint32(h[24:], crc32Combine(crc32.Checksum(h[:24], castagnoli), body, int64(bodyLen)))
	return Built{
		Pieces: pieces,
		Len:    FrameHeaderSize + bodyLen,
		CRC32C: crc32Combine(crc32.Checksum(h, castagnoli), body, int64(bodyLen)),
	}
}

func frameCRC(frame []byte) uint32 {
	c := crc32.Update(0, castagnoli, frame[:24])
	return crc32.Update(c, castagnoli, frame[FrameHeaderSize:])
}

// Frame is one decoded flush frame.
type Frame struct {
	Seq   uint64
	Epoch uint64
	Body  []byte // aliases the reader's input
	// Offset is where the frame starts in the input, and End where it ends.
	Offset, End int
}

// Records iterates over the frame's records; it returns ErrCorrupt if the
// body (which passed its CRC) does not tile into records.
func (f Frame) Records(yield func(Record) bool) error {
	body := f.Body
	for pos := 0; pos < len(body); {
		if len(body)-pos < RecordHeaderSize {
			return fmt.Errorf("%w: frame %d at %d: record header cut at body offset %d", ErrCorrupt, f.Seq, f.Offset, pos)
		}
		t := RecordType(body[pos])
		n := int(binary.LittleEndian.Uint32(body[pos+1:]))
		pos += RecordHeaderSize
		if n > len(body)-pos {
			return fmt.Errorf("%w: frame %d at %d: record of %d bytes at body offset %d overruns the body", ErrCorrupt, f.Seq, f.Offset, n, pos)
		}
		if !yield(Record{Type: t, Payload: body[pos : pos+n]}) {
			return nil
		}
		pos += n
	}
	return nil
}

// checkFrame decodes the frame at the start of b, or says why it cannot.
func checkFrame(b []byte) (seq, epoch uint64, bodyLen int, ok bool) {
	if len(b) < FrameHeaderSize {
		return 0, 0, 0, false
	}
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != FrameMagic || le.Uint32(b[28:]) != 0 {
		return 0, 0, 0, false
	}
	n := le.Uint32(b[4:])
	if n > MaxFrameBody || int(n) > len(b)-FrameHeaderSize {
		return 0, 0, 0, false
	}
	frame := b[:FrameHeaderSize+int(n)]
	if le.Uint32(b[24:]) != frameCRC(frame) {
		return 0, 0, 0, false
	}
	return le.Uint64(b[8:]), le.Uint64(b[16:]), int(n), true
}

// Reader decodes the frames of a journal held in memory (one object, or a
// journal file read whole or in part).
type Reader struct {
	b   []byte
	pos int
}

// NewReader reads the frames in b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Offset is where the next frame would start: after a torn tail, the
// length to cut the journal to.
func (r *Reader) Offset() int { return r.pos }

// Next returns the next frame. At the clean end of the input it returns
// ok == false and a nil error. A damaged frame gives an error matching
// ErrTornTail when nothing valid follows it and ErrCorrupt when a valid
// frame does; both name the byte offset, and Offset stays at the bad frame.
func (r *Reader) Next() (f Frame, ok bool, err error) {
	if r.pos >= len(r.b) {
		return Frame{}, false, nil
	}
	seq, epoch, n, valid := checkFrame(r.b[r.pos:])
	if !valid {
		if at, found := r.validFrameAfter(r.pos + 1); found {
			return Frame{}, false, fmt.Errorf("%w: damaged frame at byte %d, valid frame at byte %d", ErrCorrupt, r.pos, at)
		}
		return Frame{}, false, fmt.Errorf("%w: %d bytes from byte %d do not form a whole frame", ErrTornTail, len(r.b)-r.pos, r.pos)
	}
	f = Frame{Seq: seq, Epoch: epoch, Body: r.b[r.pos+FrameHeaderSize : r.pos+FrameHeaderSize+n], Offset: r.pos}
	r.pos += FrameHeaderSize + n
	f.End = r.pos
	return f, true, nil
}

// ValidFrameAfter returns where the first valid frame starting at or after
// byte from is, if there is one.
func (r *Reader) ValidFrameAfter(from int) (int, bool) { return r.validFrameAfter(from) }

// validFrameAfter looks for a valid frame starting anywhere at or after
// from. Only recovery of a damaged journal pays for this scan.
func (r *Reader) validFrameAfter(from int) (int, bool) {
	magic := binary.LittleEndian.AppendUint32(nil, FrameMagic)
	for at := from; at+FrameHeaderSize <= len(r.b); at++ {
		if r.b[at] != magic[0] || r.b[at+1] != magic[1] || r.b[at+2] != magic[2] || r.b[at+3] != magic[3] {
			continue
		}
		if _, _, _, ok := checkFrame(r.b[at:]); ok {
			return at, true
		}
	}
	return 0, false
}
