package logstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"

	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/objstore"
)

// The manifest format. Part of the format; never change.
//
//	manifest/<generation, 20 digits>
//	   0 magic          u32  ManifestMagic ("SHM1")
//	   4 generation     u64
//	  12 epoch          u64  the newest writer epoch it covers
//	  20 journal_start  u64  the first journal frame recovery must read
//	  28 covered        u64  frames up to this one are in the manifest
//	  36 claims         u32, then that many u64: the journal numbers that
//	                    hold claim frames (kept for ever, see below)
//	     epochs         u32, then that many u64: every writer epoch claimed
//	     partitions     u32
//	     per partition:  stream u32 | topic u32 | partition u32 | sealed_next u64 |
//	                     last_ts u64 | segments u32 |
//	                     per segment: base u64 | last u64 | last_ts u64 |
//	                                  size u64 | epoch u64 |
//	                                  data_len u64 | files u32 |
//	                                  file u64 × files
//	     meta_len       u32, then the broker's metadata snapshot
//	     crc            u32  CRC-32C of everything before it
//
// A segment with files > 0 is a linked segment (key …-<epoch>.links) whose
// batches, data_len bytes, are in those journal files. The first version
// (ManifestMagicV1, "SHM1") has no data_len and files fields; it is still
// read.
const (
	ManifestMagic   uint32 = 0x324d4853 // "SHM2"
	ManifestMagicV1 uint32 = 0x314d4853 // "SHM1"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func manifestKey(gen uint64) string { return fmt.Sprintf("manifest/%020d", gen) }

// manifest is a decoded checkpoint.
type manifest struct {
	generation, epoch, journalStart, covered uint64
	claims, epochs                           []uint64
	parts                                    []manifestPart
	meta                                     []byte

	// linked is the set of journal files linked segments point into (not
	// encoded: snapshot fills it in for Checkpoint).
	linked map[uint64]bool
}

type manifestPart struct {
	key        PartitionKey
	sealedNext uint64 // the first offset not in a segment
	lastTS     uint64
	segs       []*segInfo
	epochs     []uint64 // the epoch in each segment's key
}

func (m *manifest) encode() []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, ManifestMagic)
	b = le.AppendUint64(b, m.generation)
	b = le.AppendUint64(b, m.epoch)
	b = le.AppendUint64(b, m.journalStart)
	b = le.AppendUint64(b, m.covered)
	b = le.AppendUint32(b, uint32(len(m.claims)))
	for _, c := range m.claims {
		b = le.AppendUint64(b, c)
	}
	b = le.AppendUint32(b, uint32(len(m.epochs)))
	for _, e := range m.epochs {
		b = le.AppendUint64(b, e)
	}
	b = le.AppendUint32(b, uint32(len(m.parts)))
	for _, p := range m.parts {
		b = le.AppendUint32(b, p.key.Stream)
		b = le.AppendUint32(b, p.key.Topic)
		b = le.AppendUint32(b, p.key.Partition)
		b = le.AppendUint64(b, p.sealedNext)
		b = le.AppendUint64(b, p.lastTS)
		b = le.AppendUint32(b, uint32(len(p.segs)))
		for i, s := range p.segs {
			b = le.AppendUint64(b, s.base)
			b = le.AppendUint64(b, s.last)
			b = le.AppendUint64(b, s.lastTS)
			b = le.AppendUint64(b, uint64(s.size))
			b = le.AppendUint64(b, p.epochs[i])
			b = le.AppendUint64(b, uint64(s.dataLen))
			b = le.AppendUint32(b, uint32(len(s.files)))
			for _, f := range s.files {
				b = le.AppendUint64(b, f)
			}
		}
	}
	b = le.AppendUint32(b, uint32(len(m.meta)))
	b = append(b, m.meta...)
	return le.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// errManifest is wrapped by every manifest decoding error.
var errManifest = errors.New("corrupt manifest")

