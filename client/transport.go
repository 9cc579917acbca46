package client

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

// How transient answers (a clustered server's 57 and 58) are replayed: the
// identical frame again after replayInterval, for 58 at most
// notAcceptedBudget long.
const (
	replayInterval    = 50 * time.Millisecond
	notAcceptedBudget = 2 * time.Second
)

// Header offsets the transport reads or patches itself (wire.md §1).
const (
	offFrameSize        = 48
	offFrameCommand     = 60
	offEvictVersionMax  = 144
	offEvictVersionMin  = 148
	offEvictReason      = 255
	bodyInlineThreshold = 16 << 10
)

// errRequestTimeout is the cause of a context ended by RequestTimeout.
var errRequestTimeout = errors.New("request timed out")

// callLocked sends one command and returns its reply payload (the body, or
// for result-framed operations what follows the result section). The
// payload is the caller's: it is not reused.
func (c *Client) callLocked(ctx context.Context, code uint32, body []byte) ([]byte, error) {
	if ctx.Err() != nil {
		// Nothing is sent: the connection stays in step.
		return nil, fmt.Errorf("%s: %w", cmdName(code), ctxErr(ctx))
	}
	h, err := c.stampLocked(code)
	if err != nil {
		return nil, err
	}
	if size := wire.HeaderSize + len(body); size > c.opts.MaxFrameSize {
		return nil, wire.ErrorForCode(wire.CodeInvalidConfiguration).With(
			"%s: frame of %d bytes exceeds the maximum of %d", cmdName(code), size, c.opts.MaxFrameSize)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.opts.RequestTimeout, errRequestTimeout)
	defer cancel()
	var notAcceptedSince time.Time
	for {
		payload, err := c.exchangeLocked(ctx, h, body)
		code := transientCode(err)
		if code == 0 {
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cmdName(h.Code), err)
			}
			return payload, nil
		}
		// A transient answer: the same frame again, same request id.
		if code == wire.CodeTransientNotAccepted {
			now := time.Now()
			if notAcceptedSince.IsZero() {
				notAcceptedSince = now
			} else if now.Sub(notAcceptedSince) > notAcceptedBudget {
				return nil, fmt.Errorf("%s: %w", cmdName(h.Code), err)
			}
		}
		t := time.NewTimer(replayInterval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: %w (last answer: %w)", cmdName(h.Code), ctxErr(ctx), err)
		}
	}
}

func transientCode(err error) uint32 {
	var e *wire.Error
	if errors.As(err, &e) && (e.Code == wire.CodeTransientNotCommitted || e.Code == wire.CodeTransientNotAccepted) {
		return e.Code
	}
	return 0
}

// stampLocked fills the request header of code as wire.md §2.3 says.
func (c *Client) stampLocked(code uint32) (wire.Request, error) {
	h := wire.Request{Client: c.clientID, Code: code, Operation: wire.OpForCode(code)}
	switch op := h.Operation; {
	case op == wire.OpRegister:
		// request 0, session 0
	case op == wire.OpNonReplicated:
		h.Request, h.Session = c.next, c.session
	case c.session == 0:
		return h, wire.ErrorForCode(wire.CodeUnauthenticated).With("%s needs a login", cmdName(code))
	case op == wire.OpLogout || (op >= wire.OpCreateStream && op <= wire.OpLeaveConsumerGroup):
		h.Request, h.Session = c.next, c.session
		c.next++
	default: // partition operations
		h.Request, h.Session = c.next, c.session
	}
	return h, nil
}

// exchangeLocked writes one request frame and reads its answer, decoding it
// in the order of wire.md §3.1.
func (c *Client) exchangeLocked(ctx context.Context, h wire.Request, body []byte) ([]byte, error) {
	conn := c.conn
	if conn == nil {
		return nil, wire.ErrorForCode(wire.CodeNotConnected)
	}
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, c.ioFailedLocked(ctx, err)
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = conn.SetDeadline(time.Unix(1, 0)) // unblock the I/O below
		close(fired)
	})
	frame, err := c.writeReadLocked(conn, h, body)
	if !stop() {
		<-fired
		if err == nil {
			// The exchange completed as the context ended; it stands, but
			// the deadline set above must not leak into the next one.
			if derr := conn.SetDeadline(time.Time{}); derr != nil {
				c.dropLocked(derr)
			}
		}
	}
	if err != nil {
		return nil, c.ioFailedLocked(ctx, err)
	}
	return c.decodeReplyLocked(h, frame)
}

