package logstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
)

// fourFrames appends four batches of one message ("0-0" … "3-0") to
// partition 1/1/0, one frame each, into one journal file of a memory
// store, crashes, and returns the store, the file's key and its bytes.
func fourFrames(t *testing.T) (*mem.Backend, string, []byte) {
	t.Helper()
	ctx := t.Context()
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	l := openLog(t, s, Options{})
	for i := range 4 {
		if _, err := l.Append(ctx, PartitionKey{1, 1, 0}, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	crash(l)
	keys := keysUnder(t, s, "journal/")
	if len(keys) != 1 {
		t.Fatalf("journal files %q, want one", keys)
	}
	data, err := s.Get(ctx, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	return b, keys[0], data
}

// Cutting the journal file anywhere inside its last frame recovers exactly
// the frames before it; the log then goes on appending.
func TestJournalFileTornTailAtEveryOffset(t *testing.T) {
	ctx := t.Context()
	b, key, data := fourFrames(t)
	keys := []string{key}
	k := PartitionKey{1, 1, 0}
	// Where the last frame starts.
	rd := journal.NewReader(data)
	lastStart := 0
	for {
		f, ok, err := rd.Next()
		if err != nil || !ok {
			break
		}
		lastStart = f.Offset
	}
	for cut := lastStart + 1; cut < len(data); cut++ {
		c := b.Clone()
		cs := objstore.New(c, objstore.Options{})
		if _, err := cs.Put(ctx, keys[0], data[:cut], objstore.Condition{}); err != nil {
			t.Fatal(err)
		}
		l2, err := Open(ctx, cs, Options{Logger: discardLogger()})
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if got := payloads(t, l2, k, 0); strings.Join(got, ",") != "0-0,1-0,2-0" {
			t.Fatalf("cut at %d: recovered %v", cut, got)
		}
		if h, err := l2.Append(ctx, k, makeBatch(t, 1, "x")); err != nil || h.BaseOffset != 3 {
			t.Fatalf("cut at %d: append after recovery: %+v %v", cut, h, err)
		}
		if err := l2.Close(); err != nil {
			t.Fatal(err)
		}
		l3, err := Open(ctx, cs, Options{Logger: discardLogger()})
		if err != nil {
			t.Fatalf("cut at %d, second recovery: %v", cut, err)
		}
		if got := payloads(t, l3, k, 0); strings.Join(got, ",") != "0-0,1-0,2-0,x-0" {
			t.Fatalf("cut at %d: after the second recovery %v", cut, got)
		}
		_ = l3.Close()
	}
}

// A damaged frame followed by good ones is corruption: the start fails and
// names the file and the position.
func TestJournalFileCorruptMiddle(t *testing.T) {
	ctx := t.Context()
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	l := openLog(t, s, Options{})
	for i := range 4 {
		if _, err := l.Append(ctx, PartitionKey{1, 1, 0}, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	crash(l)
	key := keysUnder(t, s, "journal/")[0]
	data, _ := s.Get(ctx, key)
	data[journal.FrameHeaderSize+10] ^= 1 // inside the first frame
	if _, err := s.Put(ctx, key, data, objstore.Condition{}); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, s, Options{Logger: discardLogger()})
	if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "byte 0") {
		t.Fatalf("Open = %v, want corruption naming %s at byte 0", err, key)
	}
}

// Journal files roll at JournalFileBytes, and checkpoints delete the ones
// wholly before the oldest unsealed data that no linked segment points
// into: with copied segments at once, with linked ones once retention
// has trimmed the segments.
func TestJournalFilesRollAndTrim(t *testing.T) {
	for _, copySegs := range []bool{true, false} {
		t.Run(fmt.Sprintf("copy=%v", copySegs), func(t *testing.T) {
			ctx := context.Background()
			s := mem.NewStore()
			l := openLog(t, s, Options{JournalFileBytes: 2 << 10, SegmentBytes: 1 << 30, CopySegments: copySegs})
			k := PartitionKey{1, 1, 0}
			for i := range 60 {
				if _, err := l.Append(ctx, k, makeBatch(t, 2, fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
			}
			files := keysUnder(t, s, "journal/")
			if len(files) < 5 {
				t.Fatalf("journal files %q: want it to roll", files)
			}
			if err := l.Seal(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Append(ctx, k, makeBatch(t, 1, "tail")); err != nil {
				t.Fatal(err)
			}
			if err := l.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			left := keysUnder(t, s, "journal/")
			if copySegs && len(left) > 2 {
				t.Fatalf("after a checkpoint %d journal files remain: %q", len(left), left)
			}
			if !copySegs {
				if len(left) < len(files) {
					t.Fatalf("after a checkpoint %d of %d journal files remain, want all: the linked segment points into them", len(left), len(files))
				}
				if segs := l.Segments(k); len(segs) != 1 || !strings.HasSuffix(segs[0].Key, ".links") {
					t.Fatalf("segments %+v: want one linked segment", segs)
				}
			}
			crash(l)
			l2 := openLog(t, s, Options{CopySegments: copySegs})
			if got := payloads(t, l2, k, 0); len(got) != 121 || got[0] != "0-0" || got[120] != "tail-0" {
				t.Fatalf("after recovery %d messages", len(got))
			}
			if copySegs {
				l2.Close()
				return
			}
			// Retention deletes the linked segment: its files can go.
			if err := l2.TrimBefore(ctx, k, 120); err != nil {
				t.Fatal(err)
			}
			if err := l2.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			if left := keysUnder(t, s, "journal/"); len(left) > 2 {
				t.Fatalf("after trimming the linked segment, %d journal files remain: %q", len(left), left)
			}
			if got := keysUnder(t, s, "segments/"); len(got) != 0 {
				t.Fatalf("segment objects left after the trim: %q", got)
			}
			if got := payloads(t, l2, k, 120); len(got) != 1 || got[0] != "tail-0" {
				t.Fatalf("after the trim: %q", got)
			}
			l2.Close()
		})
	}
}

// Two flushes overlap on journal files: a crash can tear the next-to-last
// frame and keep the last (written while the other was syncing; neither
// was acknowledged). Recovery cuts both. A damaged frame with two valid
// ones after it is corruption.
func TestJournalFileTornPair(t *testing.T) {
	ctx := t.Context()
	b, key, data := fourFrames(t)
	k := PartitionKey{1, 1, 0}
	var frames []journal.Frame
	for rd := journal.NewReader(data); ; {
		f, ok, err := rd.Next()
		if err != nil || !ok {
			break
		}
		frames = append(frames, f)
	}
	if len(frames) != 4 {
		t.Fatalf("%d frames, want 4", len(frames))
	}
	damage := func(f journal.Frame, at int, zero bool) []byte {
		d := append([]byte(nil), data...)
		if zero {
			clear(d[f.Offset+at : f.End]) // never written: zeros from there on
		} else {
			d[f.Offset+at] ^= 0x20
		}
		return d
	}
	third := frames[2]
	for _, c := range []struct {
		at   int
		zero bool
	}{{0, false}, {9, false}, {journal.FrameHeaderSize + 3, false}, {third.End - third.Offset - 1, false}, {0, true}, {journal.FrameHeaderSize, true}} {
		cs := objstore.New(b.Clone(), objstore.Options{})
		if _, err := cs.Put(ctx, key, damage(third, c.at, c.zero), objstore.Condition{}); err != nil {
			t.Fatal(err)
		}
		l2, err := Open(ctx, cs, Options{Logger: discardLogger()})
		if err != nil {
			t.Fatalf("third frame damaged at %d (zero %v): %v", c.at, c.zero, err)
		}
		if got := payloads(t, l2, k, 0); strings.Join(got, ",") != "0-0,1-0" {
			t.Fatalf("third frame damaged at %d: recovered %v", c.at, got)
		}
		if h, err := l2.Append(ctx, k, makeBatch(t, 1, "x")); err != nil || h.BaseOffset != 2 {
			t.Fatalf("append after recovery: %+v %v", h, err)
		}
		if err := l2.Close(); err != nil {
			t.Fatal(err)
		}
		l3, err := Open(ctx, cs, Options{Logger: discardLogger()})
		if err != nil {
			t.Fatalf("second recovery: %v", err)
		}
		if got := payloads(t, l3, k, 0); strings.Join(got, ",") != "0-0,1-0,x-0" {
			t.Fatalf("after the second recovery %v", got)
		}
		_ = l3.Close()
	}
	// The second frame damaged, two good ones after it: corruption.
	cs := objstore.New(b.Clone(), objstore.Options{})
	if _, err := cs.Put(ctx, key, damage(frames[1], journal.FrameHeaderSize+3, false), objstore.Condition{}); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, cs, Options{Logger: discardLogger()})
	if !errors.Is(err, journal.ErrCorrupt) || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), fmt.Sprintf("byte %d", frames[1].Offset)) {
		t.Fatalf("Open = %v, want corruption naming %s at byte %d", err, key, frames[1].Offset)
	}
}
