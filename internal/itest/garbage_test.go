package itest

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/server"
	"github.com/shoalstream/shoal/internal/wire"
)

// rawConn speaks frames to the server byte by byte.
type rawConn struct {
	t  *testing.T
	nc net.Conn
}

func dialRaw(t *testing.T, n *node) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc}
}

var rawClientID = wire.Uint128{Lo: 0x0102030405060708, Hi: 0x1112131415161718}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// read reads one frame back: an eviction's reason, or a reply's status.
func (r *rawConn) read() (evicted bool, reasonOrStatus uint32) {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := wire.ReadFrame(r.nc, nil, wire.MaxFrameSize)
	if err != nil {
		r.t.Fatalf("reading an answer: %v", err)
	}
	if f[60] == wire.FrameEviction {
		return true, uint32(f[255])
	}
	return false, binary.LittleEndian.Uint32(f[216:])
}

// closed checks that the server closed the connection.
func (r *rawConn) closed(within time.Duration) {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(within))
	if _, err := io.Copy(io.Discard, r.nc); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		r.t.Fatalf("the server did not close the connection: %v", err)
	}
}

func ping(req uint64) []byte {
	return wire.AppendRequest(nil, wire.Request{Client: rawClientID, Operation: wire.OpNonReplicated, Code: wire.CmdPing, Request: req}, nil)
}

