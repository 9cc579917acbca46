package objstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// MaxKeyLen is the longest key accepted, in bytes (S3's limit).
const MaxKeyLen = 1024

// ValidateKey reports whether key is acceptable to every backend: not empty,
// at most MaxKeyLen bytes of valid UTF-8, no NUL or other control byte, no
// leading or trailing '/', no empty segment ("a//b"), and no "." or ".."
// segment. The error matches ErrInvalidKey.
func ValidateKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why) }
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case key[0] == '/':
		return bad("absolute (starts with '/')")
	case key[len(key)-1] == '/':
		return bad("ends with '/'")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] == 0x7f {
			return bad("contains a control character")
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return bad("empty path segment")
		case ".", "..":
			return bad("'.' or '..' path segment")
		}
	}
	return nil
}

// validatePrefix accepts "" or anything a key could start with.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if !utf8.ValidString(prefix) || strings.ContainsRune(prefix, 0) || prefix[0] == '/' {
		return fmt.Errorf("%w prefix %q", ErrInvalidKey, prefix)
	}
	return nil
}

// Error is the error Store returns: the operation, the key, and the cause,
// which matches one of the package's sentinels where one applies.
type Error struct {
	Op  string // "get", "put", ...
	Key string // key or prefix
	Err error
}

func (e *Error) Error() string { return "objstore " + e.Op + " " + e.Key + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Op names an operation of the store, for Stats.
type Op int

// The operations Stats counts.
const (
	OpGet Op = iota
	OpHead
	OpList
	OpPut
	OpDelete
	OpWriter // a committed writer
	numOps
)

var opNames = [numOps]string{"get", "head", "list", "put", "delete", "writer"}

func (o Op) String() string {
	if o < 0 || o >= numOps {
		return fmt.Sprintf("op(%d)", int(o))
	}
	return opNames[o]
}

// Stats are cumulative counters of a Store.
type Stats struct {
	Calls        [numOps]uint64 // calls made to the backend, by Op
	Errors       [numOps]uint64 // of those, how many failed
	BytesRead    uint64
	BytesWritten uint64
	// Requests are the requests a remote backend sent (RequestCounter),
	// nil for a backend that sends none.
	Requests *Requests
}

// Requests counts the HTTP requests of a remote backend by kind, as an
// object store bills them: every attempt, retries included, whether it
// succeeded or not.
type Requests struct {
	Get    uint64 `json:"get"`    // object reads
	Head   uint64 `json:"head"`   // object and bucket HEADs
	List   uint64 `json:"list"`   // listings
	Put    uint64 `json:"put"`    // object writes and multipart parts
	Post   uint64 `json:"post"`   // multipart creation and completion, batch deletes
	Delete uint64 `json:"delete"` // object deletes and multipart aborts
}

// Sub returns the requests of r not in before.
func (r Requests) Sub(before Requests) Requests {
	return Requests{
		Get: r.Get - before.Get, Head: r.Head - before.Head, List: r.List - before.List,
		Put: r.Put - before.Put, Post: r.Post - before.Post, Delete: r.Delete - before.Delete,
	}
}

// RequestCounter is implemented by a Backend that sends requests over the
// network and counts them.
type RequestCounter interface {
	Requests() Requests
}

// Options configure a Store.
type Options struct {
	// Logger receives debug records of every operation and warnings of
	// leaked writers. Nil means slog.Default().
	Logger *slog.Logger
	// Name describes the backend in logs, e.g. "fs:/var/lib/shoal".
	Name string
}

// Store wraps a Backend with the behaviour every backend shares (see the
// package doc). It is safe for concurrent use.
type Store struct {
	b    Backend
	log  *slog.Logger
	name string

	// mu is held for reading by every call while it runs, and for writing
	// by Close, so Close waits for calls under way.
	mu struct {
		sync.RWMutex
		closed bool
	}
	// wmu guards writers, the writers not yet committed or closed. It is
	// taken alone or inside mu, never the other way round.
	wmu     sync.Mutex
	writers map[*Writer]struct{}

	calls, errs  [numOps]atomic.Uint64
	bytesRead    atomic.Uint64
	bytesWritten atomic.Uint64
}

// New returns a Store over b.
func New(b Backend, opts Options) *Store {
	s := &Store{b: b, log: opts.Logger, name: opts.Name}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.writers = make(map[*Writer]struct{})
	return s
}

// Name is the description given in Options.
func (s *Store) Name() string { return s.name }

// Stats returns a snapshot of the counters.
func (s *Store) Stats() Stats {
	var st Stats
	for i := range st.Calls {
		st.Calls[i] = s.calls[i].Load()
		st.Errors[i] = s.errs[i].Load()
	}
	st.BytesRead = s.bytesRead.Load()
	st.BytesWritten = s.bytesWritten.Load()
	if rc, ok := s.b.(RequestCounter); ok {
		r := rc.Requests()
		st.Requests = &r
	}
	return st
}

// enter takes the read lock for one call, failing once the store is closed.
func (s *Store) enter() error {
	s.mu.RLock()
	if s.mu.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.mu.RUnlock() }

// done counts and logs a finished backend call and wraps its error.
func (s *Store) done(op Op, key string, start time.Time, err error) error {
	s.calls[op].Add(1)
	if err != nil {
		s.errs[op].Add(1)
		s.log.Debug("objstore call failed", "op", op, "key", key, "took", time.Since(start), "err", err)
		return &Error{Op: op.String(), Key: key, Err: err}
	}
	s.log.Debug("objstore call", "op", op, "key", key, "took", time.Since(start))
	return nil
}

// prepare checks ctx, the key and the closed state before a call. On nil
// error the caller must call s.leave.
func (s *Store) prepare(ctx context.Context, op Op, key string, check func(string) error) error {
	if err := check(key); err != nil {
		return &Error{Op: op.String(), Key: key, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return &Error{Op: op.String(), Key: key, Err: err}
	}
	if err := s.enter(); err != nil {
		return &Error{Op: op.String(), Key: key, Err: err}
	}
	return nil
}

// Get returns the whole object at key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	return s.get(ctx, key, 0, -1)
}

// GetRange returns length bytes of the object starting at offset (length < 0:
// to the end). A range past the end is cut at the end; an offset at or past
// the end returns no bytes and no error.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	if offset < 0 {
		return nil, &Error{Op: OpGet.String(), Key: key, Err: fmt.Errorf("negative offset %d", offset)}
	}
	if length == 0 {
		// Still report a missing key.
		if _, err := s.Head(ctx, key); err != nil {
			return nil, err
		}
		return []byte{}, nil
	}
	return s.get(ctx, key, offset, length)
}

