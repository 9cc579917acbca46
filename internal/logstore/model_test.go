package logstore

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/objstoretest"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

var (
	modelSeed  = flag.Uint64("model.seed", 0, "seed of the logstore model test (0: a new one each run)")
	modelSteps = flag.Int("model.steps", 300, "operations per logstore model run")
)

// crash stops the log as a killed process would: nothing more is written,
// no final flush, no checkpoint.
func crash(l *Log) {
	l.mu.Lock()
	l.mu.closed = true
	l.mu.Unlock()
	l.stop()
	<-l.flushDone
	<-l.sealDone
	<-l.prepDone
	<-l.compDone
}

// oracle is the model: what each partition must hold.
type oracle struct {
	parts map[PartitionKey][]string // payloads by offset
	first map[PartitionKey]uint64   // the first offset retention kept
	meta  []string
}

// modelRun drives a seeded sequence of appends, reads, seals,
// checkpoints, crashes and restarts against a log over backend, and
// compares every observation with the oracle.
type modelRun struct {
	t       *testing.T
	rng     *rand.Rand
	backend objstore.Backend
	faulty  *objstoretest.Faulty
	faults  bool
	// pool lends the buffers of the batches handed over; a buffer it
	// hands out again is overwritten at once, so a batch the log let go
	// of but still serves reads wrong.
	pool *bufpool.Pool
	opts Options
	l    *Log
	meta *metaState
	o    oracle
	keys []PartitionKey
	log  []string // what happened, for the failure message
}

// modelFailure carries a failed check out of a model run, so that the run
// can be shrunk before the test fails.
type modelFailure struct{ msg string }

func (m *modelRun) fatalf(format string, args ...any) {
	tail := m.log[max(0, len(m.log)-15):]
	panic(modelFailure{fmt.Sprintf("%s\nlast operations:\n  %s", fmt.Sprintf(format, args...), strings.Join(tail, "\n  "))})
}

func (m *modelRun) open() {
	m.t.Helper()
	var err error
	for attempt := range 20 {
		m.meta = &metaState{} // a failed start leaves nothing: the process would exit
		s := objstore.New(m.faulty, objstore.Options{})
		m.l, err = Open(context.Background(), s, m.meta.options(m.opts))
		if err == nil {
			break
		}
		if !m.faults {
			break
		}
		m.log = append(m.log, fmt.Sprintf("open attempt %d failed: %v", attempt, err))
	}
	if err != nil {
		m.fatalf("open: %v", err)
	}
	got, _ := m.meta.get()
	if !slices.Equal(got, m.o.meta) {
		m.fatalf("metadata after open: %q, want %q", got, m.o.meta)
	}
	for _, k := range m.keys {
		m.checkRead(k, 0)
	}
}

// injectSome adds a random transient fault that the log must ride out.
func (m *modelRun) injectSome() {
	if !m.faults || m.rng.IntN(3) != 0 {
		return
	}
	rules := []objstoretest.Rule{
		{Op: objstore.OpPut, KeyPrefix: "journal/", Action: objstoretest.Fail, Times: 1 + m.rng.IntN(3)},
		{Op: objstore.OpPut, KeyPrefix: "journal/", Action: objstoretest.FailAfter, Times: 1},
		{Op: objstore.OpWriter, Action: objstoretest.Fail, Times: 1},
		{Op: objstore.OpWriter, Action: objstoretest.FailAfter, Times: 1},
		{Op: objstore.OpGet, Action: objstoretest.Fail, Times: 1},
		{Op: objstore.OpList, Action: objstoretest.Fail, Times: 1},
		{Op: objstore.OpPut, KeyPrefix: "manifest/", Action: objstoretest.Fail, Times: 1},
		{Op: objstore.OpDelete, Action: objstoretest.Fail, Times: 1},
	}
	r := rules[m.rng.IntN(len(rules))]
	m.faulty.Inject(r)
	m.log = append(m.log, fmt.Sprintf("inject %+v", r))
}

func (m *modelRun) checkRead(k PartitionKey, from uint64) {
	m.t.Helper()
	want := m.o.parts[k]
	from = max(from, m.o.first[k])
	if int(from) > len(want) {
		from = uint64(len(want))
	}
	var got []string
	var err error
	for range 5 { // reads may meet an injected fault
		got, err = m.read(k, from)
		if err == nil {
			break
		}
	}
	if err != nil {
		m.fatalf("read %s from %d: %v", k, from, err)
	}
	if !slices.Equal(got, want[from:]) {
		m.fatalf("read %s from %d: %d messages %v…, want %d", k, from, len(got), got[:min(len(got), 3)], len(want)-int(from))
	}
}