func decodeManifest(b []byte) (*manifest, error) {
	if len(b) < 4+32+4+4+4 {
		return nil, fmt.Errorf("%w: %d bytes", errManifest, len(b))
	}
	le := binary.LittleEndian
	body, sum := b[:len(b)-4], le.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errManifest)
	}
	v1 := le.Uint32(body) == ManifestMagicV1
	if !v1 && le.Uint32(body) != ManifestMagic {
		return nil, fmt.Errorf("%w: bad magic", errManifest)
	}
	r := &fieldReader{b: body[4:]}
	m := &manifest{generation: r.u64(), epoch: r.u64(), journalStart: r.u64(), covered: r.u64()}
	nc := r.u32()
	if uint64(nc) > uint64(len(r.b))/8 {
		return nil, fmt.Errorf("%w: %d claims in %d bytes", errManifest, nc, len(r.b))
	}
	for range nc {
		m.claims = append(m.claims, r.u64())
	}
	ne := r.u32()
	if uint64(ne) > uint64(len(r.b))/8 {
		return nil, fmt.Errorf("%w: %d epochs in %d bytes", errManifest, ne, len(r.b))
	}
	for range ne {
		m.epochs = append(m.epochs, r.u64())
	}
	n := r.u32()
	if uint64(n) > uint64(len(r.b))/32 { // a partition takes at least 32 bytes
		return nil, fmt.Errorf("%w: %d partitions in %d bytes", errManifest, n, len(r.b))
	}
	for range n {
		p := manifestPart{key: PartitionKey{Stream: r.u32(), Topic: r.u32(), Partition: r.u32()}, sealedNext: r.u64(), lastTS: r.u64()}
		ns := r.u32()
		if uint64(ns) > uint64(len(r.b))/40 {
			return nil, fmt.Errorf("%w: %d segments in %d bytes", errManifest, ns, len(r.b))
		}
		for range ns {
			s := &segInfo{base: r.u64(), last: r.u64(), lastTS: r.u64(), size: int64(r.u64())}
			epoch := r.u64()
			s.key = segmentKey(p.key, s.base, epoch)
			if !v1 {
				s.dataLen = int64(r.u64())
				nf := r.u32()
				if uint64(nf) > uint64(len(r.b))/8 {
					return nil, fmt.Errorf("%w: %d files in %d bytes", errManifest, nf, len(r.b))
				}
				if nf > 0 {
					s.files = make([]uint64, nf)
					for i := range s.files {
						s.files[i] = r.u64()
					}
					s.key = linkedKey(p.key, s.base, epoch)
				}
			}
			p.segs = append(p.segs, s)
			p.epochs = append(p.epochs, epoch)
		}
		m.parts = append(m.parts, p)
	}
	ml := r.u32()
	m.meta = r.bytes(int(ml))
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: layout does not add up", errManifest)
	}
	return m, nil
}

// fieldReader reads little-endian fields and latches a short-input error.
type fieldReader struct {
	b   []byte
	err error
}

func (r *fieldReader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errManifest
		return make([]byte, max(n, 8))
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *fieldReader) u32() uint32        { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *fieldReader) u64() uint64        { return binary.LittleEndian.Uint64(r.take(8)) }
func (r *fieldReader) bytes(n int) []byte { return slices.Clone(r.take(n)[:max(n, 0)]) }

