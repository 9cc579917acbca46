package logstore

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/logstore/segment"
	"github.com/shoalstream/shoal/internal/objstore"
)

// segInfo is one sealed segment of a partition.
type segInfo struct {
	key        string
	base, last uint64
	lastTS     uint64 // append time of its last batch, µs
	size       int64  // object size
	epoch      uint64 // of the server that wrote it (part of its key)
	// A linked segment's object says where its batches are in the journal
	// files instead of holding them: files are those files (ascending;
	// nil for a segment that holds its data) and dataLen the batches'
	// bytes.
	files   []uint64
	dataLen int64

	mu     sync.Mutex
	footer *segment.Footer // loaded on first read
	links  *segment.Links  // a linked segment's extents, loaded with footer
}

func (s *segInfo) linked() bool { return s.files != nil }

// bytes is what the segment takes in the store: its object, and for a
// linked segment the batches it points at.
func (s *segInfo) bytes() int64 {
	if s.linked() {
		return s.size + s.dataLen
	}
	return s.size
}

// segmentKey names a segment object. The writer's epoch is part of the key
// so that no two servers ever write the same segment object: a fenced
// server that is still sealing cannot overwrite the new owner's segments.
func segmentKey(k PartitionKey, base, epoch uint64) string {
	return fmt.Sprintf("segments/%d/%d/%d/%020d-%020d", k.Stream, k.Topic, k.Partition, base, epoch)
}

// linkedKey names a linked segment object: the segment key with ".links"
// after it, so a linked segment and its copy (see compact) can both exist.
func linkedKey(k PartitionKey, base, epoch uint64) string {
	return segmentKey(k, base, epoch) + ".links"
}

// segmentRecordSize is the size of a RecordSegment payload:
// partition key (12) | base u64 | last u64 | last_ts u64 | size u64 | epoch u64.
// A RecordLinkedSegment payload goes on with data_len u64 | files u32 |
// file u64 × files. Part of the format.
const segmentRecordSize = batchRecordHeader + 5*8

func encodeSegmentRecord(k PartitionKey, s *segInfo, epoch uint64) []byte {
	b := make([]byte, segmentRecordSize, segmentRecordSize+12+8*len(s.files))
	putPartitionKey(b, k)
	le := binary.LittleEndian
	le.PutUint64(b[12:], s.base)
	le.PutUint64(b[20:], s.last)
	le.PutUint64(b[28:], s.lastTS)
	le.PutUint64(b[36:], uint64(s.size))
	le.PutUint64(b[44:], epoch)
	if s.linked() {
		b = le.AppendUint64(b, uint64(s.dataLen))
		b = le.AppendUint32(b, uint32(len(s.files)))
		for _, f := range s.files {
			b = le.AppendUint64(b, f)
		}
	}
	return b
}

// segmentRecordType is the record type that announces s.
func segmentRecordType(s *segInfo) journal.RecordType {
	if s.linked() {
		return journal.RecordLinkedSegment
	}
	return journal.RecordSegment
}

func decodeSegmentRecord(t journal.RecordType, b []byte) (PartitionKey, *segInfo, error) {
	if len(b) < segmentRecordSize || (t == journal.RecordSegment && len(b) != segmentRecordSize) {
		return PartitionKey{}, nil, fmt.Errorf("%w: segment record of %d bytes", journal.ErrCorrupt, len(b))
	}
	le := binary.LittleEndian
	k := PartitionKey{Stream: le.Uint32(b[0:]), Topic: le.Uint32(b[4:]), Partition: le.Uint32(b[8:])}
	s := &segInfo{base: le.Uint64(b[12:]), last: le.Uint64(b[20:]), lastTS: le.Uint64(b[28:]), size: int64(le.Uint64(b[36:]))}
	s.epoch = le.Uint64(b[44:])
	s.key = segmentKey(k, s.base, s.epoch)
	if t == journal.RecordLinkedSegment {
		r := &fieldReader{b: b[segmentRecordSize:]}
		s.dataLen = int64(r.u64())
		n := r.u32()
		if uint64(n) != uint64(len(r.b))/8 || n == 0 {
			return k, nil, fmt.Errorf("%w: linked segment record for %s with %d files in %d bytes", journal.ErrCorrupt, k, n, len(r.b))
		}
		s.files = make([]uint64, n)
		for i := range s.files {
			s.files[i] = r.u64()
		}
		if r.err != nil || len(r.b) != 0 || s.dataLen <= 0 {
			return k, nil, fmt.Errorf("%w: linked segment record for %s does not add up", journal.ErrCorrupt, k)
		}
		s.key = linkedKey(k, s.base, s.epoch)
	}
	if s.last < s.base || s.size < segment.TrailerSize {
		return k, nil, fmt.Errorf("%w: segment record for %s: offsets %d..%d, %d bytes", journal.ErrCorrupt, k, s.base, s.last, s.size)
	}
	return k, s, nil
}

