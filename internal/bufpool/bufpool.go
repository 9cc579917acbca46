// Package bufpool recycles the large buffers that requests are read into.
//
// A send's buffer is not copied on its way to storage: the server reads the
// request into it, and the log keeps it as the batch's bytes in the journal
// write and in the partition's tail until the batch is sealed or spilled
// from memory. Left to the garbage collector, every such buffer is freed,
// its memory given back to the system by the runtime's scavenger, and the
// next request's buffer is faulted in and zeroed anew: on the virtual
// machines shoal is developed on, that was the largest use of the server's
// CPU. A Pool hands out buffers counted by reference instead; each holder
// releases its reference, and the last release puts the buffer back, to be
// read into again as it is.
//
// A reference that is never released only keeps its buffer out of the
// pool: the garbage collector frees it as it frees any other memory. So a
// holder that cannot tell when it is done with the bytes (a caller that
// keeps what it read) just does not release, and nothing breaks.
//
// A holder that finds a buffer through a snapshot that may be stale (a
// read of a partition's tail, while a spill drops it from memory) retains
// it with TryRetain and the generation it saw: a buffer released and
// handed out again has a new generation, so the stale holder learns that
// the bytes are gone instead of reading another request's.
//
// The pool keeps at most its limit in free buffers, and Trim lets go of
// those no Get needed since the Trim before, so an idle server gives its
// memory back.
package bufpool

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
)

// MinSize and MaxSize bound the buffers a Pool recycles. Below MinSize the
// allocator's size classes reuse memory at once; a request past MaxSize is
// rare enough to be left to the garbage collector.
const (
	MinSize = 64 << 10
	MaxSize = 8 << 20
)

// Sizes are rounded up to one of 16 steps per doubling, so a buffer is at
// most 1/16 larger than asked for.
const (
	stepsLog   = 4
	minLog     = 16 // log2(MinSize)
	maxLog     = 23 // log2(MaxSize)
	numClasses = 1 + (maxLog-minLog)<<stepsLog
)

// classOf returns the class that holds buffers of n bytes, for
// MinSize < n <= MaxSize (class 0 for n <= MinSize).
func classOf(n int) int {
	if n <= MinSize {
		return 0
	}
	e := bits.Len(uint(n-1)) - 1 // 2^e < n <= 2^(e+1)
	step := 1 << (e - stepsLog)
	k := (n + step - 1) / step // 16 < k <= 32
	return (e-minLog)<<stepsLog + k - 1<<stepsLog
}

// classSize is the size of class c's buffers.
func classSize(c int) int {
	if c == 0 {
		return MinSize
	}
	e := minLog + (c-1)>>stepsLog
	k := 1<<stepsLog + (c-1)&(1<<stepsLog-1) + 1
	return k << (e - stepsLog)
}

// Pool hands out reference-counted buffers and takes them back. Its
// methods and the Bufs' are safe for concurrent use.
type Pool struct {
	limit int64
	mu    struct {
		sync.Mutex
		free [numClasses][]*Buf // free buffers by class, the last put last
		// low is, per class, the fewest free buffers since the last Trim:
		// that many were not needed in the meantime.
		low   [numClasses]int
		bytes int64 // held by free buffers
	}
	gets, reused, dropped atomic.Uint64
}

// New returns a pool that keeps up to limit bytes of free buffers (none
// if limit <= 0: every Get allocates, every last Release drops).
func New(limit int64) *Pool {
	return &Pool{limit: limit}
}

// Buf is a buffer from a Pool with its count of references.
type Buf struct {
	data  []byte
	pool  *Pool // nil for a buffer past MaxSize, never recycled
	class int
	// state is the generation in the high 32 bits, the references in the
	// low 32. The last Release moves the generation on.
	state atomic.Uint64
}

const refMask = 1<<32 - 1

