package itest

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/logstore"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
	"github.com/shoalstream/shoal/internal/server"
)

// cheap password hashing: the server hashes at every user creation and
// password login, and the default costs would dominate the suite's time.
var cheap = auth.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Root credentials of every test server.
const (
	rootUser = "iggy"
	rootPass = "iggy"
)

// logger is what servers and brokers log to: errors only, because many
// tests provoke warnings on purpose.
func logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// place is storage of a test's own that outlives the servers run on it.
type place struct {
	kind string
	// open returns a new Store over the place's contents.
	open func(t *testing.T) *objstore.Store
	// crashed returns a Store over what a crash would leave of the
	// place now, while the server on it goes on running (nil: the backend
	// cannot simulate a crash in-process).
	crashed func(t *testing.T) *objstore.Store
	// fences: after a crash the abandoned server shares the storage with
	// the new one, which fences it off (its writes must fail).
	fences bool
}

// backend makes places of one kind.
type backend struct {
	kind     string
	newPlace func(t *testing.T) *place
}

func fsPlace(t *testing.T) *place {
	dir := t.TempDir()
	return &place{kind: "fs", open: func(t *testing.T) *objstore.Store {
		t.Helper()
		st, err := fs.Open(dir, fs.Options{Logger: logger()})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}}
}