// addSegment records a durable segment: reads of its offsets go to it, and
// the in-memory batches it holds are dropped. A segment that starts where
// a linked one does and ends where it ends is that segment's copy (see
// compact) and takes its place; the linked object is then deleted (with
// the trimmed ones). A copy of a segment that is gone (trimmed meanwhile)
// is deleted itself.
func (p *partition) addSegment(s *segInfo) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.base < p.sealedNext && !s.linked() {
		for i, old := range p.segments {
			if old.base == s.base && old.last == s.last && old.linked() {
				p.segments = slices.Clone(p.segments)
				p.segments[i] = s
				p.trimmed = append(p.trimmed, old.key)
				return nil
			}
		}
		if len(p.segments) == 0 || s.base < p.segments[0].base {
			p.trimmed = append(p.trimmed, s.key)
			return nil
		}
	}
	if s.base != p.sealedNext {
		return fmt.Errorf("%w: partition %s: segment from offset %d, but sealed up to %d", journal.ErrCorrupt, p.key, s.base, p.sealedNext)
	}
	p.segments = append(p.segments, s)
	p.sealedNext = s.last + 1
	drop := 0
	for drop < len(p.batches) && p.batches[drop].last <= s.last {
		drop++
	}
	p.dropBatchesLocked(drop)
	p.batches = append([]storedBatch(nil), p.batches[drop:]...)
	return nil
}

// needsSeal reports whether p's unsealed data is due for sealing.
func (p *partition) needsSeal(now time.Time, o *Options) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.batches) == 0 {
		return false
	}
	if p.unsealedBytes >= p.sealAt {
		return true
	}
	first := time.UnixMicro(int64(p.batches[0].ts))
	return o.SegmentMaxAge > 0 && now.Sub(first) >= o.SegmentMaxAge
}

// sealer seals partitions in the background until the log closes.
func (l *Log) sealer() {
	defer close(l.sealDone)
	ticker := time.NewTicker(l.opts.SealCheckInterval)
	defer ticker.Stop()
	lastCkpt := time.Now()
	for {
		select {
		case <-l.runCtx.Done():
			return
		case <-ticker.C:
			_ = l.sealDue(l.runCtx)
		case <-l.sealKick:
			_ = l.sealDue(l.runCtx)
		case <-l.tailKick:
			// Only the bound: looking at every partition for one that is
			// due at each batch was 5% of the server's CPU with 1,000
			// partitions.
			_ = l.boundTail(l.runCtx, l.partitions())
		}
		if time.Since(lastCkpt) >= l.opts.CheckpointInterval {
			lastCkpt = time.Now()
			if err := l.Checkpoint(l.runCtx); err != nil && l.runCtx.Err() == nil {
				l.log.Warn("checkpoint failed; will try again", "err", err)
			}
		}
	}
}

// sealDue seals every partition that is due; it returns the first error.
func (l *Log) sealDue(ctx context.Context) error {
	parts := l.partitions()
	now := l.opts.Now()
	var errs []error
	for _, p := range parts {
		if ctx.Err() != nil {
			break
		}
		if !p.needsSeal(now, &l.opts) {
			continue
		}
		if err := l.seal(ctx, p); err != nil {
			if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrFenced) {
				l.log.Warn("sealing a segment failed; will try again", "partition", p.key, "err", err)
			}
			errs = append(errs, err)
		}
	}
	errs = append(errs, l.boundTail(ctx, parts))
	return errors.Join(errs...)
}

