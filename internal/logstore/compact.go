package logstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/logstore/journal"
)

// compactor runs compactDue every CheckpointInterval until the log closes,
// in a goroutine of its own: copying a backlog of linked segments out can
// take a while, and sealing (which bounds the memory the unsealed tails
// take) must go on meanwhile.
func (l *Log) compactor() {
	defer close(l.compDone)
	ticker := time.NewTicker(l.opts.CheckpointInterval)
	defer ticker.Stop()
	for {
		select {
		case <-l.runCtx.Done():
			return
		case <-ticker.C:
		}
		if err := l.compactDue(l.runCtx); err != nil && l.runCtx.Err() == nil {
			l.log.Warn("copying linked segments out of the journal failed; will try again", "err", err)
		}
	}
}

// Linked segments keep the journal files (or objects) they point into.
// compactDue copies linked segments out — into segment objects holding
// their batches, which take the linked ones' place through a
// RecordSegment — so that a later checkpoint deletes what they kept. The
// compactor runs it every CheckpointInterval; it copies:
//
//   - on journal objects, every linked segment older than
//     Options.LinkedMaxAge: a partition's batches are spread over many
//     objects, which suits the reads of recent data and costs GETs for
//     older data; and the bucket's object count must grow with segments,
//     not with flushes;
//   - on either, while the journal holds more than twice what linked
//     segments and unsealed batches need, plus Options.CompactSlack, the
//     linked segments that keep the oldest file: when partitions age at
//     different paces (one topic keeps a week, another an hour), a few
//     linked segments must not keep files that are mostly dead.
func (l *Log) compactDue(ctx context.Context) error {
	if !l.appendMode && l.opts.LinkedMaxAge > 0 {
		if err := l.compactOld(ctx, l.opts.Now().Add(-l.opts.LinkedMaxAge)); err != nil {
			return err
		}
	}
	type ref struct {
		p *partition
		s *segInfo
	}
	holders := map[uint64][]ref{}
	live := l.tailBytes.Load()
	unsealedFrom := l.publishedSeq() + 1 // the oldest frame holding an unsealed batch
	for _, p := range l.partitions() {
		p.mu.RLock()
		for _, s := range p.segments {
			if s.linked() {
				live += s.dataLen
				for _, f := range s.files {
					holders[f] = append(holders[f], ref{p, s})
				}
			}
		}
		if len(p.batches) > 0 {
			unsealedFrom = min(unsealedFrom, p.batches[0].seq)
		}
		p.mu.RUnlock()
	}
	if len(holders) == 0 {
		return nil // nothing linked: nothing to copy out
	}
	var files []uint64
	sizes := map[uint64]int64{}
	for info, err := range l.store.All(ctx, "journal/") {
		if err != nil {
			return fmt.Errorf("compact: list journal: %w", err)
		}
		if seq, ok := parseJournalKey(info.Key); ok {
			files = append(files, seq)
			sizes[seq] = info.Size
		}
	}
	// sealed: file i holds no unsealed batch (and is not being written).
	sealed := func(i int) bool { return i+1 < len(files) && files[i+1] <= unsealedFrom }
	// What the journal will hold after the next checkpoint: the files
	// nothing needs go then anyway (those of dropped partitions, say).
	var total int64
	for i, f := range files {
		if !sealed(i) || len(holders[f]) > 0 {
			total += sizes[f]
		}
	}
	for i, f := range files {
		if total <= 2*live+l.opts.CompactSlack || !sealed(i) {
			return nil
		}
		refs := holders[f]
		if len(refs) == 0 {
			continue
		}
		for _, r := range refs {
			done, err := l.compact(ctx, r.p, r.s)
			if err != nil {
				return err
			}
			if done {
				live -= r.s.dataLen
			}
		}
		total -= sizes[f]
	}
	return nil
}

// compactOld copies out every linked segment whose newest batch was
// appended before cutoff.
func (l *Log) compactOld(ctx context.Context, cutoff time.Time) error {
	for _, p := range l.partitions() {
		p.mu.RLock()
		var old []*segInfo
		for _, s := range p.segments {
			if s.linked() && time.UnixMicro(int64(s.lastTS)).Before(cutoff) {
				old = append(old, s)
			}
		}
		p.mu.RUnlock()
		for _, s := range old {
			if _, err := l.compact(ctx, p, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// publishedSeq is the last journal frame published.
func (l *Log) publishedSeq() uint64 {
	l.pubMu.Lock()
	defer l.pubMu.Unlock()
	return l.published
}

// compact copies linked segment s of p into a segment object that holds
// its batches, and records it in s's place. done is false when s was
// gone already (trimmed, dropped, or compacted).
func (l *Log) compact(ctx context.Context, p *partition, s *segInfo) (done bool, err error) {
	p.sealMu.Lock() // no seal of p meanwhile, nor a drop
	defer p.sealMu.Unlock()
	p.mu.RLock()
	present := slices.Contains(p.segments, s) && !p.dropped
	p.mu.RUnlock()
	if !present || !s.linked() {
		return false, nil
	}
	f, err := l.loadFooter(ctx, s)
	if err != nil {
		return false, fmt.Errorf("compact %s: %w", s.key, err)
	}
	data, err := l.readLinked(ctx, s, 0, f.DataLen)
	if err != nil {
		return false, fmt.Errorf("compact: %w", err)
	}
	var batches []storedBatch
	err = validBatches(data, func(h batch.Header, b []byte) {
		batches = append(batches, storedBatch{base: h.BaseOffset, last: h.LastOffset(), ts: h.BaseTimestamp, size: int64(len(b)), data: b})
	})
	if err != nil {
		return false, fmt.Errorf("compact %s: %w", s.key, err)
	}
	c, err := l.writeCopy(ctx, p.key, batches)
	if err != nil {
		return false, fmt.Errorf("compact: %w", err)
	}
	if c.base != s.base || c.last != s.last {
		return false, fmt.Errorf("compact %s: %w: copy holds offsets %d..%d, the linked segment %d..%d", s.key, journal.ErrCorrupt, c.base, c.last, s.base, s.last)
	}
	if err := l.appendInternal(ctx, journal.RecordSegment, encodeSegmentRecord(p.key, c, l.epoch), frameRecord{part: p, seg: c}); err != nil {
		return false, fmt.Errorf("compact: record segment %s: %w", c.key, err)
	}
	l.log.Debug("copied a linked segment out of the journal files", "from", s.key, "to", c.key, "bytes", c.size)
	return true, l.deleteTrimmed(ctx, p)
}
