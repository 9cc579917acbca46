package logstore

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/logstore/segment"
)

// storedBatch is one stamped batch of a partition.
type storedBatch struct {
	base, last uint64 // offsets of its first and last message
	ts         uint64 // append time, µs
	seq        uint64 // the journal frame it is in
	size       int64  // its length in bytes
	// data is the batch, or nil once it was spilled from memory (see
	// partition.spill): it is then read back from where the journal has it.
	data []byte
	// buf is the recycled buffer data lies in, if it does (AppendOwnedAs),
	// and gen its generation: the partition holds one reference until it
	// drops data. A reader whose view may be stale retains it with
	// TryRetain(gen) before it uses data (see holdData).
	buf *bufpool.Buf
	gen uint32
	// Where the batch is in the journal: in the file or object
	// journal/<file>, at pos (file is 0 for a batch read back from a
	// segment). A linked segment points there.
	file uint64
	pos  int64
}

// header is what the batch's header says of its place in the log.
func (b *storedBatch) header() batch.Header {
	return batch.Header{BaseOffset: b.base, Count: uint32(b.last - b.base + 1), BaseTimestamp: b.ts, Length: uint64(b.size)}
}

// extent is where the batch is in the journal.
func (b *storedBatch) extent() segment.Extent {
	return segment.Extent{File: b.file, Position: uint64(b.pos), Length: uint64(b.size)}
}

// partition is one partition's log.
type partition struct {
	key PartitionKey

	// Guarded by Log.mu: the write side.
	next   uint64 // offset the next appended message gets
	lastTS uint64 // append time of the last batch, µs

	sealAt int64 // unsealed bytes at which it is sealed (sealBytes)

	sealMu sync.Mutex // held while sealing

	// The read side: what is durable and visible.
	mu            sync.RWMutex
	segments      []*segInfo    // sealed, in offset order, contiguous
	sealedNext    uint64        // first offset not in a segment
	batches       []storedBatch // unsealed, in offset order, contiguous from sealedNext
	unsealedBytes int64         // the size of batches
	memBytes      int64         // the size of those of batches held in memory
	trimmed       []string      // keys of trimmed segments not deleted yet
	dropped       bool          // Drop forgot the partition

	// readTo is one past the newest offset a read has returned from the
	// tail in memory (0: none).
	readTo atomic.Uint64

	// The log's totals of unsealed bytes, and of those in memory, which
	// this partition's add to.
	tail, mem *atomic.Int64
}

// noteRead records that a read returned the tail in memory up to offset
// to (exclusive).
func (p *partition) noteRead(to uint64) {
	for {
		cur := p.readTo.Load()
		if to <= cur || p.readTo.CompareAndSwap(cur, to) {
			return
		}
	}
}

// partLocked returns the partition, creating it on first use. l.mu is held.
func (l *Log) partLocked(k PartitionKey) *partition {
	p, ok := l.mu.parts[k]
	if !ok {
		p = &partition{key: k, tail: &l.tailBytes, mem: &l.memBytes, sealAt: sealBytes(k, l.opts.SegmentBytes, l.opts.SegmentSpread)}
		l.mu.parts[k] = p
	}
	return p
}

// sealBytes is the size at which partition k is sealed: segment less a
// share of spread (at most spread, never below half of segment) that
// k's bits decide, spread evenly whatever the keys.
func sealBytes(k PartitionKey, segment, spread int64) int64 {
	spread = min(max(spread, 0), segment/2)
	if spread == 0 {
		return segment
	}
	// splitmix64's finalizer over the key's bits.
	x := uint64(k.Stream)<<42 ^ uint64(k.Topic)<<21 ^ uint64(k.Partition)
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return segment - int64(x%uint64(spread+1))
}

// partitions returns every partition there is now.
func (l *Log) partitions() []*partition {
	l.mu.Lock()
	defer l.mu.Unlock()
	parts := make([]*partition, 0, len(l.mu.parts))
	for _, p := range l.mu.parts {
		parts = append(parts, p)
	}
	return parts
}