func (m *modelRun) read(k PartitionKey, from uint64) ([]string, error) {
	var held Held
	defer held.Release()
	bs, err := m.l.Read(context.Background(), k, from, ReadOptions{Hold: &held})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range bs {
		if _, err := batch.Validate(b); err != nil {
			m.fatalf("read %s from %d: %v", k, from, err)
		}
		for msg := range batch.Messages(b) {
			if msg.Offset >= from {
				out = append(out, string(msg.Payload))
			}
		}
	}
	return out, nil
}

// reuseFree hands out every free buffer of the pool and overwrites it, as
// requests read into them would, then gives them back: a batch the log let
// go of but still serves then reads wrong.
func (m *modelRun) reuseFree() {
	var taken []*bufpool.Buf
	for size := bufpool.MinSize; size <= refBatchBytes+16<<10; size += 4 << 10 {
		for {
			b, reused := m.pool.Get(size)
			if !reused {
				break // left to the garbage collector, not added to the pool
			}
			// Where the batch starts and its first messages are.
			for i := range 4 << 10 {
				b.Bytes()[i] = 0xAA
			}
			taken = append(taken, b)
		}
	}
	for _, b := range taken {
		b.Release()
	}
}

func (m *modelRun) step(i int) {
	ctx := context.Background()
	k := m.keys[m.rng.IntN(len(m.keys))]
	switch op := m.rng.IntN(100); {
	case op < 3:
		// Drop the partition's tail from memory, as the tail cache
		// does: reads and seals then go to the journal. Batches a seal
		// would copy are not spilled (see sealDue).
		p := m.l.part(k)
		if p == nil {
			break
		}
		link := m.l.trySpill(p)
		m.log = append(m.log, fmt.Sprintf("spill %s (%v)", k, link))
		m.checkRead(k, uint64(m.rng.IntN(len(m.o.parts[k])+1)))
	case op < 48:
		n := 1 + m.rng.IntN(5)
		tag := fmt.Sprintf("s%d", i)
		// One append in four hands over a batch large enough to be held
		// by reference (AppendOwnedAs), not copied into the frame.
		owned := m.rng.IntN(4) == 0
		pad := 0
		if owned {
			pad = refBatchBytes/n + m.rng.IntN(1000)
		}
		b := makePaddedBatch(m.t, n, tag, pad)
		var err error
		if owned {
			// In a buffer of the pool, after a request's header as the
			// server reads it.
			at := m.rng.IntN(300)
			buf, _ := m.pool.Get(at + len(b))
			data := buf.Bytes()[at : at+len(b)]
			copy(data, b)
			_, err = m.l.AppendOwnedAs(ctx, k, k.Partition, data, buf)
		} else {
			_, err = m.l.Append(ctx, k, b)
		}
		if err != nil {
			m.fatalf("append: %v", err)
		}
		for j := range n {
			m.o.parts[k] = append(m.o.parts[k], fmt.Sprintf("%s-%d", tag, j)+strings.Repeat("p", pad))
		}
		m.log = append(m.log, fmt.Sprintf("append %s %d (owned %v)", k, n, owned))
	case op < 56:
		rec := fmt.Sprintf("meta %d", i)
		if err := m.l.AppendMeta(ctx, []byte(rec)); err != nil {
			m.fatalf("append meta: %v", err)
		}
		m.o.meta = append(m.o.meta, rec)
		m.log = append(m.log, "meta")
	case op < 71:
		from := uint64(0)
		if n := len(m.o.parts[k]); n > 0 {
			from = uint64(m.rng.IntN(n + 1))
		}
		m.log = append(m.log, fmt.Sprintf("read %s from %d", k, from))
		m.checkRead(k, from)
	case op < 74:
		segs := m.l.Segments(k)
		if len(segs) == 0 {
			break
		}
		to := segs[m.rng.IntN(len(segs))].LastOffset + 1
		err := m.l.TrimBefore(ctx, k, to)
		m.log = append(m.log, fmt.Sprintf("trim %s before %d: %v", k, to, err))
		if err != nil && !m.faults {
			m.fatalf("trim: %v", err)
		}
		first, _, ok := m.l.Bounds(k)
		if !ok || (err == nil && first != to) || first > to {
			m.fatalf("after trimming %s before %d: first offset %d (%v)", k, to, first, ok)
		}
		m.o.first[k] = first
	case op < 76:
		// Copy every linked segment out of the journal.
		err := m.l.compactOld(ctx, time.Now().Add(time.Hour))
		m.log = append(m.log, fmt.Sprintf("compact: %v", err))
		if err != nil && !m.faults {
			m.fatalf("compact: %v", err)
		}
	case op < 83:
		err := m.l.Seal(ctx)
		m.log = append(m.log, fmt.Sprintf("seal: %v", err))
		if err != nil && !m.faults {
			m.fatalf("seal: %v", err)
		}
	case op < 89:
		err := m.l.compactDue(ctx)
		if err == nil {
			err = m.l.Checkpoint(ctx)
		}
		m.log = append(m.log, fmt.Sprintf("checkpoint: %v", err))
		if err != nil && !m.faults {
			m.fatalf("checkpoint: %v", err)
		}
	case op < 95:
		m.log = append(m.log, "crash")
		crash(m.l)
		m.open()
	default:
		m.log = append(m.log, "restart")
		if err := m.l.Close(); err != nil {
			m.fatalf("close: %v", err)
		}
		m.open()
	}
	m.injectSome()
}

