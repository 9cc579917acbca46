package logstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/objstore/mem"
)

// slowAndBusy appends a batch to a slow partition and 40 to a busy one,
// and seals both (into linked segments).
func slowAndBusy(t *testing.T, l *Log) (slow, busy PartitionKey) {
	t.Helper()
	ctx := t.Context()
	slow, busy = PartitionKey{1, 1, 0}, PartitionKey{1, 2, 0}
	if _, err := l.Append(ctx, slow, makeBatch(t, 3, "slow")); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := l.Append(ctx, busy, makeBatch(t, 2, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	return slow, busy
}

// A linked segment of a slow partition keeps the journal file it points
// into after the busy partitions' data there is gone; compaction copies it
// out so that the file can go, and the copy serves the same reads, after a
// crash too.
func TestCompactFreesJournalFiles(t *testing.T) {
	ctx := context.Background()
	s := mem.NewStore()
	opts := Options{JournalFileBytes: 2 << 10, SegmentBytes: 1 << 30, CompactSlack: 1 << 10}
	l := openLog(t, s, opts)
	slow, busy := slowAndBusy(t, l)
	// Retention deletes all of the busy partition's data.
	if err := l.TrimBefore(ctx, busy, 80); err != nil {
		t.Fatal(err)
	}
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	first := journalKey(1)
	if files := keysUnder(t, s, "journal/"); !slices.Contains(files, first) {
		t.Fatalf("journal files %q: the slow partition's linked segment should keep %s", files, first)
	}
	// Nothing to do while the files hold little more than is live.
	big := opts
	big.CompactSlack = 1 << 30
	l.opts.CompactSlack = big.CompactSlack
	if err := l.compactDue(ctx); err != nil {
		t.Fatal(err)
	}
	if segs := l.Segments(slow); len(segs) != 1 || !strings.HasSuffix(segs[0].Key, ".links") {
		t.Fatalf("with a large slack: segments %+v, want the linked one", segs)
	}
	l.opts.CompactSlack = opts.CompactSlack
	if err := l.compactDue(ctx); err != nil {
		t.Fatal(err)
	}
	segs := l.Segments(slow)
	if len(segs) != 1 || strings.HasSuffix(segs[0].Key, ".links") || segs[0].BaseOffset != 0 || segs[0].LastOffset != 2 {
		t.Fatalf("after compaction: segments %+v, want one copied segment 0..2", segs)
	}
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if files := keysUnder(t, s, "journal/"); slices.Contains(files, first) {
		t.Fatalf("journal files %q: %s should be deleted once the segment was copied out", files, first)
	}
	if objs := keysUnder(t, s, "segments/1/1/0/"); len(objs) != 1 || strings.HasSuffix(objs[0], ".links") {
		t.Fatalf("segment objects %q: want only the copy", objs)
	}
	if got := payloads(t, l, slow, 0); strings.Join(got, ",") != "slow-0,slow-1,slow-2" {
		t.Fatalf("read after compaction: %q", got)
	}
	crash(l)
	l2 := openLog(t, s, opts)
	defer l2.Close()
	if got := payloads(t, l2, slow, 0); strings.Join(got, ",") != "slow-0,slow-1,slow-2" {
		t.Fatalf("read after a crash: %q", got)
	}
	if _, err := l2.Append(ctx, slow, makeBatch(t, 1, "more")); err != nil {
		t.Fatal(err)
	}
	if got := payloads(t, l2, slow, 0); len(got) != 4 || got[3] != "more-0" {
		t.Fatalf("after appending again: %q", got)
	}
}

// A crash between the copy's record and the checkpoint: recovery replays
// the record onto the manifest's linked segment.
func TestCompactRecoversFromJournal(t *testing.T) {
	ctx := context.Background()
	s := mem.NewStore()
	opts := Options{JournalFileBytes: 1 << 20, SegmentBytes: 1 << 30}
	l := openLog(t, s, opts)
	k := PartitionKey{2, 1, 0}
	for i := range 5 {
		if _, err := l.Append(ctx, k, makeBatch(t, 2, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Checkpoint(ctx); err != nil { // the manifest lists the linked segment
		t.Fatal(err)
	}
	p := l.part(k)
	if done, err := l.compact(ctx, p, p.segments[0]); err != nil || !done {
		t.Fatalf("compact: %v %v", done, err)
	}
	crash(l)
	l2 := openLog(t, s, opts)
	defer l2.Close()
	if segs := l2.Segments(k); len(segs) != 1 || strings.HasSuffix(segs[0].Key, ".links") {
		t.Fatalf("after recovery: segments %+v, want the copy", segs)
	}
	if got := payloads(t, l2, k, 0); len(got) != 10 || got[9] != "4-1" {
		t.Fatalf("after recovery: %q", got)
	}
}

// On journal objects, linked segments are copied out once older than
// LinkedMaxAge; the journal objects they kept then go, and the object
// count is back to segments, not flushes.
func TestCompactOldOnJournalObjects(t *testing.T) {
	ctx := context.Background()
	s := mem.NewStore()
	var clock atomic.Int64
	clock.Store(time.Now().UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()) }
	opts := Options{JournalObjects: true, SegmentBytes: 1 << 30, LinkedMaxAge: time.Hour, LinkMinBatch: 1, Now: now}
	l := openLog(t, s, opts)
	k := PartitionKey{3, 1, 0}
	// Small batches (under the default LinkMinBatch) are copied when
	// sealed: linked, they would cost a GET each to read back.
	small := PartitionKey{3, 2, 0}
	l.opts.LinkMinBatch = 256 << 10
	if _, err := l.Append(ctx, small, makeBatch(t, 2, "small")); err != nil {
		t.Fatal(err)
	}
	if err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if segs := l.Segments(small); len(segs) != 1 || strings.HasSuffix(segs[0].Key, ".links") {
		t.Fatalf("segments of small batches %+v: want a copied one", segs)
	}
	l.opts.LinkMinBatch = 1
	for i := range 20 {
		if _, err := l.Append(ctx, k, makeBatch(t, 2, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	segs := l.Segments(k)
	if len(segs) != 1 || !strings.HasSuffix(segs[0].Key, ".links") {
		t.Fatalf("segments %+v: want one linked segment", segs)
	}
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	kept := len(keysUnder(t, s, "journal/"))
	if kept < 20 {
		t.Fatalf("%d journal objects after a checkpoint: the linked segment should keep its 20", kept)
	}
	if err := l.compactDue(ctx); err != nil { // not old yet
		t.Fatal(err)
	}
	if segs := l.Segments(k); !strings.HasSuffix(segs[0].Key, ".links") {
		t.Fatalf("a young linked segment was copied: %+v", segs)
	}
	clock.Add((2 * time.Hour).Microseconds())
	if err := l.compactDue(ctx); err != nil {
		t.Fatal(err)
	}
	if segs := l.Segments(k); len(segs) != 1 || strings.HasSuffix(segs[0].Key, ".links") {
		t.Fatalf("after compaction: segments %+v, want the copy", segs)
	}
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if left := len(keysUnder(t, s, "journal/")); left > kept-20 {
		t.Fatalf("%d of %d journal objects left after copying the segment out", left, kept)
	}
	crash(l)
	l2 := openLog(t, s, opts)
	defer l2.Close()
	if got := payloads(t, l2, k, 0); len(got) != 40 || got[39] != "19-1" {
		t.Fatalf("after a crash: %d messages", len(got))
	}
}

// Journal files nothing needs any more (a dropped partition's) go at the
// next checkpoint anyway: they do not make compaction copy what is live.
func TestCompactIgnoresFilesAboutToGo(t *testing.T) {
	ctx := context.Background()
	s := mem.NewStore()
	l := openLog(t, s, Options{JournalFileBytes: 2 << 10, SegmentBytes: 1 << 30, CompactSlack: 8 << 10})
	defer l.Close()
	slow, busy := slowAndBusy(t, l)
	if err := l.Drop(ctx, busy); err != nil {
		t.Fatal(err)
	}
	if n := len(keysUnder(t, s, "journal/")); n < 6 {
		t.Fatalf("%d journal files: want the dropped partition's still there", n)
	}
	if err := l.compactDue(ctx); err != nil {
		t.Fatal(err)
	}
	if segs := l.Segments(slow); len(segs) != 1 || !strings.HasSuffix(segs[0].Key, ".links") {
		t.Fatalf("segments %+v: the slow partition's linked segment was copied for files that go anyway", segs)
	}
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(keysUnder(t, s, "journal/")); n > 3 {
		t.Fatalf("%d journal files after the checkpoint", n)
	}
}
