// Package segment owns the format of a sealed segment: an immutable object
// holding a run of one partition's stamped batches, followed by a footer
// with a sparse offset and timestamp index, so that a reader fetches the
// footer and then only the byte range of the batches it needs.
//
//	segment object
//	+-----------------------------------------------+
//	| batch | batch | ... | batch                   |  data: DataLen bytes, stamped batches
//	+-----------------------------------------------+
//	| index entry × Count                           |  IndexEntrySize bytes each
//	+-----------------------------------------------+
//	| trailer (TrailerSize bytes)                   |
//	+-----------------------------------------------+
//
//	index entry (24 bytes): base_offset u64 | position u64 | timestamp u64
//	    one for the first batch, then one for the first batch that starts at
//	    least IndexInterval bytes after the previous entry; sorted by
//	    offset, position and timestamp alike.
//
//	trailer (48 bytes):
//	     0 magic        u32  TrailerMagic ("SHS1")
//	     4 count        u32  index entries
//	     8 base_offset  u64  first message in the segment
//	    16 last_offset  u64  last message in the segment
//	    24 data_len     u64  bytes of batches (= where the index starts)
//	    32 last_ts      u64  append time of the last batch, µs
//	    40 crc          u32  CRC-32C of the index entries and trailer bytes 0..40
//	    44 reserved     u32  zero
//
// Integers are little-endian. The constants are part of the format; never
// change them.
package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"

	"github.com/shoalstream/shoal/internal/batch"
)

// Part of the format; never change.
const (
	TrailerMagic   uint32 = 0x31534853 // "SHS1"
	TrailerSize           = 48
	IndexEntrySize        = 24
)

// DefaultIndexInterval is how many data bytes an index entry covers at most
// (a reader fetches about this much for a point read).
const DefaultIndexInterval = 64 << 10

// MaxIndexEntries bounds what a reader accepts from a trailer.
const MaxIndexEntries = 1 << 24

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is matched by every error about a malformed footer.
var ErrCorrupt = errors.New("corrupt segment")

// Entry is one index entry.
type Entry struct {
	BaseOffset uint64
	Position   uint64
	Timestamp  uint64
}

// Footer is a segment's decoded index and trailer.
type Footer struct {
	BaseOffset, LastOffset uint64
	DataLen                uint64
	LastTimestamp          uint64
	Index                  []Entry
}

// Builder assembles a segment in memory or streams it: call Add for each
// batch in offset order, writing the returned bytes yourself, then
// AppendFooter.
type Builder struct {
	interval uint64
	footer   Footer
	lastIdx  uint64 // position of the last index entry
	started  bool
}

// NewBuilder starts a segment; interval ≤ 0 means DefaultIndexInterval.
func NewBuilder(interval int) *Builder {
	if interval <= 0 {
		interval = DefaultIndexInterval
	}
	return &Builder{interval: uint64(interval)}
}

// Add records a stamped batch that the caller writes at the current end
// of the data. Batches must follow each other without gaps.
func (b *Builder) Add(h batch.Header) error {
	f := &b.footer
	if b.started && h.BaseOffset != f.LastOffset+1 {
		return fmt.Errorf("segment: batch at offset %d after offset %d", h.BaseOffset, f.LastOffset)
	}
	if !b.started || f.DataLen-b.lastIdx >= b.interval {
		f.Index = append(f.Index, Entry{BaseOffset: h.BaseOffset, Position: f.DataLen, Timestamp: h.BaseTimestamp})
		b.lastIdx = f.DataLen
	}
	if !b.started {
		f.BaseOffset = h.BaseOffset
		b.started = true
	}
	f.LastOffset = h.LastOffset()
	f.LastTimestamp = h.BaseTimestamp
	f.DataLen += h.Length
	return nil
}

// Footer is what AppendFooter will write.
func (b *Builder) Footer() Footer { return b.footer }

// AppendFooter appends the index and trailer to dst.
func (b *Builder) AppendFooter(dst []byte) []byte {
	return b.footer.Append(dst)
}

// Append encodes f (index and trailer) onto dst.
func (f Footer) Append(dst []byte) []byte {
	start := len(dst)
	le := binary.LittleEndian
	for _, e := range f.Index {
		dst = le.AppendUint64(dst, e.BaseOffset)
		dst = le.AppendUint64(dst, e.Position)
		dst = le.AppendUint64(dst, e.Timestamp)
	}
	dst = le.AppendUint32(dst, TrailerMagic)
	dst = le.AppendUint32(dst, uint32(len(f.Index)))
	dst = le.AppendUint64(dst, f.BaseOffset)
	dst = le.AppendUint64(dst, f.LastOffset)
	dst = le.AppendUint64(dst, f.DataLen)
	dst = le.AppendUint64(dst, f.LastTimestamp)
	dst = le.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
	return le.AppendUint32(dst, 0)
}

// Trailer holds what the fixed-size trailer says, enough to fetch the index.
type Trailer struct {
	Count                  int
	BaseOffset, LastOffset uint64
	DataLen, LastTimestamp uint64
	crc                    uint32
	raw                    [TrailerSize]byte
}

