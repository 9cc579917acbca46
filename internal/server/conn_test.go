package server

import (
	"bufio"
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/wire"
)

// TestReadFramePreparedBuffer checks that a large request after a large
// send is read into the buffer prepareNext made ready (the pool's free one
// if it has one), which goes back to the pool when no request comes for
// spareHold; that a large request's buffer no send took goes back after
// it; and that a buffer too small for the next frame, or a send too small
// or too large to prepare for, changes nothing that is read.
func TestReadFramePreparedBuffer(t *testing.T) {
	newConn := func(t *testing.T) (*conn, net.Conn) {
		a, b := net.Pipe()
		t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
		s := &Server{opts: Options{IdleTimeout: time.Minute, ReadTimeout: time.Minute}, pool: bufpool.New(64 << 20)}
		return &conn{s: s, nc: a, br: bufio.NewReaderSize(a, 64<<10), spareHold: time.Minute}, b
	}
	frameOf := func(size int) []byte {
		body := bytes.Repeat([]byte{7}, size-wire.HeaderSize)
		return wire.AppendRequest(nil, wire.Request{Operation: wire.OpForCode(wire.CmdPing), Code: wire.CmdPing}, body)
	}
	// read has the peer send frame and returns what readFrame read.
	read := func(t *testing.T, c *conn, peer net.Conn, frame []byte) []byte {
		t.Helper()
		errc := make(chan error, 1)
		go func() { _, err := peer.Write(frame); errc <- err }()
		got, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, frame) {
			t.Fatalf("read %d bytes that are not the %d sent", len(got), len(frame))
		}
		return got
	}
	// prepared takes the buffer being made ready and puts it back.
	prepared := func(t *testing.T, c *conn) *bufpool.Buf {
		t.Helper()
		if c.next == nil {
			t.Fatal("no buffer is being made ready")
		}
		b := <-c.next
		c.next = make(chan *bufpool.Buf, 1)
		c.next <- b
		return b
	}
	// in reports whether frame lies in b.
	in := func(frame []byte, b *bufpool.Buf) bool { return &frame[0] == &b.Bytes()[0] }

	t.Run("Used", func(t *testing.T) {
		c, peer := newConn(t)
		c.prepareNext(1 << 20)
		want := prepared(t, c)
		if len(want.Bytes()) < 1<<20 {
			t.Fatalf("prepared %d bytes, want at least %d", len(want.Bytes()), 1<<20)
		}
		c.prepareNext(2 << 20) // one at a time: the first stands
		if b := prepared(t, c); b != want {
			t.Error("a second prepareNext replaced the buffer being made ready")
		}
		got := read(t, c, peer, frameOf(1<<20-100))
		if !in(got, want) || c.big != want {
			t.Error("the frame was not read into the prepared buffer")
		}
		if c.next != nil {
			t.Error("the prepared buffer is still offered after it was taken")
		}
	})
	t.Run("FromThePool", func(t *testing.T) {
		c, peer := newConn(t)
		free, _ := c.s.pool.Get(1 << 20)
		free.Release()
		c.prepareNext(1 << 20)
		if b := prepared(t, c); b != free {
			t.Error("the buffer made ready is not the pool's free one")
		}
		// A large request's buffer goes back to the pool after the
		// request, unless a send took it.
		got := read(t, c, peer, frameOf(1<<20))
		if !in(got, free) {
			t.Fatal("the frame was not read into the pool's buffer")
		}
		c.releaseBig()
		if again, reused := c.s.pool.Get(1 << 20); !reused || again != free {
			t.Error("the request's buffer did not go back to the pool")
		}
	})
	t.Run("TooSmall", func(t *testing.T) {
		c, peer := newConn(t)
		c.prepareNext(bufpool.MinSize)
		small := prepared(t, c)
		got := read(t, c, peer, frameOf(len(small.Bytes())+1))
		if in(got, small) || c.next != nil {
			t.Error("a frame larger than the prepared buffer was read into it, or the buffer is still offered")
		}
		if s := c.s.pool.Stats(); s.FreeBytes != int64(len(small.Bytes())) {
			t.Errorf("the prepared buffer too small for the frame did not go back to the pool: %+v", s)
		}
	})
	t.Run("KeptForLargeRequests", func(t *testing.T) {
		c, peer := newConn(t)
		c.prepareNext(1 << 20)
		want := prepared(t, c)
		if got := read(t, c, peer, frameOf(bufpool.MinSize-1)); in(got, want) || c.big != nil {
			t.Error("a small request was read into a buffer of the pool")
		}
		if got := read(t, c, peer, frameOf(1<<20)); !in(got, want) {
			t.Error("the large request after a small one was not read into the prepared buffer")
		}
	})
	t.Run("LetGoWhenIdle", func(t *testing.T) {
		c, peer := newConn(t)
		c.spareHold = 10 * time.Millisecond
		c.prepareNext(1 << 20)
		prepared(t, c)
		frame := frameOf(1 << 20)
		errc := make(chan error, 1)
		go func() {
			time.Sleep(200 * time.Millisecond) // the request comes well after spareHold
			_, err := peer.Write(frame)
			errc <- err
		}()
		got, err := c.readFrame()
		if err != nil {
			t.Fatalf("an idle wait past spareHold failed the read: %v", err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, frame) {
			t.Fatal("the request read after the buffer was let go is not the one sent")
		}
		// Let go into the pool, from which the request took it again.
		if s := c.s.pool.Stats(); c.next != nil || s.Gets != 2 || s.Reused != 1 {
			t.Errorf("the prepared buffer was kept past spareHold: %+v", s)
		}
	})
	t.Run("Stopped", func(t *testing.T) {
		c, _ := newConn(t)
		c.prepareNext(1 << 20)
		c.stop()
		if _, err := c.readFrame(); err == nil {
			t.Error("a stopped connection read a frame")
		}
	})
	t.Run("SmallOrHugeSend", func(t *testing.T) {
		c, _ := newConn(t)
		c.prepareNext(bufpool.MinSize - 1)
		if c.next != nil {
			t.Error("a buffer is made ready for a send smaller than the pool's buffers")
		}
		c.prepareNext(keepBuffer + 1)
		if c.next != nil {
			t.Error("a buffer larger than keepBuffer is made ready, to be held by an idle connection")
		}
	})
}