// boundTail keeps the in-memory tail under its bound: over tailBound, the
// partitions holding the most in memory spill what readers have read of
// it, then the rest (it stays in the journal, and reads go there); over
// TailCacheBytes, those whose batches are to be
// copied into a segment (which needs them in memory) are sealed early.
func (l *Log) boundTail(ctx context.Context, parts []*partition) error {
	bound := l.tailBound.Load()
	if l.memBytes.Load() <= bound {
		l.spillAgain.Store(0)
		return nil
	}
	type held struct {
		p *partition
		n int64
	}
	var most []held
	for _, p := range parts {
		p.mu.RLock()
		n := p.memBytes
		p.mu.RUnlock()
		if n > 0 {
			most = append(most, held{p, n})
		}
	}
	slices.SortFunc(most, func(a, b held) int { return cmp.Compare(b.n, a.n) })
	// What readers have read already goes first: a reader that keeps up
	// then never has to go to the journal.
	for _, h := range most {
		if l.memBytes.Load() <= bound || ctx.Err() != nil {
			break
		}
		l.trySpillRead(h.p)
	}
	for _, h := range most {
		mem := l.memBytes.Load()
		if mem <= bound || ctx.Err() != nil {
			break
		}
		if l.trySpill(h.p) || mem <= l.opts.TailCacheBytes {
			continue
		}
		if err := l.seal(ctx, h.p); err != nil {
			return err
		}
	}
	// What is left over the bound is mostly to be copied when sealed (or
	// came during the pass, which the sealer's next tick sees): appends
	// wake the sealer for the bound again only once the tail has grown by
	// an eighth of it, not at every batch.
	if mem := l.memBytes.Load(); mem > bound {
		l.spillAgain.Store(mem + bound/8)
	} else {
		l.spillAgain.Store(0)
	}
	return nil
}

// overTail reports whether the in-memory tail is over its bound, so that
// an append wakes the sealer (see boundTail).
func (l *Log) overTail() bool {
	mem := l.memBytes.Load()
	return mem > l.opts.TailCacheBytes || (mem > l.tailBound.Load() && mem >= l.spillAgain.Load())
}

// tailMissed is called when a read has had to go to the journal for a
// batch spilled from memory: the tail's bound becomes TailCacheBytes.
func (l *Log) tailMissed() {
	if l.tailBound.Load() < l.opts.TailCacheBytes && l.tailBound.Swap(l.opts.TailCacheBytes) < l.opts.TailCacheBytes {
		l.log.Info("a read went to the journal for data dropped from memory: the tail cache may now fill to its size",
			"tail_cache", l.opts.TailCacheBytes)
	}
}

// trySpill spills p's unsealed batches (partition.spill) if a seal would
// link them, and reports whether it did: batches a seal copies stay in
// memory for it.
func (l *Log) trySpill(p *partition) bool {
	p.mu.RLock()
	link := l.canLink(p.batches)
	p.mu.RUnlock()
	if link {
		p.spill()
	}
	return link
}

// trySpillRead spills what readers have read of p's unsealed batches
// (partition.spillRead) if a seal would link them.
func (l *Log) trySpillRead(p *partition) {
	if p.readTo.Load() == 0 {
		return // never read
	}
	p.mu.RLock()
	link := l.canLink(p.batches)
	p.mu.RUnlock()
	if link {
		p.spillRead()
	}
}

// Seal seals the unsealed data of every partition now, whatever its size
// or age (for tests and for a clean shutdown).
func (l *Log) Seal(ctx context.Context) error {
	parts := l.partitions()
	var errs []error
	for _, p := range parts {
		errs = append(errs, l.seal(ctx, p))
	}
	return errors.Join(errs...)
}

