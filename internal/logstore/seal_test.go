package logstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
	"github.com/shoalstream/shoal/internal/objstore/mem"
)

func keysUnder(t *testing.T, s *objstore.Store, prefix string) []string {
	t.Helper()
	var keys []string
	for info, err := range s.All(t.Context(), prefix) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

// Segments, copied or linked (mem can append, as the filesystem does),
// serve reads across their boundaries, after a restart too, fetching only
// what a read needs.
func TestSealAndReadAcrossSegments(t *testing.T) {
	for _, copySegs := range []bool{true, false} {
		t.Run(fmt.Sprintf("copy=%v", copySegs), func(t *testing.T) { testSealAndRead(t, copySegs) })
	}
}

func testSealAndRead(t *testing.T, copySegs bool) {
	ctx := t.Context()
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	opts := Options{SegmentBytes: 8 << 10, IndexInterval: 1 << 10, CopySegments: copySegs}
	l := openLog(t, s, opts)
	k := PartitionKey{3, 1, 2}
	var want []string
	for i := range 200 {
		if _, err := l.Append(ctx, k, makeBatch(t, 3, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			want = append(want, fmt.Sprintf("%d-%d", i, j))
		}
		if i%50 == 49 {
			if err := l.Seal(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	segs := keysUnder(t, s, "segments/3/1/2/")
	if len(segs) < 3 {
		t.Fatalf("segments %q: want several", segs)
	}
	check := func(l *Log, when string, wantNext uint64) {
		t.Helper()
		for _, from := range []uint64{0, 1, 299, 300, 598, 599} {
			if got := payloads(t, l, k, from); strings.Join(got, ",") != strings.Join(want[from:], ",") {
				t.Fatalf("%s: read from %d: %d messages, want %d", when, from, len(got), len(want)-int(from))
			}
		}
		if first, next, ok := l.Bounds(k); !ok || first != 0 || next != wantNext {
			t.Fatalf("%s: Bounds %d %d %v", when, first, next, ok)
		}
		// Limits hold across segments.
		bs, err := l.Read(ctx, k, 10, ReadOptions{MaxMessages: 5})
		if err != nil || len(bs) == 0 || len(bs) > 3 {
			t.Fatalf("%s: MaxMessages 5: %d batches, %v", when, len(bs), err)
		}
	}
	check(l, "after sealing", 600)
	// Append more (unsealed tail) and reopen: segments and tail come back.
	for i := 200; i < 210; i++ {
		if _, err := l.Append(ctx, k, makeBatch(t, 3, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			want = append(want, fmt.Sprintf("%d-%d", i, j))
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := objstore.New(b, objstore.Options{})
	l2 := openLog(t, s2, opts)
	defer l2.Close()
	// A point read of sealed history fetches the footer and one block, not
	// the segment.
	before := s2.Stats().BytesRead
	bs, err := l2.Read(ctx, k, 150, ReadOptions{MaxMessages: 1})
	if err != nil || len(bs) != 1 {
		t.Fatalf("point read: %d batches, %v", len(bs), err)
	}
	h, _ := batch.ParseHeader(bs[0])
	if h.BaseOffset > 150 || h.LastOffset() < 150 {
		t.Fatalf("point read returned offsets %d..%d", h.BaseOffset, h.LastOffset())
	}
	// (A linked segment's object, which says where its batches are, is
	// read whole.)
	seg := l2.Segments(k)[0]
	info, err := s2.Head(ctx, seg.Key)
	if err != nil {
		t.Fatal(err)
	}
	limit := uint64(4 << 10)
	if strings.HasSuffix(seg.Key, ".links") {
		limit += uint64(info.Size)
	}
	if read := s2.Stats().BytesRead - before; read >= uint64(seg.Size) || read > limit {
		t.Fatalf("a point read fetched %d bytes of a %d-byte segment", read, seg.Size)
	}
	check(l2, "after reopening", 630)
	if got := payloads(t, l2, k, 600); len(got) != 30 {
		t.Fatalf("unsealed tail after reopen: %d messages", len(got))
	}
	// Timestamps map to offsets across segments.
	for _, off := range []uint64{0, 3, 297, 603} {
		bs, _ := l2.Read(ctx, k, off, ReadOptions{MaxMessages: 1})
		h, _ := batch.ParseHeader(bs[0])
		got, ok, err := l2.OffsetAt(ctx, k, h.BaseTimestamp)
		if err != nil || !ok || got != h.BaseOffset {
			t.Fatalf("OffsetAt(ts of offset %d) = %d, %v, %v; want %d", off, got, ok, err, h.BaseOffset)
		}
	}
}

// Sealing starts by itself at SegmentBytes.
func TestSealsInBackground(t *testing.T) {
	ctx := t.Context()
	s := mem.NewStore()
	sealed := make(chan uint64, 100)
	l := openLog(t, s, Options{SegmentBytes: 4 << 10, onSealed: func(_ PartitionKey, last uint64) { sealed <- last }})
	defer l.Close()
	k := PartitionKey{1, 1, 1}
	for i := range 100 {
		if _, err := l.Append(ctx, k, makeBatch(t, 2, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	// The sealer writes segments by itself; wait for two.
	<-sealed
	<-sealed
	if segs := keysUnder(t, s, "segments/1/1/1/"); len(segs) < 2 {
		t.Fatalf("background sealing wrote %q", segs)
	}
	if got := payloads(t, l, k, 0); len(got) != 200 {
		t.Fatalf("read %d messages", len(got))
	}
}

// The unsealed tails of all partitions together stay within
// TailCacheBytes of memory. Batches a seal would link are spilled: dropped
// from memory, read back from the journal, and linked by a later seal, with
// no segment written early. Batches a seal would copy are sealed early.
func TestTailCacheBound(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		fs    bool
		spill bool
	}{
		{name: "journal-objects", opts: Options{JournalObjects: true, LinkMinBatch: 1}, spill: true},
		{name: "journal-files", fs: true, spill: true},
		{name: "copied", opts: Options{CopySegments: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := mem.NewStore()
			if tc.fs {
				b, err := fs.New(t.TempDir(), fs.Options{Logger: discardLogger(), NoLock: true})
				if err != nil {
					t.Fatal(err)
				}
				s = objstore.New(b, objstore.Options{})
			}
			const limit = 16 << 10
			opts := tc.opts
			opts.SegmentBytes, opts.TailCacheBytes, opts.SealCheckInterval = 1<<30, limit, time.Hour
			opts.IndexInterval = 1 << 10
			l := openLog(t, s, opts)
			defer func() { _ = l.Close() }()
			want := map[uint32][]string{}
			for i := range 60 {
				p := uint32(i % 6)
				if _, err := l.Append(ctx, PartitionKey{1, 1, p}, makeBatch(t, 4, fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
				for j := range 4 {
					want[p] = append(want[p], fmt.Sprintf("%d-%d", i, j))
				}
			}
			// The sealer was kicked when the tail went over the limit;
			// whether or not it has run yet, one more pass leaves the
			// tail within it.
			if err := l.sealDue(ctx); err != nil {
				t.Fatal(err)
			}
			if n := l.memBytes.Load(); n > limit {
				t.Fatalf("%d unsealed bytes in memory, limit %d", n, limit)
			}
			segs := keysUnder(t, s, "segments/")
			if tc.spill {
				if len(segs) != 0 {
					t.Fatalf("segments %q written early", segs)
				}
				if l.tailBytes.Load() <= limit {
					t.Fatalf("%d unsealed bytes in all: the test writes more than the limit", l.tailBytes.Load())
				}
			} else if len(segs) == 0 {
				t.Fatal("nothing was sealed")
			}
			check := func(when string) {
				t.Helper()
				for p := range uint32(6) {
					k := PartitionKey{1, 1, p}
					if got := payloads(t, l, k, 0); !slices.Equal(got, want[p]) {
						t.Fatalf("%s: partition %d reads %q, want %q", when, p, got, want[p])
					}
					if got := payloads(t, l, k, 21); !slices.Equal(got, want[p][21:]) {
						t.Fatalf("%s: partition %d from 21 reads %q", when, p, got)
					}
					// A bounded read returns whole batches, at least one.
					bs, err := l.Read(ctx, k, 5, ReadOptions{MaxBytes: 1000})
					if err != nil {
						t.Fatal(err)
					}
					if h, _ := batch.ParseHeader(bs[0]); len(bs) != 2 || h.BaseOffset != 4 {
						t.Fatalf("%s: partition %d: read of 1000 bytes from 5: %d batches from %d", when, p, len(bs), h.BaseOffset)
					}
				}
			}
			check("over the limit")
			if err := l.Seal(ctx); err != nil {
				t.Fatal(err)
			}
			if n, m := l.tailBytes.Load(), l.memBytes.Load(); n != 0 || m != 0 {
				t.Fatalf("after sealing everything: %d unsealed bytes, %d in memory", n, m)
			}
			check("sealed")
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = openLog(t, s, opts)
			check("reopened")
		})
	}
}

// The tail starts bounded at TailCacheStart: batches a seal links are
// spilled past it, batches a seal copies are held up to TailCacheBytes (it
// would have to seal them early), and the first read that has to go to the
// journal for a spilled batch lets the tail fill to TailCacheBytes.
func TestTailCacheStart(t *testing.T) {
	const limit, start = 32 << 10, 8 << 10
	size := len(makeBatch(t, 4, "0"))
	appendN := func(t *testing.T, l *Log, want map[uint32][]string, from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			p := uint32(i % 6)
			if _, err := l.Append(t.Context(), PartitionKey{1, 1, p}, makeBatch(t, 4, fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
			for j := range 4 {
				want[p] = append(want[p], fmt.Sprintf("%d-%d", i, j))
			}
		}
	}
	check := func(t *testing.T, l *Log, want map[uint32][]string) {
		t.Helper()
		for p := range uint32(6) {
			if got := payloads(t, l, PartitionKey{1, 1, p}, 0); !slices.Equal(got, want[p]) {
				t.Fatalf("partition %d reads %q, want %q", p, got, want[p])
			}
		}
	}
	opts := func(o Options) Options {
		o.SegmentBytes, o.TailCacheBytes, o.TailCacheStart, o.SealCheckInterval = 1<<30, limit, start, time.Hour
		return o
	}

	t.Run("linked", func(t *testing.T) {
		s := mem.NewStore()
		l := openLog(t, s, opts(Options{JournalObjects: true, LinkMinBatch: 1}))
		defer func() { _ = l.Close() }()
		want := map[uint32][]string{}
		appendN(t, l, want, 0, 2*start/size)
		if err := l.sealDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := l.memBytes.Load(); n > start {
			t.Fatalf("%d bytes in memory, want at most %d before any read missed", n, start)
		}
		if segs := keysUnder(t, s, "segments/"); len(segs) != 0 {
			t.Fatalf("segments %q written early", segs)
		}
		if l.tailBound.Load() != start {
			t.Fatalf("bound %d before any read", l.tailBound.Load())
		}
		check(t, l, want) // reads spilled batches
		if l.tailBound.Load() != limit {
			t.Fatalf("bound %d after a read of spilled batches, want %d", l.tailBound.Load(), limit)
		}
		from := 2 * start / size
		appendN(t, l, want, from, 2*start/size)
		if err := l.sealDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := l.memBytes.Load(); n <= start || n > limit {
			t.Fatalf("%d bytes in memory after the miss, want over %d and at most %d", n, start, limit)
		}
		check(t, l, want)
	})

	t.Run("copied", func(t *testing.T) {
		s := mem.NewStore()
		l := openLog(t, s, opts(Options{CopySegments: true}))
		defer func() { _ = l.Close() }()
		want := map[uint32][]string{}
		n := 2 * start / size
		appendN(t, l, want, 0, n)
		if err := l.sealDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		if m := l.memBytes.Load(); m <= start {
			t.Fatalf("%d bytes in memory: batches a seal copies were dropped under TailCacheBytes", m)
		}
		if segs := keysUnder(t, s, "segments/"); len(segs) != 0 {
			t.Fatalf("segments %q written early, under TailCacheBytes", segs)
		}
		// Nothing could be spilled: appends wake the sealer for the bound
		// again only once the tail has grown by an eighth of it.
		if l.overTail() {
			t.Fatal("over the bound at once after a pass that could not spill")
		}
		again := l.spillAgain.Load()
		for l.memBytes.Load() < again {
			appendN(t, l, want, n, 1)
			n++
		}
		// The append that got there woke the sealer, which may have run
		// its pass (and moved spillAgain on) already.
		if !l.overTail() && l.spillAgain.Load() <= again {
			t.Fatalf("not over the bound at %d bytes, spillAgain %d", l.memBytes.Load(), again)
		}
		// Past TailCacheBytes they are sealed early.
		for l.memBytes.Load() <= limit {
			appendN(t, l, want, n, 1)
			n++
		}
		if err := l.sealDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		if m := l.memBytes.Load(); m > limit {
			t.Fatalf("%d bytes in memory, over %d", m, limit)
		}
		if segs := keysUnder(t, s, "segments/"); len(segs) == 0 {
			t.Fatal("nothing was sealed past TailCacheBytes")
		}
		check(t, l, want)
		if l.tailBound.Load() != start {
			t.Fatalf("bound %d: no read missed", l.tailBound.Load())
		}
	})
}

// Over the bound, what readers have read already is spilled first: a
// reader at the head then finds what it reads next in memory, and the
// bound does not grow.
func TestTailSpillsReadFirst(t *testing.T) {
	const limit, start = 32 << 10, 8 << 10
	ctx := t.Context()
	size := len(makeBatch(t, 4, "0"))
	l := openLog(t, mem.NewStore(), Options{JournalObjects: true, LinkMinBatch: 1,
		SegmentBytes: 1 << 30, TailCacheBytes: limit, TailCacheStart: start, SealCheckInterval: time.Hour})
	defer func() { _ = l.Close() }()
	want := map[uint32][]string{}
	appendN := func(from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			p := uint32(i % 6)
			if _, err := l.Append(ctx, PartitionKey{1, 1, p}, makeBatch(t, 4, fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
			for j := range 4 {
				want[p] = append(want[p], fmt.Sprintf("%d-%d", i, j))
			}
		}
	}
	// Under the bound, every partition is read to its end.
	first := start/size - 1
	appendN(0, first)
	head := map[uint32]int{}
	for p := range uint32(6) {
		if got := payloads(t, l, PartitionKey{1, 1, p}, 0); !slices.Equal(got, want[p]) {
			t.Fatalf("partition %d reads %q", p, got)
		}
		head[p] = len(want[p])
	}
	// Then as much again, which takes the tail over the bound.
	appendN(first, first)
	if err := l.sealDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := l.memBytes.Load(); n > start {
		t.Fatalf("%d bytes in memory, bound %d", n, start)
	}
	for p := range uint32(6) {
		k := PartitionKey{1, 1, p}
		if got := payloads(t, l, k, uint64(head[p])); !slices.Equal(got, want[p][head[p]:]) {
			t.Fatalf("partition %d from %d reads %q, want %q", p, head[p], got, want[p][head[p]:])
		}
	}
	if b := l.tailBound.Load(); b != start {
		t.Fatalf("a read from the head went to the journal: bound %d", b)
	}
	// The read batches are in the journal.
	for p := range uint32(6) {
		if got := payloads(t, l, PartitionKey{1, 1, p}, 0); !slices.Equal(got, want[p]) {
			t.Fatalf("partition %d reads %q, want %q", p, got, want[p])
		}
	}
	if b := l.tailBound.Load(); b != limit {
		t.Fatalf("bound %d after reading spilled batches, want %d", b, limit)
	}
}

// A read that takes part of a batch (MaxMessages) has not read it through:
// only a batch read to its last message is spilled as read.
func TestSpillReadPartialBatch(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, mem.NewStore(), Options{JournalObjects: true, LinkMinBatch: 1, SegmentBytes: 1 << 30, SealCheckInterval: time.Hour})
	defer func() { _ = l.Close() }()
	k := PartitionKey{1, 1, 1}
	for i := range 2 {
		if _, err := l.Append(ctx, k, makeBatch(t, 4, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	p := l.part(k)
	if _, err := l.Read(ctx, k, 0, ReadOptions{MaxMessages: 2}); err != nil {
		t.Fatal(err)
	}
	if got := p.readTo.Load(); got != 2 {
		t.Fatalf("read to %d after taking messages 0-1, want 2", got)
	}
	if freed := p.spillRead(); freed != 0 {
		t.Fatalf("spilled %d bytes of a batch read in part", freed)
	}
	if _, err := l.Read(ctx, k, 2, ReadOptions{MaxMessages: 2}); err != nil {
		t.Fatal(err)
	}
	if got := p.readTo.Load(); got != 4 {
		t.Fatalf("read to %d after taking messages 2-3, want 4", got)
	}
	if freed, size := p.spillRead(), int64(len(makeBatch(t, 4, "0"))); freed != size {
		t.Fatalf("spilled %d bytes, want the first batch's %d", freed, size)
	}
	if got := payloads(t, l, k, 0); len(got) != 8 {
		t.Fatalf("read %d messages after the spill, want 8", len(got))
	}
}

// An append that takes the tail over its bound wakes the sealer, which
// spills down to the bound on its own (the sealer's tick is an hour away).
func TestTailOverBoundWakesSealer(t *testing.T) {
	const start = 8 << 10
	ctx := t.Context()
	s := mem.NewStore()
	l := openLog(t, s, Options{JournalObjects: true, LinkMinBatch: 1,
		SegmentBytes: 1 << 30, TailCacheBytes: 4 * start, TailCacheStart: start, SealCheckInterval: time.Hour})
	defer func() { _ = l.Close() }()
	size := len(makeBatch(t, 4, "0"))
	for i := range 2 * start / size {
		if _, err := l.Append(ctx, PartitionKey{1, 1, uint32(i % 6)}, makeBatch(t, 4, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for l.memBytes.Load() > start {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes in memory 10 s after the appends, bound %d", l.memBytes.Load(), start)
		}
		time.Sleep(time.Millisecond)
	}
	if segs := keysUnder(t, s, "segments/"); len(segs) != 0 {
		t.Fatalf("segments %q written: the tail is to be spilled, not sealed", segs)
	}
}

// A spilled batch that a seal copies (the partition's batches got small on
// average since) is read back from the journal object into the segment.
func TestSealCopiesSpilledBatches(t *testing.T) {
	ctx := t.Context()
	s := mem.NewStore()
	big := makeBatch(t, 40, "big")
	opts := Options{JournalObjects: true, LinkMinBatch: len(big) / 2, SegmentBytes: 1 << 30, SealCheckInterval: time.Hour}
	l := openLog(t, s, opts)
	defer func() { _ = l.Close() }()
	k := PartitionKey{2, 1, 1}
	var want []string
	for i := range 3 {
		if _, err := l.Append(ctx, k, makeBatch(t, 40, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		for j := range 40 {
			want = append(want, fmt.Sprintf("%d-%d", i, j))
		}
	}
	p := l.part(k)
	if freed := p.spill(); freed == 0 || l.memBytes.Load() != 0 {
		t.Fatalf("spill freed %d bytes, %d left in memory", freed, l.memBytes.Load())
	}
	for i := 3; i < 20; i++ {
		if _, err := l.Append(ctx, k, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%d-0", i))
	}
	if err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	segs := keysUnder(t, s, "segments/")
	if len(segs) != 1 || strings.HasSuffix(segs[0], ".links") {
		t.Fatalf("segments %q: want one copied segment", segs)
	}
	if got := payloads(t, l, k, 0); !slices.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
	// And from the segment object, not the block cache.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, s, opts)
	if got := payloads(t, l, k, 0); !slices.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// Segment records come from the journal: a record that decodes re-encodes
// to its bytes, and a bad one is an error, never a panic.
func FuzzDecodeSegmentRecord(f *testing.F) {
	k := PartitionKey{1, 2, 3}
	plain := &segInfo{base: 10, last: 20, lastTS: 99, size: 4096}
	linked := &segInfo{base: 21, last: 30, lastTS: 120, size: 300, files: []uint64{4, 9}, dataLen: 5000}
	f.Add(byte(journal.RecordSegment), encodeSegmentRecord(k, plain, 7))
	f.Add(byte(journal.RecordLinkedSegment), encodeSegmentRecord(k, linked, 7))
	f.Fuzz(func(t *testing.T, typ byte, b []byte) {
		rt := journal.RecordSegment
		if typ%2 == 1 {
			rt = journal.RecordLinkedSegment
		}
		got, s, err := decodeSegmentRecord(rt, b)
		if err != nil {
			if !errors.Is(err, journal.ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if again := encodeSegmentRecord(got, s, s.epoch); string(again) != string(b) {
			t.Fatalf("record does not re-encode to its bytes (type %d)", rt)
		}
		if s.linked() != (rt == journal.RecordLinkedSegment) || strings.HasSuffix(s.key, ".links") != s.linked() {
			t.Fatalf("type %d decoded as linked=%v, key %s", rt, s.linked(), s.key)
		}
	})
}

// Partitions seal at sizes spread below SegmentBytes, each at its own,
// and a partition is due once its unsealed bytes reach its own size.
func TestSegmentSpread(t *testing.T) {
	const segment, spread = 64 << 20, 8 << 20
	seen := map[int64]bool{}
	for i := range uint32(1000) {
		k := PartitionKey{Stream: 1 + i/100, Topic: 1 + i%7, Partition: i}
		at := sealBytes(k, segment, spread)
		if at < segment-spread || at > segment {
			t.Fatalf("%s seals at %d, outside [%d, %d]", k, at, segment-spread, segment)
		}
		if at != sealBytes(k, segment, spread) {
			t.Fatalf("%s: sealBytes is not the same twice", k)
		}
		seen[at] = true
	}
	if len(seen) < 900 {
		t.Errorf("1,000 partitions seal at %d sizes; want them spread", len(seen))
	}
	if at := sealBytes(PartitionKey{1, 1, 1}, segment, 0); at != segment {
		t.Errorf("no spread: seals at %d, want %d", at, segment)
	}
	if at := sealBytes(PartitionKey{1, 1, 1}, 1000, 5000); at < 500 {
		t.Errorf("a spread larger than half the segment: seals at %d, want at least 500", at)
	}

	// The log: the partitions of one topic get their own sizes, and
	// needsSeal goes by them.
	s := objstore.New(mem.New(), objstore.Options{})
	l := openLog(t, s, Options{SegmentBytes: segment, SegmentSpread: spread})
	sizes := map[int64]bool{}
	for p := range uint32(8) {
		k := PartitionKey{1, 1, p}
		if _, err := l.Append(t.Context(), k, makeBatch(t, 1, "x")); err != nil {
			t.Fatal(err)
		}
		part := l.part(k)
		if part.sealAt != sealBytes(k, segment, spread) {
			t.Fatalf("%s: sealAt %d, want %d", k, part.sealAt, sealBytes(k, segment, spread))
		}
		sizes[part.sealAt] = true
		now := time.Now()
		part.mu.Lock()
		was := part.unsealedBytes
		part.unsealedBytes = part.sealAt - 1
		part.mu.Unlock()
		if part.needsSeal(now, &l.opts) {
			t.Errorf("%s is due at %d unsealed bytes, below its %d", k, part.sealAt-1, part.sealAt)
		}
		part.mu.Lock()
		part.unsealedBytes = part.sealAt
		part.mu.Unlock()
		if !part.needsSeal(now, &l.opts) {
			t.Errorf("%s is not due at its %d unsealed bytes", k, part.sealAt)
		}
		part.mu.Lock()
		part.unsealedBytes = was
		part.mu.Unlock()
	}
	if len(sizes) < 7 {
		t.Errorf("8 partitions of a topic seal at %d sizes", len(sizes))
	}
}
