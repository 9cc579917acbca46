package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

// The fixed values of the official SDK's vectors (testdata/README.md):
// the client id, the session, and the request watermark of a session that
// has taken ids 1..4.
var (
	vecClientID = wire.Uint128{Lo: 0x0102030405060708, Hi: 0x1112131415161718}
	vecSession  = uint64(0x2122232425262728)
)

const vecWatermark = 5

// vector is a request vector of the official Go SDK: the frame it wrote
// for some inputs, and for a call that wrote several frames the whole
// transcript with the replies its test double sent.
type vector struct {
	Command    string          `json:"command"`
	Code       uint32          `json:"code"`
	Operation  uint8           `json:"operation"`
	Inputs     json.RawMessage `json:"inputs"`
	BodyHex    string          `json:"body_hex"`
	FrameHex   string          `json:"frame_hex"`
	Transcript []struct {
		Code         uint32 `json:"code"`
		Operation    uint8  `json:"operation"`
		Request      uint64 `json:"request"`
		RequestFrame string `json:"request_frame_hex"`
		ReplyFrame   string `json:"reply_frame_hex"`
		IsMainFrame  bool   `json:"is_main_frame"`
	} `json:"transcript"`
}

// replyVector is a reply the official SDK's tests fed it, and what it
// decoded.
type replyVector struct {
	ReplyBodyHex  string          `json:"reply_body_hex"`
	PayloadHex    string          `json:"payload_hex"`
	ReplyFrameHex string          `json:"reply_frame_hex"`
	Decoded       json.RawMessage `json:"decoded"`
	Frames        []struct {
		Reason     uint8  `json:"reason"`
		ReplyFrame string `json:"reply_frame_hex"`
		Decoded    struct {
			ErrorCode uint32 `json:"error_code"`
		} `json:"decoded"`
	} `json:"frames"`
}

func loadJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadVector(t *testing.T, name string) vector {
	t.Helper()
	var v vector
	loadJSON(t, name+".json", &v)
	return v
}

func loadReply(t *testing.T, name string) replyVector {
	t.Helper()
	var v replyVector
	loadJSON(t, "replies/"+name+".json", &v)
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// step is one exchange the fake server expects: a request, checked, and
// the answer it sends.
type step struct {
	// want is the exact request frame; nil accepts any request (check may
	// look at it).
	want  []byte
	check func(t *testing.T, h wire.Request, body []byte)
	// conn is the connection (0, 1, … in the order the client dialed)
	// the request must arrive on.
	conn int

	// The answer: reply as it is, or else a reply header echoing the
	// request (operation op if set) with status and body.
	reply  []byte
	status uint32
	op     uint8
	body   []byte
	// stall sends nothing and waits for the client to close the
	// connection; hangUp closes it at once.
	stall  bool
	hangUp bool

	// arrived, if set, is closed when the request has been read.
	arrived chan struct{}
	// repeat keeps the step in place for every later request; notify, if
	// set, gets a value (if it has room) for each.
	repeat bool
	notify chan struct{}
}

// fakeServer is a server on loopback that plays a script of steps, one
// request at a time, and fails the test when a request differs from the
// script.
type fakeServer struct {
	t    *testing.T
	ln   net.Listener
	done chan struct{}

	mu     sync.Mutex
	steps  []step
	next   int
	conns  int
	active net.Conn
}

func newFakeServer(t *testing.T, steps ...step) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startFakeServer(t, ln, steps)
}

// startFakeServer serves steps on ln.
func startFakeServer(t *testing.T, ln net.Listener, steps []step) *fakeServer {
	t.Helper()
	s := &fakeServer{t: t, ln: ln, done: make(chan struct{}), steps: steps}
	go s.run()
	t.Cleanup(s.stop)
	return s
}

func (s *fakeServer) addr() string { return s.ln.Addr().String() }

// add appends steps to the script.
func (s *fakeServer) add(steps ...step) {
	s.mu.Lock()
	s.steps = append(s.steps, steps...)
	s.mu.Unlock()
}