// Checkpoint writes a manifest of the log's state as of the last durable
// journal frame, then deletes the journal frames recovery no longer needs
// (those before the oldest unsealed batch) and all but the previous
// manifest. It is called in the background every CheckpointInterval.
func (l *Log) Checkpoint(ctx context.Context) error {
	l.ckptMu.Lock()
	defer l.ckptMu.Unlock()
	if l.opts.SnapshotMeta == nil && l.opts.hasApplyMeta {
		return nil // the broker cannot snapshot its state: keep the journal
	}
	m, err := l.snapshot()
	if err != nil {
		return err
	}
	if m.covered < l.lastCkpt.covered+1 && l.lastCkpt.generation > 0 {
		return nil // nothing new
	}
	m.generation = l.lastCkpt.generation + 1
	key := manifestKey(m.generation)
	if _, err := l.store.Put(ctx, key, m.encode(), objstore.IfAbsent()); err != nil {
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			err = fmt.Errorf("%w (%s was written by another server)", ErrFenced, key)
			l.fail(err)
		}
		return fmt.Errorf("checkpoint: %w", err)
	}
	prev := l.lastCkpt
	l.lastCkpt = ckptState{generation: m.generation, covered: m.covered, journalStart: m.journalStart}
	l.log.Debug("checkpoint written", "key", key, "covered", m.covered, "journal_start", m.journalStart)

	// Garbage: journal frames before journal_start, older manifests. Claim
	// frames stay: a fenced server may still be retrying a write at one of
	// those numbers, and must go on failing (see the package doc). So do
	// the journal files linked segments point into.
	// A journal object (or file) goes when the next one starts at or
	// before journal_start: everything in it is older.
	var errs []error
	prevKey, prevSeq := "", uint64(0)
	for info, err := range l.store.All(ctx, "journal/") {
		if err != nil {
			errs = append(errs, err)
			break
		}
		seq, ok := parseJournalKey(info.Key)
		if !ok || seq > m.journalStart {
			break
		}
		_, claim := slices.BinarySearch(m.claims, prevSeq)
		if prevKey != "" && !claim && !m.linked[prevSeq] {
			errs = append(errs, l.store.Delete(ctx, prevKey))
		}
		prevKey, prevSeq = info.Key, seq
	}
	if prev.generation > 1 {
		for info, err := range l.store.All(ctx, "manifest/") {
			if err != nil {
				errs = append(errs, err)
				break
			}
			gen, ok := parseGeneration(info.Key)
			if ok && gen < prev.generation {
				errs = append(errs, l.store.Delete(ctx, info.Key))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("checkpoint: removing what it made unneeded: %w", err)
	}
	return nil
}

// ckptState is what the log remembers of its last checkpoint.
type ckptState struct {
	generation, covered, journalStart uint64
}

func parseGeneration(key string) (uint64, bool) {
	s, ok := strings.CutPrefix(key, "manifest/")
	if !ok || len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// snapshot captures the state as of the last published frame, with no
// frame publishing meanwhile.
func (l *Log) snapshot() (*manifest, error) {
	l.pubMu.Lock()
	defer l.pubMu.Unlock()
	m := &manifest{epoch: l.epoch, covered: l.published, journalStart: l.published + 1, claims: l.claims, epochs: l.epochs, linked: map[uint64]bool{}}
	parts := l.partitions()
	slices.SortFunc(parts, func(a, b *partition) int { return compareKeys(a.key, b.key) })
	for _, p := range parts {
		p.mu.RLock()
		mp := manifestPart{key: p.key, sealedNext: p.sealedNext, segs: slices.Clone(p.segments)}
		for _, s := range p.segments {
			mp.epochs = append(mp.epochs, s.epoch)
			mp.lastTS = s.lastTS
			for _, f := range s.files {
				m.linked[f] = true
			}
		}
		if len(p.batches) > 0 {
			// The unsealed batches are read again from the journal.
			m.journalStart = min(m.journalStart, p.batches[0].seq)
		}
		p.mu.RUnlock()
		m.parts = append(m.parts, mp)
	}
	if l.opts.SnapshotMeta != nil {
		meta, err := l.opts.SnapshotMeta()
		if err != nil {
			return nil, fmt.Errorf("checkpoint: snapshot metadata: %w", err)
		}
		m.meta = meta
	}
	return m, nil
}

func compareKeys(a, b PartitionKey) int {
	switch {
	case a.Stream != b.Stream:
		return cmpU32(a.Stream, b.Stream)
	case a.Topic != b.Topic:
		return cmpU32(a.Topic, b.Topic)
	default:
		return cmpU32(a.Partition, b.Partition)
	}
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// loadManifest reads the newest manifest, or returns nil if there is none.
func (r *recovery) loadManifest(ctx context.Context) (*manifest, error) {
	var newest string
	for info, err := range r.l.store.All(ctx, "manifest/") {
		if err != nil {
			return nil, fmt.Errorf("recover: list manifests: %w", err)
		}
		if _, ok := parseGeneration(info.Key); ok {
			newest = info.Key
		}
	}
	if newest == "" {
		return nil, nil
	}
	data, err := r.l.store.Get(ctx, newest)
	if err != nil {
		return nil, fmt.Errorf("recover: read %s: %w", newest, err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("recover: %s: %w: %w", newest, journal.ErrCorrupt, err)
	}
	return m, nil
}

// restore installs a manifest's state before the journal after it is
// replayed.
func (r *recovery) restore(m *manifest) error {
	for _, mp := range m.parts {
		r.l.mu.Lock()
		p := r.l.partLocked(mp.key)
		p.next = mp.sealedNext // the journal after the manifest brings the rest
		p.lastTS = mp.lastTS
		r.l.mu.Unlock()
		p.mu.Lock()
		for i, s := range mp.segs {
			s.epoch = mp.epochs[i]
		}
		p.segments = mp.segs
		p.sealedNext = mp.sealedNext
		p.mu.Unlock()
	}
	if r.l.opts.RestoreMeta != nil {
		if err := r.l.opts.RestoreMeta(m.meta); err != nil {
			return fmt.Errorf("recover: restore metadata: %w", err)
		}
	}
	r.next = m.journalStart
	r.covered = m.covered
	r.l.claims = slices.Clone(m.claims)
	r.l.epochs = slices.Clone(m.epochs)
	r.l.lastCkpt = ckptState{generation: m.generation, covered: m.covered, journalStart: m.journalStart}
	return nil
}