func (s *Store) get(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	if err := s.prepare(ctx, OpGet, key, ValidateKey); err != nil {
		return nil, err
	}
	defer s.leave()
	start := time.Now()
	data, err := s.b.Get(ctx, key, offset, length)
	if err == nil && length >= 0 && int64(len(data)) > length {
		err = fmt.Errorf("backend returned %d bytes for a range of %d", len(data), length)
	}
	if err != nil {
		return nil, s.done(OpGet, key, start, err)
	}
	s.bytesRead.Add(uint64(len(data)))
	return data, s.done(OpGet, key, start, nil)
}

// Head returns the object's Info.
func (s *Store) Head(ctx context.Context, key string) (Info, error) {
	if err := s.prepare(ctx, OpHead, key, ValidateKey); err != nil {
		return Info{}, err
	}
	defer s.leave()
	start := time.Now()
	info, err := s.b.Head(ctx, key)
	if err != nil {
		return Info{}, s.done(OpHead, key, start, err)
	}
	info.ETag = NormalizeETag(info.ETag)
	return info, s.done(OpHead, key, start, nil)
}

// List returns one page of the keys starting with prefix, in ascending
// byte order. Ask for the next page with opts.StartAfter set to the last key
// of this one while page.More is true; All does that for you.
func (s *Store) List(ctx context.Context, prefix string, opts ListOptions) (ListPage, error) {
	if err := s.prepare(ctx, OpList, prefix, validatePrefix); err != nil {
		return ListPage{}, err
	}
	defer s.leave()
	if opts.MaxKeys <= 0 || opts.MaxKeys > DefaultMaxKeys {
		opts.MaxKeys = DefaultMaxKeys
	}
	start := time.Now()
	page, err := s.b.List(ctx, prefix, opts)
	if err != nil {
		return ListPage{}, s.done(OpList, prefix, start, err)
	}
	prev := opts.StartAfter
	for i := range page.Objects {
		o := &page.Objects[i]
		o.ETag = NormalizeETag(o.ETag)
		if !strings.HasPrefix(o.Key, prefix) || (prev != "" && o.Key <= prev) {
			return ListPage{}, s.done(OpList, prefix, start,
				fmt.Errorf("backend listed %q out of order or outside the prefix", o.Key))
		}
		prev = o.Key
	}
	return page, s.done(OpList, prefix, start, nil)
}

// All iterates over every object whose key starts with prefix, in ascending
// key order, one page at a time. It stops at the first error, which it yields.
func (s *Store) All(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		opts := ListOptions{}
		for {
			page, err := s.List(ctx, prefix, opts)
			if err != nil {
				yield(Info{}, err)
				return
			}
			for _, o := range page.Objects {
				if !yield(o, nil) {
					return
				}
			}
			if !page.More || len(page.Objects) == 0 {
				return
			}
			opts.StartAfter = page.Objects[len(page.Objects)-1].Key
		}
	}
}

// Put stores data under key if cond holds; see Backend.Put.
func (s *Store) Put(ctx context.Context, key string, data []byte, cond Condition) (Info, error) {
	if err := s.prepare(ctx, OpPut, key, ValidateKey); err != nil {
		return Info{}, err
	}
	defer s.leave()
	start := time.Now()
	info, err := s.b.Put(ctx, key, data, cond)
	if err != nil {
		return Info{}, s.done(OpPut, key, start, err)
	}
	s.bytesWritten.Add(uint64(len(data)))
	info.ETag = NormalizeETag(info.ETag)
	return info, s.done(OpPut, key, start, nil)
}

