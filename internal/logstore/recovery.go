package logstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/objstore"
)

// maxClaimAttempts bounds how often Open re-reads the journal because
// another writer took the number it tried to claim.
const maxClaimAttempts = 20

// recovery replays the journal into a Log and claims the journal for it.
type recovery struct {
	l       *Log
	next    uint64 // the first journal number not replayed
	covered uint64 // frames up to this one are in the manifest
	epoch   uint64 // the epoch claimed
	nextSeq uint64 // the first number this writer will use for data

	frames, batches, metas int
}

func (r *recovery) run(ctx context.Context) error {
	r.next = 1
	m, err := r.loadManifest(ctx)
	if err != nil {
		return err
	}
	if m != nil {
		if err := r.restore(m); err != nil {
			return err
		}
	}
	if err := r.replay(ctx); err != nil {
		return err
	}
	return r.claim(ctx)
}

// replay lists the journal and applies the unbroken run of frames from
// r.next on.
func (r *recovery) replay(ctx context.Context) error {
	var keys []string
	var seqs []uint64
	for info, err := range r.l.store.All(ctx, "journal/") {
		if err != nil {
			return fmt.Errorf("recover: list journal: %w", err)
		}
		seq, ok := parseJournalKey(info.Key)
		if !ok {
			r.l.log.Warn("recover: ignoring an object that is not a journal frame", "key", info.Key)
			continue
		}
		keys, seqs = append(keys, info.Key), append(seqs, seq)
	}
	if r.l.appendMode {
		return r.replayFiles(ctx, keys, seqs)
	}
	i, _ := slices.BinarySearch(seqs, r.next)
	for ; i < len(keys); i++ {
		if seqs[i] != r.next {
			// A gap: what follows was never acknowledged.
			r.l.log.Info("recover: the journal has a gap; frames after it were never acknowledged and are ignored", "missing", journalKey(r.next), "next_found", keys[i])
			return nil
		}
		if err := r.replayObject(ctx, keys[i], seqs[i]); err != nil {
			return err
		}
		r.next++
	}
	return nil
}

// replayObject reads and applies journal object key, which must hold
// exactly one valid frame numbered seq.
func (r *recovery) replayObject(ctx context.Context, key string, seq uint64) error {
	data, err := r.l.store.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("recover: read %s: %w", key, err)
	}
	rd := journal.NewReader(data)
	f, ok, err := rd.Next()
	switch {
	case err != nil:
		// An object is written whole or not at all: a torn object is
		// corruption too.
		return fmt.Errorf("recover: %s: %w (%w)", key, journal.ErrCorrupt, err)
	case !ok:
		return fmt.Errorf("recover: %s: %w: empty object", key, journal.ErrCorrupt)
	case f.Seq != seq:
		return fmt.Errorf("recover: %s: %w: holds frame %d", key, journal.ErrCorrupt, f.Seq)
	case rd.Offset() != len(data):
		return fmt.Errorf("recover: %s: %w: %d bytes after the frame at byte %d", key, journal.ErrCorrupt, len(data)-rd.Offset(), rd.Offset())
	}
	return r.applyFrame(key, seq, f)
}

