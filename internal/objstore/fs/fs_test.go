//go:build unix

package fs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
	"github.com/shoalstream/shoal/internal/objstore/objstoretest"
)

func openAt(t *testing.T, root string) *objstore.Store {
	t.Helper()
	s, err := fs.Open(root, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// The suite under a plain root and under one whose path has a space and
// unicode in it.
func TestConformance(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) *objstore.Store { return openAt(t, t.TempDir()) })
	objstoretest.RunAppend(t, func(t *testing.T) *objstore.Store { return openAt(t, t.TempDir()) })
}

func TestConformanceOddRoot(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) *objstore.Store {
		return openAt(t, filepath.Join(t.TempDir(), "data dir ünï"))
	})
}

// files lists the regular files under root, relative, sorted.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestLayout(t *testing.T) {
	root := t.TempDir()
	s := openAt(t, root)
	ctx := t.Context()
	for _, k := range []string{"segments/1/2/00000000000000000042", "50%/off", "a", "a/b"} {
		if _, err := s.Put(ctx, k, []byte(k), objstore.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"%lock", "50%25%/off", "a", "a%/b", "segments%/1%/2%/00000000000000000042"}
	if got := files(t, root); !slices.Equal(got, want) {
		t.Fatalf("files %q, want %q", got, want)
	}
	// "a" and "a/b" both read back, though the contract does not ask it.
	for _, k := range []string{"a", "a/b", "50%/off"} {
		if got, err := s.Get(ctx, k); err != nil || string(got) != k {
			t.Fatalf("Get(%q) = %q, %v", k, got, err)
		}
	}
}

// Keys that would leave the root are refused by the backend itself, not
// only by the Store in front of it.
func TestBackendRefusesEscapes(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	b, err := fs.New(root, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, k := range []string{"../x", "a/../../x", "/etc/passwd", "a\x00b", "", "a//b"} {
		if _, err := b.Put(context.Background(), k, []byte("x"), objstore.Condition{}); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	if got := files(t, filepath.Dir(root)); !slices.Equal(got, []string{"root/%lock"}) {
		t.Fatalf("files written: %q", got)
	}
}

func TestWritersLeaveNoTempFiles(t *testing.T) {
	root := t.TempDir()
	s := openAt(t, root)
	ctx, cancel := context.WithCancel(t.Context())
	w, err := s.NewWriter(ctx, "d/cancelled", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 3<<20)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, _ = w.Commit(t.Context())
	w2, err := s.NewWriter(t.Context(), "d/closed", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	_ = w2.Close()
	if got := files(t, root); !slices.Equal(got, []string{"%lock"}) {
		t.Fatalf("files left: %q", got)
	}
}

// A temp file a crash left behind is removed when the store opens again;
// ETags survive reopening; a second open of one root is refused while the
// first holds it.
func TestReopen(t *testing.T) {
	root := t.TempDir()
	s, err := fs.Open(root, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Put(t.Context(), "k/v", []byte("value"), objstore.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Open(root, fs.Options{}); !errors.Is(err, fs.ErrLocked) || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("second Open of a held root = %v, want ErrLocked naming the holder", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "k%", "%tmp.deadbeef"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := openAt(t, root)
	if got := files(t, root); !slices.Equal(got, []string{"%lock", "k%/v"}) {
		t.Fatalf("after reopening: %q", got)
	}
	head, err := s2.Head(t.Context(), "k/v")
	if err != nil || head.ETag != info.ETag || head.ETag != objstore.ContentETag([]byte("value")) {
		t.Fatalf("ETag after reopening %q (%v), want %q", head.ETag, err, info.ETag)
	}
	// A stale IfMatch after an overwrite fails.
	if _, err := s2.Put(t.Context(), "k/v", []byte("new"), objstore.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Put(t.Context(), "k/v", []byte("x"), objstore.IfMatch(info.ETag)); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("stale IfMatch = %v", err)
	}
}

// DropCache takes an appended, synced range out of the page cache.
func TestAppendDropCache(t *testing.T) {
	root := t.TempDir()
	s := openAt(t, root)
	ctx := t.Context()
	a, err := s.OpenAppend(ctx, "journal-1")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i)
	}
	if err := a.Write(data[:1000], data[1000:]); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(); err != nil {
		t.Fatal(err)
	}
	// resident counts the file's pages in the page cache.
	resident := func() int {
		t.Helper()
		f, err := os.Open(filepath.Join(root, "journal-1"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m, err := unix.Mmap(int(f.Fd()), 0, len(data), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Munmap(m)
		vec := make([]byte, (len(data)+os.Getpagesize()-1)/os.Getpagesize())
		if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
			t.Fatal(e)
		}
		n := 0
		for _, v := range vec {
			n += int(v & 1)
		}
		return n
	}
	if n := resident(); n == 0 {
		t.Fatal("no page of a file just written is in the page cache")
	}
	if err := a.DropCache(0, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if n := resident(); n != 0 {
		t.Fatalf("%d pages still cached after DropCache", n)
	}
	got, err := s.Get(ctx, "journal-1")
	if err != nil || !slices.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
}
