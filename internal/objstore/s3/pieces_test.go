package s3

import (
	"bytes"
	"io"
	"slices"
	"testing"
	"testing/iotest"
)

func TestPiecesReader(t *testing.T) {
	for _, pieces := range [][][]byte{
		nil,
		{[]byte("one")},
		{nil, []byte("a"), nil, []byte("bcdef"), []byte("g"), nil},
		{bytes.Repeat([]byte("x"), 5000), []byte("y"), bytes.Repeat([]byte("z"), 3000)},
	} {
		joined := slices.Concat(pieces...)
		if err := iotest.TestReader(newPiecesReader(pieces), joined); err != nil {
			t.Fatalf("%q: %v", joined, err)
		}
		// WriteTo from every starting point writes the rest.
		for off := range len(joined) + 1 {
			r := newPiecesReader(pieces)
			if _, err := r.Seek(int64(off), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			n, err := r.WriteTo(&buf)
			if err != nil || n != int64(len(joined)-off) || !bytes.Equal(buf.Bytes(), joined[off:]) {
				t.Fatalf("WriteTo from %d: %d bytes, %v", off, n, err)
			}
			if m, err := r.Read(make([]byte, 1)); m != 0 || err != io.EOF {
				t.Fatalf("read after WriteTo: %d, %v", m, err)
			}
		}
	}
}
