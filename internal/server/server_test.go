package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/logstore"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/wire"
)

var cheap = auth.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type testServer struct {
	srv   *Server
	b     *broker.Broker
	store *objstore.Store
	back  *mem.Backend
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startServer runs a broker on back and a server on a free port.
func startServer(t *testing.T, back *mem.Backend, opts Options) *testServer {
	t.Helper()
	return startServerWith(t, back, opts, logstore.Options{})
}

// startServerWith is startServer with the broker's log options.
func startServerWith(t *testing.T, back *mem.Backend, opts Options, logOpts logstore.Options) *testServer {
	t.Helper()
	store := objstore.New(back, objstore.Options{})
	b, err := broker.Open(context.Background(), store, broker.Options{Log: logOpts, PasswordParams: cheap, Logger: testLogger(), Storage: "memory"})
	if err != nil {
		t.Fatal(err)
	}
	opts.Address = "127.0.0.1:0"
	opts.Logger = testLogger()
	srv := New(b, opts)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	ts := &testServer{srv: srv, b: b, store: store, back: back}
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) stop(t *testing.T) {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if err := ts.b.Close(); err != nil {
		t.Errorf("broker close: %v", err)
	}
	ts.srv = nil
}

// rawClient speaks frames, to test the server byte by byte.
type rawClient struct {
	t       *testing.T
	nc      net.Conn
	client  wire.Uint128
	session uint64
	req     uint64
}

func dial(t *testing.T, ts *testServer) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", ts.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, client: wire.Uint128{Lo: 0x0102030405060708, Hi: 0x1112131415161718}, req: 1}
}

type answer struct {
	evicted bool
	reason  uint8
	op      uint8
	status  uint32
	request uint64
	body    []byte
}

func (c *rawClient) roundTrip(code uint32, body []byte) answer {
	c.t.Helper()
	op := wire.OpForCode(code)
	h := wire.Request{Client: c.client, Operation: op, Code: code, Session: c.session, Request: c.req}
	switch {
	case op == wire.OpRegister:
		h.Request, h.Session = 0, 0
	case op == wire.OpNonReplicated || op >= wire.OpSendMessages:
	default:
		c.req++
		h.Request = c.req
	}
	if _, err := c.nc.Write(wire.AppendRequest(nil, h, body)); err != nil {
		c.t.Fatal(err)
	}
	a := c.read()
	if !a.evicted && a.request != h.Request {
		c.t.Fatalf("reply echoes request %d, sent %d", a.request, h.Request)
	}
	if !a.evicted && a.op != op && !(op == wire.OpDeleteSegments && a.op == wire.OpTruncatePartition) {
		c.t.Fatalf("reply echoes operation %d, sent %d", a.op, op)
	}
	return a
}

func (c *rawClient) read() answer {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := wire.ReadFrame(c.nc, nil, 0)
	if err != nil {
		c.t.Fatalf("reading a reply: %v", err)
	}
	if f[60] == wire.FrameEviction {
		return answer{evicted: true, reason: f[255]}
	}
	le := binary.LittleEndian
	return answer{op: f[208], status: le.Uint32(f[216:]), request: le.Uint64(f[200:]), body: f[wire.HeaderSize:]}
}

// ok runs a command that must succeed and returns its payload.
func (c *rawClient) ok(code uint32, body []byte) []byte {
	c.t.Helper()
	a := c.roundTrip(code, body)
	if a.evicted || a.status != 0 {
		c.t.Fatalf("command %d: evicted=%v reason=%d status=%d (%s)", code, a.evicted, a.reason, a.status, wire.CodeName(a.status))
	}
	if wire.IsResultFramed(a.op) {
		p, err := wire.StripResult(a.body)
		if err != nil {
			c.t.Fatalf("command %d: %v", code, err)
		}
		return p
	}
	return a.body
}

