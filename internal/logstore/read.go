package logstore

import (
	"container/list"
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/logstore/segment"
)

// ReadOptions bound a read.
type ReadOptions struct {
	// MaxMessages stops the read once the batches returned hold at least
	// this many messages at or after the start offset (0: no limit).
	MaxMessages int
	// MaxBytes stops the read before a batch that would take the total
	// past it, but always returns at least one batch (0: no limit).
	MaxBytes int
	// Hold, if set, is given the buffers of the batches the read returns
	// from the partition's tail in memory: those batches are valid until
	// Hold.Release, and their buffers are used again after it. Without
	// Hold they are the caller's for good, and their buffers are never
	// used again.
	Hold *Held
}

// Held is what reads hold of the partitions' tails in memory (see
// ReadOptions.Hold). The zero value holds nothing.
type Held struct {
	bufs []*bufpool.Buf
}

// Release lets go of everything h holds: the batches read with it must
// not be used after. h can hold more again after.
func (h *Held) Release() {
	for _, b := range h.bufs {
		b.Release()
	}
	clear(h.bufs)
	h.bufs = h.bufs[:0]
}

// add takes over a reference to b.
func (h *Held) add(b *bufpool.Buf) { h.bufs = append(h.bufs, b) }

// view is a consistent snapshot of a partition's read side.
type view struct {
	p          *partition
	segments   []*segInfo
	sealedNext uint64
	batches    []storedBatch
}

func (l *Log) view(k PartitionKey) (view, bool) {
	p := l.part(k)
	if p == nil {
		return view{}, false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return view{p: p, segments: p.segments, sealedNext: p.sealedNext, batches: p.batches}, true
}

func (l *Log) part(k PartitionKey) *partition {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.parts[k]
}

// Bounds returns the first offset still stored and the offset the next
// message will get, counting durable messages only. ok is false for a
// partition that has no message.
func (l *Log) Bounds(k PartitionKey) (first, next uint64, ok bool) {
	v, found := l.view(k)
	if !found {
		return 0, 0, false
	}
	switch {
	case len(v.segments) > 0:
		first = v.segments[0].base
	case len(v.batches) > 0:
		first = v.batches[0].base
	case v.sealedNext > 0: // everything was deleted by retention
		return v.sealedNext, v.sealedNext, true
	default:
		return 0, 0, false
	}
	next = v.sealedNext
	if len(v.batches) > 0 {
		next = v.batches[len(v.batches)-1].last + 1
	}
	return first, next, true
}

// reader accumulates the batches of one Read within its limits.
type reader struct {
	from     uint64
	opts     ReadOptions
	out      [][]byte
	messages int
	bytes    int
}

// add takes a batch if it is wanted and fits; false means the read is done.
func (r *reader) add(b []byte, base, last uint64) bool {
	if last < r.from {
		return true
	}
	if len(r.out) > 0 && r.opts.MaxBytes > 0 && r.bytes+len(b) > r.opts.MaxBytes {
		return false
	}
	r.out = append(r.out, b)
	r.bytes += len(b)
	r.messages += int(last - max(base, r.from) + 1)
	return r.opts.MaxMessages <= 0 || r.messages < r.opts.MaxMessages
}

// Read returns the durable batches holding the messages from offset on, in
// order; the first may start before offset (batches are returned whole,
// byte for byte as stored). An offset before the first stored message reads
// from the first; past the end, no batches.
func (l *Log) Read(ctx context.Context, k PartitionKey, offset uint64, opts ReadOptions) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, ok := l.view(k)
	if !ok {
		return nil, nil
	}
	r := &reader{from: offset, opts: opts}
	if len(v.segments) > 0 {
		r.from = max(r.from, v.segments[0].base)
	}
	// Sealed part.
	i := sort.Search(len(v.segments), func(i int) bool { return v.segments[i].last >= r.from })
	for ; i < len(v.segments); i++ {
		more, err := l.readSegment(ctx, v.segments[i], r)
		if err != nil || !more {
			return r.out, err
		}
	}
	// Unsealed tail, in memory unless spilled. What it returns from memory
	// is noted: a spill drops what was read first (partition.spillRead).
	var readTo uint64
	defer func() {
		if readTo > 0 {
			v.p.noteRead(readTo)
		}
	}()
	j := sort.Search(len(v.batches), func(j int) bool { return v.batches[j].last >= r.from })
	for j < len(v.batches) {
		data, held := v.batches[j].holdData()
		run := [][]byte{data}
		inMemory := data != nil
		if !inMemory {
			if v.batches[j].data == nil {
				l.tailMissed() // not a view that went stale while read
			}
			want := uint64(linkSpan)
			if r.opts.MaxBytes > 0 {
				want = uint64(max(r.opts.MaxBytes-r.bytes, 0))
			}
			var err error
			if run, err = l.spilled(ctx, v.batches[j:], want); err != nil {
				return r.out, err
			}
		}
		for _, data := range run {
			b := &v.batches[j]
			n := len(r.out)
			more := r.add(data, b.base, b.last)
			if held {
				switch {
				case len(r.out) == n: // not taken
					b.buf.Release()
				case r.opts.Hold != nil:
					r.opts.Hold.add(b.buf)
				}
				// Without Hold the reference is the caller's for good:
				// the buffer is left to the garbage collector.
			}
			if inMemory && len(r.out) > n {
				// The caller takes messages up to MaxMessages from the
				// start: a batch it takes part of is not read through.
				readTo = b.last + 1
				if r.opts.MaxMessages > 0 {
					readTo = min(readTo, r.from+uint64(r.opts.MaxMessages))
				}
			}
			if !more {
				return r.out, nil
			}
			j++
		}
	}
	return r.out, nil
}

