// Package broker owns shoal's domain state and its invariants: streams,
// topics and partitions (ids, names, options), consumer groups (membership
// and partition assignment), consumer offsets, users with their
// permissions and personal access tokens, connected clients, and the
// message plane on top of internal/logstore (send, poll). It knows nothing
// of bytes on the wire: the server decodes requests, calls the broker with
// the caller's *Session, and encodes what it returns; every error is an
// *Error whose Kind the server maps to a protocol code.
//
// # Persistence
//
// Every change of state is a metadata record of the log's journal (JSON,
// see record in state.go): a change is validated under writeMu, written
// with logstore.AppendMeta, and applied by the log's ApplyMeta callback
// once durable — the same function recovery replays, so a restarted
// server holds exactly the state it acknowledged. Checkpoints snapshot the
// whole state. Consumer offsets are records too (no PUT of their own: they
// ride in the next journal flush); auto-commits are written without
// waiting.
//
// Partition data lives in the log under the key (stream id, topic id,
// partition UID), where UIDs come from a counter that never goes back: a
// deleted or purged partition's data is dropped from the log, and a new
// partition with the same ids can never see it.
package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/logstore"
	"github.com/shoalstream/shoal/internal/objstore"
)

// Options configure a Broker.
type Options struct {
	// Log configures the partition logs; the broker sets its metadata
	// callbacks.
	Log logstore.Options
	// RootUsername and RootPassword create the root user (id 0) on a fresh
	// store (defaults iggy / iggy). On an existing store a changed root
	// password is applied at start.
	RootUsername, RootPassword string
	// PasswordParams are the password hash's costs (zero: auth's
	// defaults).
	PasswordParams auth.PasswordParams
	// MaxPATsPerUser bounds a user's personal access tokens (default 100).
	MaxPATsPerUser int
	// RetentionInterval is how often message expiry and topic size limits
	// are enforced (default 1 minute).
	RetentionInterval time.Duration
	// GroupRebalanceTimeout bounds how long a partition moving to another
	// member waits for its old owner to commit what it polled (default
	// 30 s).
	GroupRebalanceTimeout time.Duration
	// Storage names the storage kind for stats ("fs", "s3", "memory").
	Storage string
	Now     func() time.Time
	Logger  *slog.Logger
}

// Broker is the domain state of one server. It is safe for concurrent use.
type Broker struct {
	opts  Options
	log   *logstore.Log
	lg    *slog.Logger
	store *objstore.Store

	// writeMu serializes metadata changes from validation to apply.
	writeMu sync.Mutex
	// mu guards st and the groups' runtime state.
	mu sync.RWMutex
	st *state
	// drops are partition UIDs whose data is to be dropped from the log
	// (queued by apply, executed by the writer after its change is
	// durable, or at start).
	drops []logstore.PartitionKey

	// dataMu: sends and polls hold it shared; dropping partition data
	// takes it exclusively, so no append lands on a dropped key.
	dataMu sync.RWMutex

	clientsMu  sync.Mutex
	clients    map[uint32]*Session
	nextClient uint32

	rrMu sync.Mutex
	rr   map[[2]uint32]uint32 // balanced partitioning counters

	start time.Time
	// runCtx lives until Close (stop); background work runs in it.
	runCtx  context.Context
	stop    context.CancelFunc
	bg      sync.WaitGroup
	closeMu sync.Mutex
	closed  bool
}

