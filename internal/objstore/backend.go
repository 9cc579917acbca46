// Package objstore is the storage layer every byte of shoal's data goes
// through: a small object-storage contract (Backend) implemented by the
// fs, s3 and mem sub-packages, and one concrete Store that wraps a Backend
// with the behaviour they all share.
//
// The layers above (logstore) only ever see *Store. A Backend only has to
// store and return bytes under keys; Store adds, once for every backend:
//
//   - key validation (see ValidateKey), so no backend sees "..", a NUL, an
//     absolute key or an empty segment;
//   - the closed state: after Close every call returns ErrClosed, and Close
//     waits for calls already under way and aborts writers still open;
//   - ETag normalisation (quotes stripped, so ETags compare as plain strings);
//   - error wrapping: every error carries the operation and key and still
//     matches the sentinels below with errors.Is;
//   - per-operation counters (Stats) and debug logging through log/slog.
//
// # Errors
//
// The set of error kinds is closed. A backend maps its native errors at its
// edge to exactly one of:
//
//   - ErrNotFound: the key does not exist;
//   - ErrPreconditionFailed: a Put condition (IfAbsent, IfMatch) did not hold;
//     nothing was written;
//   - ErrConflict: a concurrent conditional operation on the same key raced
//     this one and the store refused it; nothing was written, and repeating
//     the whole write may succeed;
//   - ErrInvalidKey: the key is not acceptable (checked by Store);
//   - ErrClosed: the store or writer was closed.
//
// Any other error (I/O, network, throttling that outlasted the retries) is
// returned wrapped and matches none of them.
package objstore

import (
	"context"
	"errors"
	"time"
)

// The closed set of error kinds. Check them with errors.Is.
var (
	ErrNotFound           = errors.New("object not found")
	ErrPreconditionFailed = errors.New("precondition failed")
	ErrConflict           = errors.New("conflicting concurrent conditional write")
	ErrInvalidKey         = errors.New("invalid key")
	ErrClosed             = errors.New("object store closed")
)

// Info describes a stored object.
type Info struct {
	// Key is the object's key.
	Key string
	// Size is the object's length in bytes.
	Size int64
	// ETag identifies one version of the object's content, without quotes.
	// It is empty in List results (not every backend can list it cheaply).
	ETag string
	// LastModified is when the object was written, as the backend records it.
	LastModified time.Time
}

// condKind is the kind of a Condition.
type condKind uint8

const (
	condNone condKind = iota
	condIfAbsent
	condIfMatch
)

// Condition is the precondition of a Put or of a writer's commit. The zero
// value is no condition (the write replaces whatever is there).
type Condition struct {
	kind condKind
	etag string
}

// IfAbsent makes a write succeed only if no object exists under the key
// (S3's If-None-Match: *).
func IfAbsent() Condition { return Condition{kind: condIfAbsent} }

// IfMatch makes a write succeed only if the object exists and its ETag is
// etag (S3's If-Match). Quotes around etag are ignored.
func IfMatch(etag string) Condition { return Condition{kind: condIfMatch, etag: NormalizeETag(etag)} }

// IsNone reports whether c is no condition.
func (c Condition) IsNone() bool { return c.kind == condNone }

// IsIfAbsent reports whether c is IfAbsent.
func (c Condition) IsIfAbsent() bool { return c.kind == condIfAbsent }

// MatchETag returns the ETag of an IfMatch condition and true, or "" and
// false for any other condition.
func (c Condition) MatchETag() (string, bool) {
	if c.kind != condIfMatch {
		return "", false
	}
	return c.etag, true
}

// String describes the condition for logs and errors.
func (c Condition) String() string {
	switch c.kind {
	case condIfAbsent:
		return "if-absent"
	case condIfMatch:
		return "if-match " + c.etag
	default:
		return "none"
	}
}

