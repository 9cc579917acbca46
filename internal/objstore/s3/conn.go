package s3

import (
	"context"
	"io"
	"net"
	"sync"
)

// bodyChunk is the size of the writes a request body goes out in.
const bodyChunk = 512 << 10

// bodyDialer dials the store's connections as bodyConns, all sharing
// one pool of chunk buffers.
type bodyDialer struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	bufs sync.Pool
}

func newBodyDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *bodyDialer {
	d := &bodyDialer{dial: dial}
	d.bufs.New = func() any { b := make([]byte, bodyChunk); return &b }
	return d
}

func (d *bodyDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &bodyConn{Conn: c, bufs: &d.bufs}, nil
}

// bodyConn is a connection to the store whose ReadFrom, which net/http
// writes a plain-HTTP request body through (the body wrapped in an
// io.LimitedReader, so that the pieces' WriteTo is out of reach), writes
// bodyChunk bytes at a time instead of io.Copy's 32 KiB: a 2 MiB journal
// frame is 4 writes, not 64. Syscalls are what a write costs on a VM.
type bodyConn struct {
	net.Conn
	bufs *sync.Pool
}

func (c *bodyConn) ReadFrom(r io.Reader) (int64, error) {
	bp := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(bp)
	return io.CopyBuffer(writerOnly{c.Conn}, r, *bp)
}

// writerOnly hides every method of a writer but Write, so that
// io.CopyBuffer uses the buffer it is given.
type writerOnly struct{ io.Writer }
