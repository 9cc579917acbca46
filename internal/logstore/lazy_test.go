package logstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/objstore/mem"
)

// A lazy metadata record waits in the open frame for other records: it
// costs no journal write of its own until LazyFlushInterval has passed,
// and goes with the next eager record.
func TestLazyMetaWaitsForOthers(t *testing.T) {
	ctx := t.Context()
	s := mem.NewStore()
	meta := &metaState{}
	l := openLog(t, s, meta.options(Options{JournalObjects: true, LazyFlushInterval: time.Hour}))
	defer func() { _ = l.Close() }()
	before := len(keysUnder(t, s, "journal/"))
	lazyDone := make(chan error, 1)
	go func() { lazyDone <- l.AppendMetaLazy(ctx, []byte("lazy")) }()
	waitOpenRecords(t, l, 1)
	// The flusher has looked at the frame (it is woken for every record)
	// and left it: nothing was written, the record is not applied.
	l.wake()
	select {
	case err := <-lazyDone:
		t.Fatalf("the lazy record returned before any flush: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if n := len(keysUnder(t, s, "journal/")); n != before {
		t.Fatalf("%d journal objects written for a lazy record alone", n-before)
	}
	if err := l.AppendMeta(ctx, []byte("eager")); err != nil {
		t.Fatal(err)
	}
	if err := <-lazyDone; err != nil {
		t.Fatal(err)
	}
	if n := len(keysUnder(t, s, "journal/")); n != before+1 {
		t.Fatalf("%d journal objects for the two records, want one", n-before)
	}
	if got, _ := meta.get(); !slices.Equal(got, []string{"lazy", "eager"}) {
		t.Fatalf("applied %q", got)
	}
}

// Alone, a lazy record is written once LazyFlushInterval has passed; with
// a negative interval, at once.
func TestLazyMetaFlushedAlone(t *testing.T) {
	for _, interval := range []time.Duration{20 * time.Millisecond, -1} {
		s := mem.NewStore()
		meta := &metaState{}
		l := openLog(t, s, meta.options(Options{JournalObjects: true, LazyFlushInterval: interval}))
		start := time.Now()
		if err := l.AppendMetaLazy(t.Context(), []byte("alone")); err != nil {
			t.Fatal(err)
		}
		if interval > 0 && time.Since(start) < interval {
			t.Errorf("interval %v: durable after %v", interval, time.Since(start))
		}
		if got, _ := meta.get(); !slices.Equal(got, []string{"alone"}) {
			t.Errorf("interval %v: applied %q", interval, got)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Closing the log writes a lazy record that waits, and a caller that
// stopped waiting finds it after a restart.
func TestLazyMetaWrittenOnClose(t *testing.T) {
	s := mem.NewStore()
	opts := Options{JournalObjects: true, LazyFlushInterval: time.Hour}
	l := openLog(t, s, (&metaState{}).options(opts))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.AppendMetaLazy(ctx, []byte("pending")) }()
	waitOpenRecords(t, l, 1)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled wait returned no error")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	meta := &metaState{}
	l = openLog(t, s, meta.options(opts))
	defer func() { _ = l.Close() }()
	if got, _ := meta.get(); !slices.Equal(got, []string{"pending"}) {
		t.Fatalf("after a restart: %q", got)
	}
}

// waitOpenRecords waits until the open frame holds n records.
func waitOpenRecords(t *testing.T, l *Log, n int) {
	t.Helper()
	for range 1000 {
		l.mu.Lock()
		got := len(l.mu.open.records)
		l.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the open frame never held %d records", n)
}
