package logstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/logstore/journal"
	"github.com/shoalstream/shoal/internal/objstore"
)

// Append validates a producer's batch, assigns it the partition's next
// offsets and the append time, and adds it to the journal. With AckDurable
// it returns once the batch is durable (or ctx ends, or SendTimeout passes:
// ErrTimeout); with AckReceived at once. The returned header is the stamped
// one. The caller's slice is not kept or changed.
func (l *Log) Append(ctx context.Context, k PartitionKey, b []byte) (batch.Header, error) {
	return l.AppendAs(ctx, k, k.Partition, b)
}

// AppendAs is Append with the partition id the batch is stamped with, for
// callers whose partition keys are not the ids clients see (the broker
// keys a partition's data by a storage id that is never reused). A
// malformed batch is an error matching batch.ErrInvalid.
func (l *Log) AppendAs(ctx context.Context, k PartitionKey, partitionID uint32, b []byte) (batch.Header, error) {
	return l.append(ctx, k, partitionID, b, nil, false)
}

// AppendOwnedAs is AppendAs for a batch the caller hands over: the log may
// stamp b in place and keep it, as the batch's bytes in the journal write
// and in the partition's tail, instead of copying it (it does for large
// batches). b lies in buf's bytes, unless buf is nil (b is then memory
// the garbage collector frees), and the log takes over the caller's
// reference to buf: it releases it once nothing reads b any more, so the
// buffer is used again. The caller must not use b or buf again, whatever
// the result.
func (l *Log) AppendOwnedAs(ctx context.Context, k PartitionKey, partitionID uint32, b []byte, buf *bufpool.Buf) (batch.Header, error) {
	return l.append(ctx, k, partitionID, b, buf, true)
}

// refBatchBytes is the size from which a batch handed over is kept where
// it is rather than copied into the frame's buffer. Below it, copying is
// cheap and keeps small batches together.
const refBatchBytes = 64 << 10

func (l *Log) append(ctx context.Context, k PartitionKey, partitionID uint32, b []byte, buf *bufpool.Buf, owned bool) (batch.Header, error) {
	h, err := batch.Validate(b)
	if err != nil {
		buf.Release()
		return batch.Header{}, fmt.Errorf("append to %s: %w", k, err)
	}
	l.mu.Lock()
	if err := l.writableLocked(); err != nil {
		l.mu.Unlock()
		buf.Release()
		return batch.Header{}, fmt.Errorf("append to %s: %w", k, err)
	}
	p := l.partLocked(k)
	h.PartitionID = uint64(partitionID)
	h.BaseOffset = p.next
	h.BaseTimestamp = max(uint64(l.opts.Now().UnixMicro()), p.lastTS+1)
	// Reserve the record's place under the lock; copy the batch into it
	// (or stamp it where it is) after, so appenders work in parallel. The
	// frame is not cut (nor its buffer moved) while one is under way: see
	// openFrame.copying.
	f := l.mu.open
	f.eager = true
	var rec, data, ref []byte
	var refBuf *bufpool.Buf
	if owned && len(b) >= refBatchBytes {
		f.reserveLocked(journal.RecordHeaderSize + batchRecordHeader)
		rec = f.fb.AddRecordRef(journal.RecordBatch, batchRecordHeader, b)
		data, ref, refBuf = b, b, buf
	} else {
		f.reserveLocked(journal.RecordHeaderSize + batchRecordHeader + len(b))
		rec = f.fb.AddRecord(journal.RecordBatch, batchRecordHeader+len(b))
		data = rec[batchRecordHeader:]
	}
	putPartitionKey(rec, k)
	f.copying.Add(1)
	f.records = append(f.records, frameRecord{
		part: p,
		end:  journal.FrameHeaderSize + f.fb.BodyLen(),
		bend: f.fb.BufferLen(),
		ref:  ref,
		buf:  refBuf,
		b:    storedBatch{base: h.BaseOffset, last: h.LastOffset(), ts: h.BaseTimestamp, size: int64(len(b))},
	})
	p.next += uint64(h.Count)
	p.lastTS = h.BaseTimestamp
	l.mu.Unlock()
	if ref == nil {
		copy(data, b)
		buf.Release() // copied: the caller's buffer is not needed
	}
	h.Checksum = batch.Stamp(data, h.PartitionID, h.BaseOffset, h.BaseTimestamp)
	f.copying.Done()
	l.wake()
	return h, l.await(ctx, f)
}

