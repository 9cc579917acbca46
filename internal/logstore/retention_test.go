package logstore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
)

func batchHeader(bs [][]byte) (batch.Header, error) {
	if len(bs) == 0 {
		return batch.Header{}, fmt.Errorf("no batches")
	}
	return batch.ParseHeader(bs[0])
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fillSegments appends and seals n segments of 10 messages to each
// partition, an hour apart.
func fillSegments(t *testing.T, l *Log, clock *fakeClock, parts []PartitionKey, n int) {
	t.Helper()
	for range n {
		for _, k := range parts {
			for i := range 5 {
				if _, err := l.Append(t.Context(), k, makeBatch(t, 2, fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := l.Seal(t.Context()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
	}
}

func TestRetentionByAge(t *testing.T) {
	ctx := t.Context()
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts := Options{Now: clock.Now, SegmentBytes: 1 << 30}
	l := openLog(t, s, opts)
	parts := []PartitionKey{{1, 1, 0}, {1, 1, 1}}
	fillSegments(t, l, clock, parts, 5) // segments end at 0h, 1h, 2h, 3h, 4h; now 5h
	deleted, err := l.EnforceRetention(ctx, parts, Retention{MaxAge: 150 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// Older than 2.5h: the ones ending at 0h, 1h, 2h — in both partitions.
	if deleted != 6 {
		t.Fatalf("deleted %d segments, want 6", deleted)
	}
	for _, k := range parts {
		if segs := l.Segments(k); len(segs) != 2 || segs[0].BaseOffset != 30 {
			t.Fatalf("%s keeps %+v", k, segs)
		}
		if keys := keysUnder(t, s, fmt.Sprintf("segments/%d/%d/%d/", k.Stream, k.Topic, k.Partition)); len(keys) != 2 {
			t.Fatalf("%s: objects left %q", k, keys)
		}
		if first, next, _ := l.Bounds(k); first != 30 || next != 50 {
			t.Fatalf("%s: bounds %d %d", k, first, next)
		}
		if got := payloads(t, l, k, 30); len(got) != 20 {
			t.Fatalf("%s: reading the rest gives %d messages", k, len(got))
		}
		bs, err := l.Read(ctx, k, 0, ReadOptions{MaxMessages: 1})
		if h, _ := batchHeader(bs); err != nil || h.BaseOffset != 30 {
			t.Fatalf("%s: reading from 0 after retention starts at %d (%v)", k, h.BaseOffset, err)
		}
	}
	// The trim survives a crash.
	l2 := openLog(t, objstore.New(b.Clone(), objstore.Options{}), opts)
	defer l2.Close()
	if first, _, _ := l2.Bounds(parts[0]); first != 30 {
		t.Fatalf("after recovery first offset %d", first)
	}
	_ = l.Close()
}

func TestRetentionBySize(t *testing.T) {
	ctx := t.Context()
	s := mem.NewStore()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := openLog(t, s, Options{Now: clock.Now, SegmentBytes: 1 << 30})
	defer l.Close()
	parts := []PartitionKey{{2, 1, 0}, {2, 1, 1}, {2, 1, 2}}
	fillSegments(t, l, clock, parts, 4)
	var total int64
	var one int64
	for _, k := range parts {
		for _, sg := range l.Segments(k) {
			total += sg.Size
			one = sg.Size
		}
	}
	// Room for all but about four segments: the four oldest go, which are
	// the first round of all three partitions and one of the second.
	deleted, err := l.EnforceRetention(ctx, parts, Retention{MaxBytes: total - 4*one + one/2})
	if err != nil {
		t.Fatal(err)
	}
	if deleted != 4 {
		t.Fatalf("deleted %d, want 4", deleted)
	}
	left := 0
	for _, k := range parts {
		segs := l.Segments(k)
		left += len(segs)
		if segs[0].BaseOffset < 10 {
			t.Fatalf("%s still has its oldest segment", k)
		}
	}
	if left != 8 {
		t.Fatalf("%d segments left, want 8", left)
	}
}

func TestDrop(t *testing.T) {
	for _, checkpoint := range []bool{false, true} {
		t.Run(fmt.Sprintf("checkpoint=%v", checkpoint), func(t *testing.T) {
			ctx := t.Context()
			b := mem.New()
			s := objstore.New(b, objstore.Options{})
			var meta metaState
			opts := meta.options(Options{SegmentBytes: 1 << 30})
			l := openLog(t, s, opts)
			gone, kept := PartitionKey{3, 1, 7}, PartitionKey{3, 1, 8}
			for round := range 2 {
				for _, k := range []PartitionKey{gone, kept} {
					for i := range 3 {
						if _, err := l.Append(ctx, k, makeBatch(t, 2, fmt.Sprint(round, i))); err != nil {
							t.Fatal(err)
						}
					}
				}
				if round == 0 {
					if err := l.Seal(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := l.Drop(ctx, gone); err != nil {
				t.Fatal(err)
			}
			if checkpoint {
				if err := l.Checkpoint(ctx); err != nil {
					t.Fatal(err)
				}
			}
			check := func(l *Log, when string) {
				t.Helper()
				if _, _, ok := l.Bounds(gone); ok {
					t.Fatalf("%s: the dropped partition still has messages", when)
				}
				if segs := l.Segments(gone); len(segs) != 0 {
					t.Fatalf("%s: the dropped partition still lists segments %+v", when, segs)
				}
				if keys := keysUnder(t, s, "segments/3/1/7/"); len(keys) != 0 {
					t.Fatalf("%s: segment objects left: %q", when, keys)
				}
				if first, next, ok := l.Bounds(kept); !ok || first != 0 || next != 12 {
					t.Fatalf("%s: the other partition has bounds %d..%d (%v)", when, first, next, ok)
				}
			}
			check(l, "live")
			// The key starts afresh if used again (the broker never does).
			l2 := openLog(t, objstore.New(b.Clone(), objstore.Options{}), opts)
			check(l2, "after a crash")
			_ = l2.Close()
			_ = l.Close()
		})
	}
}
