package logstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/objstoretest"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

func makeBatch(t testing.TB, n int, tag string) []byte {
	t.Helper()
	return makePaddedBatch(t, n, tag, 0)
}

// makePaddedBatch is makeBatch with pad bytes 'p' after each payload.
func makePaddedBatch(t testing.TB, n int, tag string, pad int) []byte {
	t.Helper()
	msgs := make([]batch.NewMessage, n)
	for i := range msgs {
		msgs[i] = batch.NewMessage{OriginTimestamp: uint64(1000 + i), Payload: []byte(fmt.Sprintf("%s-%d", tag, i) + strings.Repeat("p", pad))}
		msgs[i].ID[0] = byte(i + 1)
	}
	b, err := batch.Build(nil, msgs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// payloads returns the payloads of the messages at offsets ≥ from.
func payloads(t testing.TB, l *Log, k PartitionKey, from uint64) []string {
	t.Helper()
	var held Held
	defer held.Release()
	bs, err := l.Read(context.Background(), k, from, ReadOptions{Hold: &held})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	next := from
	for _, b := range bs {
		if _, err := batch.Validate(b); err != nil {
			t.Fatalf("stored batch does not validate: %v", err)
		}
		for m := range batch.Messages(b) {
			if m.Offset < from {
				continue
			}
			if m.Offset != next {
				t.Fatalf("partition %s: offset %d after %d", k, m.Offset, next-1)
			}
			next++
			out = append(out, string(m.Payload))
		}
	}
	return out
}

func openLog(t testing.TB, s *objstore.Store, opts Options) *Log {
	t.Helper()
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	l, err := Open(context.Background(), s, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func TestAppendReadReopen(t *testing.T) {
	ctx := t.Context()
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	var metas []string
	l := openLog(t, s, Options{ApplyMeta: func(r []byte) { metas = append(metas, string(r)) }})
	k1, k2 := PartitionKey{1, 1, 0}, PartitionKey{1, 2, 3}
	var want1 []string
	for i := range 5 {
		h, err := l.Append(ctx, k1, makeBatch(t, 3, fmt.Sprintf("a%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if h.BaseOffset != uint64(3*i) || h.Count != 3 || h.PartitionID != 0 {
			t.Fatalf("append %d: header %+v", i, h)
		}
		for j := range 3 {
			want1 = append(want1, fmt.Sprintf("a%d-%d", i, j))
		}
	}
	if _, err := l.Append(ctx, k2, makeBatch(t, 2, "b")); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendMeta(ctx, []byte("create stream 1")); err != nil {
		t.Fatal(err)
	}
	if got := payloads(t, l, k1, 0); strings.Join(got, ",") != strings.Join(want1, ",") {
		t.Fatalf("read %v, want %v", got, want1)
	}
	if got := payloads(t, l, k1, 7); strings.Join(got, ",") != strings.Join(want1[7:], ",") {
		t.Fatalf("read from 7: %v", got)
	}
	if first, next, ok := l.Bounds(k1); !ok || first != 0 || next != 15 {
		t.Fatalf("Bounds = %d, %d, %v", first, next, ok)
	}
	if len(metas) != 1 {
		t.Fatalf("ApplyMeta saw %q", metas)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := l.Append(ctx, k1, makeBatch(t, 1, "late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}

	metas = nil
	l2 := openLog(t, objstore.New(b, objstore.Options{}), Options{ApplyMeta: func(r []byte) { metas = append(metas, string(r)) }})
	defer l2.Close()
	if got := payloads(t, l2, k1, 0); strings.Join(got, ",") != strings.Join(want1, ",") {
		t.Fatalf("after reopen: %v", got)
	}
	if got := payloads(t, l2, k2, 0); strings.Join(got, ",") != "b-0,b-1" {
		t.Fatalf("after reopen, k2: %v", got)
	}
	if strings.Join(metas, ",") != "create stream 1" {
		t.Fatalf("after reopen, metas %q", metas)
	}
	h, err := l2.Append(ctx, k1, makeBatch(t, 1, "c"))
	if err != nil || h.BaseOffset != 15 {
		t.Fatalf("append after reopen: %+v, %v", h, err)
	}
}

func TestRejectsBadBatch(t *testing.T) {
	l := openLog(t, mem.NewStore(), Options{})
	defer l.Close()
	b := makeBatch(t, 2, "x")
	b[len(b)-1] ^= 1
	if _, err := l.Append(t.Context(), PartitionKey{1, 1, 1}, b); !errors.Is(err, batch.ErrInvalid) {
		t.Fatalf("Append of a damaged batch = %v", err)
	}
	if _, _, ok := l.Bounds(PartitionKey{1, 1, 1}); ok {
		t.Fatal("a rejected batch left data")
	}
}

// A crash keeps exactly what was acknowledged: the store is copied while
// appends are running and a new log opened on the copy.
func TestCrashKeepsAcknowledged(t *testing.T) {
	b := mem.New()
	l := openLog(t, objstore.New(b, objstore.Options{}), Options{})
	defer l.Close()
	k := PartitionKey{2, 1, 0}
	var mu sync.Mutex
	acked := 0
	crashNow := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := l.Append(context.Background(), PartitionKey{2, 1, uint32(w)}, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
					t.Error(err)
					return
				}
				if w == 0 {
					mu.Lock()
					acked++
					if acked == 20 {
						close(crashNow)
					}
					mu.Unlock()
				}
			}
		})
	}
	// Crash in the middle: what the store holds now.
	<-crashNow
	mu.Lock()
	ackedAtCrash := acked
	crashed := b.Clone()
	mu.Unlock()
	wg.Wait()

	l2 := openLog(t, objstore.New(crashed, objstore.Options{}), Options{})
	defer l2.Close()
	got := payloads(t, l2, k, 0)
	if len(got) < ackedAtCrash {
		t.Fatalf("after the crash %d messages, but %d were acknowledged", len(got), ackedAtCrash)
	}
	for i, p := range got {
		if p != fmt.Sprintf("%d-0", i) {
			t.Fatalf("message %d is %q", i, p)
		}
	}
}

// While a flush is in flight, a frame is cut as soon as one more batch like
// its last would take it past FlushBytes: two batches that come just short
// of it do not wait for a third.
func TestFrameCutBeforeOverflow(t *testing.T) {
	f := objstoretest.NewFaulty(mem.New())
	s := objstore.New(f, objstore.Options{})
	big := makePaddedBatch(t, 4, "big", 1000)
	rec := journal.RecordHeaderSize + batchRecordHeader + len(big)
	l := openLog(t, s, Options{Ack: AckReceived, JournalObjects: true, MaxInflightFlushes: 2, FlushBytes: 2*rec + 1})
	ctx := t.Context()
	stall := f.Inject(objstoretest.Rule{Op: objstore.OpPut, KeyPrefix: "journal/", Action: objstoretest.Stall, Times: 2})
	defer stall.Release()
	if _, err := l.Append(ctx, PartitionKey{1, 1, 0}, makeBatch(t, 1, "first")); err != nil {
		t.Fatal(err)
	}
	<-stall.Stalled() // the first flush is in flight
	for range 2 {
		if _, err := l.Append(ctx, PartitionKey{1, 2, 0}, big); err != nil {
			t.Fatal(err)
		}
	}
	// The two batches (2*rec bytes, one short of FlushBytes) go out while
	// the first flush is still stalled.
	deadline := time.Now().Add(10 * time.Second)
	for stall.Hits() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the frame of two batches was not cut while a flush was in flight (journal PUTs stalled: %d)", stall.Hits())
		}
		time.Sleep(time.Millisecond)
	}
	stall.Release()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openLog(t, objstore.New(f, objstore.Options{}), Options{})
	defer l2.Close()
	if got := payloads(t, l2, PartitionKey{1, 2, 0}, 0); len(got) != 8 {
		t.Fatalf("read back %d messages, want 8", len(got))
	}
}

// Batches of many partitions waiting together go out in one journal PUT.
func TestGroupCommitOnePutForManyPartitions(t *testing.T) {
	f := objstoretest.NewFaulty(mem.New())
	s := objstore.New(f, objstore.Options{})
	l := openLog(t, s, Options{Ack: AckReceived, MaxInflightFlushes: 1})
	ctx := t.Context()
	stall := f.Inject(objstoretest.Rule{Op: objstore.OpPut, KeyPrefix: "journal/", Action: objstoretest.Stall, Times: 1})
	if _, err := l.Append(ctx, PartitionKey{1, 1, 0}, makeBatch(t, 1, "first")); err != nil {
		t.Fatal(err)
	}
	<-stall.Stalled() // the first flush is in flight
	count := f.Inject(objstoretest.Rule{Op: objstore.OpPut, KeyPrefix: "journal/", Nth: 1 << 30})
	const n = 1000
	for i := range n {
		if _, err := l.Append(ctx, PartitionKey{1, 2, uint32(i)}, makeBatch(t, 1, "many")); err != nil {
			t.Fatal(err)
		}
	}
	stall.Release()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The stalled PUT was counted before the rule; one more for all n.
	if puts := count.Seen(); puts != 1 {
		t.Fatalf("%d journal PUTs for %d partitions waiting together, want 1", puts, n)
	}
	l2 := openLog(t, objstore.New(f, objstore.Options{}), Options{})
	defer l2.Close()
	for i := range n {
		if got := payloads(t, l2, PartitionKey{1, 2, uint32(i)}, 0); len(got) != 1 {
			t.Fatalf("partition %d: %v", i, got)
		}
	}
}

// fencingStores are the stores the fencing tests run on: one journal
// object per flush on memory, and the real S3 server.
func fencingStores(t *testing.T) map[string]func() *objstore.Store {
	b := mem.New()
	stores := map[string]func() *objstore.Store{
		"mem": func() *objstore.Store { return objstore.New(b, objstore.Options{}) },
	}
	if os.Getenv("SHOAL_TEST_S3_ENDPOINT") != "" || os.Getenv("SHOAL_TEST_S3_REQUIRED") == "1" {
		o := s3test.Options(t)
		o.Logger = discardLogger()
		stores["s3"] = func() *objstore.Store {
			s, err := s3.Open(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	return stores
}

func TestFencing(t *testing.T) {
	for name, open := range fencingStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			l1 := openLog(t, open(), Options{JournalObjects: true})
			k := PartitionKey{1, 1, 0}
			if _, err := l1.Append(ctx, k, makeBatch(t, 1, "old")); err != nil {
				t.Fatal(err)
			}
			l2 := openLog(t, open(), Options{JournalObjects: true})
			defer l2.Close()
			if l2.Epoch() <= l1.Epoch() {
				t.Fatalf("epochs %d then %d", l1.Epoch(), l2.Epoch())
			}
			if _, err := l1.Append(ctx, k, makeBatch(t, 1, "stale")); !errors.Is(err, ErrFenced) {
				t.Fatalf("append to the fenced log = %v, want ErrFenced", err)
			}
			if _, err := l1.Append(ctx, k, makeBatch(t, 1, "stale2")); !errors.Is(err, ErrFenced) {
				t.Fatalf("second append to the fenced log = %v, want ErrFenced", err)
			}
			if err := l1.Close(); !errors.Is(err, ErrFenced) {
				t.Fatalf("Close of the fenced log = %v", err)
			}
			if _, err := l2.Append(ctx, k, makeBatch(t, 1, "new")); err != nil {
				t.Fatal(err)
			}
			if got := payloads(t, l2, k, 0); strings.Join(got, ",") != "old-0,new-0" {
				t.Fatalf("new owner reads %v", got)
			}
			l3 := openLog(t, open(), Options{JournalObjects: true})
			defer l3.Close()
			if got := payloads(t, l3, k, 0); strings.Join(got, ",") != "old-0,new-0" {
				t.Fatalf("after another takeover: %v", got)
			}
		})
	}
}

// A takeover in the middle of heavy concurrent appends: everything the old
// server acknowledged is in the new one, and the old one acknowledges
// nothing after it is fenced.
func TestFencingUnderLoad(t *testing.T) {
	for name, open := range fencingStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l1 := openLog(t, open(), Options{JournalObjects: true, FlushBytes: 4 << 10})
			var mu sync.Mutex
			acked := map[uint32]int{} // partition → messages acknowledged
			var wg sync.WaitGroup
			started := make(chan struct{})
			var once sync.Once
			for w := range 8 {
				wg.Go(func() {
					k := PartitionKey{1, 1, uint32(w)}
					for i := 0; ; i++ {
						if _, err := l1.Append(ctx, k, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
							if !errors.Is(err, ErrFenced) {
								t.Errorf("writer %d: %v", w, err)
							}
							return
						}
						mu.Lock()
						acked[uint32(w)]++
						mu.Unlock()
						if i == 20 {
							once.Do(func() { close(started) })
						}
					}
				})
			}
			<-started
			l2 := openLog(t, open(), Options{JournalObjects: true})
			defer l2.Close()
			wg.Wait() // every writer of l1 is fenced now
			_ = l1.Close()
			// Acknowledged ones must all be there; unacknowledged ones may be.
			check := func(l *Log, when string) {
				for w, n := range acked {
					got := payloads(t, l, PartitionKey{1, 1, w}, 0)
					if len(got) < n {
						t.Fatalf("%s: partition %d has %d messages, %d were acknowledged", when, w, len(got), n)
					}
					for i, p := range got {
						if p != fmt.Sprintf("%d-0", i) {
							t.Fatalf("%s: partition %d message %d is %q", when, w, i, p)
						}
					}
				}
			}
			check(l2, "new owner")
			l3 := openLog(t, open(), Options{JournalObjects: true})
			defer l3.Close()
			check(l3, "after another takeover")
		})
	}
}

