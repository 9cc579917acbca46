package objstoretest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/shoalstream/shoal/internal/objstore"
)

// ErrInjected is the error a Fail or FailAfter fault returns when its Rule
// names none: an ordinary failure, like a network error, that matches none of
// objstore's sentinels.
var ErrInjected = errors.New("injected fault")

// Action is what a fault does to the call it hits.
type Action int

const (
	// Fail returns the rule's error without calling the backend.
	Fail Action = iota
	// FailAfter calls the backend, so the write lands, then returns the
	// rule's error: "accepted, but the acknowledgement was lost".
	FailAfter
	// Stall blocks the call until the fault is released (or its context
	// ends), then lets it go through.
	Stall
	// Precondition returns objstore.ErrPreconditionFailed without calling
	// the backend, as if another writer had got there first.
	Precondition
)

// Rule says which calls a fault hits. Op is the operation (objstore.OpWriter
// is a writer's Commit); KeyPrefix narrows it to keys with that prefix.
type Rule struct {
	Op        objstore.Op
	KeyPrefix string
	// Nth: the fault first hits the Nth matching call (1-based); 0 or 1 =
	// the first.
	Nth int
	// Times: how many calls it hits from then on; 0 = every one until
	// removed.
	Times  int
	Action Action
	// Err is returned by Fail and FailAfter; nil means ErrInjected.
	Err error
}

// Fault is one injected rule, with its counters and controls.
type Fault struct {
	rule    Rule
	mu      sync.Mutex
	seen    int           // matching calls seen
	hits    int           // calls the fault acted on
	removed bool          // no longer acts
	release chan struct{} // closed by Release
	stalled chan struct{} // closed when the first call stalls
}

// Hits is how many calls the fault has acted on so far.
func (f *Fault) Hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// Seen is how many calls matched the rule's Op and KeyPrefix so far,
// whether or not the fault acted on them: a rule with a huge Nth counts
// calls without changing them.
func (f *Fault) Seen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen
}

// Stalled is closed as soon as a call stalls on this fault, so a test can
// wait for the stall without sleeping.
func (f *Fault) Stalled() <-chan struct{} { return f.stalled }

// Release lets every stalled call, and every later one, through.
func (f *Fault) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.release:
	default:
		close(f.release)
	}
}

// Remove stops the fault from acting on later calls and releases stalls.
func (f *Fault) Remove() {
	f.mu.Lock()
	f.removed = true
	f.mu.Unlock()
	f.Release()
}

