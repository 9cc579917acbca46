package bufpool

import (
	"sync"
	"testing"
)

// Every size from MinSize to MaxSize has a class at most 1/16 larger, and
// each class is the class of its own size.
func TestClasses(t *testing.T) {
	if got := classSize(numClasses - 1); got != MaxSize {
		t.Fatalf("the last class holds %d bytes, want MaxSize %d", got, MaxSize)
	}
	for c := range numClasses {
		if got := classOf(classSize(c)); got != c {
			t.Fatalf("class %d holds %d bytes, whose class is %d", c, classSize(c), got)
		}
		if c > 0 && classSize(c) <= classSize(c-1) {
			t.Fatalf("class %d (%d bytes) is not larger than class %d (%d)", c, classSize(c), c-1, classSize(c-1))
		}
	}
	for n := 1; n <= MaxSize; n += 997 {
		size := classSize(classOf(n))
		if size < n || (n > MinSize && size > n+n/16) {
			t.Fatalf("%d bytes get a buffer of %d", n, size)
		}
	}
}

// A released buffer is handed out again, in a new generation, and a holder
// of the old one cannot retain it.
func TestReuse(t *testing.T) {
	p := New(64 << 20)
	b, reused := p.Get(1 << 20)
	if reused || len(b.Bytes()) < 1<<20 {
		t.Fatalf("first Get: reused %v, %d bytes", reused, len(b.Bytes()))
	}
	gen := b.Gen()
	b.Bytes()[0] = 42
	b.Retain() // a second holder
	b.Release()
	if !b.TryRetain(gen) {
		t.Fatal("TryRetain failed while a reference was held")
	}
	b.Release()
	b.Release() // the last
	if b.TryRetain(gen) {
		t.Fatal("TryRetain succeeded on a released buffer")
	}
	if s := p.Stats(); s.FreeBytes != int64(len(b.Bytes())) {
		t.Fatalf("free bytes %d after the last release, want %d", s.FreeBytes, len(b.Bytes()))
	}
	again, reused := p.Get(1<<20 - 100)
	if !reused || again != b || again.Bytes()[0] != 42 {
		t.Fatalf("second Get: reused %v, same buffer %v", reused, again == b)
	}
	if again.TryRetain(gen) {
		t.Fatal("a holder of the old generation retained the buffer handed out again")
	}
	if !again.TryRetain(again.Gen()) {
		t.Fatal("TryRetain of the current generation failed")
	}
	if s := p.Stats(); s.Gets != 2 || s.Reused != 1 || s.FreeBytes != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// Get takes a buffer up to two classes larger, not more.
func TestNearbyClass(t *testing.T) {
	p := New(64 << 20)
	b, _ := p.Get(classSize(20))
	b.Release()
	if got, reused := p.Get(classSize(17)); reused {
		t.Fatalf("a request three classes down took the buffer of class %d", got.class)
	}
	got, reused := p.Get(classSize(18))
	if !reused || got != b {
		t.Fatal("a request two classes down did not take the free buffer")
	}
}

// The pool keeps at most its limit in free buffers; buffers past MaxSize
// are never kept.
func TestLimit(t *testing.T) {
	p := New(3 << 20)
	releaseAll(getN(p, 4, 1<<20))
	s := p.Stats()
	if s.FreeBytes != 3<<20 || s.Dropped != 1 {
		t.Fatalf("after 4 MiB released into a 3 MiB pool: %+v", s)
	}
	big, _ := p.Get(MaxSize + 1)
	big.Release()
	if s := p.Stats(); s.FreeBytes != 3<<20 {
		t.Fatalf("a buffer past MaxSize was kept: %+v", s)
	}
	if _, reused := p.Get(MaxSize + 1); reused {
		t.Fatal("a buffer past MaxSize was reused")
	}
	none := New(0)
	b, _ := none.Get(1 << 20)
	b.Release()
	if _, reused := none.Get(1 << 20); reused {
		t.Fatal("a pool with no room reused a buffer")
	}
}

// Trim lets go of what was not needed since the Trim before.
func TestTrim(t *testing.T) {
	p := New(64 << 20)
	releaseAll(getN(p, 4, 1<<20))
	p.Trim() // starts the count: all four are free
	for range 2 {
		b, _ := p.Get(1 << 20)
		b.Release()
	}
	// Both Gets took the same buffer (the last put): three were never
	// needed.
	p.Trim()
	if s := p.Stats(); s.FreeBytes != 1<<20 {
		t.Fatalf("after a Trim, %d bytes free, want the one buffer used since the last", s.FreeBytes)
	}
	p.Trim()
	if s := p.Stats(); s.FreeBytes != 0 {
		t.Fatalf("after an idle interval, %d bytes free", s.FreeBytes)
	}
	if _, reused := p.Get(1 << 20); reused {
		t.Fatal("a trimmed buffer was handed out")
	}
}

// getN gets n buffers of size bytes from p.
func getN(p *Pool, n, size int) []*Buf {
	bs := make([]*Buf, n)
	for i := range bs {
		bs[i], _ = p.Get(size)
	}
	return bs
}

func releaseAll(bs []*Buf) {
	for _, b := range bs {
		b.Release()
	}
}

// Releasing more than was retained is a bug that must not go unseen, as
// is retaining a buffer through a reference that is gone.
func TestMisuse(t *testing.T) {
	p := New(64 << 20)
	b, _ := p.Get(1 << 20)
	b.Release()
	mustPanic(t, "a second Release", b.Release)
	mustPanic(t, "Retain with no reference", b.Retain)
	var none *Buf
	none.Release() // memory from no pool: nothing to give back
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

// Holders retaining and releasing at once, while the owner lets go and the
// buffer is handed out again and overwritten: a holder that retained it
// sees the bytes it expects until it releases (run with -race).
func TestConcurrentHolders(t *testing.T) {
	p := New(64 << 20)
	for round := range 200 {
		b, _ := p.Get(MinSize)
		mark := byte(round % 255)
		b.Bytes()[0] = mark
		gen := b.Gen()
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 50 {
					if !b.TryRetain(gen) {
						return
					}
					if got := b.Bytes()[0]; got != mark {
						t.Errorf("round %d: a retained buffer holds %d", round, got)
					}
					b.Release()
				}
			})
		}
		wg.Go(func() {
			b.Release() // the owner's
			// The next owner overwrites it as soon as it has it.
			// It keeps the others it gets until then.
			var others []*Buf
			defer func() { releaseAll(others) }()
			for {
				again, _ := p.Get(MinSize)
				again.Bytes()[0] = 255
				if again == b {
					again.Release()
					return
				}
				others = append(others, again)
			}
		})
		wg.Wait()
	}
}
