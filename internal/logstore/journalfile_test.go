package logstore

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
)

// Cutting the journal file anywhere inside its last frame recovers exactly
// the frames before it; the log then goes on appending.
func TestJournalFileTornTailAtEveryOffset(t *testing.T) {
	ctx := t.Context()
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	l := openLog(t, s, Options{})
	k := PartitionKey{1, 1, 0}
	for i := range 4 {
		if _, err := l.Append(ctx, k, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
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