// s3Place is a fresh prefix of the test bucket. A crash is an abandoned
// server: the next one on the prefix fences it (its journal writes fail),
// which is what a server killed with everything in flight amounts to.
func s3Place(t *testing.T) *place {
	opts := s3test.Options(t)
	opts.Logger = logger()
	open := func(t *testing.T) *objstore.Store {
		t.Helper()
		st, err := s3.Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	return &place{kind: "s3", open: open, crashed: open, fences: true}
}

// memPlace simulates a crash by copying what the backend holds: mem
// keeps exactly what was made durable.
func memPlace(*testing.T) *place {
	back := mem.New()
	return &place{
		kind: "mem",
		open: func(*testing.T) *objstore.Store { return objstore.New(back, objstore.Options{}) },
		crashed: func(*testing.T) *objstore.Store {
			back = back.Clone()
			return objstore.New(back, objstore.Options{})
		},
	}
}

var (
	fsBackend  = backend{"fs", fsPlace}
	s3Backend  = backend{"s3", s3Place}
	memBackend = backend{"mem", memPlace}
)

// backends are the ones every test runs on.
var backends = []backend{fsBackend, s3Backend}

// eachBackend runs f on every backend, in parallel subtests.
func eachBackend(t *testing.T, f func(t *testing.T, p *place)) {
	onBackends(t, backends, f)
}

func onBackends(t *testing.T, bs []backend, f func(t *testing.T, p *place)) {
	for _, be := range bs {
		t.Run(be.kind, func(t *testing.T) {
			t.Parallel()
			f(t, be.newPlace(t))
		})
	}
}

// eachBackendInTurn is eachBackend one backend after the other, for tests
// that move so much memory that running them side by side is slower.
func eachBackendInTurn(t *testing.T, f func(t *testing.T, p *place)) {
	for _, be := range backends {
		t.Run(be.kind, func(t *testing.T) { f(t, be.newPlace(t)) })
	}
}

// config tunes a node beyond the defaults every test uses.
type config struct {
	broker func(*broker.Options)
	server func(*server.Options)
}

// node is one running server: a broker over a store and the TCP server.
type node struct {
	t     *testing.T
	place *place
	cfg   config
	store *objstore.Store
	b     *broker.Broker
	srv   *server.Server
	addr  string
	down  bool
}

// start runs a server on p, on a free port.
func start(t *testing.T, p *place, cfg config) *node {
	t.Helper()
	return startOn(t, p, p.open(t), cfg, "")
}

// startOn runs a server on store, listening on addr ("" for a free
// port).
func startOn(t *testing.T, p *place, store *objstore.Store, cfg config, addr string) *node {
	t.Helper()
	bo := broker.Options{
		PasswordParams: cheap,
		Storage:        p.kind,
		Logger:         logger(),
		Log: logstore.Options{
			// Small segments, sealed often: reads cross sealed
			// segments and the journal tail.
			SegmentBytes:      256 << 10,
			SealCheckInterval: 50 * time.Millisecond,
			SendTimeout:       20 * time.Second,
		},
	}
	if cfg.broker != nil {
		cfg.broker(&bo)
	}
	b, err := broker.Open(context.Background(), store, bo)
	if err != nil {
		_ = store.Close()
		t.Fatalf("open broker on %s: %v", p.kind, err)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	so := server.Options{Address: addr, Logger: logger(), Version: "itest"}
	if cfg.server != nil {
		cfg.server(&so)
	}
	srv := server.New(b, so)
	if err := listen(srv); err != nil {
		_ = b.Close()
		_ = store.Close()
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	n := &node{t: t, place: p, cfg: cfg, store: store, b: b, srv: srv, addr: srv.Addr().String()}
	t.Cleanup(n.stop)
	return n
}

// listen binds srv's listener, retrying for a while when a restarted
// server's port is still held by the connections of the last one.
func listen(srv *server.Server) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := srv.Listen()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop shuts the server down gracefully: connections finish, the broker
// flushes and closes, then the store. A second stop does nothing.
func (n *node) stop() {
	if n.down {
		return
	}
	n.down = true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.srv.Shutdown(ctx); err != nil {
		n.t.Errorf("server shutdown: %v", err)
	}
	if err := n.b.Close(); err != nil {
		n.t.Errorf("broker close: %v", err)
	}
	if err := n.store.Close(); err != nil {
		n.t.Errorf("store close: %v", err)
	}
}

// restart stops the server and starts another on the same storage and
// the same address, so clients reconnect by themselves.
func (n *node) restart() *node {
	n.t.Helper()
	n.stop()
	return startOn(n.t, n.place, n.place.open(n.t), n.cfg, n.addr)
}

// crash starts another server on what a crash of this one would leave,
// on a new address; this one is left running, unreachable to the
// test's new clients, and stopped (errors ignored: it may have been
// fenced) when the test ends.
func (n *node) crash() *node {
	n.t.Helper()
	if n.place.crashed == nil {
		n.t.Fatalf("%s cannot simulate a crash", n.place.kind)
	}
	n.down = true
	old := n
	n.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = old.srv.Shutdown(ctx)
		_ = old.b.Close()
		_ = old.store.Close()
	})
	return startOn(n.t, n.place, n.place.crashed(n.t), n.cfg, "")
}

// dial connects a client to n and logs in as user (no login if user is
// empty); it is closed when the test ends.
func (n *node) dial(user, pass string) *client.Client {
	n.t.Helper()
	c, err := client.Dial(n.t.Context(), client.Options{
		Address: n.addr, Username: user, Password: pass,
		RequestTimeout: 30 * time.Second,
	})
	if err != nil {
		n.t.Fatalf("dial %s as %q: %v", n.addr, user, err)
	}
	n.t.Cleanup(func() { _ = c.Close() })
	return c
}

// root is a client logged in as the root user.
func (n *node) root() *client.Client { return n.dial(rootUser, rootPass) }

// must fails the test on err.
func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// isErr checks that err is the protocol error want, by errors.Is and by
// its code.
func isErr(t *testing.T, what string, err error, want *client.Error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %d (%s)", what, want.Code, want.Name)
	}
	if !errors.Is(err, want) || client.CodeOf(err) != want.Code {
		t.Fatalf("%s: error %v (code %d), want %d (%s)", what, err, client.CodeOf(err), want.Code, want.Name)
	}
}

// eventually waits until cond holds, for things the server does on its
// own after a call returns (a closed connection leaving its groups).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	id   = client.NumericID
	name = client.NamedID
)
