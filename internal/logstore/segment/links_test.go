package segment

import (
	"bytes"
	"errors"
	"testing"
)

// linkedFromSegment spreads the data of a built segment over extents in two
// journal files, as if each batch had been written between other records,
// and returns the linked object, the "files" holding the bytes, and the
// data.
func linkedFromSegment(t testing.TB, batches int) ([]byte, map[uint64][]byte, []byte, Footer) {
	t.Helper()
	seg, f := buildSegment(t, 100, batches, 3, 512)
	data := seg[:f.DataLen]
	files := map[uint64][]byte{}
	var extents []Extent
	// Cut the data into pieces of 37 bytes (not batch-aligned: extents need
	// not be), alternating between files 3 and 9, with 11 bytes of other
	// records between pieces.
	for pos, i := uint64(0), 0; pos < f.DataLen; i++ {
		n := min(37, f.DataLen-pos)
		file := uint64(3 + 6*(i%2))
		files[file] = append(files[file], bytes.Repeat([]byte{0xEE}, 11)...)
		extents = append(extents, Extent{File: file, Position: uint64(len(files[file])), Length: n})
		files[file] = append(files[file], data[pos:pos+n]...)
		pos += n
	}
	return AppendLinks(nil, extents, f), files, data, f
}

func TestLinksRoundTripAndRanges(t *testing.T) {
	obj, files, data, f := linkedFromSegment(t, 40)
	l, err := ParseLinks(obj)
	if err != nil {
		t.Fatal(err)
	}
	if l.Footer.BaseOffset != f.BaseOffset || l.Footer.LastOffset != f.LastOffset || l.Footer.DataLen != f.DataLen || len(l.Footer.Index) != len(f.Index) {
		t.Fatalf("footer %+v, want %+v", l.Footer, f)
	}
	if got := l.Files(); len(got) != 2 || got[0] != 3 || got[1] != 9 {
		t.Fatalf("files %v, want [3 9]", got)
	}
	read := func(start, end uint64) []byte {
		var out []byte
		for _, r := range l.Ranges(start, end) {
			out = append(out, files[r.File][r.Position:r.Position+r.Length]...)
		}
		return out
	}
	// Every block, and arbitrary ranges, read back the data's bytes.
	for i := range l.Footer.Blocks() {
		start, end := l.Footer.Block(i)
		if got := read(start, end); !bytes.Equal(got, data[start:end]) {
			t.Fatalf("block %d [%d,%d): wrong bytes", i, start, end)
		}
	}
	for _, r := range [][2]uint64{{0, 1}, {36, 38}, {5, f.DataLen}, {f.DataLen - 1, f.DataLen}, {100, 1000}} {
		if got := read(r[0], r[1]); !bytes.Equal(got, data[r[0]:r[1]]) {
			t.Fatalf("range %v: wrong bytes", r)
		}
	}
	if got := l.Ranges(0, f.DataLen+1); got != nil {
		t.Fatalf("a range past the data gave %v", got)
	}
}

func TestLinksCorruption(t *testing.T) {
	obj, _, _, _ := linkedFromSegment(t, 40)
	for _, at := range []int{0, 5, 9, len(obj) / 2, len(obj) - 30, len(obj) - 1} {
		bad := bytes.Clone(obj)
		bad[at] ^= 0x40
		if _, err := ParseLinks(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flipped byte %d: err %v, want ErrCorrupt", at, err)
		}
	}
	for _, n := range []int{0, 10, len(obj) - 1} {
		if _, err := ParseLinks(obj[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut to %d bytes: err %v, want ErrCorrupt", n, err)
		}
	}
}

func FuzzLinks(f *testing.F) {
	obj, _, _, _ := linkedFromSegment(f, 3)
	f.Add(obj)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLinks(b)
		if err != nil {
			return
		}
		// What parses re-encodes to its bytes, and its ranges add up.
		if got := AppendLinks(nil, l.Extents, l.Footer); !bytes.Equal(got, b) {
			t.Fatal("linked segment does not re-encode to its bytes")
		}
		for i := range l.Footer.Blocks() {
			start, end := l.Footer.Block(i)
			var n uint64
			for _, r := range l.Ranges(start, end) {
				n += r.Length
			}
			if n != end-start {
				t.Fatalf("block %d [%d,%d): ranges hold %d bytes", i, start, end, n)
			}
		}
	})
}
