// Package logstore owns how a message becomes durable and comes back after
// a crash: the partition logs, the node-wide journal with group commit, and
// recovery and fencing, over any objstore.Store (it knows nothing of files
// or S3).
//
// # Write path
//
// Append validates a producer's batch (internal/batch), assigns its offsets
// and append time in the partition, and adds it as a record to the open
// journal frame, which every partition shares: it reserves the record's
// place under the log's lock and copies the batch in after, so appenders
// copy in parallel; a frame is sealed (CRC) only once those copies are done.
// A batch handed over (AppendOwnedAs) of 64 KiB or more is not copied: it
// is stamped where it is, the frame holds it by reference, and it is
// written from there and kept there as the partition's tail. When it lies
// in a buffer of a bufpool.Pool, the partition holds a reference to that
// buffer until it drops the batch from memory (a spill, a seal, a drop),
// and reads retain it while they use it (ReadOptions.Hold): the last
// release gives the buffer back to its pool, for the next request. A preparer
// goroutine keeps the next frame's buffer ready. A flusher goroutine cuts the
// open frame when the previous flush is done and data is waiting, or when
// the frame is full (it reaches Options.FlushBytes, or one more batch like
// its last would take it past), never more often than
// Options.MinFlushInterval, and writes it as one object journal/<seq> with
// IfAbsent: with a thousand busy partitions a flush is still one PUT. Up to
// Options.MaxInflightFlushes flushes are written at once; they complete in
// sequence order. Only when a frame is durable do its batches become visible
// to readers and its appenders get their answer (AckDurable). AckReceived
// answers at once and can lose the last flush window in a crash.
//
// Metadata changes (streams, users, consumer offsets …) are records of the
// same journal (AppendMeta): they cost no PUT of their own while data is
// written. A lazy one (AppendMetaLazy) does not even start a flush: it
// waits for other records up to Options.LazyFlushInterval. The broker gets
// them back, in journal order, through Options.ApplyMeta, both live (once
// durable) and at recovery.
//
// # Journal objects and fencing
//
// Journal keys are journal/ + the sequence number as 20 decimal digits, so
// listing order is sequence order. Frames are numbered densely from 1; the
// frame format is in package journal. A server that opens a store lists the
// journal, replays the unbroken run of frames from the start, and claims it
// by writing a fence frame (an empty frame whose epoch is its own number) at
// the first free number with IfAbsent; that number becomes its epoch,
// written into every frame it writes. If a live server takes the number
// first, the new one reads on and fences further ahead (jumping farther
// each time, so a busy server cannot outrun it), then fills every number
// between with fence frames or, where the old server got there first,
// replays its frame. It also writes claim frames at the next
// MaxInflightFlushes−1 numbers, so that the old server — whose flushes in
// flight lie within that many numbers of where it was stopped — cannot land
// a frame where the new one will write. Fence and claim frames are never
// deleted, so this holds however late a retry comes. The old server's next
// journal write fails with ErrPreconditionFailed; it stops accepting writes
// and fails the appends waiting on it with ErrFenced. Replay ignores frames
// whose epoch is older than the newest epoch started at or before their
// number (an old server's write that raced a fence, never acknowledged),
// and stops at the first missing number (frames after a gap were never
// acknowledged: flushes are acknowledged in order).
//
// A write that times out may still have landed; when its retry finds the
// key taken, the object is read back, and if it holds this server's frame
// the write counts as done.
//
// # Segments and reads
//
// A sealer goroutine writes each partition's journal-resident data as an
// immutable segment object (package segment) once it reaches
// Options.SegmentBytes or Options.SegmentMaxAge, through the store's writer
// (the multipart writer on S3), and then records the segment in the journal
// (a RecordSegment record); once that record is durable the partition serves
// those offsets from the segment and drops them from memory. Segment keys
// carry the writer's epoch (segments/<stream>/<topic>/<partition>/<base
// offset>-<epoch>), so a fenced server still sealing can never overwrite a
// segment of the new owner. Reads of sealed offsets fetch the segment's
// footer once, then only the index blocks they need, through a block cache
// bounded by Options.BlockCacheBytes; reads of the unsealed tail come from
// memory.
//
// By default sealing does not copy the batches: it writes a linked
// segment (segment.Links, key …-<epoch>.links, recorded by a
// RecordLinkedSegment), a small object that says where each batch is in
// the journal files or objects, with the same footer. Every byte is then
// written to storage once. What a linked segment points into stays until
// retention or a drop deletes the segment, or compaction (compact.go)
// copies it out into an ordinary segment: on journal objects once it is
// older than Options.LinkedMaxAge; on both, oldest file first, whenever
// the journal holds more than twice what is live in it plus
// Options.CompactSlack (so that a slow partition cannot keep files full of
// other partitions' deleted data). On journal objects, batches smaller
// than Options.LinkMinBatch on average are copied when sealed, as
// Options.CopySegments copies every segment.
//
// # Checkpoints
//
// Every CheckpointInterval (and at a clean Close) the log writes a manifest
// (manifest/<generation>, IfAbsent; format in checkpoint.go): every
// partition's segments and sealed-up-to offset, the broker's metadata
// snapshot (Options.SnapshotMeta), the last journal frame it covers, and the
// first frame recovery must still read (the oldest frame holding an unsealed
// batch). Journal objects before that frame are then deleted, and manifests
// older than the previous one. Recovery = newest manifest + replay of the
// journal from its start frame: metadata and segment records of frames the
// manifest covers are skipped, and batches already in segments too. So the
// number of objects in a bucket grows with segments, not with flushes.
//
// # Journal files
//
// On a store that can append in place (the local filesystem, see
// objstore.AppendBackend) the journal is a series of files instead:
// journal/<seq of its first frame>, each flush one append plus one sync, a
// new file every Options.JournalFileBytes. Two flushes overlap: a frame is
// written while the one before it is being synced, and acknowledged once
// both are synced (MaxInflightFlushes is 2 there). Recovery reads the files
// in order; only the last may end in doubt — a torn frame, or a torn frame
// and one intact frame after it (the next flush, written meanwhile) —
// which it cuts off: none of it was acknowledged. A damaged frame with
// more after it is corruption. Sealing links to the batches in these files
// instead of copying them (see Segments and reads), and checkpoints keep
// the files linked segments point into. One writer at a time is then the
// store's lock's job (the fs backend's lock file), not claim frames'. A
// synced frame is dropped from the page cache (Appender.DropCache): its
// batches are in memory as the tails already.
//
// # Retention
//
// EnforceRetention deletes whole sealed segments of a topic, oldest first,
// whose newest message is older than the topic's expiry or while the topic
// is over its size limit. A trim record in the journal comes first, so a
// crash cannot bring deleted segments back; then the objects are deleted.
//
// # Formats
//
// Every layout below is part of the on-store format: constants never change,
// record types are never reused. The frame is drawn in package journal, the
// segment in package segment, the manifest in checkpoint.go. The record
// payloads inside frames (little-endian):
//
//	RecordBatch (1)    stream u32 | topic u32 | partition u32 | stamped batch
//	                   (the Iggy batch layout, package batch)
//	RecordMeta (2)     opaque bytes of the broker (Options.ApplyMeta)
//	RecordSegment (3)  stream u32 | topic u32 | partition u32 | base u64 |
//	                   last u64 | last_ts u64 | size u64 | epoch u64
//	RecordTrim (4)     stream u32 | topic u32 | partition u32 | first kept u64
//	RecordDrop (5)     stream u32 | topic u32 | partition u32
//	RecordLinkedSegment (6)
//	                   a RecordSegment payload (size = the linked object's),
//	                   then data_len u64 | files u32 | file u64 × files
//
// A RecordSegment for offsets a linked segment holds, from its first to
// its last, is that segment's copy (compaction) and replaces it.
//
// Object keys:
//
//	journal/<seq, 20 digits>                      frames (or journal files)
//	segments/<stream>/<topic>/<partition>/<base offset, 20 digits>-<epoch, 20 digits>
//	segments/<stream>/<topic>/<partition>/<base offset, 20 digits>-<epoch, 20 digits>.links
//	manifest/<generation, 20 digits>
package logstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/logstore/segment"
	"github.com/shoalstream/shoal/internal/objstore"
)

