package logstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/objstoretest"
)

// pooledBatch is a batch of n messages of about 64 KiB in all (held by
// reference, not copied) in a buffer of pool, after a 100-byte request
// header as the server reads it.
func pooledBatch(t *testing.T, pool *bufpool.Pool, n int, tag string) ([]byte, *bufpool.Buf) {
	t.Helper()
	b := makePaddedBatch(t, n, tag, refBatchBytes/n)
	buf, _ := pool.Get(100 + len(b))
	data := buf.Bytes()[100 : 100+len(b)]
	copy(data, b)
	return data, buf
}

// appendPooled appends a pooledBatch to k, handing it over.
func appendPooled(t *testing.T, l *Log, pool *bufpool.Pool, k PartitionKey, n int, tag string) ([]byte, *bufpool.Buf) {
	t.Helper()
	data, buf := pooledBatch(t, pool, n, tag)
	if _, err := l.AppendOwnedAs(t.Context(), k, k.Partition, data, buf); err != nil {
		t.Fatal(err)
	}
	return data, buf
}

// The buffer of a batch handed over goes back to its pool once nothing can
// read it: after a spill or a seal, once the reads that hold it let go. A
// read without Hold keeps it out of the pool for good; a batch that is
// copied gives it back at once; a partition's drop lets go of its tail.
func TestRecycledBuffers(t *testing.T) {
	ctx := t.Context()
	open := func(t *testing.T) *Log {
		return openLog(t, mem.NewStore(), Options{JournalObjects: true, LinkMinBatch: 1, SegmentBytes: 1 << 30, SealCheckInterval: time.Hour})
	}
	k := PartitionKey{1, 1, 1}
	// reusedIs reports whether the pool's next buffer of buf's size is
	// buf, and gives it back.
	reusedIs := func(pool *bufpool.Pool, buf *bufpool.Buf) bool {
		b, _ := pool.Get(len(buf.Bytes()))
		defer b.Release()
		return b == buf
	}

	t.Run("Spill", func(t *testing.T) {
		l := open(t)
		defer func() { _ = l.Close() }()
		pool := bufpool.New(64 << 20)
		data, buf := appendPooled(t, l, pool, k, 4, "a")
		var held Held
		got, err := l.Read(ctx, k, 0, ReadOptions{Hold: &held})
		if err != nil || len(got) != 1 || &got[0][0] != &data[0] {
			t.Fatalf("read %d batches (%v), want the one in the buffer handed over", len(got), err)
		}
		if freed := l.part(k).spill(); freed != int64(len(data)) {
			t.Fatalf("spilled %d bytes, want %d", freed, len(data))
		}
		if reusedIs(pool, buf) {
			t.Fatal("a buffer a read holds went back to the pool at the spill")
		}
		want := slices.Clone(got[0])
		held.Release()
		if !reusedIs(pool, buf) {
			t.Fatal("the buffer did not go back to the pool once the read let go")
		}
		// Overwritten by the next request, as it would be: reads go to the
		// journal now.
		clear(buf.Bytes())
		if got, err := l.Read(ctx, k, 0, ReadOptions{}); err != nil || len(got) != 1 || !slices.Equal(got[0], want) {
			t.Fatalf("the spilled batch reads back wrong (%v)", err)
		}
	})

	t.Run("StaleView", func(t *testing.T) {
		l := open(t)
		defer func() { _ = l.Close() }()
		pool := bufpool.New(64 << 20)
		data, buf := appendPooled(t, l, pool, k, 4, "a")
		want := slices.Clone(data)
		v, _ := l.view(k) // a reader's snapshot, taken before the spill
		l.part(k).spill()
		again, reused := pool.Get(len(buf.Bytes()))
		if !reused || again != buf {
			t.Fatal("the spilled batch's buffer did not go back to the pool")
		}
		clear(again.Bytes()) // the next request's
		if d, held := v.batches[0].holdData(); d != nil || held {
			t.Fatal("a stale view held a buffer handed out again")
		}
		// Such a read goes to the journal, as for a spilled batch.
		got, err := l.spilled(ctx, v.batches, linkSpan)
		if err != nil || len(got) != 1 || !slices.Equal(got[0], want) {
			t.Fatalf("the batch reads back wrong from the journal (%v)", err)
		}
	})

	t.Run("Seal", func(t *testing.T) {
		l := open(t)
		defer func() { _ = l.Close() }()
		pool := bufpool.New(64 << 20)
		var bufs []*bufpool.Buf
		for i := range 3 {
			_, buf := appendPooled(t, l, pool, k, 2, fmt.Sprint(i))
			bufs = append(bufs, buf)
		}
		// A read without Hold keeps what it returned for good: those
		// buffers never come back.
		if got, err := l.Read(ctx, k, 0, ReadOptions{}); err != nil || len(got) != 3 {
			t.Fatalf("read %d batches (%v)", len(got), err)
		}
		want := payloads(t, l, k, 0)
		if err := l.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		for _, buf := range bufs {
			if reusedIs(pool, buf) {
				t.Fatal("a buffer a read without Hold returned went back to the pool")
			}
		}
		if got := payloads(t, l, k, 0); !slices.Equal(got, want) {
			t.Fatalf("read %q after the seal, want %q", got, want)
		}

		// Read with Hold and let go: the seal gives the buffers back.
		k2 := PartitionKey{1, 1, 2}
		bufs = nil
		for i := range 3 {
			_, buf := appendPooled(t, l, pool, k2, 2, fmt.Sprint(i))
			bufs = append(bufs, buf)
		}
		var held Held
		if _, err := l.Read(ctx, k2, 0, ReadOptions{Hold: &held}); err != nil {
			t.Fatal(err)
		}
		held.Release()
		before := pool.Stats().FreeBytes
		if err := l.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if got := pool.Stats().FreeBytes - before; got != 3*int64(len(bufs[0].Bytes())) {
			t.Fatalf("the seal gave %d bytes back to the pool, want the three buffers", got)
		}
	})

	t.Run("CopiedAndDropped", func(t *testing.T) {
		l := open(t)
		defer func() { _ = l.Close() }()
		pool := bufpool.New(64 << 20)
		// A batch under refBatchBytes is copied: its buffer is not needed.
		small := makeBatch(t, 2, "s")
		buf, _ := pool.Get(bufpool.MinSize)
		copy(buf.Bytes(), small)
		if _, err := l.AppendOwnedAs(ctx, k, k.Partition, buf.Bytes()[:len(small)], buf); err != nil {
			t.Fatal(err)
		}
		if !reusedIs(pool, buf) {
			t.Fatal("the buffer of a copied batch did not go back to the pool")
		}
		_, buf = appendPooled(t, l, pool, k, 2, "d")
		if err := l.Drop(ctx, k); err != nil {
			t.Fatal(err)
		}
		if !reusedIs(pool, buf) {
			t.Fatal("the buffer of a dropped partition's tail did not go back to the pool")
		}
		// A batch the log refuses gives its buffer back too.
		bad, buf := pooledBatch(t, pool, 2, "x")
		bad[len(bad)-1] ^= 0xff
		if _, err := l.AppendOwnedAs(ctx, k, k.Partition, bad, buf); err == nil {
			t.Fatal("a corrupted batch was appended")
		}
		if !reusedIs(pool, buf) {
			t.Fatal("the buffer of a refused batch did not go back to the pool")
		}
	})
}

