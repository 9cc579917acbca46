package server

import (
	"bufio"
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

// TestReadFramePreparedBuffer checks that a large request after a large
// send is read into the buffer prepareNext made ready, which is let go
// when no request comes for spareHold; and that a buffer too small
// for the next frame, or a send too small or too large to prepare for,
// changes nothing that is read.
func TestReadFramePreparedBuffer(t *testing.T) {
	newConn := func(t *testing.T) (*conn, net.Conn) {
		a, b := net.Pipe()
		t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
		s := &Server{opts: Options{IdleTimeout: time.Minute, ReadTimeout: time.Minute}}
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
	prepared := func(t *testing.T, c *conn) []byte {
		t.Helper()
		if c.next == nil {
			t.Fatal("no buffer is being made ready")
		}
		b := <-c.next
		c.next = make(chan []byte, 1)
		c.next <- b
		return b
	}

	t.Run("Used", func(t *testing.T) {
		c, peer := newConn(t)
		c.prepareNext(1 << 20)
		want := prepared(t, c)
		if len(want) != 1<<20 {
			t.Fatalf("prepared %d bytes, want %d", len(want), 1<<20)
		}
		c.prepareNext(2 << 20) // one at a time: the first stands
		if b := prepared(t, c); &b[0] != &want[0] {
			t.Error("a second prepareNext replaced the buffer being made ready")
		}
		got := read(t, c, peer, frameOf(1<<20-100))
		if &got[0] != &want[0] {
			t.Error("the frame was not read into the prepared buffer")
		}
		if c.next != nil {
			t.Error("the prepared buffer is still offered after it was taken")
		}
	})
	t.Run("TooSmall", func(t *testing.T) {
		c, peer := newConn(t)
		c.prepareNext(prepareBytes)
		small := prepared(t, c)
		got := read(t, c, peer, frameOf(prepareBytes+1))
		if &got[0] == &small[0] || c.next != nil {
			t.Error("a frame larger than the prepared buffer was read into it, or the buffer is still offered")
		}
	})
	t.Run("KeptForLargeRequests", func(t *testing.T) {
		c, peer := newConn(t)
		c.prepareNext(1 << 20)
		want := prepared(t, c)
		if got := read(t, c, peer, frameOf(prepareBytes-1)); &got[0] == &want[0] {
			t.Error("a small request was read into the buffer made ready for a large one")
		}
		if got := read(t, c, peer, frameOf(1<<20)); &got[0] != &want[0] {
			t.Error("the large request after a small one was not read into the prepared buffer")
		}
	})
	t.Run("LetGoWhenIdle", func(t *testing.T) {
		c, peer := newConn(t)
		c.spareHold = 10 * time.Millisecond
		c.prepareNext(1 << 20)
		want := prepared(t, c)
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
		if &got[0] == &want[0] || c.next != nil {
			t.Error("the prepared buffer was kept past spareHold")
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
		c.prepareNext(prepareBytes - 1)
		if c.next != nil {
			t.Error("a buffer is made ready for a send smaller than prepareBytes")
		}
		c.prepareNext(keepBuffer + 1)
		if c.next != nil {
			t.Error("a buffer larger than keepBuffer is made ready, to be held by an idle connection")
		}
	})
}
