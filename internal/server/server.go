// Package server owns client connections of the Iggy binary protocol over
// TCP (and TLS): it accepts them within the configured limits, reads one
// frame at a time per connection, binds sessions (Register/Logout),
// decodes each request with internal/wire, calls the broker with the
// connection's *broker.Session, and writes exactly one reply or eviction
// per request, in order. Domain errors become protocol codes in one place
// (errors.go). A malformed frame or body gets an error reply or an
// eviction with a reason, never a panic or a silent drop.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/wire"
)

// Options configure a Server.
type Options struct {
	// Address to listen on (default 127.0.0.1:8090).
	Address string
	// TLS, if set, serves TLS on the same framing.
	TLS *tls.Config
	// MaxConnections bounds open connections (0: 10,000); a connection
	// past it is closed at once.
	MaxConnections int
	// MaxFrameSize bounds a request frame (0: the protocol's 64 MiB).
	MaxFrameSize int
	// IdleTimeout closes a connection that sends no request for this
	// long (0: 10 minutes).
	IdleTimeout time.Duration
	// ReadTimeout bounds reading a frame once its header started, and
	// WriteTimeout writing a reply (0: 1 minute each): slow clients are
	// dropped.
	ReadTimeout, WriteTimeout time.Duration
	// Version is the server version reported to clients.
	Version string
	// DataDir is where disk space is measured for stats ("" for none).
	DataDir string
	// BufferPoolBytes is how much memory the read buffers of large
	// requests keep once the log is done with them, to read requests
	// into again (0: 64 MiB; negative: none, every buffer is left to the
	// garbage collector). See package bufpool.
	BufferPoolBytes int64
	Logger          *slog.Logger
}

// Server serves the protocol for one broker.
type Server struct {
	opts   Options
	b      *broker.Broker
	log    *slog.Logger
	ln     net.Listener
	fences atomic.Uint64 // session fences, strictly increasing
	start  time.Time

	// pool recycles the read buffers of large requests; Serve trims it
	// every trimEvery until Shutdown closes quit.
	pool *bufpool.Pool
	quit chan struct{}

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// trimEvery is how often the buffer pool lets go of what was not needed:
// an idle server's pool is empty after twice that.
const trimEvery = 5 * time.Second

// New returns a server for b.
func New(b *broker.Broker, opts Options) *Server {
	if opts.Address == "" {
		opts.Address = "127.0.0.1:8090"
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 10_000
	}
	if opts.MaxFrameSize <= 0 || opts.MaxFrameSize > wire.MaxFrameSize {
		opts.MaxFrameSize = wire.MaxFrameSize
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 10 * time.Minute
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = time.Minute
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = time.Minute
	}
	if opts.Version == "" {
		opts.Version = "shoal"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	switch {
	case opts.BufferPoolBytes == 0:
		opts.BufferPoolBytes = 64 << 20
	case opts.BufferPoolBytes < 0:
		opts.BufferPoolBytes = 0
	}
	return &Server{
		opts: opts, b: b, log: opts.Logger, conns: map[*conn]struct{}{}, start: time.Now(),
		pool: bufpool.New(opts.BufferPoolBytes), quit: make(chan struct{}),
	}
}

// BufferStats returns the counters of the pool that recycles the read
// buffers of large requests.
func (s *Server) BufferStats() bufpool.Stats { return s.pool.Stats() }

// trimPool trims the buffer pool every trimEvery until Shutdown.
func (s *Server) trimPool() {
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.pool.Trim()
		case <-s.quit:
			return
		}
	}
}

// Listen binds the listener; Addr is valid after it.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.opts.Address)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Address, err)
	}
	if s.opts.TLS != nil {
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	s.ln = ln
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until Shutdown. It returns nil after
// Shutdown.
func (s *Server) Serve() error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.log.Info("listening", "address", s.ln.Addr().String(), "tls", s.opts.TLS != nil)
	s.mu.Lock()
	if !s.closed {
		s.wg.Go(s.trimPool)
	}
	s.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("accept: %w", err)
			}
			// Out of file descriptors and the like: back off.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.mu.Lock()
		if s.closed || len(s.conns) >= s.opts.MaxConnections {
			s.mu.Unlock()
			s.log.Warn("refusing a connection: too many open", "peer", nc.RemoteAddr().String(), "max", s.opts.MaxConnections)
			_ = nc.Close()
			continue
		}
		c := s.newConn(nc)
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
		}()
	}
}

// forget removes a closing connection from the count.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Shutdown stops accepting, lets every connection finish the request it
// is serving, closes them, and waits (or until ctx ends). The broker is
// the caller's to close after.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		close(s.quit)
	}
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if s.ln != nil {
		_ = s.ln.Close()
	}
	for _, c := range conns {
		c.stop() // wakes a connection waiting for its next request
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range conns {
			_ = c.nc.Close()
		}
		return ctx.Err()
	}
}