// AppendMeta adds a metadata record to the journal. It returns once the
// record is durable and ApplyMeta has seen it (whatever the AckMode: a
// metadata change must not be answered before it is safe).
func (l *Log) AppendMeta(ctx context.Context, rec []byte) error {
	if err := l.appendInternal(ctx, journal.RecordMeta, rec, frameRecord{}); err != nil {
		return fmt.Errorf("append metadata: %w", err)
	}
	return nil
}

// AppendMetaLazy is AppendMeta for a record that may wait: a frame that
// holds nothing else is flushed once Options.LazyFlushInterval has passed
// (or sooner, with any other record). For changes that are applied at once
// and made durable in the background (offsets committed by polls), so
// that they cost no write of their own while anything else is written.
func (l *Log) AppendMetaLazy(ctx context.Context, rec []byte) error {
	if err := l.appendInternal(ctx, journal.RecordMeta, rec, frameRecord{lazy: true}); err != nil {
		return fmt.Errorf("append metadata: %w", err)
	}
	return nil
}

// appendInternal adds a record that is not a batch and waits until it is
// durable; r says what to do with it then.
func (l *Log) appendInternal(ctx context.Context, t journal.RecordType, payload []byte, r frameRecord) error {
	l.mu.Lock()
	if err := l.writableLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	f := l.mu.open
	switch {
	case !r.lazy:
		f.eager = true
	case f.lazySince.IsZero():
		f.lazySince = time.Now()
	}
	f.reserveLocked(journal.RecordHeaderSize + len(payload))
	f.fb.Add(t, payload)
	r.end = journal.FrameHeaderSize + f.fb.BodyLen()
	r.bend = f.fb.BufferLen()
	f.records = append(f.records, r)
	l.mu.Unlock()
	l.wake()
	return l.wait(ctx, f)
}

func (l *Log) writableLocked() error {
	switch {
	case l.mu.fenced != nil:
		return l.mu.fenced
	case l.mu.closed:
		return ErrClosed
	}
	return nil
}

// await waits for f according to the AckMode.
func (l *Log) await(ctx context.Context, f *openFrame) error {
	if l.opts.Ack == AckReceived {
		return nil
	}
	return l.wait(ctx, f)
}

// wait waits until f is durable or failed, ctx ends or SendTimeout passes.
func (l *Log) wait(ctx context.Context, f *openFrame) error {
	timer := time.NewTimer(l.opts.SendTimeout)
	defer timer.Stop()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("%w (%v)", ErrTimeout, l.opts.SendTimeout)
	}
}

// flushJob is a cut frame handed to a flush worker.
type flushJob struct {
	f   *openFrame
	seq uint64
	st  *flushState
}

// flusher cuts frames and starts their writes until the log is closed and
// drained. It is the only goroutine that cuts frames; each frame is written
// by one of MaxInflightFlushes workers, and frames complete in sequence
// order. The workers live as long as the flusher: a goroutine per frame
// grew its stack anew for every write, through the S3 SDK's deep call
// chain (4% of the server's CPU under load).
func (l *Log) flusher() {
	defer close(l.flushDone)
	sem := make(chan struct{}, l.opts.MaxInflightFlushes)
	jobs := make(chan flushJob)
	defer close(jobs)
	for range cap(sem) {
		go func() {
			for j := range jobs {
				l.flush(j.f, j.seq, sem, j.st)
			}
		}()
	}
	// The previous frame: its completion, and (journal files) when it is
	// written; with the error of each.
	prev, prevWritten := make(chan struct{}), make(chan struct{})
	close(prev)
	close(prevWritten)
	prevErr, prevWriteErr := new(error), new(error)
	var lastStart time.Time
	var timer *time.Timer
	cancelled := l.runCtx.Done()
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	wakeIn := func(wait time.Duration) {
		if timer == nil {
			timer = time.AfterFunc(wait, l.wake)
		} else {
			timer.Reset(wait)
		}
	}
	for {
		if wait := l.opts.MinFlushInterval - time.Since(lastStart); !lastStart.IsZero() && wait > 0 && !l.closing() {
			wakeIn(wait)
		} else if f, seq, ok, wait := l.cut(len(sem), cap(sem)); ok {
			lastStart = time.Now()
			sem <- struct{}{}
			st := &flushState{
				prev: prev, prevErr: prevErr, prevWritten: prevWritten, prevWriteErr: prevWriteErr,
				done: make(chan struct{}), err: new(error), written: make(chan struct{}), writeErr: new(error),
			}
			jobs <- flushJob{f, seq, st}
			prev, prevErr, prevWritten, prevWriteErr = st.done, st.err, st.written, st.writeErr
			continue
		} else if wait > 0 {
			wakeIn(wait)
		}
		l.mu.Lock()
		drained := len(l.mu.open.records) == 0 && (l.mu.closed || l.mu.fenced != nil)
		l.mu.Unlock()
		if drained {
			break
		}
		select {
		case <-l.kick:
		case <-cancelled:
			cancelled = nil
			l.failOpen(fmt.Errorf("journal: %w before the write was durable", ErrClosed))
		}
	}
	// Wait for the frames in flight.
	for range cap(sem) {
		sem <- struct{}{}
	}
}