// TestGarbage feeds a live server garbage, truncated, oversized and
// undersized frames, slow and silent clients and malformed bodies, and
// checks that it answers each as the protocol says, changes nothing, and
// goes on serving normal clients, the ones connected before included.
func TestGarbage(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{server: func(o *server.Options) {
			o.MaxFrameSize = 1 << 20
			o.ReadTimeout = 300 * time.Millisecond
		}})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "t", 1, client.TopicSettings{}))
		sendN(t, c, name("s"), name("t"), 0, 3, "before")

		// Oversized: eviction, then the connection closes.
		r := dialRaw(t, n)
		h := ping(1)
		binary.LittleEndian.PutUint32(h[48:], 2<<20)
		r.write(h)
		if ev, reason := r.read(); !ev || reason != uint32(wire.EvictInvalidRequestBodySize) {
			t.Fatalf("oversized frame: evicted %v, reason %d", ev, reason)
		}
		r.closed(5 * time.Second)
		// Undersized.
		r = dialRaw(t, n)
		binary.LittleEndian.PutUint32(h[48:], 100)
		r.write(h)
		if ev, _ := r.read(); !ev {
			t.Fatal("undersized frame: not evicted")
		}
		// Not a request, then an undeclared operation.
		r = dialRaw(t, n)
		g := ping(1)
		g[60] = 99
		r.write(g)
		if ev, reason := r.read(); !ev || reason != uint32(wire.EvictInvalidRequestOperation) {
			t.Fatalf("not a request: evicted %v, reason %d", ev, reason)
		}
		r = dialRaw(t, n)
		g = ping(1)
		g[176] = 77
		r.write(g)
		if ev, reason := r.read(); !ev || reason != uint32(wire.EvictInvalidRequestOperation) {
			t.Fatalf("undeclared operation: evicted %v, reason %d", ev, reason)
		}
		// A replicated operation before login, and a legacy login code.
		r = dialRaw(t, n)
		r.write(wire.AppendRequest(nil, wire.Request{Client: rawClientID, Operation: wire.OpCreateStream, Request: 1, Session: 1},
			wire.CreateStreamRequest{Name: "sneaky"}.AppendTo(nil)))
		if ev, reason := r.read(); !ev || reason != uint32(wire.EvictNoSession) {
			t.Fatalf("create stream before login: evicted %v, reason %d", ev, reason)
		}
		r = dialRaw(t, n)
		r.write(wire.AppendRequest(nil, wire.Request{Client: rawClientID, Operation: wire.OpNonReplicated, Code: wire.CmdLoginUserLegacy, Request: 1}, []byte{1, 2, 3}))
		if ev, reason := r.read(); !ev || reason != uint32(wire.EvictMalformedLogin) {
			t.Fatalf("legacy login: evicted %v, reason %d", ev, reason)
		}
		// Garbage login bodies.
		r = dialRaw(t, n)
		r.write(wire.AppendRequest(nil, wire.Request{Client: rawClientID, Operation: wire.OpRegister}, []byte{0xff, 0xff, 0xff, 0xff, 9}))
		if ev, _ := r.read(); !ev {
			t.Fatal("garbage login: not evicted")
		}
		// Pipelined requests are answered in order.
		r = dialRaw(t, n)
		r.write(append(append(ping(1), ping(1)...), wire.AppendRequest(nil, wire.Request{Client: rawClientID, Operation: wire.OpNonReplicated,
			Code: wire.CmdGetStreams, Request: 1}, nil)...))
		for i, want := range []uint32{0, 0, wire.CodeUnauthenticated} {
			if ev, status := r.read(); ev || status != want {
				t.Fatalf("pipelined request %d: evicted %v, status %d, want %d", i, ev, status, want)
			}
		}
		// A truncated frame from a client that then goes silent: dropped
		// after the read timeout. One that goes away: nothing to answer.
		r = dialRaw(t, n)
		f := wire.AppendRequest(nil, wire.Request{Client: rawClientID, Operation: wire.OpNonReplicated, Code: wire.CmdPing, Request: 1}, make([]byte, 1000))
		r.write(f[:300])
		r.closed(10 * time.Second)
		r = dialRaw(t, n)
		r.write(f[:700])
		r.nc.Close()
		// Random bytes from many connections at once.
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				nc, err := net.Dial("tcp", n.addr)
				if err != nil {
					t.Error(err)
					return
				}
				defer nc.Close()
				junk := make([]byte, 1+i*97)
				rand.Read(junk)
				_, _ = nc.Write(junk)
				if i%2 == 0 {
					_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
					_, _ = io.Copy(io.Discard, nc)
				}
			}()
		}
		wg.Wait()

		// Malformed bodies of a logged-in client: InvalidCommand, and no
		// change.
		for _, code := range []uint32{wire.CmdCreateStream, wire.CmdCreateTopic, wire.CmdGetStream, wire.CmdPollMessages,
			wire.CmdCreateUser, wire.CmdStoreConsumerOffset, wire.CmdCreateConsumerGroup, wire.CmdUpdatePermissions, wire.CmdGetTopic} {
			for _, body := range [][]byte{{}, {1}, {2, 0}, {1, 4, 0}, {200, 1, 2}, {3, 'a'}} {
				_, err := c.Do(ctx, code, body)
				isErr(t, fmt.Sprintf("malformed body %x of command %d", body, code), err, client.ErrInvalidCommand)
			}
		}
		// A send with a metadata section that does not decode: 20.
		_, err := c.Do(ctx, wire.CmdSendMessages, []byte{200, 0, 0, 0, 1, 2})
		isErr(t, "malformed send", err, client.ErrResourceNotFound)

		// A frame over the server's limit from the client: evicted; the
		// client reconnects by itself at the next call.
		_, err = c.SendMessages(ctx, name("s"), name("t"), client.PartitionID(0), []client.Message{{Payload: make([]byte, 2<<20)}})
		if err == nil {
			t.Fatal("a frame over the server's limit was accepted")
		}

		// Everything still works, and nothing changed.
		if ss := must[[]client.Stream](t)(c.GetStreams(ctx)); len(ss) != 1 || ss[0].Name != "s" || ss[0].MessagesCount != 3 {
			t.Fatalf("streams after the garbage: %+v", ss)
		}
		if us := must[[]client.User](t)(c.GetUsers(ctx)); len(us) != 1 {
			t.Fatalf("users after the garbage: %+v", us)
		}
		fresh := n.root()
		sendN(t, fresh, name("s"), name("t"), 0, 2, "after")
		pm := poll(t, fresh, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name("t"),
			Partition: client.InPartition(0), Strategy: client.FirstStrategy(), Count: 10})
		if got := payloads(pm.Messages); !slices.Equal(got, []string{"before-0", "before-1", "before-2", "after-0", "after-1"}) {
			t.Fatalf("messages after the garbage: %q", got)
		}
	})
}
