package objstoretest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/shoalstream/shoal/internal/objstore"
)

// RunAppend runs the tests of the append capability (objstore.AppendBackend)
// against the stores newStore returns. Backends that have it call it
// besides Run.
func RunAppend(t *testing.T, newStore NewStore) {
	t.Run("AppendGrowsDurably", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		if !s.CanAppend() {
			t.Fatal("RunAppend on a store that cannot append")
		}
		a, err := s.OpenAppend(ctx, "j/file")
		if err != nil {
			t.Fatal(err)
		}
		wantContent(t, s, "j/file", []byte{})
		var want []byte
		for i := range 50 {
			p := payload(uint64(i), 1+i*37)
			if err := a.Append(p); err != nil {
				t.Fatal(err)
			}
			want = append(want, p...)
			if a.Size() != int64(len(want)) {
				t.Fatalf("Size %d after %d bytes", a.Size(), len(want))
			}
		}
		wantContent(t, s, "j/file", want)
		got, err := s.GetRange(ctx, "j/file", 100, 50)
		if err != nil || !bytes.Equal(got, want[100:150]) {
			t.Fatalf("GetRange of an appended object: %d bytes, %v", len(got), err)
		}
		if err := a.Truncate(1000); err != nil {
			t.Fatal(err)
		}
		want = want[:1000]
		if err := a.Append([]byte("after truncate")); err != nil {
			t.Fatal(err)
		}
		want = append(want, "after truncate"...)
		wantContent(t, s, "j/file", want)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		// Opening again continues at the end.
		b, err := s.OpenAppend(ctx, "j/file")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.Size() != int64(len(want)) {
			t.Fatalf("reopened appender at %d, want %d", b.Size(), len(want))
		}
		if err := b.Append([]byte("!")); err != nil {
			t.Fatal(err)
		}
		wantContent(t, s, "j/file", append(want, '!'))
		if err := b.Truncate(int64(len(want) + 5)); err == nil {
			t.Error("Truncate past the end succeeded")
		}
		if got := listKeys(t, s, "j/"); len(got) != 1 {
			t.Errorf("List after appends = %q", got)
		}
		if _, err := s.OpenAppend(ctx, "../x"); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("OpenAppend of an invalid key = %v", err)
		}
	})
}