// IndexLen is the byte length of the index before the trailer.
func (t Trailer) IndexLen() int { return t.Count * IndexEntrySize }

// ParseTrailer decodes the last TrailerSize bytes of a segment of size
// objectSize.
func ParseTrailer(b []byte, objectSize int64) (Trailer, error) {
	if len(b) != TrailerSize {
		return Trailer{}, fmt.Errorf("%w: trailer of %d bytes", ErrCorrupt, len(b))
	}
	le := binary.LittleEndian
	t := Trailer{
		Count:         int(le.Uint32(b[4:])),
		BaseOffset:    le.Uint64(b[8:]),
		LastOffset:    le.Uint64(b[16:]),
		DataLen:       le.Uint64(b[24:]),
		LastTimestamp: le.Uint64(b[32:]),
		crc:           le.Uint32(b[40:]),
	}
	copy(t.raw[:], b)
	switch {
	case le.Uint32(b[0:]) != TrailerMagic:
		return Trailer{}, fmt.Errorf("%w: bad trailer magic", ErrCorrupt)
	case le.Uint32(b[44:]) != 0:
		return Trailer{}, fmt.Errorf("%w: reserved trailer field is not zero", ErrCorrupt)
	case t.Count == 0 || t.Count > MaxIndexEntries:
		return Trailer{}, fmt.Errorf("%w: %d index entries", ErrCorrupt, t.Count)
	case t.LastOffset < t.BaseOffset:
		return Trailer{}, fmt.Errorf("%w: last offset %d before base offset %d", ErrCorrupt, t.LastOffset, t.BaseOffset)
	case objectSize >= 0 && uint64(objectSize) != t.DataLen+uint64(t.IndexLen())+TrailerSize:
		return Trailer{}, fmt.Errorf("%w: object of %d bytes, footer says %d data + %d index bytes", ErrCorrupt, objectSize, t.DataLen, t.IndexLen())
	}
	return t, nil
}

// ParseIndex decodes the index bytes that precede t and checks the footer
// checksum; it returns the whole footer.
func ParseIndex(t Trailer, idx []byte) (Footer, error) {
	if len(idx) != t.IndexLen() {
		return Footer{}, fmt.Errorf("%w: index of %d bytes, want %d", ErrCorrupt, len(idx), t.IndexLen())
	}
	c := crc32.Update(0, castagnoli, idx)
	c = crc32.Update(c, castagnoli, t.raw[:40])
	if c != t.crc {
		return Footer{}, fmt.Errorf("%w: footer checksum mismatch", ErrCorrupt)
	}
	le := binary.LittleEndian
	f := Footer{BaseOffset: t.BaseOffset, LastOffset: t.LastOffset, DataLen: t.DataLen, LastTimestamp: t.LastTimestamp, Index: make([]Entry, t.Count)}
	for i := range f.Index {
		e := idx[i*IndexEntrySize:]
		f.Index[i] = Entry{BaseOffset: le.Uint64(e), Position: le.Uint64(e[8:]), Timestamp: le.Uint64(e[16:])}
		if i == 0 && (f.Index[0].Position != 0 || f.Index[0].BaseOffset != f.BaseOffset) {
			return Footer{}, fmt.Errorf("%w: first index entry does not point at the first batch", ErrCorrupt)
		}
		if i > 0 {
			p := f.Index[i-1]
			if e := f.Index[i]; e.BaseOffset <= p.BaseOffset || e.Position <= p.Position || e.Timestamp < p.Timestamp || e.Position >= f.DataLen || e.BaseOffset > f.LastOffset {
				return Footer{}, fmt.Errorf("%w: index entry %d out of order", ErrCorrupt, i)
			}
		}
	}
	return f, nil
}

// Blocks is how many index blocks the segment has: block i is the data
// from index entry i to the next one (or the end of the data).
func (f Footer) Blocks() int { return len(f.Index) }

// Block returns the byte range [start, end) of block i.
func (f Footer) Block(i int) (start, end uint64) {
	start = f.Index[i].Position
	if i+1 < len(f.Index) {
		return start, f.Index[i+1].Position
	}
	return start, f.DataLen
}

// BlockFor returns the block holding offset; ok is false if offset is not
// in the segment.
func (f Footer) BlockFor(offset uint64) (int, bool) {
	if offset < f.BaseOffset || offset > f.LastOffset {
		return 0, false
	}
	return sort.Search(len(f.Index), func(i int) bool { return f.Index[i].BaseOffset > offset }) - 1, true
}

// BlockForTimestamp returns the first block that may hold a batch appended
// at or after ts; ok is false if every batch is older.
func (f Footer) BlockForTimestamp(ts uint64) (int, bool) {
	if ts > f.LastTimestamp {
		return 0, false
	}
	i := sort.Search(len(f.Index), func(i int) bool { return f.Index[i].Timestamp >= ts })
	return max(i-1, 0), true
}
