package logstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
)

// metaState plays the broker: it applies metadata records, snapshots and
// restores them.
type metaState struct {
	mu      sync.Mutex
	records []string
	applied int // records received through ApplyMeta
}

func (m *metaState) options(o Options) Options {
	o.ApplyMeta = func(r []byte) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.records = append(m.records, string(r))
		m.applied++
	}
	o.SnapshotMeta = func() ([]byte, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return []byte(strings.Join(m.records, "\n")), nil
	}
	o.RestoreMeta = func(b []byte) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.records = nil
		if len(b) > 0 {
			m.records = strings.Split(string(b), "\n")
		}
		return nil
	}
	return o
}

func (m *metaState) get() ([]string, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.records), m.applied
}

func TestCheckpointTrimsJournalAndRecovers(t *testing.T) {
	ctx := t.Context()
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	base := Options{SegmentBytes: 1 << 30, IndexInterval: 512, JournalObjects: true, CopySegments: true}
	m1 := &metaState{}
	l := openLog(t, s, m1.options(base))
	k1, k2 := PartitionKey{1, 1, 0}, PartitionKey{1, 1, 1}
	var want1, want2 []string
	for i := range 40 {
		if _, err := l.Append(ctx, k1, makeBatch(t, 2, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		want1 = append(want1, fmt.Sprintf("%d-0", i), fmt.Sprintf("%d-1", i))
		if i%10 == 0 {
			if err := l.AppendMeta(ctx, []byte(fmt.Sprintf("meta %d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	// k1 sealed, k2 has an unsealed tail that starts later.
	if err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := l.Append(ctx, k2, makeBatch(t, 1, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		want2 = append(want2, fmt.Sprintf("%d-0", i))
	}
	journalBefore := len(keysUnder(t, s, "journal/"))
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	journalAfter := len(keysUnder(t, s, "journal/"))
	if journalAfter >= journalBefore-30 {
		t.Fatalf("checkpoint left %d of %d journal objects", journalAfter, journalBefore)
	}
	if got := keysUnder(t, s, "manifest/"); len(got) != 1 {
		t.Fatalf("manifests %q", got)
	}
	// More after the checkpoint: a metadata record and data.
	if err := l.AppendMeta(ctx, []byte("meta after")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, k1, makeBatch(t, 1, "after")); err != nil {
		t.Fatal(err)
	}
	want1 = append(want1, "after-0")
	wantMeta, _ := m1.get()

	// Crash (no Close, so no final checkpoint) and recover.
	crashed := b.Clone()
	m2 := &metaState{}
	l2 := openLog(t, objstore.New(crashed, objstore.Options{}), m2.options(base))
	defer l2.Close()
	gotMeta, applied := m2.get()
	if !slices.Equal(gotMeta, wantMeta) || applied != 1 {
		t.Fatalf("metadata after recovery %q (%d replayed), want %q with 1 replayed", gotMeta, applied, wantMeta)
	}
	if got := payloads(t, l2, k1, 0); strings.Join(got, ",") != strings.Join(want1, ",") {
		t.Fatalf("k1 after recovery: %v", got)
	}
	if got := payloads(t, l2, k2, 0); strings.Join(got, ",") != strings.Join(want2, ",") {
		t.Fatalf("k2 after recovery: %v", got)
	}
	if h, err := l2.Append(ctx, k2, makeBatch(t, 1, "x")); err != nil || h.BaseOffset != 5 {
		t.Fatalf("append after recovery: %+v %v", h, err)
	}
	_ = l.Close()
}

// A clean Close checkpoints, and a second generation replaces the first.
func TestCloseCheckpointsAndGenerationsAdvance(t *testing.T) {
	ctx := t.Context()
	b := mem.New()
	for round := 1; round <= 3; round++ {
		m := &metaState{}
		l := openLog(t, objstore.New(b, objstore.Options{}), m.options(Options{}))
		if got, _ := m.get(); len(got) != round-1 {
			t.Fatalf("round %d: metadata %q", round, got)
		}
		if err := l.AppendMeta(ctx, []byte(fmt.Sprintf("round %d", round))); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(ctx, PartitionKey{1, 1, 1}, makeBatch(t, 1, fmt.Sprint(round))); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		s := objstore.New(b, objstore.Options{})
		if got := keysUnder(t, s, "manifest/"); len(got) > 2 || got[len(got)-1] != manifestKey(uint64(round)) {
			t.Fatalf("round %d: manifests %q", round, got)
		}
	}
}

func TestManifestRoundTripAndDamage(t *testing.T) {
	k := PartitionKey{1, 2, 3}
	m := &manifest{generation: 7, epoch: 9, journalStart: 100, covered: 120, claims: []uint64{1, 2, 9, 10}, epochs: []uint64{1, 9},
		parts: []manifestPart{{key: k, sealedNext: 50, lastTS: 12345, segs: []*segInfo{{base: 0, last: 49, lastTS: 12000, size: 999}}, epochs: []uint64{9}}},
		meta:  []byte("broker state")}
	enc := m.encode()
	got, err := decodeManifest(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.generation != 7 || got.epoch != 9 || got.journalStart != 100 || got.covered != 120 || !slices.Equal(got.claims, m.claims) || !slices.Equal(got.epochs, m.epochs) ||
		len(got.parts) != 1 || got.parts[0].sealedNext != 50 || got.parts[0].segs[0].key != segmentKey(k, 0, 9) || string(got.meta) != "broker state" {
		t.Fatalf("decoded %+v", got)
	}
	for i := range enc {
		b := slices.Clone(enc)
		b[i] ^= 4
		if _, err := decodeManifest(b); !errors.Is(err, errManifest) {
			t.Fatalf("flip at %d: %v", i, err)
		}
	}
}

func FuzzDecodeManifest(f *testing.F) {
	m := &manifest{generation: 1, parts: []manifestPart{{key: PartitionKey{1, 1, 1},
		segs:   []*segInfo{{last: 5, size: 100}, {base: 6, last: 9, size: 60, files: []uint64{3, 4}, dataLen: 500}},
		epochs: []uint64{1, 1}}}}
	f.Add(m.encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeManifest(b)
		if err != nil {
			if !errors.Is(err, errManifest) {
				t.Fatalf("error %v is not errManifest", err)
			}
			return
		}
		if again := got.encode(); string(again) != string(b) {
			t.Fatal("a manifest that decodes does not re-encode to its bytes")
		}
	})
}

// A manifest of the first version (SHM1: no linked segments) still reads.
func TestDecodeManifestV1(t *testing.T) {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, ManifestMagicV1)
	for _, v := range []uint64{7, 3, 40, 39} { // generation, epoch, journal_start, covered
		b = le.AppendUint64(b, v)
	}
	b = le.AppendUint32(b, 1) // claims
	b = le.AppendUint64(b, 4)
	b = le.AppendUint32(b, 1) // epochs
	b = le.AppendUint64(b, 3)
	b = le.AppendUint32(b, 1) // partitions
	b = le.AppendUint32(b, 2)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint64(b, 10)                      // sealed_next
	b = le.AppendUint64(b, 99)                      // last_ts
	b = le.AppendUint32(b, 1)                       // segments
	for _, v := range []uint64{0, 9, 99, 4096, 3} { // base, last, last_ts, size, epoch
		b = le.AppendUint64(b, v)
	}
	b = le.AppendUint32(b, 2)
	b = append(b, "md"...)
	b = le.AppendUint32(b, crc32.Checksum(b, castagnoli))
	m, err := decodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.generation != 7 || m.journalStart != 40 || len(m.parts) != 1 || string(m.meta) != "md" {
		t.Fatalf("decoded %+v", m)
	}
	s := m.parts[0].segs[0]
	if s.linked() || s.last != 9 || s.size != 4096 || s.key != segmentKey(PartitionKey{2, 1, 0}, 0, 3) {
		t.Fatalf("segment %+v", s)
	}
	// Re-encoded, it is a version-2 manifest with the same content.
	again, err := decodeManifest(m.encode())
	if err != nil || again.parts[0].segs[0].key != s.key || again.covered != 39 {
		t.Fatalf("re-encoded: %+v %v", again, err)
	}
}