// Delete removes the object; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.prepare(ctx, OpDelete, key, ValidateKey); err != nil {
		return err
	}
	defer s.leave()
	start := time.Now()
	return s.done(OpDelete, key, start, s.b.Delete(ctx, key))
}

// Close waits for calls under way, aborts writers still open (logging each
// as a leak), closes the backend, and makes every later call return
// ErrClosed. A second Close returns ErrClosed and does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return &Error{Op: "close", Key: s.name, Err: ErrClosed}
	}
	s.mu.closed = true
	s.wmu.Lock()
	writers := s.writers
	s.writers = nil
	s.wmu.Unlock()
	s.mu.Unlock()

	var errs []error
	for w := range writers {
		s.log.Warn("objstore writer not committed or closed before the store closed; aborting it", "key", w.key)
		if err := w.abort(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.b.Close(); err != nil {
		errs = append(errs, &Error{Op: "close", Key: s.name, Err: err})
	}
	return errors.Join(errs...)
}

// Writer writes one large object; get one from Store.NewWriter. Write as
// much as you like, then Commit. Close without Commit aborts the write and
// leaves nothing behind. A Writer is not safe for concurrent use.
type Writer struct {
	s       *Store
	ctx     context.Context // NewWriter's: its cancellation aborts the write
	key     string
	bw      BackendWriter
	start   time.Time
	written uint64

	once     sync.Once
	finished bool
	err      error // sticky: the first failure
}

// NewWriter starts writing the object at key. Nothing is visible under key
// until Commit succeeds. Cancelling ctx before Commit aborts the write.
func (s *Store) NewWriter(ctx context.Context, key string, opts WriterOptions) (*Writer, error) {
	if err := s.prepare(ctx, OpWriter, key, ValidateKey); err != nil {
		return nil, err
	}
	bw, err := s.b.NewWriter(ctx, key, opts)
	if err != nil {
		s.leave()
		return nil, s.done(OpWriter, key, time.Now(), err)
	}
	w := &Writer{s: s, ctx: ctx, key: key, bw: bw, start: time.Now()}
	s.wmu.Lock()
	s.writers[w] = struct{}{}
	s.wmu.Unlock()
	s.leave()
	return w, nil
}

// Write appends p to the object.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.finished {
		return 0, &Error{Op: "write", Key: w.key, Err: ErrClosed}
	}
	if err := w.ctx.Err(); err != nil {
		w.err = &Error{Op: "write", Key: w.key, Err: fmt.Errorf("writer aborted: %w", err)}
		return 0, w.err
	}
	n, err := w.bw.Write(p)
	w.written += uint64(n)
	if err != nil {
		w.err = &Error{Op: "write", Key: w.key, Err: err}
		return n, w.err
	}
	return n, nil
}

// Commit makes the object visible, if the writer's condition holds.
func (w *Writer) Commit(ctx context.Context) (Info, error) {
	if w.err == nil && !w.finished {
		// The backend aborts on cancellation too, but asynchronously.
		if err := w.ctx.Err(); err != nil {
			w.err = &Error{Op: "commit", Key: w.key, Err: fmt.Errorf("writer aborted: %w", err)}
		}
	}
	if w.err != nil {
		_ = w.Close()
		return Info{}, w.err
	}
	if w.finished {
		return Info{}, &Error{Op: "commit", Key: w.key, Err: ErrClosed}
	}
	if !w.forget() {
		return Info{}, &Error{Op: "commit", Key: w.key, Err: ErrClosed}
	}
	w.finished = true
	info, err := w.bw.Commit(ctx)
	if err != nil {
		_ = w.bw.Close()
		w.err = w.s.done(OpWriter, w.key, w.start, err)
		return Info{}, w.err
	}
	w.s.bytesWritten.Add(w.written)
	info.ETag = NormalizeETag(info.ETag)
	return info, w.s.done(OpWriter, w.key, w.start, nil)
}

// Close aborts the writer if it was not committed. It may be called more
// than once, and after Commit.
func (w *Writer) Close() error {
	if w.finished {
		return nil
	}
	w.finished = true
	if !w.forget() {
		return nil // the store's Close aborted it already
	}
	return w.abort()
}

// forget removes w from the store's open writers; false if the store
// already took it (it is closing).
func (w *Writer) forget() bool {
	w.s.wmu.Lock()
	defer w.s.wmu.Unlock()
	if _, ok := w.s.writers[w]; !ok {
		return false
	}
	delete(w.s.writers, w)
	return true
}

func (w *Writer) abort() error {
	var err error
	w.once.Do(func() {
		if e := w.bw.Close(); e != nil {
			err = &Error{Op: "abort", Key: w.key, Err: e}
		}
	})
	return err
}
