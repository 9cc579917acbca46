package journal

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"testing"
)

// buildJournal returns n frames back to back and where each one ends.
func buildJournal(t testing.TB, n int) ([]byte, []int) {
	var out []byte
	var ends []int
	var b FrameBuilder
	for i := range n {
		b.Reset()
		for j := range i%3 + 1 {
			b.Add(RecordBatch, []byte(fmt.Sprintf("frame %d record %d %s", i, j, bytes.Repeat([]byte{'x'}, i*7))))
		}
		b.Add(RecordMeta, nil)
		out = append(out, b.Finish(uint64(100+i), 7)...)
		ends = append(ends, len(out))
	}
	return out, ends
}

// readAll reads frames until the end or an error.
func readAll(b []byte) ([]Frame, *Reader, error) {
	r := NewReader(b)
	var frames []Frame
	for {
		f, ok, err := r.Next()
		if err != nil || !ok {
			return frames, r, err
		}
		frames = append(frames, f)
	}
}

func TestRoundTrip(t *testing.T) {
	j, ends := buildJournal(t, 5)
	frames, _, err := readAll(j)
	if err != nil || len(frames) != 5 {
		t.Fatalf("read %d frames, %v", len(frames), err)
	}
	for i, f := range frames {
		if f.Seq != uint64(100+i) || f.Epoch != 7 || f.End != ends[i] {
			t.Fatalf("frame %d: seq %d end %d", i, f.Seq, f.End)
		}
		var recs []Record
		if err := f.Records(func(r Record) bool { recs = append(recs, r); return true }); err != nil {
			t.Fatal(err)
		}
		if len(recs) != i%3+2 || recs[len(recs)-1].Type != RecordMeta || len(recs[len(recs)-1].Payload) != 0 {
			t.Fatalf("frame %d: records %+v", i, recs)
		}
		if want := fmt.Sprintf("frame %d record 0 ", i); !bytes.HasPrefix(recs[0].Payload, []byte(want)) {
			t.Fatalf("frame %d: first record %q", i, recs[0].Payload)
		}
	}
}

// Cutting the journal anywhere inside its last frame, or damaging that
// frame's bytes, gives back exactly the frames before it and ErrTornTail
// at the frame's start; appending after the cut works.
func TestTornTailAtEveryOffset(t *testing.T) {
	j, ends := buildJournal(t, 4)
	lastStart := ends[len(ends)-2]
	check := func(name string, b []byte) {
		t.Helper()
		frames, r, err := readAll(b)
		if !errors.Is(err, ErrTornTail) {
			t.Fatalf("%s: err %v, want ErrTornTail", name, err)
		}
		if len(frames) != 3 || r.Offset() != lastStart {
			t.Fatalf("%s: %d frames, offset %d; want 3 and %d", name, len(frames), r.Offset(), lastStart)
		}
		// Recovery cuts there and appends a new frame.
		var fb FrameBuilder
		fb.Add(RecordMeta, []byte("after recovery"))
		repaired := append(append([]byte(nil), b[:r.Offset()]...), fb.Finish(999, 7)...)
		frames, _, err = readAll(repaired)
		if err != nil || len(frames) != 4 || frames[3].Seq != 999 {
			t.Fatalf("%s: after repair %d frames, %v", name, len(frames), err)
		}
	}
	for cut := lastStart + 1; cut < len(j); cut++ {
		check(fmt.Sprintf("cut at %d", cut), j[:cut])
	}
	for at := lastStart; at < len(j); at++ {
		b := append([]byte(nil), j...)
		b[at] ^= 0x40
		check(fmt.Sprintf("flip at %d", at), b)
	}
	// Zeroed tail, as preallocated blocks after a crash look.
	zeroed := append(append([]byte(nil), j[:lastStart]...), make([]byte, 4096)...)
	check("zeroed", zeroed)
	// A clean cut exactly at a frame boundary is not torn at all.
	if frames, _, err := readAll(j[:lastStart]); err != nil || len(frames) != 3 {
		t.Fatalf("clean cut: %d frames, %v", len(frames), err)
	}
}

// Damage to any frame but the last is corruption.
func TestCorruptMiddle(t *testing.T) {
	j, ends := buildJournal(t, 4)
	for frame := range 3 {
		start := 0
		if frame > 0 {
			start = ends[frame-1]
		}
		for _, at := range []int{start, start + 4, start + 16, start + 24, start + FrameHeaderSize, ends[frame] - 1} {
			b := append([]byte(nil), j...)
			b[at] ^= 0x01
			frames, r, err := readAll(b)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("frame %d byte %d: err %v, want ErrCorrupt", frame, at, err)
			}
			if len(frames) != frame || r.Offset() != start {
				t.Fatalf("frame %d byte %d: %d frames before, offset %d", frame, at, len(frames), r.Offset())
			}
		}
	}
}