func (c *Client) writeReadLocked(conn net.Conn, h wire.Request, body []byte) ([]byte, error) {
	if len(body) <= bodyInlineThreshold {
		c.wbuf = wire.AppendRequest(c.wbuf[:0], h, body)
		if _, err := conn.Write(c.wbuf); err != nil {
			return nil, err
		}
	} else {
		// A big body (a message batch) is written from where it is, after
		// a header whose size field counts it.
		c.wbuf = wire.AppendRequest(c.wbuf[:0], h, nil)
		binary.LittleEndian.PutUint32(c.wbuf[offFrameSize:], uint32(wire.HeaderSize+len(body)))
		bufs := net.Buffers{c.wbuf, body}
		if _, err := bufs.WriteTo(conn); err != nil {
			return nil, err
		}
	}
	return wire.ReadFrame(conn, nil, c.opts.MaxFrameSize)
}

// ioFailedLocked turns a failed write or read into the error the caller
// sees, and drops the connection, which is out of step now.
func (c *Client) ioFailedLocked(ctx context.Context, err error) error {
	c.dropLocked(err)
	var we *wire.Error
	switch {
	case c.closed.Load():
		return errClosed()
	case ctx.Err() != nil:
		return ctxErr(ctx)
	case errors.As(err, &we):
		// A frame size outside the bounds (ReadFrame): InvalidCommand.
		return err
	case errors.Is(err, os.ErrDeadlineExceeded):
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			// The connection's deadline is the context's: the context
			// ends now too, and says why (the call's own deadline or
			// RequestTimeout).
			<-ctx.Done()
			return ctxErr(ctx)
		}
		return fmt.Errorf("%w: %w", err, context.DeadlineExceeded)
	default:
		return fmt.Errorf("%w: %w", wire.ErrorForCode(wire.CodeDisconnected), err)
	}
}

// ctxErr reports why ctx ended: a RequestTimeout as a deadline, otherwise
// the context's own cause.
func ctxErr(ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(cause, errRequestTimeout) {
		return fmt.Errorf("%w: %w", cause, context.DeadlineExceeded)
	}
	return cause
}

// decodeReplyLocked checks an answer frame and returns its payload
// (wire.md §3.1): request echo, eviction, status, operation, result
// section.
func (c *Client) decodeReplyLocked(h wire.Request, frame []byte) ([]byte, error) {
	rep, body, err := wire.ParseReply(frame)
	if err != nil {
		if frame[offFrameCommand] == wire.FrameEviction {
			return nil, c.evictedLocked(frame)
		}
		return nil, err // an unknown frame command: the frame was read whole, the connection stays
	}
	if rep.Request != h.Request {
		err := wire.ErrorForCode(wire.CodeDisconnected).With(
			"reply echoes request %d, expected %d", rep.Request, h.Request)
		c.dropLocked(err)
		return nil, err
	}
	if rep.Status != 0 {
		return nil, wire.ErrorForCode(rep.Status)
	}
	if !wire.IsDeclaredOp(rep.Operation) {
		return nil, wire.Malformed("reply with undeclared operation %d", rep.Operation)
	}
	if rep.Operation == wire.OpSendMessages && len(body) == 0 {
		return nil, wire.Malformed("empty reply to a send")
	}
	if wire.IsResultFramed(rep.Operation) && (rep.Operation != wire.OpRegister || len(body) > 0) {
		return wire.StripResult(body)
	}
	return body, nil
}