// stop closes the server and reports steps the client never reached.
func (s *fakeServer) stop() {
	s.ln.Close()
	s.mu.Lock()
	if s.active != nil {
		s.active.Close()
	}
	s.mu.Unlock()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next < len(s.steps) && !s.steps[s.next].repeat {
		s.t.Errorf("fake server: %d of %d steps never happened", len(s.steps)-s.next, len(s.steps))
	}
}

// dialed returns how many connections the server accepted.
func (s *fakeServer) dialed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// pending returns how many steps are left.
func (s *fakeServer) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.steps) - s.next
}

func (s *fakeServer) run() {
	defer close(s.done)
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		idx := s.conns
		s.conns++
		s.active = conn
		s.mu.Unlock()
		s.serve(conn, idx)
		conn.Close()
	}
}

func (s *fakeServer) serve(conn net.Conn, idx int) {
	for {
		frame, err := wire.ReadFrame(conn, nil, 0)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
				s.t.Errorf("fake server: reading a request: %v", err)
			}
			return
		}
		s.mu.Lock()
		if s.next >= len(s.steps) {
			s.mu.Unlock()
			s.t.Errorf("fake server: unexpected request %x", frame[:min(len(frame), 300)])
			return
		}
		st := s.steps[s.next]
		n := s.next
		if !st.repeat {
			s.next++
		}
		s.mu.Unlock()

		h, body, err := wire.ParseRequest(frame)
		if err != nil {
			s.t.Errorf("fake server: step %d: %v", n, err)
			return
		}
		if st.conn != idx {
			s.t.Errorf("fake server: step %d arrived on connection %d, want %d", n, idx, st.conn)
		}
		if st.want != nil && !bytes.Equal(frame, st.want) {
			s.t.Errorf("fake server: step %d: request frame differs\n got %s\nwant %s\n%s",
				n, hex.EncodeToString(frame), hex.EncodeToString(st.want), frameDiff(frame, st.want))
		}
		if st.check != nil {
			st.check(s.t, h, body)
		}
		if st.arrived != nil {
			close(st.arrived)
		}
		if st.notify != nil {
			select {
			case st.notify <- struct{}{}:
			default:
			}
		}
		if st.hangUp {
			return
		}
		if st.stall {
			_, _ = io.Copy(io.Discard, conn) // until the client hangs up
			return
		}
		reply := st.reply
		if reply == nil {
			op := st.op
			if op == 0 {
				op = h.Operation
			}
			reply = wire.AppendReplyHeader(nil, h, op, st.status, len(st.body))
			reply = append(reply, st.body...)
		}
		if _, err := conn.Write(reply); err != nil {
			s.t.Errorf("fake server: step %d: writing the reply: %v", n, err)
			return
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

// frameDiff names the first differing byte offsets of two frames.
func frameDiff(got, want []byte) string {
	if len(got) != len(want) {
		return fmt.Sprintf("lengths %d and %d", len(got), len(want))
	}
	var out []int
	for i := range got {
		if got[i] != want[i] {
			out = append(out, i)
			if len(out) == 8 {
				break
			}
		}
	}
	return fmt.Sprintf("first differing offsets %v", out)
}

// testOptions are Options whose client ids are the vectors' and whose
// login says what the official SDK says.
func testOptions(addr string) Options {
	return Options{
		Address:     addr,
		newClientID: func() wire.Uint128 { return vecClientID },
		// The transcripts were recorded from the official SDK, whose
		// cursor starts at 0.
		balancedStart: func() uint32 { return 0 },
		sdkName:       "go-sdk",
		sdkVersion:    "0.9.0-edge.4",
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialTest dials the fake server with opts.
func dialTest(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := Dial(testContext(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// bindVectorSession puts c in the state of the vectors' session: logged
// in with the vectors' session, request ids 1..4 taken.
func bindVectorSession(c *Client) {
	c.sem <- struct{}{}
	c.session = vecSession
	c.next = vecWatermark
	<-c.sem
}

// state returns the client's identity, session and watermark.
func (c *Client) state() (wire.Uint128, uint64, uint64) {
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	return c.clientID, c.session, c.next
}
