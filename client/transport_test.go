package client

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

func TestStatusAndCommittedErrors(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  error
	}{
		{"create_stream__status_denial", ErrUnauthorized},
		{"create_stream__committed_rejection", ErrStreamNameAlreadyExists},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			r := loadReply(t, tc.reply)
			v := loadVector(t, "create_stream")
			s := newFakeServer(t, step{want: unhex(t, v.FrameHex), reply: unhex(t, r.ReplyFrameHex)})
			c := dialTest(t, testOptions(s.addr()))
			bindVectorSession(c)
			_, err := c.CreateStream(testContext(t), "orders")
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != CodeOf(tc.want) {
				t.Errorf("error %v does not carry code %d", err, CodeOf(tc.want))
			}
			// A status or a committed rejection leaves the connection as it is.
			s.add(step{check: isCode(wire.CmdPing)})
			if err := c.Ping(testContext(t)); err != nil {
				t.Fatal(err)
			}
			if s.dialed() != 1 {
				t.Errorf("dialed %d times, want 1", s.dialed())
			}
		})
	}
}

// TestEvictions answers a request with each eviction frame of the SDK's
// vectors: the call fails with the mapped error, and the next call goes
// out on a new connection as a new client without a session.
func TestEvictions(t *testing.T) {
	r := loadReply(t, "eviction_frames")
	for _, f := range r.Frames {
		t.Run("reason "+itoaTest(uint64(f.Reason)), func(t *testing.T) {
			s := newFakeServer(t, step{reply: unhex(t, f.ReplyFrame)})
			ids := []wire.Uint128{vecClientID, {Lo: 77}}
			opts := testOptions(s.addr())
			opts.newClientID = func() wire.Uint128 { id := ids[0]; ids = ids[1:]; return id }
			c := dialTest(t, opts)
			bindVectorSession(c)
			_, err := c.CreateStream(testContext(t), "orders")
			if got := CodeOf(err); got != f.Decoded.ErrorCode {
				t.Fatalf("eviction reason %d: %v (code %d), want code %d", f.Reason, err, got, f.Decoded.ErrorCode)
			}
			s.add(step{conn: 1, check: func(t *testing.T, h wire.Request, _ []byte) {
				if h.Client != (wire.Uint128{Lo: 77}) || h.Session != 0 || h.Request != 1 {
					t.Errorf("request after the eviction: %+v", h)
				}
			}})
			if err := c.Ping(testContext(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func itoaTest(v uint64) string { return wire.NumericID(uint32(v)).String() }

// TestReconnectLogsInAgain: after an eviction, the next call dials, logs
// in with the remembered credentials, and then runs.
func TestReconnectLogsInAgain(t *testing.T) {
	login := loadVector(t, "login_user")
	steps := transcriptSteps(t, login)
	evict := wire.AppendEviction(nil, vecClientID, wire.EvictStaleClient, 0, 0)
	steps = append(steps, step{check: isCode(wire.CmdCreateStream), reply: evict})
	for _, st := range transcriptSteps(t, login) {
		st.conn = 1
		steps = append(steps, st)
	}
	steps = append(steps, step{conn: 1, check: func(t *testing.T, h wire.Request, _ []byte) {
		if h.Code != wire.CmdGetStreams || h.Session != vecSession || h.Request != 1 {
			t.Errorf("call after the re-login: %+v", h)
		}
	}})
	s := newFakeServer(t, steps...)
	opts := testOptions(s.addr())
	opts.Username, opts.Password = "iggy", "iggy"
	c := dialTest(t, opts)
	if _, err := c.CreateStream(testContext(t), "orders"); !errors.Is(err, ErrStaleClient) {
		t.Fatalf("evicted call: %v, want stale client", err)
	}
	if _, err := c.GetStreams(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

func TestDialWithRefusedCredentials(t *testing.T) {
	s := newFakeServer(t, step{reply: wire.AppendEviction(nil, vecClientID, wire.EvictInvalidCredentials, 0, 0)})
	opts := testOptions(s.addr())
	opts.Username, opts.Password = "iggy", "wrong"
	_, err := Dial(testContext(t), opts)
	if !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("dial: %v, want invalid credentials", err)
	}
}

func TestDialUnreachable(t *testing.T) {
	s := newFakeServer(t)
	addr := s.addr()
	s.ln.Close()
	_, err := Dial(testContext(t), Options{Address: addr})
	if !errors.Is(err, ErrCannotEstablishConnection) {
		t.Fatalf("dial: %v, want cannot establish connection", err)
	}
}

// replyHeader returns a reply header to a request with the vectors' ids.
func replyHeader(request uint64, op uint8, bodyLen int) []byte {
	return wire.AppendReplyHeader(nil, wire.Request{Client: vecClientID, Request: request}, op, 0, bodyLen)
}

func TestMalformedReplies(t *testing.T) {
	badSize := replyHeader(vecWatermark, wire.OpNonReplicated, 0)
	binary.LittleEndian.PutUint32(badSize[offFrameSize:], 100)
	unknownCommand := replyHeader(vecWatermark, wire.OpNonReplicated, 0)
	unknownCommand[offFrameCommand] = 9
	for _, tc := range []struct {
		name    string
		reply   []byte
		call    func(ctx context.Context, c *Client) error
		want    error
		dropped bool
	}{
		{"request echo differs", replyHeader(vecWatermark+1, wire.OpNonReplicated, 0),
			func(ctx context.Context, c *Client) error { return c.Ping(ctx) }, ErrDisconnected, true},
		{"frame size below the header", badSize,
			func(ctx context.Context, c *Client) error { return c.Ping(ctx) }, ErrInvalidCommand, true},
		{"unknown frame command", unknownCommand,
			func(ctx context.Context, c *Client) error { return c.Ping(ctx) }, ErrInvalidCommand, false},
		{"undeclared operation", replyHeader(vecWatermark, 77, 0),
			func(ctx context.Context, c *Client) error { return c.Ping(ctx) }, ErrInvalidCommand, false},
		{"framed reply without a result section", replyHeader(vecWatermark, wire.OpDeleteStream, 0),
			func(ctx context.Context, c *Client) error { return c.DeleteStream(ctx, stream1) }, ErrInvalidCommand, false},
		{"unknown status code", wire.AppendReplyHeader(nil, wire.Request{Request: vecWatermark}, wire.OpNonReplicated, 61234, 0),
			func(ctx context.Context, c *Client) error { return c.Ping(ctx) }, ErrorForCode(61234), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFakeServer(t, step{reply: tc.reply})
			c := dialTest(t, testOptions(s.addr()))
			bindVectorSession(c)
			if err := tc.call(testContext(t), c); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			conn := 0
			if tc.dropped {
				conn = 1
			}
			s.add(step{conn: conn})
			if err := c.Ping(testContext(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTransientAnswersAreReplayed(t *testing.T) {
	var first []byte
	s := newFakeServer(t,
		step{check: func(t *testing.T, h wire.Request, body []byte) {
			first = wire.AppendRequest(nil, h, body)
		}, status: wire.CodeTransientNotCommitted},
		step{check: func(t *testing.T, h wire.Request, body []byte) {
			if again := wire.AppendRequest(nil, h, body); string(again) != string(first) {
				t.Error("the replay is not the identical frame")
			}
		}, body: wire.AppendResultErr(nil, wire.CodeTransientNotAccepted)},
		step{body: unhex(t, loadReply(t, "create_stream").ReplyBodyHex)},
	)
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	if _, err := c.CreateStream(testContext(t), "orders"); err != nil {
		t.Fatal(err)
	}
	if _, _, next := c.state(); next != vecWatermark+1 {
		t.Errorf("watermark %d, want %d: a replay takes no new id", next, vecWatermark+1)
	}
}

func TestCancelInFlight(t *testing.T) {
	arrived := make(chan struct{})
	s := newFakeServer(t, step{stall: true, arrived: arrived}, step{conn: 1})
	c := dialTest(t, testOptions(s.addr()))
	ctx, cancel := context.WithCancel(testContext(t))
	go func() {
		<-arrived
		cancel()
	}()
	if err := c.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ping: %v, want canceled", err)
	}
	// The connection was out of step: the next call dials again.
	if err := c.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

func TestContextDeadline(t *testing.T) {
	s := newFakeServer(t, step{stall: true})
	c := dialTest(t, testOptions(s.addr()))
	ctx, cancel := context.WithTimeout(testContext(t), 50*time.Millisecond)
	defer cancel()
	if err := c.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ping: %v, want deadline exceeded", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	s := newFakeServer(t, step{stall: true})
	opts := testOptions(s.addr())
	opts.RequestTimeout = 50 * time.Millisecond
	c := dialTest(t, opts)
	err := c.Ping(testContext(t))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errRequestTimeout) {
		t.Fatalf("ping: %v, want a request timeout", err)
	}
}

func TestWaitingForTheConnectionHonoursTheContext(t *testing.T) {
	arrived := make(chan struct{})
	s := newFakeServer(t, step{stall: true, arrived: arrived})
	c := dialTest(t, testOptions(s.addr()))
	first, cancelFirst := context.WithCancel(testContext(t))
	done := make(chan error, 1)
	go func() { done <- c.Ping(first) }()
	<-arrived
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	if err := c.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("queued ping: %v, want canceled", err)
	}
	cancelFirst()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("in-flight ping: %v, want canceled", err)
	}
}

func TestFrameSizeLimit(t *testing.T) {
	s := newFakeServer(t)
	opts := testOptions(s.addr())
	opts.MaxFrameSize = 1024
	c := dialTest(t, opts)
	bindVectorSession(c)
	_, err := c.SendMessages(testContext(t), stream1, topic2, PartitionID(0), []Message{{Payload: make([]byte, 2000)}})
	if !errors.Is(err, ErrInvalidConfiguration) {
		t.Fatalf("oversized send: %v, want invalid configuration", err)
	}
	// A reply above the limit is refused before it is read.
	big := replyHeader(vecWatermark, wire.OpNonReplicated, 2000)
	s.add(step{reply: append(big, make([]byte, 2000)...)})
	if _, err := c.Do(testContext(t), wire.CmdGetStats, nil); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("oversized reply: %v, want invalid command", err)
	}
}

func TestServerHangsUp(t *testing.T) {
	s := newFakeServer(t, step{hangUp: true}, step{conn: 1})
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	if err := c.Ping(testContext(t)); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("ping: %v, want disconnected", err)
	}
	if _, session, _ := c.state(); session != 0 {
		t.Errorf("session %#x kept after the connection was lost", session)
	}
	if err := c.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
}