func TestRecordsOverrun(t *testing.T) {
	var b FrameBuilder
	payload := b.AddRecord(RecordBatch, 10)
	copy(payload, "0123456789")
	frame := b.Finish(1, 1)
	// Damage a record length and re-seal the frame CRC: the frame is valid,
	// its body is not.
	frame[FrameHeaderSize+1] = 200
	var fb FrameBuilder
	fb.buf = append([]byte(nil), frame...)
	frame = fb.Finish(1, 1)
	f, ok, err := NewReader(frame).Next()
	if err != nil || !ok {
		t.Fatal(err)
	}
	if err := f.Records(func(Record) bool { return true }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Records = %v, want ErrCorrupt", err)
	}
}

func FuzzReader(f *testing.F) {
	j, ends := buildJournal(f, 3)
	f.Add(j)
	f.Add(j[:ends[0]])
	f.Add(j[:ends[1]+7])
	f.Add(append(append([]byte(nil), j...), 0, 0, 0))
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, r, err := readAll(b)
		if err != nil && !errors.Is(err, ErrTornTail) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if r.Offset() > len(b) {
			t.Fatalf("offset %d past %d bytes", r.Offset(), len(b))
		}
		// The valid prefix reads back the same frames, cleanly.
		again, _, err2 := readAll(b[:r.Offset()])
		if err2 != nil || len(again) != len(frames) {
			t.Fatalf("valid prefix: %d frames, %v; first pass %d", len(again), err2, len(frames))
		}
		// Re-encoding the frames gives the same bytes.
		var out []byte
		var fb FrameBuilder
		for _, fr := range frames {
			fb.Reset()
			if err := fr.Records(func(rec Record) bool { fb.Add(rec.Type, rec.Payload); return true }); err != nil {
				return // a valid frame whose body does not tile: nothing to compare
			}
			out = append(out, fb.Finish(fr.Seq, fr.Epoch)...)
		}
		if !bytes.Equal(out, b[:r.Offset()]) {
			t.Fatalf("re-encoded frames differ from the input")
		}
	})
}

// A frame with payloads held by reference is, byte for byte, the frame
// with them copied in, and its CRC32C is the CRC-32C of all its bytes.
func TestFinishPieces(t *testing.T) {
	big := func(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }
	cases := []struct {
		name string
		add  func(b *FrameBuilder, copied bool)
	}{
		{"empty", func(b *FrameBuilder, copied bool) {}},
		{"no refs", func(b *FrameBuilder, copied bool) { b.Add(RecordMeta, []byte("m")) }},
		{"refs and records", func(b *FrameBuilder, copied bool) {
			b.Add(RecordMeta, []byte("first"))
			for i, n := range []int{100, 0, 70000, 3} {
				head, data := []byte(fmt.Sprintf("head%d", i)), big(byte('a'+i), n)
				if copied {
					b.Add(RecordBatch, append(head, data...))
				} else {
					copy(b.AddRecordRef(RecordBatch, len(head), data), head)
				}
			}
			b.Add(RecordMeta, []byte("last"))
		}},
		{"ref last", func(b *FrameBuilder, copied bool) {
			if copied {
				b.Add(RecordBatch, append([]byte("h"), big('z', 5000)...))
			} else {
				copy(b.AddRecordRef(RecordBatch, 1, big('z', 5000)), "h")
			}
		}},
	}
	for _, c := range cases {
		var ref, flat FrameBuilder
		ref.Reset()
		flat.Reset()
		c.add(&ref, false)
		c.add(&flat, true)
		if ref.BodyLen() != flat.BodyLen() {
			t.Fatalf("%s: body %d bytes with refs, %d copied", c.name, ref.BodyLen(), flat.BodyLen())
		}
		built := ref.FinishPieces(9, 3)
		joined := slices.Concat(built.Pieces...)
		want := flat.Finish(9, 3)
		if !bytes.Equal(joined, want) || built.Len != len(want) {
			t.Fatalf("%s: pieces (%d bytes, Len %d) differ from the copied frame (%d bytes)", c.name, len(joined), built.Len, len(want))
		}
		if got := crc32.Checksum(want, castagnoli); built.CRC32C != got {
			t.Fatalf("%s: CRC32C %08x, want %08x", c.name, built.CRC32C, got)
		}
		if frames, _, err := readAll(joined); err != nil || len(frames) != 1 || frames[0].Seq != 9 {
			t.Fatalf("%s: read back %d frames, %v", c.name, len(frames), err)
		}
		if !bytes.Equal(ref.Finish(9, 3), want) {
			t.Fatalf("%s: Finish differs from FinishPieces", c.name)
		}
	}
}