// A seal that copies the tail into a segment holds the buffers it writes
// from: a spill while it writes does not give them back to the pool.
func TestSealCopyHoldsBuffers(t *testing.T) {
	ctx := context.Background()
	pool := bufpool.New(64 << 20)
	faulty := objstoretest.NewFaulty(mem.New())
	l := openLog(t, objstore.New(faulty, objstore.Options{}), Options{JournalObjects: true, CopySegments: true, SegmentBytes: 1 << 30, SealCheckInterval: time.Hour})
	defer func() { _ = l.Close() }()
	k := PartitionKey{1, 1, 1}
	_, buf := appendPooled(t, l, pool, k, 4, "c")
	want := payloads(t, l, k, 0)
	stall := faulty.Inject(objstoretest.Rule{Op: objstore.OpWriter, KeyPrefix: "segments/", Action: objstoretest.Stall})
	sealed := make(chan error, 1)
	go func() { sealed <- l.Seal(ctx) }()
	<-stall.Stalled()
	l.part(k).spill()
	if b, _ := pool.Get(len(buf.Bytes())); b == buf {
		t.Fatal("a buffer the seal was writing from went back to the pool at a spill")
	}
	stall.Release()
	if err := <-sealed; err != nil {
		t.Fatal(err)
	}
	if b, _ := pool.Get(len(buf.Bytes())); b != buf {
		t.Fatal("the buffer did not go back to the pool after the seal")
	}
	clear(buf.Bytes())
	if got := payloads(t, l, k, 0); !slices.Equal(got, want) {
		t.Fatalf("read %q from the segment, want %q", got, want)
	}
}
