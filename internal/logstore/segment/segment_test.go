package segment

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shoalstream/shoal/internal/batch"
)

// buildSegment writes n stamped batches of m messages from offset base.
func buildSegment(t testing.TB, base uint64, n, m, interval int) ([]byte, Footer) {
	t.Helper()
	bld := NewBuilder(interval)
	var data []byte
	off := base
	for i := range n {
		msgs := make([]batch.NewMessage, m)
		for j := range msgs {
			msgs[j] = batch.NewMessage{Payload: []byte(fmt.Sprintf("batch %d message %d", i, j))}
		}
		start := len(data)
		var err error
		data, err = batch.Build(data, msgs)
		if err != nil {
			t.Fatal(err)
		}
		batch.Stamp(data[start:], 1, off, uint64(1000+10*i))
		h, err := batch.Validate(data[start:])
		if err != nil {
			t.Fatal(err)
		}
		if err := bld.Add(h); err != nil {
			t.Fatal(err)
		}
		off += uint64(m)
	}
	return bld.AppendFooter(data), bld.Footer()
}

func parse(t testing.TB, seg []byte) (Footer, error) {
	t.Helper()
	tr, err := ParseTrailer(seg[len(seg)-TrailerSize:], int64(len(seg)))
	if err != nil {
		return Footer{}, err
	}
	return ParseIndex(tr, seg[tr.DataLen:len(seg)-TrailerSize])
}

func TestRoundTripAndRanges(t *testing.T) {
	seg, want := buildSegment(t, 100, 50, 4, 1024)
	f, err := parse(t, seg)
	if err != nil {
		t.Fatal(err)
	}
	if f.BaseOffset != 100 || f.LastOffset != 299 || f.DataLen != want.DataLen || len(f.Index) != len(want.Index) || len(f.Index) < 5 {
		t.Fatalf("footer %+v (%d entries), want %+v", f, len(f.Index), want)
	}
	// Every offset's range starts on a batch boundary and holds the offset.
	for off := uint64(100); off <= 299; off++ {
		blk, ok := f.BlockFor(off)
		if !ok {
			t.Fatalf("offset %d not found", off)
		}
		start, end := f.Block(blk)
		found := false
		for pos := start; pos < end; {
			h, err := batch.ParseHeader(seg[pos:])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := batch.Validate(seg[pos : pos+h.Length]); err != nil {
				t.Fatalf("offset %d: range [%d,%d) batch at %d: %v", off, start, end, pos, err)
			}
			found = found || (h.BaseOffset <= off && off <= h.LastOffset())
			pos += h.Length
		}
		if !found {
			t.Fatalf("offset %d: range [%d,%d) does not hold it", off, start, end)
		}
		if end-start > 1024+uint64(len(seg)/50) {
			t.Fatalf("offset %d: range of %d bytes for a point read", off, end-start)
		}
	}
	if _, ok := f.BlockFor(99); ok {
		t.Error("offset before the segment found")
	}
	if _, ok := f.BlockFor(300); ok {
		t.Error("offset after the segment found")
	}
	// The blocks tile the data.
	var pos uint64
	for i := range f.Blocks() {
		start, end := f.Block(i)
		if start != pos || end <= start {
			t.Fatalf("block %d is [%d,%d), previous ended at %d", i, start, end, pos)
		}
		pos = end
	}
	if pos != f.DataLen {
		t.Fatalf("blocks end at %d, data at %d", pos, f.DataLen)
	}
	// Timestamps: batch i was appended at 1000+10i.
	blk, ok := f.BlockForTimestamp(1000 + 10*30 + 5)
	if !ok {
		t.Fatal("timestamp not found")
	}
	start, _ := f.Block(blk)
	h, _ := batch.ParseHeader(seg[start:])
	if h.BaseTimestamp > 1000+10*31 {
		t.Fatalf("block for a timestamp starts after it: batch ts %d", h.BaseTimestamp)
	}
	if _, ok := f.BlockForTimestamp(1000 + 10*49 + 1); ok {
		t.Error("timestamp past the last batch found")
	}
}

func TestBuilderRejectsGap(t *testing.T) {
	b := NewBuilder(0)
	if err := b.Add(batch.Header{BaseOffset: 0, Count: 2, Length: 400}); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(batch.Header{BaseOffset: 5, Count: 1, Length: 400}); err == nil {
		t.Fatal("a gap was accepted")
	}
}

func TestCorruptFooter(t *testing.T) {
	seg, _ := buildSegment(t, 0, 20, 2, 512)
	f, _ := parse(t, seg)
	footerStart := int(f.DataLen)
	for at := footerStart; at < len(seg); at++ {
		b := append([]byte(nil), seg...)
		b[at] ^= 0x10
		if _, err := parse(t, b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d (footer starts at %d): %v", at, footerStart, err)
		}
	}
	if _, err := parse(t, seg[1:]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong object size: %v", err)
	}
}

func FuzzFooter(f *testing.F) {
	seg, _ := buildSegment(f, 7, 10, 3, 256)
	f.Add(seg, int64(len(seg)))
	f.Add(seg[len(seg)-200:], int64(len(seg)))
	f.Fuzz(func(t *testing.T, seg []byte, size int64) {
		if len(seg) < TrailerSize {
			return
		}
		tr, err := ParseTrailer(seg[len(seg)-TrailerSize:], size)
		if err != nil {
			return
		}
		idxStart := len(seg) - TrailerSize - tr.IndexLen()
		if idxStart < 0 {
			return
		}
		ft, err := ParseIndex(tr, seg[idxStart:len(seg)-TrailerSize])
		if err != nil {
			return
		}
		// A footer that parses re-encodes to the same bytes, and its ranges
		// stay inside the data.
		if got := ft.Append(nil); string(got) != string(seg[idxStart:]) {
			t.Fatal("footer does not re-encode to its bytes")
		}
		for _, off := range []uint64{ft.BaseOffset, ft.LastOffset, (ft.BaseOffset + ft.LastOffset) / 2} {
			blk, ok := ft.BlockFor(off)
			if !ok {
				t.Fatalf("BlockFor(%d) not found in [%d,%d]", off, ft.BaseOffset, ft.LastOffset)
			}
			if start, end := ft.Block(blk); start > end || end > ft.DataLen {
				t.Fatalf("block %d = [%d,%d) with %d data bytes", blk, start, end, ft.DataLen)
			}
		}
	})
}
