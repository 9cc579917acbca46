// Package objstoretest holds what every objstore backend and the layers
// above it test with: the conformance suite (Run), which each backend's own
// test calls so all of them keep one contract, and a fault-injecting
// Backend wrapper (Faulty) for crash and outage tests.
//
// The suite has no backend-specific branches: where a backend cannot meet
// the contract, the contract changes, not the suite.
package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/shoalstream/shoal/internal/objstore"
)

// NewStore returns a fresh, empty store for one subtest, and arranges with
// t.Cleanup for whatever must be released afterwards. Run calls it once per
// subtest; the store may be closed by the subtest.
type NewStore func(t *testing.T) *objstore.Store

// MultipartSize is how large the suite's multi-part object is: more than
// three parts of the smallest part size S3 allows (5 MiB), so a backend
// configured with that part size writes at least four parts.
const MultipartSize = 3*5<<20 + 123457

// Run runs the conformance suite against the stores newStore returns.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *objstore.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Missing", testMissing},
		{"Ranges", testRanges},
		{"ListOrder", testListOrder},
		{"ListPagination", testListPagination},
		{"Delete", testDelete},
		{"IfAbsent", testIfAbsent},
		{"IfMatch", testIfMatch},
		{"RaceIfAbsent", testRaceIfAbsent},
		{"RaceIfMatch", testRaceIfMatch},
		{"WriterTinyWrites", testWriterTinyWrites},
		{"WriterEmpty", testWriterEmpty},
		{"WriterMultipart", testWriterMultipart},
		{"WriterIfAbsent", testWriterIfAbsent},
		{"WriterCancel", testWriterCancel},
		{"WriterCloseWithoutCommit", testWriterCloseWithoutCommit},
		{"Keys", testKeys},
		{"InvalidKeys", testInvalidKeys},
		{"CancelledContext", testCancelledContext},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// payload returns n deterministic pseudo-random bytes.
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustPut(t *testing.T, s *objstore.Store, key string, data []byte) objstore.Info {
	t.Helper()
	info, err := s.Put(t.Context(), key, data, objstore.Condition{})
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func mustGet(t *testing.T, s *objstore.Store, key string) []byte {
	t.Helper()
	data, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return data
}

func wantContent(t *testing.T, s *objstore.Store, key string, want []byte) {
	t.Helper()
	got := mustGet(t, s, key)
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q): got %d bytes, want %d bytes (first difference at %d)", key, len(got), len(want), firstDiff(got, want))
	}
}

func wantAbsent(t *testing.T, s *objstore.Store, key string) {
	t.Helper()
	if _, err := s.Head(t.Context(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Head(%q) = %v, want ErrNotFound", key, err)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func testRoundTrip(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	for _, size := range []int{0, 1, 1000, 2<<20 + 3} {
		key := fmt.Sprintf("rt/obj-%d", size)
		data := payload(uint64(size), size)
		info := mustPut(t, s, key, data)
		if info.ETag == "" {
			t.Errorf("Put(%q) returned no ETag", key)
		}
		wantContent(t, s, key, data)
		head, err := s.Head(ctx, key)
		if err != nil {
			t.Fatalf("Head(%q): %v", key, err)
		}
		if head.Key != key || head.Size != int64(size) || head.ETag != info.ETag {
			t.Errorf("Head(%q) = %+v, want key, size %d and ETag %q", key, head, size, info.ETag)
		}
		if head.LastModified.IsZero() {
			t.Errorf("Head(%q) has no LastModified", key)
		}
	}
	// Overwrite: new content, new ETag.
	first := mustPut(t, s, "rt/over", []byte("first version"))
	second := mustPut(t, s, "rt/over", []byte("second, longer version"))
	wantContent(t, s, "rt/over", []byte("second, longer version"))
	if first.ETag == second.ETag {
		t.Errorf("overwrite kept ETag %q", first.ETag)
	}
	// The caller's buffer may be reused after Put returns.
	buf := []byte("caller buffer")
	mustPut(t, s, "rt/buf", buf)
	copy(buf, "XXXXXXXXXXXXX")
	wantContent(t, s, "rt/buf", []byte("caller buffer"))
}

func testMissing(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	if _, err := s.Get(ctx, "missing/key"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get of a missing key = %v, want ErrNotFound", err)
	}
	if _, err := s.GetRange(ctx, "missing/key", 10, 5); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("GetRange of a missing key = %v, want ErrNotFound", err)
	}
	if _, err := s.GetRange(ctx, "missing/key", 0, 0); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("empty GetRange of a missing key = %v, want ErrNotFound", err)
	}
	wantAbsent(t, s, "missing/key")
	// A key below an existing object is still missing.
	mustPut(t, s, "missing", []byte("x"))
	if _, err := s.Get(ctx, "missing/key"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get below an object = %v, want ErrNotFound", err)
	}
}

