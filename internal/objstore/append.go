package objstore

import (
	"context"
	"errors"
	"time"
)

// ErrNotSupported is returned by Store.OpenAppend when the backend cannot
// append to an object in place (object stores cannot).
var ErrNotSupported = errors.New("not supported by this backend")

// AppendBackend is implemented by a Backend that can grow an object in
// place and make each append durable on its own (the local filesystem),
// which is much cheaper there than writing a new object per flush.
type AppendBackend interface {
	// OpenAppend opens the object at key for appending, creating it
	// (empty, durably) if it does not exist.
	OpenAppend(ctx context.Context, key string) (BackendAppender, error)
}

// SplitAppender is implemented by a BackendAppender that can write
// without syncing and sync on its own, so that a caller can write one
// append while the one before it is being synced. Write and Size are
// called from one goroutine at a time; Sync may run alongside them.
type SplitAppender interface {
	// Write writes p at the end of the object, not yet durably.
	Write(p []byte) error
	// Sync makes everything written so far durable.
	Sync() error
}

// CacheDropper is implemented by a BackendAppender that can drop bytes it
// wrote and synced from a cache below it (the fs backend: the kernel's
// page cache), for a caller that keeps those bytes itself.
type CacheDropper interface {
	DropCache(off, n int64) error
}

// BackendAppender appends to one object. It is used by one goroutine
// (but see SplitAppender).
type BackendAppender interface {
	// Append writes p at the end of the object and returns once it is
	// durable (written and synced).
	Append(p []byte) error
	// Size is the object's length.
	Size() int64
	// Truncate cuts the object to size bytes, durably.
	Truncate(size int64) error
	// Close releases the appender; the object stays.
	Close() error
}

// Appender appends to one object of a Store; see OpenAppend.
type Appender struct {
	s   *Store
	key string
	ba  BackendAppender
}

// OpenAppend opens the object at key for durable appends, creating it if
// needed, or returns an error matching ErrNotSupported when the backend
// has no such thing. Readers see appended bytes through Get and GetRange.
func (s *Store) OpenAppend(ctx context.Context, key string) (*Appender, error) {
	ab, ok := s.b.(AppendBackend)
	if !ok || !s.CanAppend() {
		return nil, &Error{Op: "append", Key: key, Err: ErrNotSupported}
	}
	if err := s.prepare(ctx, OpPut, key, ValidateKey); err != nil {
		return nil, err
	}
	defer s.leave()
	ba, err := ab.OpenAppend(ctx, key)
	if err != nil {
		return nil, &Error{Op: "append", Key: key, Err: err}
	}
	return &Appender{s: s, key: key, ba: ba}, nil
}

// CanAppend reports whether the backend supports OpenAppend. A backend
// that wraps another (a test wrapper) may have the method and answer for
// the one it wraps with a CanAppend() bool method of its own.
func (s *Store) CanAppend() bool {
	if _, ok := s.b.(AppendBackend); !ok {
		return false
	}
	if c, ok := s.b.(interface{ CanAppend() bool }); ok {
		return c.CanAppend()
	}
	return true
}

// Append writes p at the end of the object and returns once it is durable.
func (a *Appender) Append(p []byte) error {
	if err := a.s.enter(); err != nil {
		return &Error{Op: "append", Key: a.key, Err: err}
	}
	defer a.s.leave()
	start := time.Now()
	err := a.ba.Append(p)
	if err == nil {
		a.s.bytesWritten.Add(uint64(len(p)))
	}
	return a.s.done(OpPut, a.key, start, err)
}

// Write writes bufs, one after the other, at the end of the object
// without waiting for them to be durable, where the backend can
// (SplitAppender); elsewhere each is an Append. Sync makes them durable.
// A journal frame comes in pieces: its large batches stay in buffers of
// their own.
func (a *Appender) Write(bufs ...[]byte) error {
	if err := a.s.enter(); err != nil {
		return &Error{Op: "append", Key: a.key, Err: err}
	}
	defer a.s.leave()
	start := time.Now()
	sa, split := a.ba.(SplitAppender)
	var err error
	for _, b := range bufs {
		if split {
			err = sa.Write(b)
		} else {
			err = a.ba.Append(b)
		}
		if err != nil {
			break
		}
		a.s.bytesWritten.Add(uint64(len(b)))
	}
	return a.s.done(OpPut, a.key, start, err)
}

// Sync makes everything Write wrote durable. It may run while another
// goroutine writes the next bytes.
func (a *Appender) Sync() error {
	sa, ok := a.ba.(SplitAppender)
	if !ok {
		return nil // Write was a durable Append
	}
	if err := sa.Sync(); err != nil {
		return &Error{Op: "sync", Key: a.key, Err: err}
	}
	return nil
}

// DropCache tells the backend that the n bytes at off, written and
// synced, need not stay cached below it: the journal keeps its recent
// bytes in memory itself, and a second copy in the page cache only costs
// memory (and, where memory is slow to grow, much of the write's CPU).
// Backends without such a cache ignore it.
func (a *Appender) DropCache(off, n int64) error {
	if d, ok := a.ba.(CacheDropper); ok {
		if err := d.DropCache(off, n); err != nil {
			return &Error{Op: "drop cache", Key: a.key, Err: err}
		}
	}
	return nil
}

// Size is the object's length.
func (a *Appender) Size() int64 { return a.ba.Size() }

// Truncate cuts the object to size bytes, durably.
func (a *Appender) Truncate(size int64) error {
	if err := a.s.enter(); err != nil {
		return &Error{Op: "truncate", Key: a.key, Err: err}
	}
	defer a.s.leave()
	if err := a.ba.Truncate(size); err != nil {
		return &Error{Op: "truncate", Key: a.key, Err: err}
	}
	return nil
}

// Close releases the appender.
func (a *Appender) Close() error {
	if err := a.ba.Close(); err != nil {
		return &Error{Op: "close", Key: a.key, Err: err}
	}
	return nil
}