// replayFiles replays append-mode journal files: each is named by its
// first frame's number and holds frames numbered on from there. Only the
// last file may end in a torn frame (the flush a crash interrupted): it is
// cut off there.
func (r *recovery) replayFiles(ctx context.Context, keys []string, seqs []uint64) error {
	// The file holding r.next is the last one that starts at or before it.
	i, found := slices.BinarySearch(seqs, r.next)
	if !found {
		i--
	}
	for i = max(i, 0); i < len(keys); i++ {
		key := keys[i]
		if seqs[i] > r.next {
			return fmt.Errorf("recover: %s: %w: journal file starts at frame %d, expected %d", key, journal.ErrCorrupt, seqs[i], r.next)
		}
		data, err := r.l.store.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("recover: read %s: %w", key, err)
		}
		rd := journal.NewReader(data)
		for {
			f, ok, err := rd.Next()
			if errors.Is(err, journal.ErrTornTail) && i == len(keys)-1 {
				r.l.log.Warn("recover: cutting a torn tail off the journal (a flush the crash interrupted; never acknowledged)", "key", key, "at", rd.Offset(), "bytes", len(data)-rd.Offset())
				return r.truncate(ctx, key, int64(rd.Offset()))
			}
			if errors.Is(err, journal.ErrCorrupt) && i == len(keys)-1 && r.tornPair(rd, data) {
				r.l.log.Warn("recover: cutting a torn frame and the one flush after it off the journal (written while the torn one was syncing; neither was acknowledged)", "key", key, "at", rd.Offset(), "bytes", len(data)-rd.Offset())
				return r.truncate(ctx, key, int64(rd.Offset()))
			}
			if err != nil {
				return fmt.Errorf("recover: %s at byte %d: %w", key, rd.Offset(), err)
			}
			if !ok {
				break
			}
			if f.Seq < r.next {
				continue // before the manifest's start
			}
			if f.Seq != r.next {
				return fmt.Errorf("recover: %s at byte %d: %w: frame %d, expected %d", key, f.Offset, journal.ErrCorrupt, f.Seq, r.next)
			}
			if err := r.applyFrame(key, seqs[i], f); err != nil {
				return err
			}
			r.next++
		}
	}
	return nil
}

// tornPair reports whether the damaged frame where rd stopped is followed
// by exactly one valid frame, the next number, which ends the file: the
// journal files overlap two flushes (see fileJournal), so a crash can tear
// the first and keep the second, and neither was acknowledged. Anything
// more after a damaged frame is corruption.
func (r *recovery) tornPair(rd *journal.Reader, data []byte) bool {
	at, ok := rd.ValidFrameAfter(rd.Offset() + 1)
	if !ok {
		return false
	}
	f, ok, err := journal.NewReader(data[at:]).Next()
	return err == nil && ok && at+f.End == len(data) && f.Seq == r.next+1
}

func (r *recovery) truncate(ctx context.Context, key string, size int64) error {
	a, err := r.l.store.OpenAppend(ctx, key)
	if err != nil {
		return fmt.Errorf("recover: cut torn tail of %s: %w", key, err)
	}
	err = a.Truncate(size)
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("recover: cut torn tail of %s: %w", key, err)
	}
	return nil
}