func testRanges(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	data := payload(7, 10000)
	mustPut(t, s, "range/obj", data)
	cases := []struct {
		off, n int64
		want   []byte
	}{
		{0, 10, data[:10]},
		{1234, 4000, data[1234:5234]},
		{9990, 10, data[9990:]},
		{9990, 100, data[9990:]}, // past the end: cut
		{5000, -1, data[5000:]},  // to the end
		{0, -1, data},
		{9999, 1, data[9999:]},
		{10000, 5, nil}, // at the end
		{20000, 5, nil}, // beyond the end
		{10000, -1, nil},
		{5, 0, nil},
	}
	for _, c := range cases {
		got, err := s.GetRange(ctx, "range/obj", c.off, c.n)
		if err != nil {
			t.Errorf("GetRange(%d, %d): %v", c.off, c.n, err)
			continue
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("GetRange(%d, %d) = %d bytes, want %d", c.off, c.n, len(got), len(c.want))
		}
	}
	if _, err := s.GetRange(ctx, "range/obj", -1, 5); err == nil {
		t.Errorf("GetRange with a negative offset succeeded")
	}
	mustPut(t, s, "range/empty", nil)
	if got, err := s.GetRange(ctx, "range/empty", 0, 10); err != nil || len(got) != 0 {
		t.Errorf("GetRange of an empty object = %d bytes, %v; want 0 bytes, no error", len(got), err)
	}
}