// A journal write that landed but whose answer was lost is recognised on
// retry, not mistaken for another writer.
func TestWriteLandedAnswerLost(t *testing.T) {
	f := objstoretest.NewFaulty(mem.New())
	l := openLog(t, objstore.New(f, objstore.Options{}), Options{})
	defer l.Close()
	f.Inject(objstoretest.Rule{Op: objstore.OpPut, KeyPrefix: "journal/", Action: objstoretest.FailAfter, Times: 1})
	k := PartitionKey{1, 1, 0}
	if _, err := l.Append(t.Context(), k, makeBatch(t, 1, "once")); err != nil {
		t.Fatalf("Append = %v", err)
	}
	if _, err := l.Append(t.Context(), k, makeBatch(t, 1, "twice")); err != nil {
		t.Fatalf("Append after = %v", err)
	}
	if got := payloads(t, l, k, 0); strings.Join(got, ",") != "once-0,twice-0" {
		t.Fatalf("read %v", got)
	}
}

// Through an outage appends wait, time out after SendTimeout, and the log
// resumes by itself when the store is back; nothing acknowledged is lost.
func TestOutage(t *testing.T) {
	f := objstoretest.NewFaulty(mem.New())
	s := objstore.New(f, objstore.Options{})
	l := openLog(t, s, Options{SendTimeout: 50 * time.Millisecond})
	k := PartitionKey{1, 1, 0}
	ctx := t.Context()
	if _, err := l.Append(ctx, k, makeBatch(t, 1, "before")); err != nil {
		t.Fatal(err)
	}
	outage := f.Inject(objstoretest.Rule{Op: objstore.OpPut, KeyPrefix: "journal/", Action: objstoretest.Fail})
	if _, err := l.Append(ctx, k, makeBatch(t, 1, "during")); !errors.Is(err, ErrTimeout) {
		t.Fatalf("append during the outage = %v, want ErrTimeout", err)
	}
	if got := payloads(t, l, k, 0); strings.Join(got, ",") != "before-0" {
		t.Fatalf("during the outage readers see %v", got)
	}
	outage.Remove()
	// The timed-out write goes through by itself; the next append after it.
	if _, err := l.Append(ctx, k, makeBatch(t, 1, "after")); err != nil {
		t.Fatalf("append after the outage = %v", err)
	}
	if got := payloads(t, l, k, 0); strings.Join(got, ",") != "before-0,during-0,after-0" {
		t.Fatalf("after the outage: %v", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptJournalStopsOpen(t *testing.T) {
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	l := openLog(t, s, Options{MaxInflightFlushes: 1, JournalObjects: true})
	for i := range 3 {
		if _, err := l.Append(t.Context(), PartitionKey{1, 1, 0}, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	key := journalKey(3) // the second data frame (1 is the claim)
	data, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	if _, err := s.Put(t.Context(), key, data, objstore.Condition{}); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), s, Options{JournalObjects: true})
	if !errors.Is(err, journal.ErrCorrupt) || !strings.Contains(err.Error(), key) {
		t.Fatalf("Open over a corrupt journal = %v, want ErrCorrupt naming %s", err, key)
	}
}

// Frames after a gap were never acknowledged and are ignored; the gap is
// claimed by the next writer.
func TestGapEndsReplay(t *testing.T) {
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	l := openLog(t, s, Options{MaxInflightFlushes: 1, JournalObjects: true})
	k := PartitionKey{1, 1, 0}
	for i := range 4 {
		if _, err := l.Append(t.Context(), k, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(t.Context(), journalKey(4)); err != nil { // batch "2"
		t.Fatal(err)
	}
	l2 := openLog(t, s, Options{JournalObjects: true})
	defer l2.Close()
	if got := payloads(t, l2, k, 0); strings.Join(got, ",") != "0-0,1-0" {
		t.Fatalf("after a gap: %v", got)
	}
	if l2.Epoch() != 4 {
		t.Fatalf("claimed epoch %d, want the gap (4)", l2.Epoch())
	}
	if h, err := l2.Append(t.Context(), k, makeBatch(t, 1, "x")); err != nil || h.BaseOffset != 2 {
		t.Fatalf("append after the gap: %+v, %v", h, err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// AckReceived answers at once; readers still see a batch only once it is
// durable.
func TestAckReceivedVisibleWhenDurable(t *testing.T) {
	f := objstoretest.NewFaulty(mem.New())
	l := openLog(t, objstore.New(f, objstore.Options{}), Options{Ack: AckReceived})
	k := PartitionKey{1, 1, 0}
	stall := f.Inject(objstoretest.Rule{Op: objstore.OpPut, KeyPrefix: "journal/", Action: objstoretest.Stall, Times: 1})
	h, err := l.Append(t.Context(), k, makeBatch(t, 2, "r"))
	if err != nil || h.BaseOffset != 0 {
		t.Fatalf("append: %+v %v", h, err)
	}
	<-stall.Stalled()
	if got := payloads(t, l, k, 0); len(got) != 0 {
		t.Fatalf("readers see %v before the flush is durable", got)
	}
	// A durable append queued behind it returns once both are durable.
	done := make(chan error, 1)
	go func() {
		err := l.AppendMeta(context.Background(), []byte("m"))
		done <- err
	}()
	stall.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := payloads(t, l, k, 0); strings.Join(got, ",") != "r-0,r-1" {
		t.Fatalf("after the flush: %v", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// MinFlushInterval caps flushes: appends arriving within it wait and go
// out together; Close flushes what waits at once.
func TestMinFlushInterval(t *testing.T) {
	f := objstoretest.NewFaulty(mem.New())
	count := f.Inject(objstoretest.Rule{Op: objstore.OpPut, KeyPrefix: "journal/", Nth: 1 << 30})
	l := openLog(t, objstore.New(f, objstore.Options{}), Options{Ack: AckReceived, MinFlushInterval: time.Hour, SendTimeout: time.Minute})
	before := count.Seen() // the claim frames
	for i := range 20 {
		if _, err := l.Append(t.Context(), PartitionKey{1, 1, uint32(i % 3)}, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// What waited when the first flush went out went with it; everything
	// after waited for the interval and went out together at Close.
	if puts := count.Seen() - before; puts < 1 || puts > 2 {
		t.Fatalf("%d journal writes for 20 appends within the interval, want 1 or 2", puts)
	}
}