// applyFrame applies one valid frame read from key, the journal file or
// object numbered file.
func (r *recovery) applyFrame(key string, file uint64, f journal.Frame) error {
	seq := f.Seq
	if f.Epoch == seq {
		addSorted(&r.l.epochs, seq) // the first frame of an epoch
	}
	if current := r.l.epochAt(seq); f.Epoch < current {
		r.l.log.Info("recover: ignoring a frame an older server wrote after being fenced", "key", key, "epoch", f.Epoch, "current_epoch", current)
		return nil
	}
	r.frames++
	if len(f.Body) == 0 {
		addSorted(&r.l.claims, seq) // only claim frames are empty
	}
	pos := f.Offset + journal.FrameHeaderSize
	var recErr error
	err := f.Records(func(rec journal.Record) bool {
		recStart := pos
		pos += journal.RecordHeaderSize + len(rec.Payload)
		inManifest := seq <= r.covered
		switch rec.Type {
		case journal.RecordMeta:
			if inManifest {
				return true
			}
			r.metas++
			r.l.opts.ApplyMeta(rec.Payload)
		case journal.RecordBatch:
			k, sb, err := decodeBatchRecord(rec.Payload)
			sb.seq = seq
			if file != 0 {
				sb.file, sb.pos = file, int64(recStart+journal.RecordHeaderSize+batchRecordHeader)
			}
			if err == nil {
				err = r.applyBatch(k, sb)
			}
			if err != nil {
				recErr = fmt.Errorf("record at byte %d: %w", recStart, err)
				return false
			}
			r.batches++
		case journal.RecordTrim:
			if inManifest {
				return true
			}
			k, offset, err := decodeTrimRecord(rec.Payload)
			if err != nil {
				recErr = fmt.Errorf("record at byte %d: %w", recStart, err)
				return false
			}
			r.l.mu.Lock()
			p := r.l.partLocked(k)
			r.l.mu.Unlock()
			p.trim(offset)
		case journal.RecordDrop:
			// Applied even in frames the manifest covers: partition keys
			// are never reused, so forgetting everything replay gathered
			// for the key is right whenever the record comes.
			k, err := decodeDropRecord(rec.Payload)
			if err != nil {
				recErr = fmt.Errorf("record at byte %d: %w", recStart, err)
				return false
			}
			if p := r.l.part(k); p != nil {
				r.l.dropPartition(p)
			}
		case journal.RecordSegment, journal.RecordLinkedSegment:
			if inManifest {
				return true
			}
			k, seg, err := decodeSegmentRecord(rec.Type, rec.Payload)
			if err == nil {
				r.l.mu.Lock()
				p := r.l.partLocked(k)
				r.l.mu.Unlock()
				err = p.addSegment(seg)
			}
			if err != nil {
				recErr = fmt.Errorf("record at byte %d: %w", recStart, err)
				return false
			}
		default:
			recErr = fmt.Errorf("record at byte %d: %w: unknown record type %d", recStart, journal.ErrCorrupt, rec.Type)
			return false
		}
		return true
	})
	if err = errors.Join(err, recErr); err != nil {
		return fmt.Errorf("recover: %s: %w", key, err)
	}
	return nil
}

func (r *recovery) applyBatch(k PartitionKey, sb storedBatch) error {
	r.l.mu.Lock()
	p := r.l.partLocked(k)
	if sb.last < p.sealedUpTo() {
		r.l.mu.Unlock()
		return nil // already in a segment the manifest lists
	}
	if sb.base != p.next {
		r.l.mu.Unlock()
		return fmt.Errorf("%w: partition %s: batch at offset %d, expected %d", journal.ErrCorrupt, k, sb.base, p.next)
	}
	p.next = sb.last + 1
	p.lastTS = max(p.lastTS, sb.ts)
	r.l.mu.Unlock()
	p.publish(sb)
	return nil
}

// claim makes this writer the journal's owner (see the package doc).
//
// It writes a fence frame (an empty frame whose epoch is its own number)
// at a number X at or after the first free one, g, with IfAbsent. If a live
// writer got there first, it reads on and tries further ahead, jumping
// farther each time, so that it cannot be outrun. Once X is its own, an
// older writer can acknowledge nothing at or after X; it then fills every
// number in [g, X) with a fence frame too: where the older writer got there
// first, that frame is read and applied (the epoch rule ignores those that
// come after one of the fences). The journal has no gap then, and the
// MaxInflightFlushes−1 numbers after X get claim frames of epoch X, so no
// frame of an older writer in flight can sit where this one will write.
func (r *recovery) claim(ctx context.Context) error {
	if r.l.appendMode {
		// One writer at a time is the store's lock's job; this writer's
		// first frame opens its epoch.
		addSorted(&r.l.epochs, r.next)
		r.epoch, r.nextSeq = r.next, r.next
		return nil
	}
	m := uint64(r.l.opts.MaxInflightFlushes)
	jump := uint64(0)
	for attempt := 1; ; attempt++ {
		g := r.next
		x := g + jump
		taken, err := r.fence(ctx, x, x)
		if err != nil {
			return err
		}
		if !taken {
			break
		}
		if attempt == maxClaimAttempts {
			return fmt.Errorf("recover: could not claim the journal: another writer kept taking the numbers (last tried %s)", journalKey(x))
		}
		r.l.log.Info("recover: another writer is appending to the journal; reading on and claiming further ahead", "tried", journalKey(x))
		if err := r.replay(ctx); err != nil {
			return err
		}
		jump = max(2*jump, 2*m)
	}
	x := r.next + jump
	for s := r.next; s < x; s++ {
		taken, err := r.fence(ctx, s, s)
		if err != nil {
			return err
		}
		if taken {
			if err := r.replayObject(ctx, journalKey(s), s); err != nil {
				return err
			}
		}
	}
	for i := uint64(1); i < m; i++ {
		taken, err := r.fence(ctx, x+i, x)
		if err != nil {
			return err
		}
		if !taken {
			continue
		}
		// Taken past our claim: an older server's write that raced it
		// (ignored by replay), or a newer server that claimed after us.
		other, err := r.frameEpoch(ctx, journalKey(x+i))
		if err != nil {
			return err
		}
		if other > x {
			return fmt.Errorf("recover: %w: %s has epoch %d, newer than ours (%d)", ErrFenced, journalKey(x+i), other, x)
		}
	}
	r.epoch = x
	r.nextSeq = x + m
	return nil
}