// spilled returns the data of bs[0], a batch spilled from memory, from the
// block cache; or reads it from the journal together with the spilled
// batches after it that lie near it in the same journal file or object
// (nearRun), up to want bytes, caches them all and returns them all.
func (l *Log) spilled(ctx context.Context, bs []storedBatch, want uint64) ([][]byte, error) {
	key := journalKey(bs[0].file)
	if data, ok := l.blocks.get(blockKey{key, int(bs[0].pos)}); ok {
		return [][]byte{data}, nil
	}
	m := 1
	for m < len(bs) && bs[m].data == nil {
		m++
	}
	n, lo, hi := nearRun(m, func(i int) segment.Extent { return bs[i].extent() }, want)
	data, err := l.store.GetRange(ctx, key, int64(lo), int64(hi-lo))
	if err != nil {
		return nil, fmt.Errorf("read spilled batches of %s: %w", key, err)
	}
	if uint64(len(data)) != hi-lo {
		return nil, fmt.Errorf("read spilled batches: %s holds %d bytes at %d, want %d", key, len(data), lo, hi-lo)
	}
	out := make([][]byte, n)
	for i, b := range bs[:n] {
		d := data[uint64(b.pos)-lo : uint64(b.pos)-lo+uint64(b.size)]
		h, err := batch.Validate(d)
		if err != nil || h.BaseOffset != b.base || h.Length != uint64(b.size) {
			return nil, fmt.Errorf("read spilled batches: %s at %d: not the batch at offset %d (%v)", key, b.pos, b.base, err)
		}
		l.blocks.put(blockKey{key, int(b.pos)}, d)
		out[i] = d
	}
	return out, nil
}

// readSegment feeds r the batches of s from r.from on, one index block at a
// time; false means r is full.
func (l *Log) readSegment(ctx context.Context, s *segInfo, r *reader) (bool, error) {
	f, err := l.loadFooter(ctx, s)
	if err != nil {
		return false, err
	}
	blk, ok := f.BlockFor(max(r.from, s.base))
	if !ok {
		return true, nil
	}
	for ; blk < f.Blocks(); blk++ {
		data, err := l.block(ctx, s, blk)
		if err != nil {
			return false, err
		}
		for pos := 0; pos < len(data); {
			h, err := batch.ParseHeader(data[pos:])
			if err != nil || h.Length > uint64(len(data)-pos) {
				return false, fmt.Errorf("segment %s block %d: bad batch at %d", s.key, blk, pos)
			}
			if !r.add(data[pos:pos+int(h.Length)], h.BaseOffset, h.LastOffset()) {
				return false, nil
			}
			pos += int(h.Length)
		}
	}
	return true, nil
}

// block returns index block i of s, from the cache or the store. Every
// batch of a block read from the store is verified.
func (l *Log) block(ctx context.Context, s *segInfo, i int) ([]byte, error) {
	key := blockKey{s.key, i}
	if b, ok := l.blocks.get(key); ok {
		return b, nil
	}
	start, end := s.footer.Block(i)
	var data []byte
	var err error
	if s.linked() {
		data, err = l.readLinked(ctx, s, start, end)
	} else {
		data, err = l.store.GetRange(ctx, s.key, int64(start), int64(end-start))
	}
	if err != nil {
		return nil, fmt.Errorf("read segment block: %w", err)
	}
	if uint64(len(data)) != end-start {
		return nil, fmt.Errorf("segment %s block %d: %d bytes, want %d", s.key, i, len(data), end-start)
	}
	if err := validBatches(data, nil); err != nil {
		return nil, fmt.Errorf("segment %s block %d: %w", s.key, i, err)
	}
	l.blocks.put(key, data)
	return data, nil
}