// seal writes p's unsealed batches as one segment and records it in the
// journal; once that record is durable the segment serves reads.
func (l *Log) seal(ctx context.Context, p *partition) error {
	p.sealMu.Lock() // one seal of a partition at a time
	defer p.sealMu.Unlock()
	p.mu.RLock()
	batches := append([]storedBatch(nil), p.batches...)
	p.mu.RUnlock()
	if len(batches) == 0 {
		return nil
	}
	var s *segInfo
	var err error
	if l.canLink(batches) {
		s, err = l.writeLinked(ctx, p.key, batches)
	} else {
		s, err = l.writeCopy(ctx, p.key, batches)
	}
	if err != nil {
		return err
	}
	if err := l.appendInternal(ctx, segmentRecordType(s), encodeSegmentRecord(p.key, s, l.epoch), frameRecord{part: p, seg: s}); err != nil {
		return fmt.Errorf("record segment %s: %w", s.key, err)
	}
	if l.opts.onSealed != nil {
		l.opts.onSealed(p.key, s.last)
	}
	l.log.Debug("sealed a segment", "key", s.key, "offsets", fmt.Sprintf("%d..%d", s.base, s.last), "bytes", s.bytes())
	return nil
}

// canLink reports whether batches can be sealed into a linked segment:
// linking is on, they all are where the journal wrote them, and — on
// journal objects — they are large enough (Options.LinkMinBatch on
// average) that reading them back from the journal objects, by a consumer
// or to copy them out (compact.go), costs few GETs. Small batches of many
// partitions are scattered over many journal objects: those are copied
// now, while they are in memory.
func (l *Log) canLink(batches []storedBatch) bool {
	if l.opts.CopySegments {
		return false
	}
	var size int
	for _, b := range batches {
		if b.file == 0 {
			return false
		}
		size += int(b.size)
	}
	return l.appendMode || size >= l.opts.LinkMinBatch*len(batches)
}

// writeCopy writes batches as a segment object holding them.
func (l *Log) writeCopy(ctx context.Context, k PartitionKey, batches []storedBatch) (*segInfo, error) {
	// The batches in memory are held while they are written (a spill may
	// let go of them meanwhile); those spilled are read back first
	// (batches is the caller's copy).
	var held Held
	defer held.Release()
	for i := range batches {
		data, ok := batches[i].holdData()
		if ok {
			held.add(batches[i].buf)
		}
		batches[i].data = data
	}
	for i := 0; i < len(batches); i++ {
		if batches[i].data == nil {
			run, err := l.spilled(ctx, batches[i:], linkSpan)
			if err != nil {
				return nil, err
			}
			for j, data := range run {
				batches[i+j].data = data
			}
		}
	}
	s := &segInfo{key: segmentKey(k, batches[0].base, l.epoch), base: batches[0].base, epoch: l.epoch}
	bld := segment.NewBuilder(l.opts.IndexInterval)
	size, err := l.writeSegment(ctx, s.key, batches, bld)
	if err != nil {
		return nil, err
	}
	f := bld.Footer()
	s.last, s.lastTS, s.size, s.footer = f.LastOffset, f.LastTimestamp, size, &f
	return s, nil
}