// match counts a call and reports whether the fault acts on it.
func (f *Fault) match(op objstore.Op, key string) bool {
	if op != f.rule.Op || !strings.HasPrefix(key, f.rule.KeyPrefix) {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removed {
		return false
	}
	f.seen++
	if f.seen < max(f.rule.Nth, 1) || (f.rule.Times > 0 && f.hits >= f.rule.Times) {
		return false
	}
	f.hits++
	return true
}

// Faulty is an objstore.Backend that passes calls to another one, except
// where an injected Fault says otherwise. Wrap it in objstore.New like any
// backend. It is safe for concurrent use.
type Faulty struct {
	b      objstore.Backend
	mu     sync.Mutex
	faults []*Fault
}

// NewFaulty wraps b.
func NewFaulty(b objstore.Backend) *Faulty { return &Faulty{b: b} }

// Inject adds a fault; it acts on calls from now on.
func (f *Faulty) Inject(r Rule) *Fault {
	ft := &Fault{rule: r, release: make(chan struct{}), stalled: make(chan struct{})}
	f.mu.Lock()
	f.faults = append(f.faults, ft)
	f.mu.Unlock()
	return ft
}

// Clear removes every fault and releases every stall.
func (f *Faulty) Clear() {
	f.mu.Lock()
	faults := f.faults
	f.faults = nil
	f.mu.Unlock()
	for _, ft := range faults {
		ft.Remove()
	}
}

// intercept runs call unless a fault says otherwise.
func (f *Faulty) intercept(ctx context.Context, op objstore.Op, key string, call func() error) error {
	f.mu.Lock()
	var hit *Fault
	for _, ft := range f.faults {
		if ft.match(op, key) && hit == nil {
			hit = ft // the first that acts; the rest still count the call
		}
	}
	f.mu.Unlock()
	if hit == nil {
		return call()
	}
	injected := hit.rule.Err
	if injected == nil {
		injected = ErrInjected
	}
	switch hit.rule.Action {
	case Fail:
		return fmt.Errorf("%s %s: %w", op, key, injected)
	case Precondition:
		return fmt.Errorf("%s %s: injected: %w", op, key, objstore.ErrPreconditionFailed)
	case FailAfter:
		if err := call(); err != nil {
			return err
		}
		return fmt.Errorf("%s %s (the write landed): %w", op, key, injected)
	case Stall:
		hit.mu.Lock()
		select {
		case <-hit.stalled:
		default:
			close(hit.stalled)
		}
		hit.mu.Unlock()
		select {
		case <-hit.release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return call()
	default:
		return fmt.Errorf("objstoretest: unknown fault action %d", hit.rule.Action)
	}
}

// Get implements objstore.Backend.
func (f *Faulty) Get(ctx context.Context, key string, offset, length int64) (data []byte, err error) {
	err = f.intercept(ctx, objstore.OpGet, key, func() error {
		data, err = f.b.Get(ctx, key, offset, length)
		return err
	})
	return data, err
}

// Head implements objstore.Backend.
func (f *Faulty) Head(ctx context.Context, key string) (info objstore.Info, err error) {
	err = f.intercept(ctx, objstore.OpHead, key, func() error {
		info, err = f.b.Head(ctx, key)
		return err
	})
	return info, err
}

// List implements objstore.Backend; KeyPrefix rules match the prefix listed.
func (f *Faulty) List(ctx context.Context, prefix string, opts objstore.ListOptions) (page objstore.ListPage, err error) {
	err = f.intercept(ctx, objstore.OpList, prefix, func() error {
		page, err = f.b.List(ctx, prefix, opts)
		return err
	})
	return page, err
}

// Put implements objstore.Backend.
func (f *Faulty) Put(ctx context.Context, key string, data []byte, cond objstore.Condition) (info objstore.Info, err error) {
	err = f.intercept(ctx, objstore.OpPut, key, func() error {
		info, err = f.b.Put(ctx, key, data, cond)
		return err
	})
	return info, err
}

// Delete implements objstore.Backend.
func (f *Faulty) Delete(ctx context.Context, key string) error {
	return f.intercept(ctx, objstore.OpDelete, key, func() error { return f.b.Delete(ctx, key) })
}

// NewWriter implements objstore.Backend; faults with Op objstore.OpWriter
// act on the writer's Commit.
func (f *Faulty) NewWriter(ctx context.Context, key string, opts objstore.WriterOptions) (objstore.BackendWriter, error) {
	w, err := f.b.NewWriter(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	return &faultyWriter{BackendWriter: w, f: f, key: key}, nil
}

// Close implements objstore.Backend.
func (f *Faulty) Close() error {
	f.Clear()
	return f.b.Close()
}

type faultyWriter struct {
	objstore.BackendWriter
	f   *Faulty
	key string
}

func (w *faultyWriter) Commit(ctx context.Context) (info objstore.Info, err error) {
	err = w.f.intercept(ctx, objstore.OpWriter, w.key, func() error {
		info, err = w.BackendWriter.Commit(ctx)
		return err
	})
	return info, err
}

// CanAppend reports whether the wrapped backend can append in place.
func (f *Faulty) CanAppend() bool {
	_, ok := f.b.(objstore.AppendBackend)
	return ok
}

// OpenAppend implements objstore.AppendBackend when the wrapped backend
// does; faults with Op objstore.OpPut act on each Append.
func (f *Faulty) OpenAppend(ctx context.Context, key string) (objstore.BackendAppender, error) {
	ab, ok := f.b.(objstore.AppendBackend)
	if !ok {
		return nil, objstore.ErrNotSupported
	}
	a, err := ab.OpenAppend(ctx, key)
	if err != nil {
		return nil, err
	}
	return &faultyAppender{BackendAppender: a, f: f, key: key}, nil
}

type faultyAppender struct {
	objstore.BackendAppender
	f   *Faulty
	key string
}

func (a *faultyAppender) Append(p []byte) error {
	return a.f.intercept(context.Background(), objstore.OpPut, a.key, func() error { return a.BackendAppender.Append(p) })
}

// Write implements objstore.SplitAppender: faults with Op objstore.OpPut
// act on it as on Append. Without a split in the wrapped backend it
// appends durably.
func (a *faultyAppender) Write(p []byte) error {
	return a.f.intercept(context.Background(), objstore.OpPut, a.key, func() error {
		if sa, ok := a.BackendAppender.(objstore.SplitAppender); ok {
			return sa.Write(p)
		}
		return a.BackendAppender.Append(p)
	})
}

// Sync implements objstore.SplitAppender.
func (a *faultyAppender) Sync() error {
	if sa, ok := a.BackendAppender.(objstore.SplitAppender); ok {
		return sa.Sync()
	}
	return nil
}