// fails runs a command that must fail with code (status or result).
func (c *rawClient) fails(code uint32, body []byte, want uint32) {
	c.t.Helper()
	a := c.roundTrip(code, body)
	got := a.status
	if a.evicted {
		c.t.Fatalf("command %d: evicted (reason %d), want error %d", code, a.reason, want)
	}
	if got == 0 && wire.IsResultFramed(a.op) {
		_, err := wire.StripResult(a.body)
		got = wire.CodeOf(err)
		if err == nil {
			got = 0
		}
	}
	if got != want {
		c.t.Fatalf("command %d: error %d (%s), want %d (%s)", code, got, wire.CodeName(got), want, wire.CodeName(want))
	}
}

func (c *rawClient) login(user, pass string) uint32 {
	c.t.Helper()
	lr := wire.LoginRequest{Version: wire.ClientVersion{Protocol: wire.ProtocolVersion, SDKName: "shoal-test", SDKVersion: "1"}, Username: user, Password: pass}
	p := c.ok(wire.CmdLoginRegister, lr.AppendTo(nil))
	var rep wire.RegisterReply
	if err := rep.Decode(p); err != nil {
		c.t.Fatal(err)
	}
	if rep.Session == 0 {
		c.t.Fatal("session 0")
	}
	c.session, c.req = rep.Session, 0
	return rep.UserID
}

func enc(v interface{ AppendTo([]byte) []byte }) []byte { return v.AppendTo(nil) }

func TestBeforeLogin(t *testing.T) {
	ts := startServer(t, mem.New(), Options{})
	c := dial(t, ts)
	if a := c.roundTrip(wire.CmdPing, nil); a.evicted || a.status != 0 || len(a.body) != 0 {
		t.Fatalf("ping before login: %+v", a)
	}
	c.fails(wire.CmdGetClusterMetadata, nil, wire.CodeUnauthenticated)
	c.fails(wire.CmdGetStreams, nil, wire.CodeUnauthenticated)
	if a := c.roundTrip(wire.CmdCreateStream, enc(&wire.CreateStreamRequest{Name: "x"})); !a.evicted || a.reason != wire.EvictNoSession {
		t.Fatalf("create stream before login: %+v", a)
	}
	// Wrong password: eviction 9; the connection still serves a login.
	lr := wire.LoginRequest{Version: wire.ClientVersion{Protocol: wire.ProtocolVersion, SDKName: "t", SDKVersion: "1"}, Username: "iggy", Password: "wrong"}
	if a := c.roundTrip(wire.CmdLoginRegister, enc(&lr)); !a.evicted || a.reason != wire.EvictInvalidCredentials {
		t.Fatalf("bad password: %+v", a)
	}
	old := wire.LoginRequest{Version: wire.ClientVersion{Protocol: wire.PackVersion(0, 12, 0), SDKName: "t", SDKVersion: "1"}, Username: "iggy", Password: "iggy"}
	if a := c.roundTrip(wire.CmdLoginRegister, enc(&old)); !a.evicted || a.reason != wire.EvictIncompatibleProtocol {
		t.Fatalf("newer protocol: %+v", a)
	}
	if a := c.roundTrip(wire.CmdLoginRegister, []byte{1, 2, 3}); !a.evicted || a.reason != wire.EvictMalformedLogin {
		t.Fatalf("garbage login: %+v", a)
	}
	if uid := c.login("iggy", "iggy"); uid != 0 {
		t.Fatalf("root user id %d", uid)
	}
	var md wire.ClusterMetadata
	if err := md.Decode(c.ok(wire.CmdGetClusterMetadata, nil)); err != nil || len(md.Nodes) != 1 || md.Nodes[0].TCP == 0 {
		t.Fatalf("cluster metadata %+v, %v", md, err)
	}
	c.fails(60000, nil, wire.CodeInvalidCommand)
	c.fails(wire.CmdFlushUnsavedBuffer+1000, nil, wire.CodeInvalidCommand)
	// A replicated code sent as a non-replicated command.
	h := wire.Request{Client: c.client, Operation: wire.OpNonReplicated, Code: wire.CmdCreateStream, Session: c.session, Request: c.req}
	c.nc.Write(wire.AppendRequest(nil, h, enc(&wire.CreateStreamRequest{Name: "x"})))
	if a := c.read(); a.status != wire.CodeFeatureUnavailable {
		t.Fatalf("replicated code as op 2: %+v", a)
	}
	// Logout, then the same connection logs in again.
	if a := c.roundTrip(wire.CmdLogoutUser, nil); a.evicted || a.status != 0 {
		t.Fatalf("logout: %+v", a)
	}
	c.session = 0
	c.fails(wire.CmdGetStreams, nil, wire.CodeUnauthenticated)
	c.login("iggy", "iggy")
	c.ok(wire.CmdGetStreams, nil)
}

