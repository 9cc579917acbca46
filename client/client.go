package client

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

// Defaults of Options.
const (
	DefaultAddress        = "127.0.0.1:8090"
	DefaultRequestTimeout = 30 * time.Second
	DefaultDialTimeout    = 10 * time.Second
)

// What the client tells the server about itself at login.
const (
	sdkName    = "shoal-go"
	sdkVersion = "0.1.0"
)

// Options configure a Client. The zero value connects to DefaultAddress
// without logging in.
type Options struct {
	// Address is the server's host:port (default DefaultAddress).
	Address string
	// TLS, if set, wraps the connection in TLS. An empty ServerName is
	// filled with the host part of Address.
	TLS *tls.Config

	// Username and Password, or Token (a personal access token), make Dial
	// log in. Token wins when both are set.
	Username string
	Password string
	Token    string

	// DialTimeout bounds connecting, TLS handshake included (default
	// DefaultDialTimeout).
	DialTimeout time.Duration
	// RequestTimeout bounds one exchange: writing the request and reading
	// its reply, replays of transient answers included (default
	// DefaultRequestTimeout). The context of the call may end it earlier.
	RequestTimeout time.Duration
	// Heartbeat, if positive, makes the client send a Ping at this interval
	// while it is connected, so that the server sees it alive between
	// requests (the official client pings every 5 s).
	Heartbeat time.Duration
	// MaxFrameSize bounds the frames the client sends and reads, header
	// included (default and maximum: the protocol's 64 MiB).
	MaxFrameSize int
	// Logger receives the client's diagnostics (default: none).
	Logger *slog.Logger

	// Test seams, set only by this package's tests.
	newClientID func() wire.Uint128
	now         func() time.Time
	// balancedStart is where a topic's Balanced cursor starts (default:
	// random).
	balancedStart func() uint32
	sdkName       string
	sdkVersion    string
}

// credentials are what a login sends; exactly one of password or token
// logins.
type credentials struct {
	username, password string
	token              string
	withToken          bool
}

// Client is a connection to a server. Its methods are safe for concurrent
// use; they take turns on the connection (one request in flight).
type Client struct {
	opts Options
	log  *slog.Logger

	// sem is held by the call that owns the connection; every field below
	// it is guarded by sem.
	sem chan struct{}

	conn     net.Conn
	connMu   sync.Mutex // guards conn writes, so that Close can close it mid-call
	wbuf     []byte
	clientID wire.Uint128
	session  uint64
	next     uint64 // request watermark
	// creds are what the last successful login sent; the client logs in
	// with them again after reconnecting, unless loggedOut.
	creds     *credentials
	loggedOut bool

	topics topicCache
	groups groupCache

	closed atomic.Bool
	hb     *heartbeat
}

// Dial connects to the server and, if opts carries credentials, logs in.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if opts.Address == "" {
		opts.Address = DefaultAddress
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.MaxFrameSize <= 0 || opts.MaxFrameSize > wire.MaxFrameSize {
		opts.MaxFrameSize = wire.MaxFrameSize
	}
	if opts.newClientID == nil {
		opts.newClientID = randomClientID
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	if opts.balancedStart == nil {
		opts.balancedStart = mrand.Uint32
	}
	if opts.sdkName == "" {
		opts.sdkName, opts.sdkVersion = sdkName, sdkVersion
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		opts: opts,
		log:  log.With("server", opts.Address),
		sem:  make(chan struct{}, 1),
	}
	c.topics.init()
	c.groups.init()

	var login *credentials
	switch {
	case opts.Token != "":
		login = &credentials{token: opts.Token, withToken: true}
	case opts.Username != "":
		login = &credentials{username: opts.Username, password: opts.Password}
	}
	err := c.withConn(ctx, func(ctx context.Context) error {
		if login == nil {
			return nil
		}
		_, err := c.loginLocked(ctx, *login)
		return err
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	if opts.Heartbeat > 0 {
		c.hb = startHeartbeat(c, opts.Heartbeat)
	}
	return c, nil
}

// Close stops the heartbeat, closes the connection (a call in flight fails
// with ErrClosed) and waits for the call in flight to return. Later calls
// fail with ErrClosed; a second Close does nothing and returns nil.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.hb != nil {
		c.hb.stop()
	}
	c.connMu.Lock()
	var err error
	if c.conn != nil {
		err = c.conn.Close()
	}
	c.connMu.Unlock()
	// Wait for the call in flight: it sees the closed connection, fails
	// and gives the connection back.
	c.sem <- struct{}{}
	c.connMu.Lock()
	c.conn = nil
	c.connMu.Unlock()
	<-c.sem
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("client: closing the connection: %w", err)
	}
	return nil
}

