package objstore

import (
	"context"
	"fmt"
	"sync"
)

// WriterState is the life cycle a BackendWriter goes through — writing,
// then committed or aborted, with abort possible from another goroutine
// (Store.Close, a cancelled context) — for backends that build their
// writers on it. Hold Mu around every use; it also guards whatever the
// writer keeps alongside (its buffer, its temp file).
type WriterState struct {
	Mu       sync.Mutex
	abortErr error // why it was aborted; nil while it is not
	done     bool  // Commit has begun
}

// CheckLocked returns why the writer cannot take more data, or nil.
func (s *WriterState) CheckLocked() error {
	switch {
	case s.abortErr != nil:
		return s.abortErr
	case s.done:
		return ErrClosed
	}
	return nil
}

// BeginCommitLocked moves the writer to committing; it fails if the writer
// was aborted or already committed.
func (s *WriterState) BeginCommitLocked() error {
	if err := s.CheckLocked(); err != nil {
		return err
	}
	s.done = true
	return nil
}

// AbortLocked records why the writer was aborted and reports true if it
// was still writing (the caller then drops what it wrote); a writer that
// began to commit, or was aborted already, is left as it is.
func (s *WriterState) AbortLocked(why error) bool {
	if s.done || s.abortErr != nil {
		return false
	}
	s.abortErr = why
	return true
}

// AbortOnCancel arranges for abort to run when ctx is cancelled before
// the writer commits; call the returned stop at Commit.
func AbortOnCancel(ctx context.Context, abort func(why error)) (stop func() bool) {
	return context.AfterFunc(ctx, func() { abort(fmt.Errorf("writer aborted: %w", context.Cause(ctx))) })
}

// ErrWriterClosed is the reason Close gives a writer it aborts.
var ErrWriterClosed = fmt.Errorf("writer aborted: %w", ErrClosed)