// writeLinked writes a linked segment object for batches: only where
// they are in the journal, and the footer.
func (l *Log) writeLinked(ctx context.Context, k PartitionKey, batches []storedBatch) (*segInfo, error) {
	bld := segment.NewBuilder(l.opts.IndexInterval)
	extents := make([]segment.Extent, 0, len(batches))
	for _, b := range batches {
		if err := bld.Add(b.header()); err != nil {
			return nil, err
		}
		extents = append(extents, b.extent())
	}
	f := bld.Footer()
	obj := segment.AppendLinks(nil, extents, f)
	links := segment.NewLinks(extents, f)
	s := &segInfo{
		key: linkedKey(k, f.BaseOffset, l.epoch), base: f.BaseOffset, last: f.LastOffset, lastTS: f.LastTimestamp,
		size: int64(len(obj)), epoch: l.epoch, files: links.Files(), dataLen: int64(f.DataLen),
		footer: &links.Footer, links: links,
	}
	err := l.writeOwn(ctx, s.key, func() error {
		_, err := l.store.Put(ctx, s.key, obj, objstore.IfAbsent())
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// writeSegment streams batches and the footer into a new object.
func (l *Log) writeSegment(ctx context.Context, key string, batches []storedBatch, bld *segment.Builder) (int64, error) {
	var size int64
	err := l.writeOwn(ctx, key, func() error {
		*bld = *segment.NewBuilder(l.opts.IndexInterval)
		var err error
		size, err = l.writeSegmentOnce(ctx, key, batches, bld)
		return err
	})
	return size, err
}

// writeOwn writes a new segment object at key (IfAbsent) with write. The
// key carries this writer's epoch, so one that is taken holds an earlier
// attempt of this writer that landed but was not recorded: it is deleted
// and written again, once.
func (l *Log) writeOwn(ctx context.Context, key string, write func() error) error {
	err := write()
	if errors.Is(err, objstore.ErrPreconditionFailed) {
		if err = l.store.Delete(ctx, key); err == nil {
			err = write()
		}
	}
	if err != nil {
		return fmt.Errorf("write segment %s: %w", key, err)
	}
	return nil
}

func (l *Log) writeSegmentOnce(ctx context.Context, key string, batches []storedBatch, bld *segment.Builder) (int64, error) {
	w, err := l.store.NewWriter(ctx, key, objstore.WriterOptions{Condition: objstore.IfAbsent()})
	if err != nil {
		return 0, err
	}
	defer w.Close()
	var size int64
	for _, b := range batches {
		h, err := batch.ParseHeader(b.data)
		if err != nil {
			return 0, err
		}
		if err := bld.Add(h); err != nil {
			return 0, err
		}
		if _, err := w.Write(b.data); err != nil {
			return 0, err
		}
		size += int64(len(b.data))
	}
	footer := bld.AppendFooter(nil)
	if _, err := w.Write(footer); err != nil {
		return 0, err
	}
	if _, err := w.Commit(ctx); err != nil {
		return 0, err
	}
	return size + int64(len(footer)), nil
}

// loadFooter returns s's footer, fetching it (two ranged reads) the first
// time.
func (l *Log) loadFooter(ctx context.Context, s *segInfo) (*segment.Footer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.footer != nil {
		return s.footer, nil
	}
	if s.linked() {
		return l.loadLinks(ctx, s)
	}
	tb, err := l.store.GetRange(ctx, s.key, s.size-segment.TrailerSize, segment.TrailerSize)
	if err != nil {
		return nil, fmt.Errorf("read segment trailer: %w", err)
	}
	t, err := segment.ParseTrailer(tb, s.size)
	if err != nil {
		return nil, fmt.Errorf("segment %s: %w", s.key, err)
	}
	ib, err := l.store.GetRange(ctx, s.key, int64(t.DataLen), int64(t.IndexLen()))
	if err != nil {
		return nil, fmt.Errorf("read segment index: %w", err)
	}
	f, err := segment.ParseIndex(t, ib)
	if err != nil {
		return nil, fmt.Errorf("segment %s: %w", s.key, err)
	}
	if f.BaseOffset != s.base || f.LastOffset != s.last {
		return nil, fmt.Errorf("segment %s: %w: holds offsets %d..%d, recorded as %d..%d", s.key, segment.ErrCorrupt, f.BaseOffset, f.LastOffset, s.base, s.last)
	}
	s.footer = &f
	return s.footer, nil
}

// loadLinks reads a linked segment's object (s.mu is held).
func (l *Log) loadLinks(ctx context.Context, s *segInfo) (*segment.Footer, error) {
	obj, err := l.store.Get(ctx, s.key)
	if err != nil {
		return nil, fmt.Errorf("read linked segment: %w", err)
	}
	links, err := segment.ParseLinks(obj)
	if err != nil {
		return nil, fmt.Errorf("linked segment %s: %w", s.key, err)
	}
	if f := links.Footer; f.BaseOffset != s.base || f.LastOffset != s.last || int64(f.DataLen) != s.dataLen {
		return nil, fmt.Errorf("linked segment %s: %w: holds offsets %d..%d (%d bytes), recorded as %d..%d (%d bytes)", s.key, segment.ErrCorrupt, f.BaseOffset, f.LastOffset, f.DataLen, s.base, s.last, s.dataLen)
	}
	s.links, s.footer = links, &links.Footer
	return s.footer, nil
}