func listKeys(t *testing.T, s *objstore.Store, prefix string) []string {
	t.Helper()
	var keys []string
	for info, err := range s.All(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("All(%q): %v", prefix, err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

func testListOrder(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	// Byte order of keys, not of paths: '.'(0x2e) < '/'(0x2f) < '0' < 'a'.
	// No key is a path prefix of another ("a" and "a/b"): the contract
	// rules that out, since some S3-compatible stores cannot hold both.
	keys := []string{"l/a", "l/c/d", "l/a.c", "l/a-b", "l/c/e/f", "l/c.d", "l/c-d", "l/a0", "l/b", "l/B", "l/ab", "l/é", "l/a%2F"}
	sizes := map[string]int64{}
	for i, k := range keys {
		data := payload(uint64(i), i*3)
		mustPut(t, s, k, data)
		sizes[k] = int64(len(data))
	}
	mustPut(t, s, "other", []byte("not listed"))
	mustPut(t, s, "lx", []byte("not listed under l/"))

	want := slices.Clone(keys)
	slices.Sort(want)
	if got := listKeys(t, s, "l/"); !slices.Equal(got, want) {
		t.Errorf("List(l/) = %q, want %q", got, want)
	}
	// A prefix that ends inside a segment.
	var wantA []string
	for _, k := range want {
		if len(k) >= 3 && k[:3] == "l/a" {
			wantA = append(wantA, k)
		}
	}
	if got := listKeys(t, s, "l/a"); !slices.Equal(got, wantA) {
		t.Errorf("List(l/a) = %q, want %q", got, wantA)
	}
	if got := listKeys(t, s, "nothing/here"); len(got) != 0 {
		t.Errorf("List of an empty prefix = %q", got)
	}
	// The whole store, with the empty prefix.
	all := append(slices.Clone(keys), "other", "lx")
	slices.Sort(all)
	if got := listKeys(t, s, ""); !slices.Equal(got, all) {
		t.Errorf("List(\"\") = %q, want %q", got, all)
	}
	// Sizes and StartAfter.
	page, err := s.List(ctx, "l/", objstore.ListOptions{StartAfter: want[3]})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range page.Objects {
		got = append(got, o.Key)
		if o.Size != sizes[o.Key] {
			t.Errorf("List: %q has size %d, want %d", o.Key, o.Size, sizes[o.Key])
		}
	}
	if !slices.Equal(got, want[4:]) || page.More {
		t.Errorf("List(StartAfter %q) = %q (more %v), want %q", want[3], got, page.More, want[4:])
	}
}

func testListPagination(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	const n = 1050
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("page/%05d", i)
	}
	// Write in parallel, in a scrambled order.
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if _, err := s.Put(ctx, want[i], []byte(want[i]), objstore.Condition{}); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, i := range order {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	if got := listKeys(t, s, "page/"); !slices.Equal(got, want) {
		t.Fatalf("All(page/) listed %d keys, want %d in order", len(got), n)
	}
	// Default page size: at most DefaultMaxKeys, then the rest.
	first, err := s.List(ctx, "page/", objstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Objects) == 0 || len(first.Objects) > objstore.DefaultMaxKeys || !first.More {
		t.Fatalf("first page: %d keys, more %v", len(first.Objects), first.More)
	}
	// Small pages.
	var got []string
	opts := objstore.ListOptions{MaxKeys: 100}
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("pagination does not end")
		}
		page, err := s.List(ctx, "page/", opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) > 100 {
			t.Fatalf("page of %d keys with MaxKeys 100", len(page.Objects))
		}
		for _, o := range page.Objects {
			got = append(got, o.Key)
		}
		if !page.More {
			break
		}
		opts.StartAfter = page.Objects[len(page.Objects)-1].Key
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged listing returned %d keys, want %d in order", len(got), n)
	}
}

func testDelete(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	if err := s.Delete(ctx, "del/never-existed"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	mustPut(t, s, "del/a", []byte("a"))
	mustPut(t, s, "del/b", []byte("b"))
	if err := s.Delete(ctx, "del/a"); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, s, "del/a")
	wantContent(t, s, "del/b", []byte("b"))
	if got := listKeys(t, s, "del/"); !slices.Equal(got, []string{"del/b"}) {
		t.Errorf("List after Delete = %q", got)
	}
	if err := s.Delete(ctx, "del/a"); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	// A deleted key can be created again, also with IfAbsent.
	if _, err := s.Put(ctx, "del/a", []byte("again"), objstore.IfAbsent()); err != nil {
		t.Errorf("Put(IfAbsent) after Delete: %v", err)
	}
}

func testIfAbsent(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	info, err := s.Put(ctx, "cond/a", []byte("one"), objstore.IfAbsent())
	if err != nil {
		t.Fatalf("Put(IfAbsent) of a new key: %v", err)
	}
	if _, err := s.Put(ctx, "cond/a", []byte("two"), objstore.IfAbsent()); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("Put(IfAbsent) of an existing key = %v, want ErrPreconditionFailed", err)
	}
	wantContent(t, s, "cond/a", []byte("one"))
	head, err := s.Head(ctx, "cond/a")
	if err != nil || head.ETag != info.ETag {
		t.Errorf("after a failed IfAbsent, Head = %+v, %v; want ETag %q", head, err, info.ETag)
	}
}

func testIfMatch(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	if _, err := s.Put(ctx, "cond/m", []byte("x"), objstore.IfMatch("0123456789abcdef0123456789abcdef")); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Errorf("Put(IfMatch) of a missing key = %v, want ErrPreconditionFailed", err)
	}
	wantAbsent(t, s, "cond/m")
	v1 := mustPut(t, s, "cond/m", []byte("v1"))
	v2, err := s.Put(ctx, "cond/m", []byte("v2"), objstore.IfMatch(v1.ETag))
	if err != nil {
		t.Fatalf("Put(IfMatch current): %v", err)
	}
	wantContent(t, s, "cond/m", []byte("v2"))
	if _, err := s.Put(ctx, "cond/m", []byte("v3"), objstore.IfMatch(v1.ETag)); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("Put(IfMatch stale) = %v, want ErrPreconditionFailed", err)
	}
	wantContent(t, s, "cond/m", []byte("v2"))
	// Quoted, as S3 sends them, is the same ETag.
	if _, err := s.Put(ctx, "cond/m", []byte("v3"), objstore.IfMatch(`"`+v2.ETag+`"`)); err != nil {
		t.Fatalf("Put(IfMatch quoted current): %v", err)
	}
	wantContent(t, s, "cond/m", []byte("v3"))
}