// Get returns a buffer of at least n bytes holding one reference, the
// caller's; reused says whether it was recycled (else it is newly
// allocated, so its pages are not in memory yet). Its bytes are whatever
// the last holder left there.
func (p *Pool) Get(n int) (b *Buf, reused bool) {
	p.gets.Add(1)
	if n > MaxSize {
		b = &Buf{data: make([]byte, n)}
		b.state.Store(1)
		return b, false
	}
	c := classOf(n)
	p.mu.Lock()
	// A buffer up to two classes larger (at most 1/8 more) will do.
	for cc := c; cc < min(c+3, numClasses); cc++ {
		if k := len(p.mu.free[cc]); k > 0 {
			b = p.mu.free[cc][k-1]
			p.mu.free[cc][k-1] = nil
			p.mu.free[cc] = p.mu.free[cc][:k-1]
			p.mu.low[cc] = min(p.mu.low[cc], k-1)
			p.mu.bytes -= int64(len(b.data))
			break
		}
	}
	p.mu.Unlock()
	if b != nil {
		p.reused.Add(1)
		b.state.Add(1) // 0 references to 1, in the generation of its last release
		return b, true
	}
	b = &Buf{data: make([]byte, classSize(c)), pool: p, class: c}
	b.state.Store(1)
	return b, false
}

// put takes back b, which has no reference left, or drops it when the
// pool holds its limit.
func (p *Pool) put(b *Buf) {
	p.mu.Lock()
	if p.mu.bytes+int64(len(b.data)) > p.limit {
		p.mu.Unlock()
		p.dropped.Add(1)
		return
	}
	p.mu.free[b.class] = append(p.mu.free[b.class], b)
	p.mu.bytes += int64(len(b.data))
	p.mu.Unlock()
}

// Trim lets go of the free buffers that no Get needed since the last Trim
// (the oldest of each class), so that a pool whose users went idle holds
// nothing after two Trims. Call it every few seconds.
func (p *Pool) Trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.mu.free {
		free := p.mu.free[c]
		if n := p.mu.low[c]; n > 0 {
			for _, b := range free[:n] {
				p.mu.bytes -= int64(len(b.data))
			}
			clear(free[:n])
			free = append(free[:0], free[n:]...)
			p.mu.free[c] = free
			p.dropped.Add(uint64(n))
		}
		p.mu.low[c] = len(free)
	}
}

// Stats are a pool's counters.
type Stats struct {
	Gets      uint64 // buffers handed out
	Reused    uint64 // of those, recycled ones
	Dropped   uint64 // released buffers left to the garbage collector: the pool was full, or Trim let them go
	FreeBytes int64  // held by free buffers now
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	free := p.mu.bytes
	p.mu.Unlock()
	return Stats{Gets: p.gets.Load(), Reused: p.reused.Load(), Dropped: p.dropped.Load(), FreeBytes: free}
}

// Bytes returns the whole buffer (at least the size asked of Get). It is
// the holders' to use while they hold references.
func (b *Buf) Bytes() []byte { return b.data }

// Gen returns the buffer's generation, for TryRetain. The caller must hold
// a reference (the generation moves on at the last release).
func (b *Buf) Gen() uint32 { return uint32(b.state.Load() >> 32) }

// Retain adds a reference for a caller that holds one already.
func (b *Buf) Retain() {
	if b.state.Add(1)&refMask == 1 {
		panic("bufpool: Retain of a buffer with no reference")
	}
}

// TryRetain adds a reference if the buffer is still the one of generation
// gen and still held by someone; false means its bytes are gone.
func (b *Buf) TryRetain(gen uint32) bool {
	for {
		s := b.state.Load()
		if uint32(s>>32) != gen || s&refMask == 0 {
			return false
		}
		if b.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// Release gives back one reference. The last one moves the generation on
// and returns the buffer to its pool: the caller must not touch its bytes
// again. Release of a nil Buf does nothing, so a holder of memory that may
// or may not come from a pool can release it either way.
func (b *Buf) Release() {
	if b == nil {
		return
	}
	for {
		s := b.state.Load()
		refs := s & refMask
		if refs == 0 {
			panic(fmt.Sprintf("bufpool: Release of a buffer with no reference (generation %d)", s>>32))
		}
		next := s - 1
		if refs == 1 {
			next = (s>>32 + 1) << 32
		}
		if !b.state.CompareAndSwap(s, next) {
			continue
		}
		if refs == 1 && b.pool != nil {
			b.pool.put(b)
		}
		return
	}
}
