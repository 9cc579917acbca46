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
// once the current one reaches Options.JournalFileBytes. Flushes are
// written one at a time, by the flush goroutine whose turn it is.
type fileJournal struct {
	l      *Log
	cur    *objstore.Appender
	curSeq uint64 // the number of the file cur appends to
}

// write appends frame (numbered seq) and returns once it is durable,
// with where it landed: the file's number and the frame's offset in it. It
// retries through failures; a failed append is cut off before the retry so
// no partial frame stays in the middle of the file.
func (j *fileJournal) write(seq uint64, frame []byte) (frameLoc, error) {
	l := j.l
	backoff := l.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		loc, err := j.appendOnce(seq, frame)
		if err == nil {
			return loc, nil
		}
		if l.runCtx.Err() != nil {
			return frameLoc{}, fmt.Errorf("journal append: %w", ErrClosed)
		}
		l.log.Warn("journal append failed; retrying", "seq", seq, "attempt", attempt, "retry_in", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-l.runCtx.Done():
			return frameLoc{}, fmt.Errorf("journal append: %w", ErrClosed)
		}
		backoff = min(2*backoff, l.opts.MaxRetryBackoff)
	}
}

func (j *fileJournal) appendOnce(seq uint64, frame []byte) (frameLoc, error) {
	l := j.l
	if j.cur != nil && j.cur.Size() >= l.opts.JournalFileBytes {
		if err := j.cur.Close(); err != nil {
			l.log.Warn("closing a full journal file failed", "err", err)
		}
		j.cur = nil
	}
	if j.cur == nil {
		a, err := l.store.OpenAppend(l.runCtx, journalKey(seq))
		if err != nil {
			return frameLoc{}, err
		}
		j.cur, j.curSeq = a, seq
	}
	before := j.cur.Size()
	if err := j.cur.Append(frame); err != nil {
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