// Errors returned by Log, checked with errors.Is.
var (
	// ErrFenced: another server has taken over the store; this one accepts
	// no more writes.
	ErrFenced = errors.New("fenced: another server has taken over the store")
	// ErrClosed: the log is closed.
	ErrClosed = errors.New("log closed")
	// ErrTimeout: the store did not make the write durable within
	// Options.SendTimeout (an outage or throttling); the write may still
	// become durable later.
	ErrTimeout = errors.New("timed out waiting for the store to make the write durable")
	// ErrNotFound: no such partition, or nothing at that position.
	ErrNotFound = errors.New("not found")
)

// AckMode says when Append returns.
type AckMode int

const (
	// AckDurable returns once the batch is durable in the store.
	AckDurable AckMode = iota
	// AckReceived returns once the batch is in the open journal frame; a
	// crash can lose the last flush window.
	AckReceived
)

// Options configure a Log. Zero values take the defaults named.
type Options struct {
	Ack AckMode
	// FlushBytes cuts the open frame when it holds this many bytes, or
	// when one more record as large as its last would take it past them
	// (default 2 MiB: on S3 that lets several flushes be in flight
	// under load, which measured faster than fewer, larger ones).
	FlushBytes int
	// MinFlushInterval is the least time between the starts of two
	// flushes: a cap on PUTs per second (default 0).
	MinFlushInterval time.Duration
	// LazyFlushInterval is how long a frame holding only lazy records
	// (AppendMetaLazy: offsets consumers commit as they poll) waits for
	// other records before it is flushed by itself, so that consumers
	// alone cost a PUT per interval, not one per flush (default 1s;
	// negative: no wait).
	LazyFlushInterval time.Duration
	// MaxInflightFlushes bounds the flushes being written at once
	// (default 4).
	MaxInflightFlushes int
	// SendTimeout bounds how long an append waits for durability
	// (default 30s).
	SendTimeout time.Duration
	// RetryBackoff is the first pause before a failed journal write is
	// tried again; it doubles up to MaxRetryBackoff (defaults 50ms, 5s).
	RetryBackoff, MaxRetryBackoff time.Duration
	// SegmentBytes seals a partition's journal-resident data into a
	// segment once it reaches this size (default 64 MiB).
	SegmentBytes int64
	// SegmentSpread lowers SegmentBytes by up to this much, by a different
	// amount for each partition (from its key), so that partitions written
	// at one rate do not all seal at once (default 0: none). Sealed
	// together, their tails became garbage together: the heap dropped by
	// their sum, the runtime gave that memory back to the system, and the
	// requests after faulted it in again.
	SegmentSpread int64
	// SegmentMaxAge seals data older than this whatever its size
	// (default 10 minutes).
	SegmentMaxAge time.Duration
	// SealCheckInterval is how often the sealer looks for old data
	// (default 1s).
	SealCheckInterval time.Duration
	// IndexInterval is the data a segment index entry covers, and so the
	// unit of reads from segments (default 64 KiB).
	IndexInterval int
	// BlockCacheBytes bounds the cache of segment blocks (default 64 MiB).
	BlockCacheBytes int64
	// TailCacheBytes bounds the unsealed data all partitions keep in
	// memory: past it, the partitions holding the most drop theirs from
	// memory and read it back from the journal until it is sealed, or —
	// batches a seal would copy, not link — are sealed early
	// (default 1 GiB).
	TailCacheBytes int64
	// TailCacheStart is the bound the in-memory tail starts at, until a
	// read has had to go to the journal for a batch dropped from memory:
	// from then on it is TailCacheBytes (default TailCacheBytes). Below
	// TailCacheBytes it applies to batches a seal links; those a seal
	// copies are held up to TailCacheBytes whatever it is, since dropping
	// them early would mean sealing early. What reads have returned is
	// spilled first, so a server whose readers keep up (or that has none)
	// holds and touches less memory; one whose readers lag gets the whole
	// cache at their first miss.
	TailCacheStart int64
	// ApplyMeta receives every metadata record in journal order: at
	// recovery, and live once the record is durable. It must not block
	// for long and must not call back into the Log.
	ApplyMeta func(rec []byte)
	// JournalObjects writes one journal object per flush even where the
	// store can append in place (by default a store that can, the local
	// filesystem, gets journal files).
	JournalObjects bool
	// JournalFileBytes starts a new journal file once the current one is
	// this large (default 64 MiB; journal files only).
	JournalFileBytes int64
	// CopySegments seals by copying batches into segment objects (by
	// default sealing writes linked segments, which point at the batches
	// where the journal wrote them; see compact.go).
	CopySegments bool
	// CompactSlack is how many bytes of journal may be kept beyond twice
	// what linked segments and unsealed batches hold, before the linked
	// segments that keep the oldest journal files or objects are copied
	// out so those can go (default 4 × JournalFileBytes).
	CompactSlack int64
	// LinkedMaxAge: on journal objects (S3), linked segments whose newest
	// batch is older than this are copied into ordinary segments (default
	// 10 minutes; negative: never). Journal files (fs) keep theirs.
	LinkedMaxAge time.Duration
	// LinkMinBatch: on journal objects, batches smaller than this on
	// average are copied into a segment when sealed, not linked: read
	// back from the journal objects they would cost a GET each (default
	// 256 KiB).
	LinkMinBatch int
	// SnapshotMeta returns the broker's state as of the last record
	// ApplyMeta received, for a checkpoint; RestoreMeta installs it at
	// recovery, before the records after it. With ApplyMeta but no
	// SnapshotMeta, no checkpoint is written and the journal is kept whole.
	SnapshotMeta func() ([]byte, error)
	RestoreMeta  func([]byte) error
	// CheckpointInterval is how often a manifest is written and the
	// journal trimmed (default 1 minute).
	CheckpointInterval time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger

	// onSealed, for tests, is called after a segment is recorded.
	onSealed func(k PartitionKey, last uint64)

	hasApplyMeta bool // set by setDefaults
}

