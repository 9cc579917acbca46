package logstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/logstore/journal"
)

// storedBatch is one stamped batch of a partition.
type storedBatch struct {
	base, last uint64 // offsets of its first and last message
	ts         uint64 // append time, µs
	data       []byte
}

// partition is one partition's log.
type partition struct {
	key PartitionKey

	// Guarded by Log.mu: the write side.
	next   uint64 // offset the next appended message gets
	lastTS uint64 // append time of the last batch, µs

	// The read side: what is durable and visible.
	mu      sync.RWMutex
	batches []storedBatch // in offset order, contiguous
}

// partLocked returns the partition, creating it on first use. l.mu is held.
func (l *Log) partLocked(k PartitionKey) *partition {
	p, ok := l.mu.parts[k]
	if !ok {
		p = &partition{key: k}
		l.mu.parts[k] = p
	}
	return p
}

// publish makes a durable batch visible to readers.
func (p *partition) publish(b storedBatch) {
	p.mu.Lock()
	p.batches = append(p.batches, b)
	p.mu.Unlock()
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
	return k, storedBatch{base: h.BaseOffset, last: h.LastOffset(), ts: h.BaseTimestamp, data: data}, nil
}

// Bounds returns the first offset still stored and the offset the next
// message will get, counting durable messages only. ok is false for a
// partition that has never had a message.
func (l *Log) Bounds(k PartitionKey) (first, next uint64, ok bool) {
	p := l.part(k)
	if p == nil {
		return 0, 0, false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.batches) == 0 {
		return 0, 0, false
	}
	return p.batches[0].base, p.batches[len(p.batches)-1].last + 1, true
}

func (l *Log) part(k PartitionKey) *partition {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.parts[k]
}

// ReadOptions bound a read.
type ReadOptions struct {
	// MaxMessages stops the read once the batches returned hold at least
	// this many messages at or after the start offset (0: no limit).
	MaxMessages int
	// MaxBytes stops the read before a batch that would take the total
	// past it, but always returns at least one batch (0: no limit).
	MaxBytes int
}

// Read returns the durable batches holding the messages from offset on, in
// order; the first may start before offset (batches are returned whole,
// byte for byte as stored). An offset past the end returns no batches.
func (l *Log) Read(ctx context.Context, k PartitionKey, offset uint64, opts ReadOptions) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := l.part(k)
	if p == nil {
		return nil, nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	i := sort.Search(len(p.batches), func(i int) bool { return p.batches[i].last >= offset })
	var out [][]byte
	messages, bytes := 0, 0
	for ; i < len(p.batches); i++ {
		b := p.batches[i]
		if len(out) > 0 && opts.MaxBytes > 0 && bytes+len(b.data) > opts.MaxBytes {
			break
		}
		out = append(out, b.data)
		bytes += len(b.data)
		messages += int(b.last - max(b.base, offset) + 1)
		if opts.MaxMessages > 0 && messages >= opts.MaxMessages {
			break
		}
	}
	return out, nil
}

// OffsetAt returns the offset of the first durable message appended at or
// after ts (µs); ok is false if there is none.
func (l *Log) OffsetAt(k PartitionKey, ts uint64) (offset uint64, ok bool) {
	p := l.part(k)
	if p == nil {
		return 0, false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	i := sort.Search(len(p.batches), func(i int) bool { return p.batches[i].ts >= ts })
	if i == len(p.batches) {
		return 0, false
	}
	return p.batches[i].base, true
}
