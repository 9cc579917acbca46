package objstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/objstoretest"
)

func TestValidateKey(t *testing.T) {
	good := []string{"a", "a/b", "journal/00000000000000000001", "ü/日本/🐟", "a b", "a%b", "...", "a/.b", strings.Repeat("x", objstore.MaxKeyLen)}
	for _, k := range good {
		if err := objstore.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	bad := []string{"", "/a", "a/", "a//b", ".", "..", "a/..", "../a", "a/./b", "a\x00", "a\tb", "a\x7fb", "\xc3", strings.Repeat("x", objstore.MaxKeyLen+1)}
	for _, k := range bad {
		if err := objstore.ValidateKey(k); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
}

func TestNormalizeETag(t *testing.T) {
	for in, want := range map[string]string{`"abc"`: "abc", "abc": "abc", `W/"abc"`: "abc", `"`: `"`, "": ""} {
		if got := objstore.NormalizeETag(in); got != want {
			t.Errorf("NormalizeETag(%q) = %q, want %q", in, got, want)
		}
	}
	if etag, ok := objstore.IfMatch(`"x"`).MatchETag(); !ok || etag != "x" {
		t.Errorf("IfMatch(quoted).MatchETag() = %q, %v", etag, ok)
	}
}

func TestErrorCarriesOpAndKey(t *testing.T) {
	s := mem.NewStore()
	defer s.Close()
	_, err := s.Get(t.Context(), "no/such")
	var e *objstore.Error
	if !errors.As(err, &e) || e.Op != "get" || e.Key != "no/such" || !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("error %v: want *objstore.Error{get, no/such} matching ErrNotFound", err)
	}
	if strings.Count(err.Error(), "no/such") != 1 {
		t.Errorf("error names the key more than once: %v", err)
	}
}

func TestStatsCount(t *testing.T) {
	s := mem.NewStore()
	defer s.Close()
	ctx := t.Context()
	for range 3 {
		if _, err := s.Put(ctx, "a", []byte("12345"), objstore.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	_, _ = s.Get(ctx, "missing")
	_, _ = s.Put(ctx, "../bad", nil, objstore.Condition{}) // refused before the backend: not counted
	st := s.Stats()
	if st.Calls[objstore.OpPut] != 3 || st.Calls[objstore.OpGet] != 2 || st.Errors[objstore.OpGet] != 1 {
		t.Fatalf("stats %+v: want 3 puts, 2 gets with 1 error", st)
	}
	if st.BytesWritten != 15 || st.BytesRead != 5 {
		t.Fatalf("bytes written %d read %d, want 15 and 5", st.BytesWritten, st.BytesRead)
	}
}

// A backend without PutPieces gets the pieces joined, under the same
// condition, counted as one put.
func TestPutPiecesJoined(t *testing.T) {
	s := mem.NewStore()
	defer s.Close()
	ctx := t.Context()
	p := objstore.Pieces{Bufs: [][]byte{[]byte("ab"), nil, []byte("cde")}}
	if _, err := s.PutPieces(ctx, "a", p, objstore.IfAbsent()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPieces(ctx, "a", p, objstore.IfAbsent()); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("second put under IfAbsent: %v", err)
	}
	if got, err := s.Get(ctx, "a"); err != nil || string(got) != "abcde" {
		t.Fatalf("get %q, %v", got, err)
	}
	if st := s.Stats(); st.Calls[objstore.OpPut] != 2 || st.BytesWritten != 5 {
		t.Fatalf("stats %+v: want 2 puts, 5 bytes written", st)
	}
}

// Close waits for a call under way, and calls after it get ErrClosed.
func TestCloseWaitsForCalls(t *testing.T) {
	f := objstoretest.NewFaulty(mem.New())
	s := objstore.New(f, objstore.Options{})
	ft := f.Inject(objstoretest.Rule{Op: objstore.OpPut, Action: objstoretest.Stall})
	putDone := make(chan error, 1)
	go func() {
		_, err := s.Put(context.Background(), "k", []byte("v"), objstore.Condition{})
		putDone <- err
	}()
	<-ft.Stalled()
	closeDone := make(chan error, 1)
	go func() { closeDone <- s.Close() }()
	select {
	case <-closeDone:
		t.Fatal("Close returned while a Put was under way")
	case err := <-putDone:
		t.Fatalf("Put returned before release: %v", err)
	default:
	}
	ft.Release()
	if err := <-putDone; err != nil {
		t.Fatalf("Put under way at Close: %v", err)
	}
	if err := <-closeDone; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, objstore.ErrClosed) {
		t.Fatalf("Get after Close = %v", err)
	}
}