func (o *Options) setDefaults() {
	if o.FlushBytes <= 0 {
		o.FlushBytes = 2 << 20
	}
	if o.MaxInflightFlushes <= 0 {
		o.MaxInflightFlushes = 4
	}
	if o.LazyFlushInterval == 0 {
		o.LazyFlushInterval = time.Second
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 50 * time.Millisecond
	}
	if o.MaxRetryBackoff <= 0 {
		o.MaxRetryBackoff = 5 * time.Second
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.SegmentMaxAge <= 0 {
		o.SegmentMaxAge = 10 * time.Minute
	}
	if o.SealCheckInterval <= 0 {
		o.SealCheckInterval = time.Second
	}
	if o.IndexInterval <= 0 {
		o.IndexInterval = segment.DefaultIndexInterval
	}
	if o.BlockCacheBytes <= 0 {
		o.BlockCacheBytes = 64 << 20
	}
	if o.TailCacheBytes <= 0 {
		o.TailCacheBytes = 1 << 30
	}
	if o.TailCacheStart <= 0 || o.TailCacheStart > o.TailCacheBytes {
		o.TailCacheStart = o.TailCacheBytes
	}
	if o.JournalFileBytes <= 0 {
		o.JournalFileBytes = 64 << 20
	}
	if o.CompactSlack <= 0 {
		o.CompactSlack = 4 * o.JournalFileBytes
	}
	if o.LinkedMaxAge == 0 {
		o.LinkedMaxAge = 10 * time.Minute
	}
	if o.LinkMinBatch <= 0 {
		o.LinkMinBatch = 256 << 10
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = time.Minute
	}
	o.hasApplyMeta = o.ApplyMeta != nil
	if o.ApplyMeta == nil {
		o.ApplyMeta = func([]byte) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// PartitionKey names a partition.
type PartitionKey struct{ Stream, Topic, Partition uint32 }

func (k PartitionKey) String() string {
	return fmt.Sprintf("%d/%d/%d", k.Stream, k.Topic, k.Partition)
}

// journalKey is the object key of journal frame seq.
func journalKey(seq uint64) string { return fmt.Sprintf("journal/%020d", seq) }

// Log is the set of partition logs of one store. It is safe for concurrent
// use.
type Log struct {
	store *objstore.Store
	opts  Options
	log   *slog.Logger
	epoch uint64

	appendMode bool        // journal files, not one object per flush
	files      fileJournal // the journal files, in appendMode

	mu struct {
		sync.Mutex
		open    *openFrame // the frame appends go into
		nextSeq uint64     // the number the next cut frame gets
		parts   map[PartitionKey]*partition
		fenced  error // non-nil once fenced or failed for good
		closed  bool
	}

	kick      chan struct{} // wakes the flusher
	flushDone chan struct{} // closed when the flusher has exited
	sealKick  chan struct{} // wakes the sealer: a partition is due
	tailKick  chan struct{} // wakes the sealer: the tail is over its bound
	sealDone  chan struct{} // closed when the sealer has exited
	blocks    *blockCache
	spare     chan []byte  // a frame buffer made ready by the preparer
	frameSize atomic.Int64 // the largest recent frame's size (decaying)
	prepDone  chan struct{}
	compDone  chan struct{} // closed when the compactor has exited
	tailBytes atomic.Int64  // unsealed bytes, all partitions
	memBytes  atomic.Int64  // of those, the bytes held in memory
	// tailBound is what memBytes is kept under by spilling: TailCacheStart
	// until a read misses (Log.tailMissed), then TailCacheBytes.
	tailBound atomic.Int64
	// spillAgain is, after a pass of the sealer that could not bring
	// memBytes under tailBound (what is left is to be copied when sealed),
	// the memBytes at which appends wake it for tailBound again; 0 else.
	spillAgain atomic.Int64

	// pubMu is held while a durable frame is published, so a checkpoint
	// sees the state between two frames; published is the last one.
	pubMu     sync.Mutex
	published uint64

	// dropKeys are segment objects of dropped partitions not deleted yet.
	dropMu   sync.Mutex
	dropKeys []string

	ckptMu   sync.Mutex // one checkpoint at a time
	lastCkpt ckptState  // guarded by ckptMu (and set by recovery before)
	claims   []uint64   // journal numbers holding claim frames, sorted; set by recovery
	epochs   []uint64   // every writer epoch claimed, sorted; set by recovery
	stop     context.CancelFunc
	runCtx   context.Context
}

// Open recovers the log from store and claims the journal for this
// process. ApplyMeta has received every recovered metadata record when it
// returns.
func Open(ctx context.Context, store *objstore.Store, opts Options) (*Log, error) {
	opts.setDefaults()
	l := &Log{
		store: store, opts: opts, log: opts.Logger,
		kick: make(chan struct{}, 1), flushDone: make(chan struct{}),
		sealKick: make(chan struct{}, 1), tailKick: make(chan struct{}, 1), sealDone: make(chan struct{}),
		spare: make(chan []byte, 1), prepDone: make(chan struct{}), compDone: make(chan struct{}),
		blocks: newBlockCache(opts.BlockCacheBytes),
	}
	l.mu.parts = make(map[PartitionKey]*partition)
	l.files.l = l
	l.tailBound.Store(opts.TailCacheStart)
	if store.CanAppend() && !opts.JournalObjects {
		l.appendMode = true
		// One frame syncing while the next is written (see fileJournal).
		l.opts.MaxInflightFlushes = 2
	}
	rec := &recovery{l: l}
	start := time.Now()
	if err := rec.run(ctx); err != nil {
		return nil, err
	}
	l.mu.nextSeq = rec.nextSeq
	l.epoch = rec.epoch
	l.published = rec.nextSeq - 1
	l.mu.open = l.newOpenFrame()
	l.log.Info("log recovered", "store", store.Name(), "frames", rec.frames, "batches", rec.batches,
		"meta_records", rec.metas, "partitions", len(l.mu.parts), "epoch", l.epoch, "took", time.Since(start))
	l.runCtx, l.stop = context.WithCancel(context.Background())
	// Segments trimmed or dropped before a crash may still be there.
	for _, p := range l.partitions() {
		if err := l.deleteTrimmed(ctx, p); err != nil {
			l.log.Warn("deleting trimmed segments left by a crash failed", "partition", p.key, "err", err)
		}
	}
	if err := l.deleteDropped(ctx); err != nil {
		l.log.Warn("deleting the segments of dropped partitions left by a crash failed", "err", err)
	}
	go l.flusher()
	go l.sealer()
	go l.preparer()
	go l.compactor()
	return l, nil
}

// Epoch is the journal number this process claimed at Open.
func (l *Log) Epoch() uint64 { return l.epoch }

// Close stops accepting appends, flushes what is waiting, and returns when
// the last flush is done. It does not close the store. A second Close
// returns ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.mu.closed = true
	l.mu.Unlock()
	l.wake()
	// Drain what is waiting; if the store does not take it in time (an
	// outage), give up and fail the waiting appends.
	drained := false
	select {
	case <-l.flushDone:
		drained = true
	case <-time.After(l.opts.SendTimeout):
		l.log.Warn("closing: the journal did not drain in time; failing the appends still waiting", "timeout", l.opts.SendTimeout)
	}
	if drained && l.writableAfterClose() {
		// A last checkpoint makes the next start quick.
		ctx, cancel := context.WithTimeout(context.Background(), l.opts.SendTimeout)
		if err := l.Checkpoint(ctx); err != nil {
			l.log.Warn("closing: final checkpoint failed", "err", err)
		}
		cancel()
	}
	l.stop()
	<-l.flushDone
	<-l.sealDone
	<-l.prepDone
	<-l.compDone
	l.files.close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.fenced != nil && !errors.Is(l.mu.fenced, ErrClosed) {
		return l.mu.fenced
	}
	return nil
}

// writableAfterClose reports whether the log closed cleanly (not fenced or
// failed).
func (l *Log) writableAfterClose() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.fenced == nil
}

func (l *Log) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// frameRecord is what the flusher needs of a record of the open frame to
// publish it once the frame is durable.
type frameRecord struct {
	part   *partition // nil for a metadata record
	seg    *segInfo   // set for a segment record
	trim   bool       // a trim record: drop segments before trimTo
	drop   bool       // a drop record: forget the partition
	trimTo uint64
	lazy   bool         // an AppendMetaLazy record
	end    int          // where the record ends in the frame
	bend   int          // where its bytes in the frame's buffer end (FrameBuilder.BufferLen)
	ref    []byte       // the batch held by reference, if it is (AppendOwnedAs)
	buf    *bufpool.Buf // the buffer ref lies in, if it came from a pool; the frame holds its reference
	b      storedBatch  // a batch record's offsets (its bytes are set at publish)
}

// openFrame is the frame being filled by appends.
type openFrame struct {
	fb journal.FrameBuilder
	// copying counts appenders copying a batch into the place they
	// reserved. The buffer is not moved (reserveLocked) nor the frame
	// sealed (flush) until it is zero. Add happens under Log.mu only.
	copying sync.WaitGroup
	records []frameRecord
	// eager is set once a record that is not lazy (AppendMetaLazy) is
	// added; lazySince is when the first lazy one was.
	eager     bool
	lazySince time.Time
	done      chan struct{} // closed when the frame is durable or failed
	err       error         // why it failed; read after done
}

// newOpenFrame starts a frame in a buffer the preparer made ready, if
// there is one, else in a small one that grows as records come.
func (l *Log) newOpenFrame() *openFrame {
	f := &openFrame{done: make(chan struct{})}
	select {
	case buf := <-l.spare:
		f.fb.ResetWith(buf)
	default:
		f.fb.Reset()
	}
	return f
}

// preparer keeps one frame buffer ready, sized like the last frame cut
// (plus a quarter), so that the allocation and first touch of a large
// buffer — page faults, under a steady load of fresh memory, since the
// frames stay in memory as the partitions' tails — happen here, beside the
// flush in flight, not under the log's lock.
func (l *Log) preparer() {
	defer close(l.prepDone)
	for {
		size := l.frameSize.Load()
		if size < 64<<10 {
			size = 0 // small frames grow cheaply by themselves
		}
		buf := make([]byte, 0, size+size/4)
		select {
		case l.spare <- buf:
		case <-l.runCtx.Done():
			return
		}
	}
}

// reserveLocked makes room for n more bytes in f's buffer. Growing moves
// the buffer, so it first waits for appenders still copying into it (they
// do not need Log.mu to finish). Log.mu is held.
func (f *openFrame) reserveLocked(n int) {
	if f.fb.Room() < n {
		f.copying.Wait()
		f.fb.Grow(n)
	}
}