// closing reports whether Close has been called: what waits is then
// flushed at once, whatever MinFlushInterval says.
func (l *Log) closing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.closed
}

// cut takes the open frame for a flush if it should go now: data waits,
// a flush slot is free, and nothing is in flight or the frame is full or the
// log is closing — and the frame is not only lazy records that may wait
// still (wait says how long).
func (l *Log) cut(inflight, maxInflight int) (f *openFrame, seq uint64, ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f = l.mu.open
	if len(f.records) == 0 || inflight >= maxInflight {
		return nil, 0, false, 0
	}
	if !f.eager && !l.mu.closed {
		if wait := l.opts.LazyFlushInterval - time.Since(f.lazySince); wait > 0 {
			return nil, 0, false, wait
		}
	}
	if inflight > 0 && !l.full(f) && !l.mu.closed {
		return nil, 0, false, 0
	}
	seq = l.mu.nextSeq
	l.mu.nextSeq++
	// The preparer sizes the next buffers for the largest recent frame
	// buffer (decaying slowly; batches held by reference are not in it),
	// so a frame rarely outgrows its buffer: growing moves the buffer,
	// under the log's lock.
	size := int64(f.fb.BufferLen())
	l.frameSize.Store(max(size, l.frameSize.Load()*15/16))
	l.mu.open = l.newOpenFrame()
	return f, seq, true, 0
}

// full reports whether f is to be cut even while flushes are in flight:
// one more record as large as its last would take it past FlushBytes
// (which a frame holding FlushBytes already is). Frames are made of whole
// records: cut only at FlushBytes, a frame of two 1 MB batches (2,096,512
// bytes with their headers, just short of 2 MiB) waited for a third.
func (l *Log) full(f *openFrame) bool {
	k := len(f.records)
	start := journal.FrameHeaderSize // where the last record starts
	if k > 1 {
		start = f.records[k-2].end
	}
	return f.fb.BodyLen()+f.records[k-1].end-start > l.opts.FlushBytes
}

// flushState links a frame's flush to the previous frame's: each closes
// done once it completed (err says how) and, on journal files, written
// once it is written, not yet synced (writeErr says how).
type flushState struct {
	prev, prevWritten     <-chan struct{}
	prevErr, prevWriteErr *error
	done, written         chan struct{}
	err, writeErr         *error
}

// flush writes a cut frame and, once the previous frame completed,
// publishes it: batches become visible, metadata records go to ApplyMeta,
// and the appenders waiting on it are answered.
func (l *Log) flush(f *openFrame, seq uint64, sem chan struct{}, st *flushState) {
	defer func() { <-sem; l.wake() }()
	defer close(st.done)

	f.copying.Wait() // appenders still copying their batches in
	frame := f.fb.FinishPieces(seq, l.epoch)
	var loc frameLoc
	var err error
	if l.appendMode {
		loc, err = l.writeToFile(seq, frame, st)
	} else {
		close(st.written)
		loc, err = frameLoc{file: seq}, l.putFrame(seq, frame)
	}
	<-st.prev
	if err == nil && *st.prevErr != nil {
		err = *st.prevErr // an earlier frame failed: this one must not be acknowledged
	}
	*st.err = err
	if err != nil {
		l.fail(err)
		f.err = err
		close(f.done)
		return
	}
	l.pubMu.Lock()
	defer l.pubMu.Unlock()
	l.published = seq
	buf := f.fb.Buffer()
	pos := journal.FrameHeaderSize
	for _, r := range f.records {
		// The record's payload: in the buffer, up to r.bend, but for the
		// bytes held by reference (r.ref), which come last.
		inBuf := r.end - pos - journal.RecordHeaderSize - len(r.ref)
		payload := buf[r.bend-inBuf : r.bend]
		dataPos := loc.offset + int64(pos+journal.RecordHeaderSize+batchRecordHeader)
		pos = r.end
		switch {
		case r.part == nil:
			l.opts.ApplyMeta(payload)
		case r.trim:
			r.part.trim(r.trimTo)
		case r.drop:
			l.dropPartition(r.part)
		case r.seg != nil:
			if err := r.part.addSegment(r.seg); err != nil {
				l.log.Error("recording a sealed segment failed", "err", err)
			}
		default:
			sb := r.b
			sb.data = payload[batchRecordHeader:]
			if r.ref != nil {
				// The partition takes over the frame's reference.
				sb.data, sb.buf = r.ref, r.buf
				if r.buf != nil {
					sb.gen = r.buf.Gen()
				}
			}
			sb.seq = seq
			if loc.file != 0 {
				sb.file, sb.pos = loc.file, dataPos
			}
			if r.part.publish(sb) >= r.part.sealAt {
				select {
				case l.sealKick <- struct{}{}:
				default:
				}
			} else if l.overTail() {
				select {
				case l.tailKick <- struct{}{}:
				default:
				}
			}
		}
	}
	close(f.done)
}

