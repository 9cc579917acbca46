package logstore

import (
	"fmt"
	"time"

	"github.com/shoalstream/shoal/internal/objstore"
)

// fileJournal writes frames by appending them to journal files, on stores
// that can append in place (the local filesystem): one write and one sync
// per flush instead of a new file, a rename and a directory sync. A file is
// named by its first frame's number (journal/<seq>) and a new one is started
// once the current one reaches Options.JournalFileBytes.
//
// Two flushes overlap: a frame is written once the frame before it is
// written, while that one is still being synced (write and sync are
// separate steps, objstore.SplitAppender), and each is acknowledged only
// once it and every frame before it are synced. A crash can therefore tear
// the last two frames, or leave the last intact after a torn one; recovery
// cuts both (neither was acknowledged). A new file is started only once
// the frame before is synced, so only the last file can end that way.
type fileJournal struct {
	l      *Log
	cur    *objstore.Appender
	curSeq uint64 // the number of the file cur appends to
}

// write writes frame (numbered seq) at the end of the journal, not yet
// durably, and returns where it landed (the file's number and the frame's
// offset in it) and the appender to sync. The frame before it must be
// written already; synced waits until that one is also synced, which a
// new file needs first. It retries through failures; a failed write is cut
// off before the retry so that no partial frame stays in the middle of
// the file.
func (j *fileJournal) write(seq uint64, frame [][]byte, synced <-chan struct{}) (frameLoc, *objstore.Appender, error) {
	l := j.l
	backoff := l.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		loc, err := j.writeOnce(seq, frame, synced)
		if err == nil {
			return loc, j.cur, nil
		}
		if l.runCtx.Err() != nil {
			return frameLoc{}, nil, fmt.Errorf("journal append: %w", ErrClosed)
		}
		l.log.Warn("journal append failed; retrying", "seq", seq, "attempt", attempt, "retry_in", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-l.runCtx.Done():
			return frameLoc{}, nil, fmt.Errorf("journal append: %w", ErrClosed)
		}
		backoff = min(2*backoff, l.opts.MaxRetryBackoff)
	}
}

func (j *fileJournal) writeOnce(seq uint64, frame [][]byte, synced <-chan struct{}) (frameLoc, error) {
	l := j.l
	if j.cur != nil && j.cur.Size() >= l.opts.JournalFileBytes {
		<-synced // the frame before may still be syncing through cur
		if err := j.cur.Close(); err != nil {
			l.log.Warn("closing a full journal file failed", "err", err)
		}
		j.cur = nil
	}
	if j.cur == nil {
		<-synced // a torn frame may only ever be in the last file
		a, err := l.store.OpenAppend(l.runCtx, journalKey(seq))
		if err != nil {
			return frameLoc{}, err
		}
		j.cur, j.curSeq = a, seq
	}
	before := j.cur.Size()
	if err := j.cur.Write(frame...); err != nil {
		if terr := j.cur.Truncate(before); terr != nil {
			// The file's end is unknown: start a new one on the retry.
			_ = j.cur.Close()
			j.cur = nil
			return frameLoc{}, fmt.Errorf("%w (and cutting the failed append: %w)", err, terr)
		}
		return frameLoc{}, err
	}
	return frameLoc{file: j.curSeq, offset: before}, nil
}

// sync makes what a wrote durable. A failed sync is not retried: after
// one, the kernel may have dropped the pages it could not write, so a
// later sync that succeeds proves nothing. The journal then fails for
// good (the server goes on serving reads).
func (j *fileJournal) sync(a *objstore.Appender) error {
	if err := a.Sync(); err != nil {
		return fmt.Errorf("journal sync: %w", err)
	}
	return nil
}

// frameLoc is where a frame was written: the journal file or object
// journal/<file>, at offset (0 for an object, which holds one frame).
type frameLoc struct {
	file   uint64
	offset int64
}

func (j *fileJournal) close() {
	if j.cur != nil {
		_ = j.cur.Close()
		j.cur = nil
	}
}