// Open recovers the broker's state and the partition logs from store.
func Open(ctx context.Context, store *objstore.Store, opts Options) (*Broker, error) {
	if opts.RootUsername == "" {
		opts.RootUsername = "iggy"
	}
	if opts.RootPassword == "" {
		opts.RootPassword = "iggy"
	}
	if opts.MaxPATsPerUser <= 0 {
		opts.MaxPATsPerUser = 100
	}
	if opts.RetentionInterval <= 0 {
		opts.RetentionInterval = time.Minute
	}
	if opts.GroupRebalanceTimeout <= 0 {
		opts.GroupRebalanceTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	b := &Broker{
		opts: opts, lg: opts.Logger, st: newState(), store: store,
		clients: map[uint32]*Session{}, rr: map[[2]uint32]uint32{}, start: opts.Now(),
	}
	lo := opts.Log
	if lo.Logger == nil {
		lo.Logger = opts.Logger
	}
	if lo.Now == nil {
		lo.Now = opts.Now
	}
	lo.ApplyMeta = b.applyMeta
	lo.SnapshotMeta = b.snapshot
	lo.RestoreMeta = b.restore
	l, err := logstore.Open(ctx, store, lo)
	if err != nil {
		return nil, err
	}
	b.log = l
	if err := b.ensureRoot(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	b.runDrops(ctx)
	b.runCtx, b.stop = context.WithCancel(context.Background())
	b.bg.Add(1)
	go b.maintenance(b.runCtx)
	b.mu.RLock()
	b.lg.Info("broker ready", "streams", len(b.st.Streams), "users", len(b.st.Users))
	b.mu.RUnlock()
	return b, nil
}

// Close stops background work and closes the partition logs (flushing
// what waits). The store is the caller's. A second Close returns an error.
func (b *Broker) Close() error {
	b.closeMu.Lock()
	if b.closed {
		b.closeMu.Unlock()
		return errors.New("broker already closed")
	}
	b.closed = true
	b.closeMu.Unlock()
	b.stop()
	b.bg.Wait()
	return b.log.Close()
}

// Log returns the partition logs (for stats and tests).
func (b *Broker) Log() *logstore.Log { return b.log }

func (b *Broker) hashPassword(pw string) (string, error) {
	if b.opts.PasswordParams == (auth.PasswordParams{}) {
		return auth.HashPassword(pw)
	}
	return b.opts.PasswordParams.Hash(pw)
}

func (b *Broker) now() uint64 { return uint64(b.opts.Now().UnixMicro()) }

func (b *Broker) applyMeta(rec []byte) {
	var r record
	if err := json.Unmarshal(rec, &r); err != nil {
		b.lg.Error("skipping an unreadable metadata record", "err", err, "record", string(rec))
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var topicBefore *Topic
	var partsBefore int
	if r.Op == opCreatePartitions || r.Op == opDeletePartitions {
		if topicBefore = b.st.topic(r.Stream, r.Topic); topicBefore != nil {
			partsBefore = len(topicBefore.Partitions)
		}
	}
	b.drops = append(b.drops, b.st.apply(&r)...)
	if topicBefore != nil && len(topicBefore.Partitions) != partsBefore {
		for _, g := range topicBefore.Groups {
			b.rebalanceLocked(topicBefore, g)
		}
	}
}

func (b *Broker) snapshot() ([]byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.st.snapshot()
}

func (b *Broker) restore(snap []byte) error {
	st, err := restoreState(snap)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.st = st
	b.mu.Unlock()
	return nil
}

// commit makes a change durable and applied. The caller holds writeMu,
// except for consumer offsets, which are last-writer-wins and written
// without it.
func (b *Broker) commit(ctx context.Context, r *record) error {
	return b.commitWith(ctx, r, b.log.AppendMeta)
}

// commitLazy is commit for a change already applied that may wait for
// other writes to be made durable with them (logstore.AppendMetaLazy).
func (b *Broker) commitLazy(ctx context.Context, r *record) error {
	return b.commitWith(ctx, r, b.log.AppendMetaLazy)
}

func (b *Broker) commitWith(ctx context.Context, r *record, appendMeta func(context.Context, []byte) error) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode %s record: %w", r.Op, err)
	}
	if err := appendMeta(ctx, data); err != nil {
		return &Error{Kind: KindUnavailable, Msg: "storing the change failed", Err: err}
	}
	b.runDrops(ctx)
	return nil
}

// runDrops drops the data of deleted or purged partitions.
func (b *Broker) runDrops(ctx context.Context) {
	b.mu.Lock()
	drops := b.drops
	b.drops = nil
	b.mu.Unlock()
	if len(drops) == 0 {
		return
	}
	b.dataMu.Lock()
	defer b.dataMu.Unlock()
	for _, k := range drops {
		if err := b.log.Drop(ctx, k); err != nil {
			b.lg.Warn("dropping the data of a deleted partition failed; it stays in storage", "partition", k, "err", err)
		}
	}
}

// ensureRoot creates the root user on a fresh store, and applies a changed
// root password.
func (b *Broker) ensureRoot(ctx context.Context) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	root := b.st.Users[0]
	b.mu.RUnlock()
	if root != nil {
		if ok, _ := auth.VerifyPassword(root.PasswordHash, b.opts.RootPassword); ok {
			return nil
		}
		hash, err := b.hashPassword(b.opts.RootPassword)
		if err != nil {
			return err
		}
		b.lg.Info("root password changed by configuration")
		return b.commit(ctx, &record{Op: opSetPassword, ID: 0, Hash: hash})
	}
	hash, err := b.hashPassword(b.opts.RootPassword)
	if err != nil {
		return err
	}
	u := &User{ID: 0, Username: b.opts.RootUsername, PasswordHash: hash, Status: UserActive, CreatedAt: b.now()}
	b.lg.Info("created the root user", "username", u.Username)
	return b.commit(ctx, &record{Op: opCreateUser, User: u})
}

// maintenance enforces retention and completes group revocations.
func (b *Broker) maintenance(ctx context.Context) {
	defer b.bg.Done()
	ret := time.NewTicker(b.opts.RetentionInterval)
	defer ret.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ret.C:
			b.EnforceRetention(ctx)
		case <-tick.C:
			b.completeRevocations()
		}
	}
}