// validBatches checks that data read back from the store is a run of
// whole, valid stamped batches, and gives each to each (if not nil).
func validBatches(data []byte, each func(h batch.Header, b []byte)) error {
	for pos := 0; pos < len(data); {
		h, err := batch.ParseHeader(data[pos:])
		if err != nil || h.Length > uint64(len(data)-pos) {
			return fmt.Errorf("bad batch at %d", pos)
		}
		b := data[pos : pos+int(h.Length)]
		if _, err := batch.Validate(b); err != nil {
			return fmt.Errorf("batch at %d: %w", pos, err)
		}
		if each != nil {
			each(h, b)
		}
		pos += int(h.Length)
	}
	return nil
}

// Reads of a linked segment's data take the ranges of one journal file
// that lie at most linkGap bytes apart in one read of at most linkSpan
// bytes: a partition's batches are near each other in the journal when
// few partitions write, and far apart when many do.
const (
	linkGap  = 64 << 10
	linkSpan = 4 << 20
)

// nearRun returns how many of n ranges of the journal, from the first, one
// read takes — those in the first's file, each after the one before and at
// most linkGap past it, spanning at most linkSpan and limit bytes in all
// (the first whatever its size) — and the bytes [lo, hi) of that read.
func nearRun(n int, at func(i int) segment.Extent, limit uint64) (count int, lo, hi uint64) {
	first := at(0)
	lo, hi = first.Position, first.Position+first.Length
	count = 1
	for ; count < n; count++ {
		r := at(count)
		if r.File != first.File || r.Position < hi || r.Position-hi > linkGap ||
			r.Position+r.Length-lo > min(linkSpan, limit) {
			break
		}
		hi = r.Position + r.Length
	}
	return count, lo, hi
}

// readLinked reads the bytes [start, end) of linked segment s's data from
// the journal files.
func (l *Log) readLinked(ctx context.Context, s *segInfo, start, end uint64) ([]byte, error) {
	ranges := s.links.Ranges(start, end)
	out := make([]byte, 0, end-start)
	for i := 0; i < len(ranges); {
		n, lo, hi := nearRun(len(ranges)-i, func(j int) segment.Extent { return ranges[i+j] }, linkSpan)
		key := journalKey(ranges[i].File)
		data, err := l.store.GetRange(ctx, key, int64(lo), int64(hi-lo))
		if err != nil {
			return nil, fmt.Errorf("linked segment %s: %w", s.key, err)
		}
		if uint64(len(data)) != hi-lo {
			return nil, fmt.Errorf("linked segment %s: %s holds %d bytes at %d, want %d", s.key, key, len(data), lo, hi-lo)
		}
		for _, r := range ranges[i : i+n] {
			out = append(out, data[r.Position-lo:r.Position-lo+r.Length]...)
		}
		i += n
	}
	return out, nil
}

// OffsetAt returns the offset of the first durable message appended at or
// after ts (µs); ok is false if there is none.
func (l *Log) OffsetAt(ctx context.Context, k PartitionKey, ts uint64) (offset uint64, ok bool, err error) {
	v, found := l.view(k)
	if !found {
		return 0, false, nil
	}
	i := sort.Search(len(v.segments), func(i int) bool { return v.segments[i].lastTS >= ts })
	if i < len(v.segments) {
		s := v.segments[i]
		f, err := l.loadFooter(ctx, s)
		if err != nil {
			return 0, false, err
		}
		blk, _ := f.BlockForTimestamp(ts)
		for ; blk < f.Blocks(); blk++ {
			data, err := l.block(ctx, s, blk)
			if err != nil {
				return 0, false, err
			}
			for pos := 0; pos < len(data); {
				h, _ := batch.ParseHeader(data[pos:])
				if h.BaseTimestamp >= ts {
					return h.BaseOffset, true, nil
				}
				pos += int(h.Length)
			}
		}
	}
	j := sort.Search(len(v.batches), func(j int) bool { return v.batches[j].ts >= ts })
	if j == len(v.batches) {
		return 0, false, nil
	}
	return v.batches[j].base, true, nil
}

// blockKey names a cached segment block.
type blockKey struct {
	seg   string
	block int
}

// blockCache is an LRU cache of segment blocks bounded in bytes.
type blockCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	order *list.List // front: most recently used; values are *blockEntry
	items map[blockKey]*list.Element
}

type blockEntry struct {
	key  blockKey
	data []byte
}

func newBlockCache(maxBytes int64) *blockCache {
	return &blockCache{max: maxBytes, order: list.New(), items: make(map[blockKey]*list.Element)}
}

func (c *blockCache) get(k blockKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*blockEntry).data, true
}

func (c *blockCache) put(k blockKey, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok || int64(len(data)) > c.max {
		return
	}
	c.items[k] = c.order.PushFront(&blockEntry{key: k, data: data})
	c.size += int64(len(data))
	for c.size > c.max {
		e := c.order.Back()
		be := e.Value.(*blockEntry)
		c.order.Remove(e)
		delete(c.items, be.key)
		c.size -= int64(len(be.data))
	}
}
