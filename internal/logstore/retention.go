package logstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/objstore"
)

// RecordTrim payload: partition key (12) | first offset kept u64. Part of
// the format.
const trimRecordSize = batchRecordHeader + 8

// SegmentInfo describes a sealed segment.
type SegmentInfo struct {
	Key        string
	BaseOffset uint64
	LastOffset uint64
	LastTime   time.Time // append time of its last batch
	Size       int64     // bytes in the store: the object, and the batches a linked segment points at
}

// Segments lists a partition's sealed segments, oldest first.
func (l *Log) Segments(k PartitionKey) []SegmentInfo {
	v, ok := l.view(k)
	if !ok {
		return nil
	}
	out := make([]SegmentInfo, len(v.segments))
	for i, s := range v.segments {
		out[i] = SegmentInfo{Key: s.key, BaseOffset: s.base, LastOffset: s.last, LastTime: time.UnixMicro(int64(s.lastTS)), Size: s.bytes()}
	}
	return out
}

// Retention is a topic's retention policy; zero fields mean no limit.
type Retention struct {
	// MaxAge deletes a segment once its newest message is older.
	MaxAge time.Duration
	// MaxBytes deletes the oldest segments of the topic (across its
	// partitions) while the topic's stored bytes exceed it.
	MaxBytes int64
}

// EnforceRetention deletes whole sealed segments of the partitions of one
// topic that the policy no longer keeps, oldest first, and returns how
// many it deleted. Unsealed data is never deleted.
func (l *Log) EnforceRetention(ctx context.Context, partitions []PartitionKey, r Retention) (int, error) {
	type cand struct {
		k PartitionKey
		s SegmentInfo
	}
	var all []cand
	var total int64
	for _, k := range partitions {
		v, ok := l.view(k)
		if !ok {
			continue
		}
		for _, s := range l.Segments(k) {
			all = append(all, cand{k, s})
			total += s.Size
		}
		for _, b := range v.batches {
			total += b.size
		}
	}
	slices.SortFunc(all, func(a, b cand) int { return a.s.LastTime.Compare(b.s.LastTime) })
	// Per partition, the first offset to keep.
	keep := map[PartitionKey]uint64{}
	now := l.opts.Now()
	deleted := 0
	for _, c := range all {
		expired := r.MaxAge > 0 && now.Sub(c.s.LastTime) > r.MaxAge
		tooBig := r.MaxBytes > 0 && total > r.MaxBytes
		if !expired && !tooBig {
			continue
		}
		// Oldest first within a partition: never leave a hole.
		if prev, ok := keep[c.k]; ok && prev != c.s.BaseOffset {
			continue
		}
		if _, ok := keep[c.k]; !ok {
			segs := l.Segments(c.k)
			if len(segs) == 0 || segs[0].BaseOffset != c.s.BaseOffset {
				continue
			}
		}
		keep[c.k] = c.s.LastOffset + 1
		total -= c.s.Size
		deleted++
	}
	var errs []error
	for k, first := range keep {
		errs = append(errs, l.TrimBefore(ctx, k, first))
	}
	return deleted, errors.Join(errs...)
}

// TrimBefore deletes the partition's sealed segments that lie wholly
// before offset. The trim is recorded in the journal first, so that it
// survives a crash; the segment objects are deleted after.
func (l *Log) TrimBefore(ctx context.Context, k PartitionKey, offset uint64) error {
	p := l.part(k)
	if p == nil {
		return nil
	}
	rec := make([]byte, trimRecordSize)
	putPartitionKey(rec, k)
	binary.LittleEndian.PutUint64(rec[batchRecordHeader:], offset)
	if err := l.appendInternal(ctx, journal.RecordTrim, rec, frameRecord{part: p, trim: true, trimTo: offset}); err != nil {
		return fmt.Errorf("trim %s before %d: %w", k, offset, err)
	}
	return l.deleteTrimmed(ctx, p)
}

// trim drops the segments wholly before offset from the partition's view
// and remembers their keys for deletion.
func (p *partition) trim(offset uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for n < len(p.segments) && p.segments[n].last < offset {
		p.trimmed = append(p.trimmed, p.segments[n].key)
		n++
	}
	p.segments = slices.Clone(p.segments[n:])
}