// race runs fn from n goroutines released at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// exactlyOneWins checks that one call succeeded and every other failed its
// precondition; it returns the winner's index.
func exactlyOneWins(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, objstore.ErrPreconditionFailed):
			t.Fatalf("writer %d: %v, want ErrPreconditionFailed", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	return winner
}

func testRaceIfAbsent(t *testing.T, s *objstore.Store) {
	const n = 16
	errs := race(n, func(i int) error {
		_, err := s.Put(t.Context(), "race/absent", []byte(fmt.Sprintf("writer %d", i)), objstore.IfAbsent())
		return err
	})
	w := exactlyOneWins(t, errs)
	wantContent(t, s, "race/absent", []byte(fmt.Sprintf("writer %d", w)))
}

func testRaceIfMatch(t *testing.T, s *objstore.Store) {
	const n = 16
	base := mustPut(t, s, "race/match", []byte("base"))
	errs := race(n, func(i int) error {
		_, err := s.Put(t.Context(), "race/match", []byte(fmt.Sprintf("writer %d", i)), objstore.IfMatch(base.ETag))
		return err
	})
	w := exactlyOneWins(t, errs)
	wantContent(t, s, "race/match", []byte(fmt.Sprintf("writer %d", w)))
}

func writeAll(t *testing.T, w *objstore.Writer, data []byte, chunk func(i int) int) {
	t.Helper()
	for i, off := 0, 0; off < len(data); i++ {
		n := min(chunk(i), len(data)-off)
		if _, err := w.Write(data[off : off+n]); err != nil {
			t.Fatalf("Write at %d: %v", off, err)
		}
		off += n
	}
}

