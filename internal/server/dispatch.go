package server

import (
	"errors"

	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/wire"
)

// handle serves one request frame, appending the reply to c.out. It
// returns false when the connection must close.
func (c *conn) handle(frame []byte) bool {
	req, body, err := wire.ParseRequest(frame)
	if err != nil {
		c.log.Warn("evicting a client that sent a frame that is not a request", "err", err)
		c.evict(wire.EvictInvalidRequestOperation)
		return true
	}
	if !req.Client.IsZero() {
		c.client = req.Client
	}
	switch req.Operation {
	case wire.OpRegister:
		c.register(req, body)
	case wire.OpLogout:
		if c.fence != 0 {
			c.sess.Logout()
			c.fence = 0
		}
		c.reply(req, req.Operation, 0, nil)
	case wire.OpNonReplicated:
		code := req.Code
		switch {
		case code == wire.CmdLoginUserLegacy || code == wire.CmdLoginWithPATLegacy:
			c.evict(wire.EvictMalformedLogin)
		case c.fence == 0 && code == wire.CmdPing:
			c.reply(req, req.Operation, 0, nil)
		case c.fence == 0:
			c.status(req, wire.CodeUnauthenticated)
		case wire.IsReplicatedCode(code):
			c.status(req, wire.CodeFeatureUnavailable)
		default:
			c.nonReplicated(req, body)
		}
	default:
		if wire.CodeForOp(req.Operation) == 0 {
			c.log.Warn("evicting a client that sent an undeclared operation", "operation", req.Operation)
			c.evict(wire.EvictInvalidRequestOperation)
			return true
		}
		if c.fence == 0 {
			c.evict(wire.EvictNoSession)
			return true
		}
		c.replicated(req, body)
	}
	return true
}

// reply appends a reply with a raw body.
func (c *conn) reply(req wire.Request, op uint8, status uint32, body []byte) {
	c.out = wire.AppendReplyHeader(c.out, req, op, status, len(body))
	c.out = append(c.out, body...)
}

// status appends an error reply: the code in the status, no body.
func (c *conn) status(req wire.Request, code uint32) {
	c.reply(req, req.Operation, code, nil)
}

// fail answers err with its protocol code.
func (c *conn) fail(req wire.Request, err error) {
	code := codeFor(err)
	if code == wire.CodeError {
		c.log.Warn("request failed", "code", req.Code, "err", err)
	} else {
		c.log.Debug("request refused", "code", req.Code, "status", code, "err", err)
	}
	c.status(req, code)
}

// ok answers with payload, behind a success result section when the
// operation is result-framed.
func (c *conn) ok(req wire.Request, payload []byte) {
	if wire.IsResultFramed(req.Operation) {
		c.out = wire.AppendReplyHeader(c.out, req, req.Operation, 0, 4+len(payload))
		c.out = wire.AppendResultOK(c.out)
		c.out = append(c.out, payload...)
		return
	}
	c.reply(req, req.Operation, 0, payload)
}

func (c *conn) evict(reason uint8) {
	c.out = wire.AppendEviction(c.out, c.client, reason, 0, 0)
}

// decode decodes a request body, answering InvalidCommand on failure.
func (c *conn) decode(req wire.Request, body []byte, v interface{ Decode([]byte) error }) bool {
	if err := v.Decode(body); err != nil {
		c.log.Debug("malformed request body", "code", req.Code, "err", err)
		c.status(req, wire.CodeOf(err))
		return false
	}
	return true
}

// register handles a Register (login) request (wire.md §2.4).
func (c *conn) register(req wire.Request, body []byte) {
	var lr wire.LoginRequest
	err := lr.Decode(body)
	var mle *wire.MalformedLoginError
	if err != nil && !errors.As(err, &mle) {
		mle = &wire.MalformedLoginError{}
	}
	versionKnown := err == nil || mle.VersionDecoded
	if versionKnown && !wire.ProtocolAccepted(lr.Version.Protocol) {
		c.log.Info("refusing a client with an incompatible protocol version", "version", lr.Version.Protocol, "sdk", lr.Version.SDKName)
		c.out = wire.AppendEviction(c.out, c.client, wire.EvictIncompatibleProtocol, wire.ProtocolVersion, wire.MinProtocolVersion)
		return
	}
	if err != nil {
		c.log.Info("refusing a malformed login", "err", err)
		c.evict(wire.EvictMalformedLogin)
		return
	}
	if c.fence != 0 { // a second Register on a bound connection starts afresh
		c.sess.Logout()
		c.fence = 0
	}
	var uid uint32
	if lr.WithToken {
		uid, err = c.s.b.LoginWithToken(c.ctx, c.sess, lr.Token)
	} else {
		uid, err = c.s.b.Login(c.ctx, c.sess, lr.Username, lr.Password)
	}
	if err != nil {
		reason := wire.EvictInvalidCredentials
		switch {
		case lr.WithToken && broker.KindOf(err) == broker.KindUnauthenticated:
			reason = wire.EvictUserInactive
		case lr.WithToken:
			reason = wire.EvictInvalidToken
		}
		c.log.Info("login refused", "username", lr.Username, "token", lr.WithToken, "err", err)
		c.evict(reason)
		return
	}
	c.fence = c.s.fences.Add(1)
	c.log.Debug("logged in", "user", uid, "sdk", lr.Version.SDKName, "sdk_version", lr.Version.SDKVersion)
	rep := wire.RegisterReply{UserID: uid, Session: c.fence, ServerProtocol: wire.ProtocolVersion, ServerVersion: c.s.opts.Version}
	c.ok(req, rep.AppendTo(nil))
}