// publish makes a durable batch visible to readers and returns how many
// unsealed bytes the partition holds.
func (p *partition) publish(b storedBatch) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batches = append(p.batches, b)
	p.unsealedBytes += b.size
	p.memBytes += b.size
	p.tail.Add(b.size)
	p.mem.Add(b.size)
	return p.unsealedBytes
}

// dropBatchesLocked drops the first n unsealed batches (now sealed) from p's
// accounts and lets go of their buffers (p.mu is held); the caller drops
// them from p.batches.
func (p *partition) dropBatchesLocked(n int) {
	for _, b := range p.batches[:n] {
		p.unsealedBytes -= b.size
		p.tail.Add(-b.size)
		if b.data != nil {
			p.memBytes -= b.size
			p.mem.Add(-b.size)
			b.buf.Release()
		}
	}
}

// holdData returns b's bytes if they are in memory, retaining their buffer
// for the caller (who releases it once done: held is true then). A view of
// p.batches may be stale: a batch whose buffer was let go since (spilled or
// sealed, and maybe handed out again) has no bytes here, and is read from
// where the journal has it, as if it had been spilled.
func (b *storedBatch) holdData() (data []byte, held bool) {
	if b.data == nil || b.buf == nil {
		return b.data, false
	}
	if !b.buf.TryRetain(b.gen) {
		return nil, false
	}
	return b.data, true
}

// spill drops p's unsealed batches from memory: they stay in the journal,
// where reads of them (Log.spilled) and the seal that links them find
// them. It returns the bytes freed.
func (p *partition) spill() int64 {
	return p.spillBefore(^uint64(0))
}

// spillRead spills the batches a read has returned from memory already
// (see noteRead): the ones a reader that keeps up will not ask for again.
func (p *partition) spillRead() int64 {
	return p.spillBefore(p.readTo.Load())
}

// spillBefore spills the batches in memory whose messages are all before
// offset to, and returns the bytes freed.
func (p *partition) spillBefore(to uint64) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0 // batches to look at: those before to
	for n < len(p.batches) && p.batches[n].last < to {
		n++
	}
	var freed int64
	for _, b := range p.batches[:n] {
		if b.data != nil {
			freed += b.size
		}
	}
	if freed == 0 {
		return 0
	}
	// Readers hold views of p.batches: change a copy. Those that read
	// the old one retain the buffers they use (holdData) before this lets
	// go of them.
	bs := slices.Clone(p.batches)
	for i := range bs[:n] {
		if bs[i].data != nil {
			bs[i].buf.Release()
		}
		bs[i].data, bs[i].buf = nil, nil
	}
	p.batches = bs
	p.mem.Add(-freed)
	p.memBytes -= freed
	return freed
}

// batchRecordHeader is the size of a RecordBatch payload's prefix:
// stream u32, topic u32, partition u32, then the stamped batch.
// Part of the format.
const batchRecordHeader = 12

func putPartitionKey(dst []byte, k PartitionKey) {
	binary.LittleEndian.PutUint32(dst[0:], k.Stream)
	binary.LittleEndian.PutUint32(dst[4:], k.Topic)
	binary.LittleEndian.PutUint32(dst[8:], k.Partition)
}

// decodeBatchRecord splits a RecordBatch payload and validates the batch.
func decodeBatchRecord(payload []byte) (PartitionKey, storedBatch, error) {
	if len(payload) < batchRecordHeader {
		return PartitionKey{}, storedBatch{}, fmt.Errorf("%w: batch record of %d bytes", journal.ErrCorrupt, len(payload))
	}
	le := binary.LittleEndian
	k := PartitionKey{Stream: le.Uint32(payload[0:]), Topic: le.Uint32(payload[4:]), Partition: le.Uint32(payload[8:])}
	data := payload[batchRecordHeader:]
	h, err := batch.Validate(data)
	if err != nil {
		return k, storedBatch{}, fmt.Errorf("%w: partition %s: %w", journal.ErrCorrupt, k, err)
	}
	return k, storedBatch{base: h.BaseOffset, last: h.LastOffset(), ts: h.BaseTimestamp, size: int64(len(data)), data: data}, nil
}

// sealedUpTo is the first offset not in a segment.
func (p *partition) sealedUpTo() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.sealedNext
}
