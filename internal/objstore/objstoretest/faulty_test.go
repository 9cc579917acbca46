package objstoretest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/objstoretest"
)

// With no faults injected, Faulty is invisible: it passes the whole suite.
func TestFaultyConformance(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) *objstore.Store {
		s := objstore.New(objstoretest.NewFaulty(mem.New()), objstore.Options{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func newFaulty(t *testing.T) (*objstoretest.Faulty, *mem.Backend, *objstore.Store) {
	b := mem.New()
	f := objstoretest.NewFaulty(b)
	s := objstore.New(f, objstore.Options{})
	t.Cleanup(func() { _ = s.Close() })
	return f, b, s
}

func TestFaultyFailNth(t *testing.T) {
	f, _, s := newFaulty(t)
	ctx := t.Context()
	ft := f.Inject(objstoretest.Rule{Op: objstore.OpPut, KeyPrefix: "journal/", Nth: 3, Times: 1, Action: objstoretest.Fail})
	for i, key := range []string{"journal/1", "other/1", "journal/2", "journal/3", "journal/4"} {
		_, err := s.Put(ctx, key, []byte(key), objstore.Condition{})
		wantFail := i == 3 // the third call under journal/
		if wantFail != (err != nil) {
			t.Fatalf("Put(%s) = %v, want failure %v", key, err, wantFail)
		}
		if wantFail {
			if !errors.Is(err, objstoretest.ErrInjected) {
				t.Fatalf("injected error %v does not match ErrInjected", err)
			}
			if _, err := s.Head(ctx, key); !errors.Is(err, objstore.ErrNotFound) {
				t.Fatalf("a failed Put landed: %v", err)
			}
		}
	}
	if ft.Hits() != 1 {
		t.Fatalf("Hits = %d, want 1", ft.Hits())
	}
}

func TestFaultyFailAfterLands(t *testing.T) {
	f, _, s := newFaulty(t)
	ctx := t.Context()
	custom := errors.New("connection reset")
	f.Inject(objstoretest.Rule{Op: objstore.OpPut, Action: objstoretest.FailAfter, Err: custom, Times: 1})
	if _, err := s.Put(ctx, "k", []byte("landed"), objstore.Condition{}); !errors.Is(err, custom) {
		t.Fatalf("Put = %v, want the rule's error", err)
	}
	got, err := s.Get(ctx, "k")
	if err != nil || string(got) != "landed" {
		t.Fatalf("after FailAfter, Get = %q, %v; want the write to have landed", got, err)
	}
	// Times: 1 — the next call goes through.
	if _, err := s.Put(ctx, "k2", nil, objstore.Condition{}); err != nil {
		t.Fatal(err)
	}
}

func TestFaultyPrecondition(t *testing.T) {
	f, _, s := newFaulty(t)
	ft := f.Inject(objstoretest.Rule{Op: objstore.OpWriter, Action: objstoretest.Precondition})
	w, err := s.NewWriter(t.Context(), "seg", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(t.Context()); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("Commit = %v, want ErrPreconditionFailed", err)
	}
	if _, err := s.Head(t.Context(), "seg"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("object exists after an injected precondition failure: %v", err)
	}
	ft.Remove()
	if _, err := s.Put(t.Context(), "seg", nil, objstore.IfAbsent()); err != nil {
		t.Fatalf("after Remove: %v", err)
	}
}

func TestFaultyStall(t *testing.T) {
	f, _, s := newFaulty(t)
	ft := f.Inject(objstoretest.Rule{Op: objstore.OpPut, Action: objstoretest.Stall})
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(context.Background(), "stalled", []byte("x"), objstore.Condition{})
		done <- err
	}()
	<-ft.Stalled()
	select {
	case err := <-done:
		t.Fatalf("stalled Put returned before release: %v", err)
	default:
	}
	if _, err := s.Head(t.Context(), "stalled"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("a stalled Put is visible: %v", err)
	}
	ft.Release()
	if err := <-done; err != nil {
		t.Fatalf("released Put: %v", err)
	}
	if _, err := s.Head(t.Context(), "stalled"); err != nil {
		t.Fatalf("released Put did not land: %v", err)
	}

	// A stalled call gives up when its context ends.
	ft2 := f.Inject(objstoretest.Rule{Op: objstore.OpGet, Action: objstoretest.Stall})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-ft2.Stalled()
		cancel()
	}()
	if _, err := s.Get(ctx, "stalled"); !errors.Is(err, context.Canceled) {
		t.Fatalf("stalled Get with a cancelled context = %v", err)
	}
}