// acquire waits for the connection.
func (c *Client) acquire(ctx context.Context) error {
	if c.closed.Load() {
		return errClosed()
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("client: waiting for the connection: %w", context.Cause(ctx))
	}
	if c.closed.Load() {
		<-c.sem
		return errClosed()
	}
	return nil
}

func (c *Client) release() { <-c.sem }

// withConn runs f while owning a live connection: it dials (and logs in
// again with the remembered credentials) if there is none.
func (c *Client) withConn(ctx context.Context, f func(ctx context.Context) error) error {
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	if err := c.ensureConnLocked(ctx); err != nil {
		return err
	}
	return f(ctx)
}

// ensureConnLocked dials if there is no connection, and logs in again if
// a login is remembered.
func (c *Client) ensureConnLocked(ctx context.Context) error {
	if c.conn != nil {
		return nil
	}
	if err := c.dialLocked(ctx); err != nil {
		return err
	}
	if c.creds != nil && !c.loggedOut {
		if _, err := c.loginLocked(ctx, *c.creds); err != nil {
			// Without its session the connection is of no use: the next
			// call dials and tries again.
			c.dropLocked(err)
			return fmt.Errorf("client: logging in again after reconnecting: %w", err)
		}
	}
	return nil
}

func (c *Client) dialLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.opts.Address)
	if err != nil {
		return fmt.Errorf("client: connecting to %s: %w: %w", c.opts.Address,
			wire.ErrorForCode(wire.CodeCannotEstablishConnection), err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if c.opts.TLS != nil {
		cfg := c.opts.TLS.Clone()
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(c.opts.Address)
			if err != nil {
				host = c.opts.Address
			}
			cfg.ServerName = host
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("client: TLS handshake with %s: %w: %w", c.opts.Address,
				wire.ErrorForCode(wire.CodeCannotEstablishConnection), err)
		}
		conn = tc
	}
	c.connMu.Lock()
	if c.closed.Load() {
		c.connMu.Unlock()
		conn.Close()
		return errClosed()
	}
	c.conn = conn
	c.connMu.Unlock()
	c.resetLocked()
	c.log.Debug("connected")
	return nil
}

// resetLocked starts a new client identity: a new client id, no session,
// the request watermark back at 1.
func (c *Client) resetLocked() {
	c.clientID = c.opts.newClientID()
	c.endSessionLocked()
}

// endSessionLocked forgets the session. Group memberships belong to the
// session's identity, so their cached assignments go too.
func (c *Client) endSessionLocked() {
	c.session = 0
	c.next = 1
	c.groups.clear()
}

// dropLocked closes the connection after it went out of step or the server
// ended the session; the next call dials again.
func (c *Client) dropLocked(why error) {
	c.connMu.Lock()
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	c.connMu.Unlock()
	c.endSessionLocked() // the next dial draws a new client id
	c.topics.clearCounts()
	c.log.Debug("connection dropped", "reason", why)
}

func randomClientID() wire.Uint128 {
	var b [16]byte
	for {
		_, _ = rand.Read(b[:])
		id := wire.Uint128{Lo: binary.LittleEndian.Uint64(b[:8]), Hi: binary.LittleEndian.Uint64(b[8:])}
		if !id.IsZero() {
			return id
		}
	}
}
