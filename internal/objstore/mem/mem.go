// Package mem is the in-memory objstore backend, for tests of the layers
// above storage. It keeps objects in a map and has the same semantics as the
// fs and s3 backends: ETags name the content (objstore.ContentETag, as MD5 does
// for S3's single-part uploads), conditions are checked and applied atomically, and
// writers make nothing visible before Commit.
//
// Everything is lost when the process exits. Clone copies the contents, so a
// test can simulate a crash by dropping a Store and opening a new one over
// the copy of what was durable.
package mem

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shoalstream/shoal/internal/objstore"
)

type object struct {
	data []byte
	etag string // "" until first asked for, after an append
	mod  time.Time
}

// tag returns the object's ETag, computing it if an append left it unset.
func (o *object) tag() string {
	if o.etag == "" {
		o.etag = etagOf(o.data)
	}
	return o.etag
}

// Backend is an in-memory objstore.Backend.
type Backend struct {
	mu      sync.Mutex
	objects map[string]object
}

// New returns an empty in-memory backend.
func New() *Backend { return &Backend{objects: make(map[string]object)} }

// NewStore returns a Store over a new empty in-memory backend.
func NewStore() *objstore.Store {
	return objstore.New(New(), objstore.Options{Name: "memory"})
}

// Clone returns a new backend holding a copy of b's objects.
func (b *Backend) Clone() *Backend {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := New()
	for k, o := range b.objects {
		c.objects[k] = object{data: slices.Clone(o.data), etag: o.tag(), mod: o.mod}
	}
	return c
}

func etagOf(data []byte) string {
	return objstore.ContentETag(data)
}

// Get implements objstore.Backend.
func (b *Backend) Get(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	if !ok {
		return nil, objstore.ErrNotFound
	}
	size := int64(len(o.data))
	if offset >= size {
		return []byte{}, nil
	}
	end := size
	if length >= 0 && offset+length < size {
		end = offset + length
	}
	return slices.Clone(o.data[offset:end]), nil
}

// Head implements objstore.Backend.
func (b *Backend) Head(ctx context.Context, key string) (objstore.Info, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	if !ok {
		return objstore.Info{}, objstore.ErrNotFound
	}
	etag := o.tag()
	b.objects[key] = o
	return objstore.Info{Key: key, Size: int64(len(o.data)), ETag: etag, LastModified: o.mod}, nil
}

// List implements objstore.Backend.
func (b *Backend) List(ctx context.Context, prefix string, opts objstore.ListOptions) (objstore.ListPage, error) {
	b.mu.Lock()
	var keys []string
	for k := range b.objects {
		if strings.HasPrefix(k, prefix) && k > opts.StartAfter {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var page objstore.ListPage
	if len(keys) > opts.MaxKeys {
		keys, page.More = keys[:opts.MaxKeys], true
	}
	for _, k := range keys {
		o := b.objects[k]
		page.Objects = append(page.Objects, objstore.Info{Key: k, Size: int64(len(o.data)), LastModified: o.mod})
	}
	b.mu.Unlock()
	return page, nil
}

// Put implements objstore.Backend.
func (b *Backend) Put(ctx context.Context, key string, data []byte, cond objstore.Condition) (objstore.Info, error) {
	return b.put(key, slices.Clone(data), cond)
}

// put stores data (which the backend now owns) if cond holds.
func (b *Backend) put(key string, data []byte, cond objstore.Condition) (objstore.Info, error) {
	etag := etagOf(data)
	b.mu.Lock()
	defer b.mu.Unlock()
	old, exists := b.objects[key]
	if cond.IsIfAbsent() && exists {
		return objstore.Info{}, fmt.Errorf("%w: object exists", objstore.ErrPreconditionFailed)
	}
	if want, ok := cond.MatchETag(); ok {
		if !exists {
			return objstore.Info{}, fmt.Errorf("%w: no object to match ETag %s", objstore.ErrPreconditionFailed, want)
		}
		if have := old.tag(); have != want {
			return objstore.Info{}, fmt.Errorf("%w: ETag is %s, not %s", objstore.ErrPreconditionFailed, have, want)
		}
	}
	o := object{data: data, etag: etag, mod: time.Now()}
	b.objects[key] = o
	return objstore.Info{Key: key, Size: int64(len(data)), ETag: etag, LastModified: o.mod}, nil
}

// Delete implements objstore.Backend.
func (b *Backend) Delete(ctx context.Context, key string) error {
	b.mu.Lock()
	delete(b.objects, key)
	b.mu.Unlock()
	return nil
}

// Close implements objstore.Backend. It releases nothing: the contents stay
// readable through Clone, which is how tests reopen a "crashed" store.
func (b *Backend) Close() error { return nil }

// NewWriter implements objstore.Backend.
func (b *Backend) NewWriter(ctx context.Context, key string, opts objstore.WriterOptions) (objstore.BackendWriter, error) {
	w := &writer{b: b, key: key, cond: opts.Condition}
	w.stop = objstore.AbortOnCancel(ctx, w.abort)
	return w, nil
}

type writer struct {
	b    *Backend
	key  string
	cond objstore.Condition
	stop func() bool

	state objstore.WriterState // its Mu guards buf too
	buf   []byte
}

func (w *writer) Write(p []byte) (int, error) {
	w.state.Mu.Lock()
	defer w.state.Mu.Unlock()
	if err := w.state.CheckLocked(); err != nil {
		return 0, err
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *writer) Commit(ctx context.Context) (objstore.Info, error) {
	w.stop()
	w.state.Mu.Lock()
	defer w.state.Mu.Unlock()
	if err := w.state.BeginCommitLocked(); err != nil {
		return objstore.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return objstore.Info{}, err
	}
	data := w.buf
	w.buf = nil
	if data == nil {
		data = []byte{}
	}
	return w.b.put(w.key, data, w.cond)
}

func (w *writer) Close() error {
	w.abort(objstore.ErrWriterClosed)
	return nil
}

func (w *writer) abort(why error) {
	w.state.Mu.Lock()
	defer w.state.Mu.Unlock()
	if w.state.AbortLocked(why) {
		w.buf = nil
	}
}

// OpenAppend implements objstore.AppendBackend, so tests of the layers
// above can use the append path without a filesystem.
func (b *Backend) OpenAppend(ctx context.Context, key string) (objstore.BackendAppender, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.objects[key]; !ok {
		b.objects[key] = object{data: []byte{}, mod: time.Now()}
	}
	return &appender{b: b, key: key}, nil
}

type appender struct {
	b   *Backend
	key string
}

func (a *appender) Append(p []byte) error {
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	o, ok := a.b.objects[a.key]
	if !ok {
		return fmt.Errorf("append: %w (deleted while open)", objstore.ErrNotFound)
	}
	// Growing in place is safe: Get and Clone hand out copies. The ETag
	// is computed when asked for, not on every append.
	a.b.objects[a.key] = object{data: append(o.data, p...), mod: time.Now()}
	return nil
}

func (a *appender) Size() int64 {
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	return int64(len(a.b.objects[a.key].data))
}

func (a *appender) Truncate(size int64) error {
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	o, ok := a.b.objects[a.key]
	if !ok {
		return fmt.Errorf("truncate: %w", objstore.ErrNotFound)
	}
	if size < 0 || size > int64(len(o.data)) {
		return fmt.Errorf("truncate to %d: object has %d bytes", size, len(o.data))
	}
	a.b.objects[a.key] = object{data: o.data[:size:size], mod: time.Now()}
	return nil
}

func (a *appender) Close() error { return nil }