// fence writes an empty frame numbered seq with epoch, IfAbsent, and
// reports whether the number was taken already. Its own frames are
// remembered as claim frames (never deleted), and as epoch starts where
// epoch == seq.
func (r *recovery) fence(ctx context.Context, seq, epoch uint64) (taken bool, err error) {
	var fb journal.FrameBuilder
	fb.Reset()
	key := journalKey(seq)
	err = r.putClaim(ctx, key, fb.Finish(seq, epoch))
	switch {
	case err == nil:
		addSorted(&r.l.claims, seq)
		if epoch == seq {
			addSorted(&r.l.epochs, seq)
		}
		return false, nil
	case errors.Is(err, objstore.ErrPreconditionFailed):
		return true, nil
	default:
		return false, fmt.Errorf("recover: claim %s: %w", key, err)
	}
}

// putClaim writes a claim frame, trying again through transient failures.
// A retry that finds the key taken returns ErrPreconditionFailed even if
// the earlier attempt landed: claim then treats it like anyone's frame,
// which is safe.
func (r *recovery) putClaim(ctx context.Context, key string, frame []byte) error {
	backoff := r.l.opts.RetryBackoff
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		if _, err = r.l.store.Put(ctx, key, frame, objstore.IfAbsent()); err == nil || errors.Is(err, objstore.ErrPreconditionFailed) {
			return err
		}
		r.l.log.Warn("recover: writing a claim frame failed; retrying", "key", key, "attempt", attempt, "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, r.l.opts.MaxRetryBackoff)
	}
	return err
}

func (r *recovery) frameEpoch(ctx context.Context, key string) (uint64, error) {
	data, err := r.l.store.Get(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("recover: read %s: %w", key, err)
	}
	f, ok, err := journal.NewReader(data).Next()
	if err != nil || !ok {
		return 0, fmt.Errorf("recover: %s: %w", key, journal.ErrCorrupt)
	}
	return f.Epoch, nil
}

// addSorted inserts v into the sorted set *s.
func addSorted(s *[]uint64, v uint64) {
	i, found := slices.BinarySearch(*s, v)
	if !found {
		*s = slices.Insert(*s, i, v)
	}
}

// epochAt is the writer epoch in force at journal number seq: the newest
// epoch claimed at or before it. A frame written with an older epoch there
// comes from a server that had been fenced.
func (l *Log) epochAt(seq uint64) uint64 {
	i, found := slices.BinarySearch(l.epochs, seq)
	if found {
		return l.epochs[i]
	}
	if i == 0 {
		return 0
	}
	return l.epochs[i-1]
}

func parseJournalKey(key string) (uint64, bool) {
	s, ok := strings.CutPrefix(key, "journal/")
	if !ok || len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n > 0
}