// buildBatch builds a producer batch of n messages.
func buildBatch(t *testing.T, n int, tag string) []byte {
	t.Helper()
	var msgs []batch.NewMessage
	for i := range n {
		var id [16]byte
		rand.Read(id[:])
		msgs = append(msgs, batch.NewMessage{ID: id, OriginTimestamp: uint64(time.Now().UnixMicro()), Payload: fmt.Appendf(nil, "%s-%d", tag, i)})
	}
	b, err := batch.Build(nil, msgs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pollBody(consumer wire.Consumer, part *uint32, strategy uint8, value uint64, count uint32, auto bool) []byte {
	r := wire.PollMessagesRequest{Consumer: consumer, Stream: wire.NamedID("orders"), Topic: wire.NumericID(0),
		Strategy: wire.PollingStrategy{Kind: strategy, Value: value}, Count: count, AutoCommit: auto}
	if part != nil {
		r.Partition = wire.OptionalPartition{Set: true, ID: *part}
	}
	return enc(&r)
}

func payloads(t *testing.T, body []byte) (uint32, []string, []uint64) {
	t.Helper()
	var pr wire.PollReply
	if err := pr.Decode(body); err != nil {
		t.Fatal(err)
	}
	var out []string
	var offs []uint64
	for m := range pr.Messages() {
		out = append(out, string(m.Payload))
		offs = append(offs, m.Offset)
	}
	return pr.PartitionID, out, offs
}

func TestStreamsTopicsMessages(t *testing.T) {
	back := mem.New()
	ts := startServer(t, back, Options{})
	c := dial(t, ts)
	c.login("iggy", "iggy")
	var sd wire.StreamDetails
	if err := sd.Decode(c.ok(wire.CmdCreateStream, enc(&wire.CreateStreamRequest{Name: "orders"}))); err != nil || sd.ID != 0 || sd.Name != "orders" {
		t.Fatalf("create stream: %+v %v", sd, err)
	}
	c.fails(wire.CmdCreateStream, enc(&wire.CreateStreamRequest{Name: "orders"}), wire.CodeStreamNameAlreadyExists)
	if a := c.roundTrip(wire.CmdGetStream, enc(&wire.GetStreamRequest{Stream: wire.NamedID("nope")})); a.status != 0 || len(a.body) != 0 {
		t.Fatalf("missing stream: %+v", a)
	}
	var td wire.TopicDetails
	ct := wire.CreateTopicRequest{Stream: wire.NumericID(0), PartitionsCount: 3, Name: "events"}
	if err := td.Decode(c.ok(wire.CmdCreateTopic, enc(&ct))); err != nil || td.ID != 0 || len(td.Partitions) != 3 || td.MessageExpiry != wire.ExpiryNever {
		t.Fatalf("create topic: %+v %v", td, err)
	}
	c.fails(wire.CmdCreateTopic, enc(&wire.CreateTopicRequest{Stream: wire.NumericID(9), PartitionsCount: 1, Name: "x"}), wire.CodeStreamIDNotFound)

	// Send to partition 1, twice; base offsets grow.
	for i, want := range []uint64{0, 3} {
		body := wire.AppendSendMessages(nil, wire.NamedID("orders"), wire.NamedID("events"), wire.PartitionID(1), buildBatch(t, 3, fmt.Sprint("b", i)))
		confs, err := wire.DecodeSendConfirmations(c.ok(wire.CmdSendMessages, body))
		if err != nil || len(confs) != 1 || confs[0].Partition != 1 || confs[0].BaseOffset != want || confs[0].Stream != 0 || confs[0].Topic != 0 {
			t.Fatalf("send %d: %+v %v", i, confs, err)
		}
	}
	// A missing partition is 20; a corrupted batch gets an error.
	c.fails(wire.CmdSendMessages, wire.AppendSendMessages(nil, wire.NumericID(0), wire.NumericID(0), wire.PartitionID(7), buildBatch(t, 1, "x")), wire.CodeResourceNotFound)
	bad := buildBatch(t, 2, "x")
	bad[len(bad)-1] ^= 0xff
	c.fails(wire.CmdSendMessages, wire.AppendSendMessages(nil, wire.NumericID(0), wire.NumericID(0), wire.PartitionID(0), bad), wire.CodeInvalidMessageChecksum)

	one := uint32(1)
	single := wire.Consumer{Kind: wire.ConsumerSingle, ID: wire.NumericID(7)}
	_, got, offs := payloads(t, c.ok(wire.CmdPollMessages, pollBody(single, &one, wire.PollOffset, 2, 3, false)))
	if fmt.Sprint(got) != "[b0-2 b1-0 b1-1]" || fmt.Sprint(offs) != "[2 3 4]" {
		t.Fatalf("poll offset 2: %q %v", got, offs)
	}
	_, got, _ = payloads(t, c.ok(wire.CmdPollMessages, pollBody(single, &one, wire.PollLast, 0, 2, false)))
	if fmt.Sprint(got) != "[b1-1 b1-2]" {
		t.Fatalf("poll last 2: %q", got)
	}
	// Next with auto-commit walks through the partition.
	for _, want := range []string{"[b0-0 b0-1]", "[b0-2 b1-0]", "[b1-1 b1-2]", "[]"} {
		_, got, _ = payloads(t, c.ok(wire.CmdPollMessages, pollBody(single, &one, wire.PollNext, 0, 2, true)))
		if fmt.Sprint(got) != want {
			t.Fatalf("poll next: %q, want %s", got, want)
		}
	}
	c.fails(wire.CmdPollMessages, pollBody(single, &[]uint32{5}[0], wire.PollFirst, 0, 1, false), wire.CodePartitionNotFound)

	// The offset auto-commit stored survives a restart, with the messages.
	gco := wire.GetConsumerOffsetRequest{Consumer: single, Stream: wire.NumericID(0), Topic: wire.NumericID(0), Partition: wire.OptionalPartition{Set: true, ID: 1}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var oi wire.ConsumerOffsetInfo
		if err := oi.Decode(c.ok(wire.CmdGetConsumerOffset, enc(&gco))); err == nil && oi.StoredOffset == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("auto-committed offset 5 not stored")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var st wire.Stats
	if err := st.Decode(c.ok(wire.CmdGetStats, nil)); err != nil {
		t.Fatal(err)
	}
	if st.StreamsCount != 1 || st.TopicsCount != 1 || st.PartitionsCount != 3 || st.MessagesCount != 6 || st.WrittenBytes == 0 || st.ClientsCount != 1 {
		t.Fatalf("stats %+v", st)
	}
	ts.stop(t)
	ts2 := startServer(t, back, Options{})
	c2 := dial(t, ts2)
	c2.login("iggy", "iggy")
	var oi wire.ConsumerOffsetInfo
	if err := oi.Decode(c2.ok(wire.CmdGetConsumerOffset, enc(&gco))); err != nil || oi.StoredOffset != 5 || oi.CurrentOffset != 5 {
		t.Fatalf("after restart: offset %+v %v", oi, err)
	}
	_, got, _ = payloads(t, c2.ok(wire.CmdPollMessages, pollBody(single, &one, wire.PollFirst, 0, 10, false)))
	if len(got) != 6 {
		t.Fatalf("after restart: %d messages", len(got))
	}
}

func TestMalformedFrames(t *testing.T) {
	ts := startServer(t, mem.New(), Options{MaxFrameSize: 1 << 20})
	// An oversized frame: eviction, then the connection closes.
	c := dial(t, ts)
	h := wire.AppendRequest(nil, wire.Request{Client: c.client, Operation: wire.OpNonReplicated, Code: wire.CmdPing, Request: 1}, nil)
	binary.LittleEndian.PutUint32(h[48:], 2<<20)
	c.nc.Write(h)
	if a := c.read(); !a.evicted || a.reason != wire.EvictInvalidRequestBodySize {
		t.Fatalf("oversized frame: %+v", a)
	}
	if _, err := c.nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("connection still open after an oversized frame: %v", err)
	}
	// A size below the header.
	c = dial(t, ts)
	binary.LittleEndian.PutUint32(h[48:], 10)
	c.nc.Write(h)
	if a := c.read(); !a.evicted {
		t.Fatalf("undersized frame: %+v", a)
	}
	// Garbage: a frame that is not a request, and an undeclared operation.
	c = dial(t, ts)
	g := make([]byte, 256)
	binary.LittleEndian.PutUint32(g[48:], 256)
	g[60] = 99
	c.nc.Write(g)
	if a := c.read(); !a.evicted || a.reason != wire.EvictInvalidRequestOperation {
		t.Fatalf("not a request: %+v", a)
	}
	g[60] = wire.FrameRequest
	g[176] = 77
	c.nc.Write(g)
	if a := c.read(); !a.evicted || a.reason != wire.EvictInvalidRequestOperation {
		t.Fatalf("undeclared operation: %+v", a)
	}
	// Malformed bodies after login get InvalidCommand and change nothing.
	c.login("iggy", "iggy")
	for _, body := range [][]byte{nil, {1}, {2, 0}, {200, 1, 2}, bytes.Repeat([]byte{0xff}, 40)} {
		c.fails(wire.CmdCreateTopic, body, wire.CodeInvalidCommand)
		c.fails(wire.CmdGetStream, body, wire.CodeInvalidCommand)
	}
	if ss, err := wire.DecodeStreams(c.ok(wire.CmdGetStreams, nil)); err != nil || len(ss) != 0 {
		t.Fatalf("streams after malformed requests: %+v %v", ss, err)
	}
	// A truncated frame (the client goes away mid-body).
	c = dial(t, ts)
	f := wire.AppendRequest(nil, wire.Request{Client: c.client, Operation: wire.OpNonReplicated, Code: wire.CmdPing, Request: 1}, make([]byte, 100))
	c.nc.Write(f[:300])
	c.nc.Close()
	// Random garbage on many connections; the server must stay up.
	for i := range 50 {
		c := dial(t, ts)
		junk := make([]byte, 64+i*37)
		rand.Read(junk)
		c.nc.Write(junk)
		c.nc.Close()
	}
	// A normal client still works.
	c = dial(t, ts)
	c.login("iggy", "iggy")
	c.ok(wire.CmdCreateStream, enc(&wire.CreateStreamRequest{Name: "still-here"}))
}

func TestLimits(t *testing.T) {
	ts := startServer(t, mem.New(), Options{MaxConnections: 2, IdleTimeout: 300 * time.Millisecond})
	a, b := dial(t, ts), dial(t, ts)
	a.login("iggy", "iggy")
	b.login("iggy", "iggy")
	// A third connection is closed at once.
	c := dial(t, ts)
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection past max_connections was served")
	}
	// An idle connection is closed; a busy one is not.
	_ = a.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := a.nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("an idle connection was not closed: %v", err)
	}
	// Once the idle ones are gone, new connections are served.
	d := dial(t, ts)
	d.login("iggy", "iggy")
	d.ok(wire.CmdPing, nil)
}