// runModel runs the model for -model.steps operations on backends
// newBackend makes. On a failure it shrinks the run — the operations are a
// function of the seed, so a shorter run is a prefix of the longer one — to
// the fewest steps that still fail, and reports those with the seed.
func runModel(t *testing.T, newBackend func() objstore.Backend, seed uint64, faults, objects bool) {
	msg := runModelSteps(t, newBackend(), seed, faults, objects, *modelSteps)
	if msg == "" {
		return
	}
	lo, hi := 0, *modelSteps
	for lo < hi {
		mid := (lo + hi) / 2
		if runModelSteps(t, newBackend(), seed, faults, objects, mid) != "" {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if hi < *modelSteps {
		msg = runModelSteps(t, newBackend(), seed, faults, objects, hi)
	}
	t.Fatalf("%s\nmodel seed %d, failing within %d steps: rerun with -model.seed=%d -model.steps=%d", msg, seed, hi, seed, hi)
}

// runModelSteps runs steps operations and a final restart; it returns the
// failure, or "".
func runModelSteps(t *testing.T, backend objstore.Backend, seed uint64, faults, objects bool, steps int) (failure string) {
	m := &modelRun{
		t: t, rng: rand.New(rand.NewPCG(seed, seed+1)), backend: backend, faulty: objstoretest.NewFaulty(backend), faults: faults,
		pool: bufpool.New(16 << 20),
		opts: Options{
			SegmentBytes: 2 << 10, IndexInterval: 256, MaxInflightFlushes: 2,
			RetryBackoff: time.Millisecond, MaxRetryBackoff: 5 * time.Millisecond,
			CheckpointInterval: time.Hour, SealCheckInterval: time.Hour,
			JournalObjects: objects, JournalFileBytes: 4 << 10,
			CopySegments: seed%2 == 1, CompactSlack: 1 << 10, LinkMinBatch: 1,
			Logger: discardLogger(),
		},
		o: oracle{parts: map[PartitionKey][]string{}, first: map[PartitionKey]uint64{}},
	}
	for p := range 4 {
		m.keys = append(m.keys, PartitionKey{1, uint32(1 + p%2), uint32(p)})
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		f, ok := r.(modelFailure)
		if !ok {
			panic(r)
		}
		if m.l != nil {
			crash(m.l) // stop its goroutines before the next run
		}
		failure = f.msg
	}()
	m.open()
	for i := range steps {
		m.step(i)
		m.reuseFree()
	}
	m.faulty.Clear()
	if err := m.l.Close(); err != nil {
		m.fatalf("close: %v", err)
	}
	m.open()
	_ = m.l.Close()
	return ""
}

func modelSeeds() []uint64 {
	if *modelSeed != 0 {
		return []uint64{*modelSeed}
	}
	now := uint64(time.Now().UnixNano())
	return []uint64{now, now + 1}
}

// TestModelMem runs the model on the memory backend, with journal files
// (appends) and with one journal object per flush, with and without
// injected faults.
func TestModelMem(t *testing.T) {
	for _, journal := range []string{"files", "objects"} {
		for _, faults := range []bool{false, true} {
			for _, seed := range modelSeeds() {
				t.Run(fmt.Sprintf("%s/faults=%v/%d", journal, faults, seed), func(t *testing.T) {
					runModel(t, func() objstore.Backend { return mem.New() }, seed, faults, journal == "objects")
				})
			}
		}
	}
}

// TestModelFS runs the model on the filesystem backend (journal files).
func TestModelFS(t *testing.T) {
	for _, faults := range []bool{false, true} {
		for _, seed := range modelSeeds() {
			t.Run(fmt.Sprintf("faults=%v/%d", faults, seed), func(t *testing.T) {
				runModel(t, func() objstore.Backend {
					b, err := fs.New(t.TempDir(), fs.Options{Logger: discardLogger(), NoLock: true})
					if err != nil {
						t.Fatal(err)
					}
					return b
				}, seed, faults, false)
			})
		}
	}
}

// TestModelS3 runs the model on the real S3 server.
func TestModelS3(t *testing.T) {
	for _, faults := range []bool{false, true} {
		for _, seed := range modelSeeds()[:1] {
			t.Run(fmt.Sprintf("faults=%v/%d", faults, seed), func(t *testing.T) {
				runModel(t, func() objstore.Backend {
					o := s3test.Options(t) // a fresh prefix for each run
					o.Logger = discardLogger()
					b, err := s3.New(t.Context(), o)
					if err != nil {
						t.Fatal(err)
					}
					return b
				}, seed, faults, true)
			})
		}
	}
}