// fail records a permanent failure: no more writes are accepted and the
// open frame's waiters get err.
func (l *Log) fail(err error) {
	l.mu.Lock()
	first := l.mu.fenced == nil
	if first {
		l.mu.fenced = err
	}
	l.mu.Unlock()
	if first {
		if errors.Is(err, ErrFenced) {
			l.log.Error("journal write refused: another server has taken over this store; accepting no more writes", "err", err)
		} else if !errors.Is(err, ErrClosed) {
			l.log.Error("journal failed; accepting no more writes", "err", err)
		}
	}
	l.failOpen(err)
}

// failOpen fails the appends waiting in the open frame.
func (l *Log) failOpen(err error) {
	l.mu.Lock()
	f := l.mu.open
	if len(f.records) > 0 {
		l.mu.open = l.newOpenFrame()
	} else {
		f = nil
	}
	l.mu.Unlock()
	if f != nil {
		f.err = err
		close(f.done)
	}
}

// writeToFile appends frame to the journal files once the frame before
// it is written, says so (st.written), and syncs it. A frame whose
// predecessor could not be written is not written either: the journal
// must not skip a number.
func (l *Log) writeToFile(seq uint64, frame journal.Built, st *flushState) (frameLoc, error) {
	<-st.prevWritten
	var loc frameLoc
	var a *objstore.Appender
	err := *st.prevWriteErr
	if err == nil {
		loc, a, err = l.files.write(seq, frame.Pieces, st.prev)
	}
	*st.writeErr = err
	close(st.written)
	if err != nil {
		return loc, err
	}
	if err := l.files.sync(a); err != nil {
		return loc, err
	}
	// The frame's batches are in memory (the partitions' tails) until they
	// are sealed or spilled: the kernel's copy would be a second one.
	if err := a.DropCache(loc.offset, int64(frame.Len)); err != nil {
		l.log.Debug("dropping a journal frame from the page cache failed", "err", err)
	}
	return loc, nil
}

// putFrame makes frame durable as the object journal/<seq>, retrying with
// backoff through outages until it succeeds, the store says another server
// owns the journal (ErrFenced), or the log is closed for good.
func (l *Log) putFrame(seq uint64, frame journal.Built) error {
	key := journalKey(seq)
	backoff := l.opts.RetryBackoff
	body := objstore.Pieces{Bufs: frame.Pieces, CRC32C: frame.CRC32C, HasCRC32C: true}
	for attempt := 1; ; attempt++ {
		_, err := l.store.PutPieces(l.runCtx, key, body, objstore.IfAbsent())
		if err == nil {
			if attempt > 1 {
				l.log.Info("journal write succeeded after retries", "key", key, "attempts", attempt)
			}
			return nil
		}
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			// Taken: by an earlier attempt of ours that did land, or by
			// another server.
			landed, rerr := l.isOurs(key, frame)
			if rerr == nil && landed {
				return nil
			}
			if rerr == nil {
				return fmt.Errorf("%w (%s exists and was not written by this server, epoch %d)", ErrFenced, key, l.epoch)
			}
			err = rerr
		}
		if l.runCtx.Err() != nil {
			return fmt.Errorf("journal write %s: %w", key, ErrClosed)
		}
		l.log.Warn("journal write failed; retrying", "key", key, "attempt", attempt, "retry_in", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-l.runCtx.Done():
			return fmt.Errorf("journal write %s: %w", key, ErrClosed)
		}
		backoff = min(2*backoff, l.opts.MaxRetryBackoff)
	}
}

// isOurs reports whether the object at key holds exactly frame.
func (l *Log) isOurs(key string, frame journal.Built) (bool, error) {
	got, err := l.store.Get(l.runCtx, key)
	if err != nil {
		return false, err
	}
	if len(got) != frame.Len {
		return false, nil
	}
	for _, p := range frame.Pieces {
		if !bytes.Equal(got[:len(p)], p) {
			return false, nil
		}
		got = got[len(p):]
	}
	return true, nil
}