func testWriterTinyWrites(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	data := payload(3, 300_001)
	w, err := s.NewWriter(ctx, "w/tiny", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeAll(t, w, data, func(i int) int { return 1 + i%7 })
	wantAbsent(t, s, "w/tiny") // nothing visible before Commit
	info, err := w.Commit(ctx)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if info.Size != int64(len(data)) || info.ETag == "" {
		t.Errorf("Commit = %+v, want size %d and an ETag", info, len(data))
	}
	wantContent(t, s, "w/tiny", data)
	head, err := s.Head(ctx, "w/tiny")
	if err != nil || head.ETag != info.ETag {
		t.Errorf("Head = %+v, %v; want the ETag Commit returned (%q)", head, err, info.ETag)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Commit: %v", err)
	}
	wantContent(t, s, "w/tiny", data)
	if _, err := w.Write([]byte("late")); err == nil {
		t.Error("Write after Commit succeeded")
	}
}

func testWriterEmpty(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	w, err := s.NewWriter(ctx, "w/empty", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit of an empty writer: %v", err)
	}
	wantContent(t, s, "w/empty", []byte{})
}

func testWriterMultipart(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	data := payload(11, MultipartSize)
	w, err := s.NewWriter(ctx, "w/multi", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Odd write sizes that straddle part boundaries, some large.
	writeAll(t, w, data, func(i int) int {
		if i%5 == 4 {
			return 3<<20 + 17
		}
		return 64<<10 + 7*i
	})
	if _, err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	wantContent(t, s, "w/multi", data)
	// Ranges across part boundaries come back right too.
	got, err := s.GetRange(ctx, "w/multi", 5<<20-10, 20)
	if err != nil || !bytes.Equal(got, data[5<<20-10:5<<20+10]) {
		t.Errorf("GetRange across a part boundary = %d bytes, %v", len(got), err)
	}
}

func testWriterIfAbsent(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	mustPut(t, s, "w/exists", []byte("old"))
	for _, size := range []int{10, 6 << 20} { // below and above one part
		w, err := s.NewWriter(ctx, "w/exists", objstore.WriterOptions{Condition: objstore.IfAbsent()})
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, w, payload(5, size), func(int) int { return 1 << 20 })
		if _, err := w.Commit(ctx); !errors.Is(err, objstore.ErrPreconditionFailed) {
			t.Errorf("Commit(IfAbsent) of %d bytes over an existing key = %v, want ErrPreconditionFailed", size, err)
		}
		_ = w.Close()
		wantContent(t, s, "w/exists", []byte("old"))
	}
	// And it writes a new key.
	w, err := s.NewWriter(ctx, "w/new", objstore.WriterOptions{Condition: objstore.IfAbsent()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit(IfAbsent) of a new key: %v", err)
	}
	wantContent(t, s, "w/new", []byte("new"))
}

func testWriterCancel(t *testing.T, s *objstore.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	w, err := s.NewWriter(ctx, "w/cancelled", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// More than one part, so a multipart upload is under way.
	writeAll(t, w, payload(9, 6<<20), func(int) int { return 1 << 20 })
	cancel()
	if _, err := w.Commit(t.Context()); err == nil {
		t.Fatal("Commit after the writer's context was cancelled succeeded")
	}
	wantAbsent(t, s, "w/cancelled")
	if got := listKeys(t, s, "w/"); len(got) != 0 {
		t.Errorf("a cancelled writer left %q", got)
	}
}

func testWriterCloseWithoutCommit(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	for _, size := range []int{100, 6 << 20} {
		w, err := s.NewWriter(ctx, "w/abandoned", objstore.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, w, payload(4, size), func(int) int { return 256 << 10 })
		if err := w.Close(); err != nil {
			t.Errorf("Close without Commit: %v", err)
		}
		if _, err := w.Commit(ctx); err == nil {
			t.Error("Commit after Close succeeded")
		}
		wantAbsent(t, s, "w/abandoned")
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Errorf("abandoned writers left %q", got)
	}
}

func testKeys(t *testing.T, s *objstore.Store) {
	keys := []string{
		"ünïcødé/日本語/🐟",
		"a b/c+d/e=f&g",
		"percent%/x%25y/%",
		"deep/1/2/3/4/5/6/7/8/9/10",
		"deep/0",
		"trailing.dot.",
		"~tilde/'quote'/(paren)",
	}
	for i, k := range keys {
		mustPut(t, s, k, []byte(k))
		if i%2 == 0 {
			wantContent(t, s, k, []byte(k))
		}
	}
	for _, k := range keys {
		wantContent(t, s, k, []byte(k))
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	if got := listKeys(t, s, ""); !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	if got := listKeys(t, s, "ünïcødé/日"); !slices.Equal(got, []string{keys[0]}) {
		t.Errorf("List(unicode prefix) = %q", got)
	}
}

func testInvalidKeys(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	bad := []string{"", "/abs", "a//b", "a/", "../escape", "a/../../b", "a/./b", ".", "a\x00b", "a\nb", "\xff\xfe", string(make([]byte, objstore.MaxKeyLen+1))}
	for _, k := range bad {
		if _, err := s.Put(ctx, k, []byte("x"), objstore.Condition{}); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", k, err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", k, err)
		}
		if _, err := s.NewWriter(ctx, k, objstore.WriterOptions{}); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("NewWriter(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Errorf("invalid keys wrote %q", got)
	}
}

func testCancelledContext(t *testing.T, s *objstore.Store) {
	mustPut(t, s, "ctx/a", []byte("a"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Get(ctx, "ctx/a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context = %v", err)
	}
	if _, err := s.Put(ctx, "ctx/b", []byte("b"), objstore.Condition{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v", err)
	}
	if _, err := s.List(ctx, "ctx/", objstore.ListOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context = %v", err)
	}
	wantAbsent(t, s, "ctx/b")
}

func testClosed(t *testing.T, s *objstore.Store) {
	ctx := t.Context()
	mustPut(t, s, "closed/a", []byte("a"))
	w, err := s.NewWriter(ctx, "closed/w", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("pending")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, objstore.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if _, err := w.Commit(ctx); err == nil {
		t.Error("Commit of a writer the store's Close aborted succeeded")
	}
	if _, err := s.Get(ctx, "closed/a"); !errors.Is(err, objstore.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Put(ctx, "closed/b", nil, objstore.Condition{}); !errors.Is(err, objstore.ErrClosed) {
		t.Errorf("Put after Close = %v, want ErrClosed", err)
	}
	if _, err := s.List(ctx, "", objstore.ListOptions{}); !errors.Is(err, objstore.ErrClosed) {
		t.Errorf("List after Close = %v, want ErrClosed", err)
	}
	if _, err := s.NewWriter(ctx, "closed/c", objstore.WriterOptions{}); !errors.Is(err, objstore.ErrClosed) {
		t.Errorf("NewWriter after Close = %v, want ErrClosed", err)
	}
}
