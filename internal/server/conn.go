package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/wire"
)

// keepBuffer is the largest reply buffer a connection keeps between
// requests, and the largest read buffer made ready ahead of a request.
const keepBuffer = bufpool.MaxSize

// conn is one client connection, served by one goroutine.
type conn struct {
	s      *Server
	nc     net.Conn
	br     *bufio.Reader
	sess   *broker.Session
	log    *slog.Logger
	fence  uint64 // bound session fence; 0 while not logged in
	client wire.Uint128
	hdr    [wire.HeaderSize]byte
	// small is the read buffer of frames under bufpool.MinSize, kept from
	// request to request; a larger frame is read into big, a buffer of
	// the server's pool, handed over with a send (the log keeps the batch
	// where it is) and released after any other request.
	small []byte
	big   *bufpool.Buf
	// next delivers the read buffer being made ready while a send that took
	// big waits for storage (see prepareNext); nil when none is. It is let
	// go when no request comes for spareHold.
	next      chan *bufpool.Buf
	spareHold time.Duration
	out       []byte // reply buffer
	stopped   atomic.Bool
	ctx       context.Context
	cancel    context.CancelFunc
}

func (s *Server) newConn(nc net.Conn) *conn {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{s: s, nc: nc, br: bufio.NewReaderSize(nc, 64<<10), ctx: ctx, cancel: cancel, spareHold: spareHold}
	c.sess = s.b.Connect(nc.RemoteAddr().String(), broker.TransportTCP)
	c.log = s.log.With("client", c.sess.ID, "peer", nc.RemoteAddr().String())
	return c
}

// stop asks the connection to end after the request it is serving.
func (c *conn) stop() {
	c.stopped.Store(true)
	_ = c.nc.SetReadDeadline(time.Now())
}

func (c *conn) serve() {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("connection handler panicked; closing the connection", "panic", r, "stack", string(debug.Stack()))
		}
		c.cancel()
		c.releaseBig()
		c.dropNext()
		c.sess.Close()
		c.s.forget(c) // before the close: a client that sees EOF may connect again at once
		_ = c.nc.Close()
	}()
	c.log.Debug("connected")
	for !c.stopped.Load() {
		frame, err := c.readFrame()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.sess.Touch()
		c.out = c.out[:0]
		keep := c.handle(frame)
		if len(c.out) > 0 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
			if _, err := c.nc.Write(c.out); err != nil {
				c.log.Debug("writing a reply failed; closing", "err", err)
				return
			}
		}
		// A large frame's buffer that no send took goes back to the pool.
		c.releaseBig()
		// The reply buffer is reused from request to request (a consumer's
		// replies are about the same size each time), but one past
		// keepBuffer is let go rather than held by an idle connection.
		if cap(c.out) > keepBuffer {
			c.out = nil
		}
		if !keep {
			return
		}
	}
}

// readFrame reads one frame: the wait for its header is bounded by the
// idle timeout, the rest by the read timeout.
func (c *conn) readFrame() ([]byte, error) {
	h := c.hdr[:]
	if err := c.awaitRequest(h[:1]); err != nil {
		return nil, err
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(c.s.opts.ReadTimeout))
	if _, err := io.ReadFull(c.br, h[1:]); err != nil {
		return nil, err
	}
	n, err := wire.FrameSize(h, c.s.opts.MaxFrameSize)
	if err != nil {
		return nil, err
	}
	var f []byte
	if n < bufpool.MinSize {
		if cap(c.small) < n {
			c.small = make([]byte, n)
		}
		f = c.small[:n]
	} else {
		c.big = c.takeBuffer(n)
		f = c.big.Bytes()[:n:n]
	}
	copy(f, h)
	if _, err := io.ReadFull(c.br, f[wire.HeaderSize:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return f, nil
}

// awaitRequest reads the first byte of the next request into b, waiting
// at most the idle timeout. A buffer made ready for it (prepareNext) that
// is still unused after spareHold is let go: an idle connection holds
// none.
func (c *conn) awaitRequest(b []byte) error {
	idleEnd := time.Now().Add(c.s.opts.IdleTimeout)
	for {
		deadline := idleEnd
		hold := time.Now().Add(c.spareHold)
		holding := c.next != nil && hold.Before(idleEnd)
		if holding {
			deadline = hold
		}
		_ = c.nc.SetReadDeadline(deadline)
		if c.stopped.Load() {
			// stop's deadline may have come before ours.
			return os.ErrDeadlineExceeded
		}
		_, err := io.ReadFull(c.br, b)
		if err == nil || !holding || !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		c.dropNext()
	}
}

// takeBuffer returns a buffer of the pool for a frame of n bytes: the one
// made ready (prepareNext) if it is large enough, else one from the pool.
func (c *conn) takeBuffer(n int) *bufpool.Buf {
	if c.next != nil {
		b := <-c.next
		c.next = nil
		if len(b.Bytes()) >= n {
			return b
		}
		b.Release()
	}
	b, _ := c.s.pool.Get(n)
	return b
}

// releaseBig gives the current frame's pool buffer back, if a send did not
// take it.
func (c *conn) releaseBig() {
	c.big.Release()
	c.big = nil
}

// dropNext lets go of the buffer being made ready, if there is one.
func (c *conn) dropNext() {
	next := c.next
	if next == nil {
		return
	}
	c.next = nil
	select {
	case b := <-next:
		b.Release()
	default:
		go func() { (<-next).Release() }()
	}
}

func (c *conn) readFailed(err error) {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		// A frame size outside the limits: the body cannot be skipped
		// safely, so evict and close.
		c.log.Warn("closing a connection that sent an invalid frame", "err", err)
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.nc.Write(wire.AppendEviction(nil, c.client, wire.EvictInvalidRequestBodySize, 0, 0))
	case errors.Is(err, io.EOF), c.stopped.Load():
		c.log.Debug("disconnected")
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.log.Info("closing an idle or slow connection", "err", err)
	default:
		c.log.Debug("connection read failed", "err", err)
	}
}

// prepareNext starts making a read buffer of size bytes ready for the
// next request, beside the send that took the current one and waits for
// storage: from the pool, or, when the pool has none, allocated (the
// collector's assist for it is paid there) and every page faulted in. A
// new buffer the size of a large batch comes from memory the runtime may
// have given back to the system, and a request read into it waited for
// the faults: on the 2-core VM here, S3 pinned-producer requests at 100
// MB/s took 16-18 ms to read at p90 (25-31 ms at p99) from their first
// byte, most of them already whole in the socket; read into prepared
// buffers, 2-3 ms (14-18 ms). Sizes outside the pool's (bufpool.MinSize
// to MaxSize) are not prepared.
func (c *conn) prepareNext(size int) {
	if size < bufpool.MinSize || size > keepBuffer || c.next != nil {
		return
	}
	next := make(chan *bufpool.Buf, 1)
	c.next = next
	go func() {
		b, reused := c.s.pool.Get(size)
		if !reused {
			data := b.Bytes()
			for i := 0; i < len(data); i += pageBytes {
				data[i] = 0
			}
		}
		next <- b
	}()
}

// spareHold is how long a connection keeps a read buffer made ready for
// a request that does not come: a producer's next send follows its answer
// within milliseconds.
const spareHold = time.Second

// pageBytes is the smallest page size of the systems shoal runs on: one
// write every pageBytes touches every page.
const pageBytes = 4 << 10
