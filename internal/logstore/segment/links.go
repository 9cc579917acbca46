package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
)

// A linked segment is a segment whose batches are not copied into it: they
// stay where the journal wrote them (journal files on a local filesystem),
// and the segment object holds where they are, with the same footer a
// segment has. Sealing then writes a few kilobytes instead of every byte a
// second time.
//
//	linked segment object
//	   0 magic     u32  LinksMagic ("SHL1")
//	   4 extents   u32  N
//	   8 extent × N (ExtentSize bytes each):
//	         file u64      the journal file's number (journal/<file>)
//	         position u64  where the bytes start in that file
//	         length u64
//	     the footer: index entries and trailer exactly as in a segment,
//	     positions counting in the data the extents make when laid end to
//	     end (data_len = the sum of their lengths)
//	     crc u32  CRC-32C of everything before it
//
// Integers are little-endian; the constants are part of the format.
const (
	LinksMagic uint32 = 0x314c4853 // "SHL1"
	ExtentSize        = 24
)

// MaxExtents bounds what a reader accepts.
const MaxExtents = 1 << 24

// Extent is a run of a linked segment's data in a journal file.
type Extent struct {
	File     uint64 // the journal file's number
	Position uint64
	Length   uint64
}

// Links is a decoded linked segment: where its data is, and its footer.
type Links struct {
	Extents []Extent
	Footer  Footer
	starts  []uint64 // where each extent starts in the segment's data
}

// AppendLinks encodes a linked segment with extents and footer f.
func AppendLinks(dst []byte, extents []Extent, f Footer) []byte {
	start := len(dst)
	le := binary.LittleEndian
	dst = le.AppendUint32(dst, LinksMagic)
	dst = le.AppendUint32(dst, uint32(len(extents)))
	for _, e := range extents {
		dst = le.AppendUint64(dst, e.File)
		dst = le.AppendUint64(dst, e.Position)
		dst = le.AppendUint64(dst, e.Length)
	}
	dst = f.Append(dst)
	return le.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// ParseLinks decodes a whole linked segment object.
func ParseLinks(b []byte) (*Links, error) {
	le := binary.LittleEndian
	if len(b) < 8+TrailerSize+4 {
		return nil, fmt.Errorf("%w: linked segment of %d bytes", ErrCorrupt, len(b))
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != le.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: linked segment checksum mismatch", ErrCorrupt)
	}
	if le.Uint32(body) != LinksMagic {
		return nil, fmt.Errorf("%w: bad linked segment magic", ErrCorrupt)
	}
	n := le.Uint32(body[4:])
	if n == 0 || n > MaxExtents || uint64(n)*ExtentSize > uint64(len(body)-8-TrailerSize) {
		return nil, fmt.Errorf("%w: %d extents in %d bytes", ErrCorrupt, n, len(body))
	}
	extents := make([]Extent, n)
	var dataLen uint64
	for i := range extents {
		e := body[8+i*ExtentSize:]
		x := Extent{File: le.Uint64(e), Position: le.Uint64(e[8:]), Length: le.Uint64(e[16:])}
		if x.Length == 0 || x.Length > 1<<40 || x.Position > 1<<62 {
			return nil, fmt.Errorf("%w: extent %d of %d bytes at %d", ErrCorrupt, i, x.Length, x.Position)
		}
		extents[i] = x
		dataLen += x.Length
	}
	footer := body[8+int(n)*ExtentSize:]
	t, err := ParseTrailer(footer[len(footer)-TrailerSize:], -1)
	if err != nil {
		return nil, err
	}
	if t.IndexLen() != len(footer)-TrailerSize {
		return nil, fmt.Errorf("%w: footer of %d bytes for %d index entries", ErrCorrupt, len(footer), t.Count)
	}
	if t.DataLen != dataLen {
		return nil, fmt.Errorf("%w: extents hold %d bytes, footer says %d", ErrCorrupt, dataLen, t.DataLen)
	}
	f, err := ParseIndex(t, footer[:t.IndexLen()])
	if err != nil {
		return nil, err
	}
	return NewLinks(extents, f), nil
}

// NewLinks is the linked segment with extents and footer f, whose
// DataLen must be the extents' total length (as AppendLinks writes it).
func NewLinks(extents []Extent, f Footer) *Links {
	l := &Links{Extents: extents, Footer: f, starts: make([]uint64, len(extents))}
	var pos uint64
	for i, e := range extents {
		l.starts[i] = pos
		pos += e.Length
	}
	return l
}

// Files lists the journal files the extents are in, ascending, once each.
func (l *Links) Files() []uint64 { return ExtentFiles(l.Extents) }

// ExtentFiles lists the journal files extents are in, ascending, once each.
func ExtentFiles(extents []Extent) []uint64 {
	var out []uint64
	seen := map[uint64]bool{}
	for _, e := range extents {
		if !seen[e.File] {
			seen[e.File] = true
			out = append(out, e.File)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Ranges returns the file ranges holding the segment's data bytes
// [start, end), in order; the range must lie within the data.
func (l *Links) Ranges(start, end uint64) []Extent {
	if start >= end || end > l.Footer.DataLen {
		return nil
	}
	i := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > start }) - 1
	var out []Extent
	for pos := start; pos < end; i++ {
		e := l.Extents[i]
		skip := pos - l.starts[i]
		n := min(e.Length-skip, end-pos)
		out = append(out, Extent{File: e.File, Position: e.Position + skip, Length: n})
		pos += n
	}
	return out
}