// deleteTrimmed deletes the objects of trimmed segments.
func (l *Log) deleteTrimmed(ctx context.Context, p *partition) error {
	p.mu.Lock()
	keys := p.trimmed
	p.trimmed = nil
	p.mu.Unlock()
	var errs []error
	for _, key := range keys {
		if err := l.store.Delete(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func decodeTrimRecord(b []byte) (PartitionKey, uint64, error) {
	if len(b) != trimRecordSize {
		return PartitionKey{}, 0, fmt.Errorf("%w: trim record of %d bytes", journal.ErrCorrupt, len(b))
	}
	le := binary.LittleEndian
	return PartitionKey{Stream: le.Uint32(b[0:]), Topic: le.Uint32(b[4:]), Partition: le.Uint32(b[8:])}, le.Uint64(b[12:]), nil
}

// RecordDrop payload: the partition key (12 bytes). Part of the format.
const dropRecordSize = batchRecordHeader

// Drop deletes a partition and all its data, sealed or not. The drop is
// recorded in the journal first, so it survives a crash; the segment
// objects are deleted after. Partition keys must never be reused after a
// Drop: a later Append to the same key starts a new partition at offset 0,
// and recovery forgets everything written to the key before the drop
// record wherever it meets one.
func (l *Log) Drop(ctx context.Context, k PartitionKey) error {
	p := l.part(k)
	if p == nil {
		return nil
	}
	p.sealMu.Lock() // no seal of p runs across the drop
	defer p.sealMu.Unlock()
	rec := make([]byte, dropRecordSize)
	putPartitionKey(rec, k)
	if err := l.appendInternal(ctx, journal.RecordDrop, rec, frameRecord{part: p, drop: true}); err != nil {
		return fmt.Errorf("drop %s: %w", k, err)
	}
	return l.deleteDropped(ctx)
}

// dropPartition forgets p: its data leaves the read side, its segments are
// queued for deletion, and the key leaves the log's map.
func (l *Log) dropPartition(p *partition) {
	p.mu.Lock()
	for _, s := range p.segments {
		p.trimmed = append(p.trimmed, s.key)
	}
	p.dropBatchesLocked(len(p.batches))
	p.segments, p.batches, p.dropped = nil, nil, true
	keys := p.trimmed
	p.trimmed = nil
	p.mu.Unlock()
	l.mu.Lock()
	if l.mu.parts[p.key] == p {
		delete(l.mu.parts, p.key)
	}
	l.mu.Unlock()
	l.dropMu.Lock()
	l.dropKeys = append(l.dropKeys, keys...)
	l.dropMu.Unlock()
}

// deleteDropped deletes the segment objects of dropped partitions.
func (l *Log) deleteDropped(ctx context.Context) error {
	l.dropMu.Lock()
	keys := l.dropKeys
	l.dropKeys = nil
	l.dropMu.Unlock()
	var errs []error
	for i, key := range keys {
		if err := l.store.Delete(ctx, key); err != nil && !errors.Is(err, objstore.ErrNotFound) {
			errs = append(errs, err)
			l.dropMu.Lock()
			l.dropKeys = append(l.dropKeys, keys[i:]...)
			l.dropMu.Unlock()
			break
		}
	}
	return errors.Join(errs...)
}

func decodeDropRecord(b []byte) (PartitionKey, error) {
	if len(b) != dropRecordSize {
		return PartitionKey{}, fmt.Errorf("%w: drop record of %d bytes", journal.ErrCorrupt, len(b))
	}
	le := binary.LittleEndian
	return PartitionKey{Stream: le.Uint32(b[0:]), Topic: le.Uint32(b[4:]), Partition: le.Uint32(b[8:])}, nil
}

// Size returns the bytes a partition holds: its sealed segments and its
// unsealed batches.
func (l *Log) Size(k PartitionKey) int64 {
	v, ok := l.view(k)
	if !ok {
		return 0
	}
	var n int64
	for _, s := range v.segments {
		n += s.bytes()
	}
	for _, b := range v.batches {
		n += b.size
	}
	return n
}