// evictedLocked handles an eviction frame: the session is over, the
// connection is closed, and the reason becomes the error (wire.md §3.6).
func (c *Client) evictedLocked(frame []byte) error {
	reason := frame[offEvictReason]
	err := wire.EvictionError(reason)
	if reason == wire.EvictIncompatibleProtocol {
		max := binary.LittleEndian.Uint32(frame[offEvictVersionMax:])
		min := binary.LittleEndian.Uint32(frame[offEvictVersionMin:])
		if min >= 1 && min <= max {
			err = err.With("server accepts protocol versions %s to %s, this client speaks %s",
				versionString(min), versionString(max), versionString(wire.ProtocolVersion))
		} else {
			err = wire.ErrorForCode(wire.CodeUnauthenticated).With(
				"evicted by the server (reason %d, no valid protocol window)", reason)
		}
	}
	c.dropLocked(err)
	return err
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>20, (v>>10)&0x3ff, v&0x3ff)
}

// cmdName names a command code in errors.
func cmdName(code uint32) string {
	if n, ok := cmdNames[code]; ok {
		return n
	}
	return fmt.Sprintf("command %d", code)
}

var cmdNames = map[uint32]string{
	wire.CmdPing:                      "ping",
	wire.CmdGetStats:                  "get stats",
	wire.CmdGetSnapshot:               "get snapshot",
	wire.CmdGetClusterMetadata:        "get cluster metadata",
	wire.CmdDescribeOptions:           "describe options",
	wire.CmdGetMe:                     "get me",
	wire.CmdGetClient:                 "get client",
	wire.CmdGetClients:                "get clients",
	wire.CmdGetUser:                   "get user",
	wire.CmdGetUsers:                  "get users",
	wire.CmdCreateUser:                "create user",
	wire.CmdDeleteUser:                "delete user",
	wire.CmdUpdateUser:                "update user",
	wire.CmdUpdatePermissions:         "update permissions",
	wire.CmdChangePassword:            "change password",
	wire.CmdLogoutUser:                "logout",
	wire.CmdLoginRegister:             "login",
	wire.CmdGetPersonalAccessTokens:   "get personal access tokens",
	wire.CmdCreatePersonalAccessToken: "create personal access token",
	wire.CmdDeletePersonalAccessToken: "delete personal access token",
	wire.CmdLoginRegisterWithPAT:      "login with token",
	wire.CmdPollMessages:              "poll messages",
	wire.CmdSendMessages:              "send messages",
	wire.CmdFlushUnsavedBuffer:        "flush unsaved buffer",
	wire.CmdGetConsumerOffset:         "get consumer offset",
	wire.CmdStoreConsumerOffset:       "store consumer offset",
	wire.CmdDeleteConsumerOffset:      "delete consumer offset",
	wire.CmdGetStream:                 "get stream",
	wire.CmdGetStreams:                "get streams",
	wire.CmdCreateStream:              "create stream",
	wire.CmdDeleteStream:              "delete stream",
	wire.CmdUpdateStream:              "update stream",
	wire.CmdPurgeStream:               "purge stream",
	wire.CmdGetTopic:                  "get topic",
	wire.CmdGetTopics:                 "get topics",
	wire.CmdCreateTopic:               "create topic",
	wire.CmdDeleteTopic:               "delete topic",
	wire.CmdUpdateTopic:               "update topic",
	wire.CmdPurgeTopic:                "purge topic",
	wire.CmdCreatePartitions:          "create partitions",
	wire.CmdDeletePartitions:          "delete partitions",
	wire.CmdDeleteSegments:            "delete segments",
	wire.CmdGetConsumerGroup:          "get consumer group",
	wire.CmdGetConsumerGroups:         "get consumer groups",
	wire.CmdCreateConsumerGroup:       "create consumer group",
	wire.CmdDeleteConsumerGroup:       "delete consumer group",
	wire.CmdJoinConsumerGroup:         "join consumer group",
	wire.CmdLeaveConsumerGroup:        "leave consumer group",
	wire.CmdSyncConsumerGroup:         "sync consumer group",
}

// call is callLocked on a connection of its own.
func (c *Client) call(ctx context.Context, code uint32, body []byte) ([]byte, error) {
	var payload []byte
	err := c.withConn(ctx, func(ctx context.Context) error {
		var err error
		payload, err = c.callLocked(ctx, code, body)
		return err
	})
	return payload, err
}