// NormalizeETag strips the surrounding double quotes S3 puts around ETags
// (and a weak "W/" prefix), so ETags from any backend compare as strings.
func NormalizeETag(etag string) string {
	if len(etag) >= 2 && etag[:2] == "W/" {
		etag = etag[2:]
	}
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		etag = etag[1 : len(etag)-1]
	}
	return etag
}

// ListPage is one page of a listing.
type ListPage struct {
	// Objects are in ascending byte order of their keys.
	Objects []Info
	// More is true when keys after the last one in Objects may follow;
	// ask for them with ListOptions.StartAfter set to that key.
	More bool
}

// ListOptions selects one page of a listing.
type ListOptions struct {
	// StartAfter, if not empty, lists only keys greater than it.
	StartAfter string
	// MaxKeys bounds the page size; 0 means the backend's default (1,000),
	// and larger values may be cut to it.
	MaxKeys int
}

// DefaultMaxKeys is the page size of a listing when none is asked for, and
// the largest one a backend has to return.
const DefaultMaxKeys = 1000

// WriterOptions configure Store.NewWriter.
type WriterOptions struct {
	// Condition applies to the completed object, checked at Commit.
	Condition Condition
}

// Backend is the contract a storage backend implements. Store is the only
// caller: keys it passes are already valid (see ValidateKey), ctx is never
// nil, and no call is made after Close has returned.
//
// Callers never store an object whose key is a path prefix of another
// object's key ("a" and "a/b"): some S3-compatible stores (MinIO, which keeps
// objects as files) cannot hold both, so no backend has to.
//
// Every method must return an error matching one of the package's sentinel
// errors where the doc below names one; other failures are returned as they
// are (Store adds the operation and key).
type Backend interface {
	// Get returns length bytes of the object at key starting at offset;
	// length < 0 means to the end. A range that reaches past the end is cut
	// at the end; an offset at or past the end returns no bytes and no
	// error. A missing key must return an error matching ErrNotFound.
	Get(ctx context.Context, key string, offset, length int64) ([]byte, error)

	// Head returns the object's Info, or an error matching ErrNotFound.
	Head(ctx context.Context, key string) (Info, error)

	// List returns one page of the keys that start with prefix and are
	// greater than opts.StartAfter, in ascending byte order, at most
	// opts.MaxKeys of them (already set to 1..DefaultMaxKeys by Store).
	// Info.ETag may be left empty.
	List(ctx context.Context, prefix string, opts ListOptions) (ListPage, error)

	// Put stores data under key if cond holds, atomically: a reader sees
	// the old object or the new one, never a mix, and of concurrent
	// conditional writes on one key at most one whose condition was true
	// for the same state wins. A failed condition must return an error
	// matching ErrPreconditionFailed (IfMatch on a missing key included) and
	// write nothing. The returned Info carries the new ETag.
	Put(ctx context.Context, key string, data []byte, cond Condition) (Info, error)

	// NewWriter starts writing a (large) object. Nothing is visible under
	// key before Commit. If ctx is cancelled before Commit, the writer is
	// aborted as by Close. opts.Condition applies at Commit.
	NewWriter(ctx context.Context, key string, opts WriterOptions) (BackendWriter, error)

	// Delete removes the object. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// Close releases the backend's resources.
	Close() error
}

// BackendWriter writes one object; see Backend.NewWriter.
type BackendWriter interface {
	// Write appends p to the object. Small writes are fine: the backend
	// buffers them as it needs.
	Write(p []byte) (int, error)
	// Commit makes the object visible under its key if the writer's
	// condition holds (else ErrPreconditionFailed, nothing written). After
	// Commit, with or without error, nothing is left behind but the object
	// (if it was written).
	Commit(ctx context.Context) (Info, error)
	// Close aborts a writer that was not committed, removing everything it
	// wrote; after Commit it does nothing. It may be called more than once,
	// and concurrently with Write or Commit (Store.Close and a cancelled
	// context abort writers from other goroutines): a Commit that races an
	// abort either completes or fails, never leaves a partial object.
	Close() error
}
