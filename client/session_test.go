package client

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/shoalstream/shoal/internal/wire"
)

// transcriptSteps turns a vector's transcript into fake-server steps that
// expect its request frames exactly and answer with its reply frames.
func transcriptSteps(t *testing.T, v vector) []step {
	t.Helper()
	if len(v.Transcript) == 0 {
		t.Fatalf("%s: no transcript", v.Command)
	}
	var steps []step
	for _, tr := range v.Transcript {
		steps = append(steps, step{want: unhex(t, tr.RequestFrame), reply: unhex(t, tr.ReplyFrame)})
	}
	return steps
}

func TestPingBeforeLogin(t *testing.T) {
	v := loadVector(t, "ping__before_login")
	s := newFakeServer(t, step{want: unhex(t, v.FrameHex)})
	c := dialTest(t, testOptions(s.addr()))
	if err := c.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if _, session, next := c.state(); session != 0 || next != 1 {
		t.Errorf("after a ping: session %d, watermark %d; want 0, 1", session, next)
	}
}

func TestLoginUserTranscript(t *testing.T) {
	v := loadVector(t, "login_user")
	s := newFakeServer(t, transcriptSteps(t, v)...)
	opts := testOptions(s.addr())
	opts.Username, opts.Password = "iggy", "iggy"
	c := dialTest(t, opts)
	id, session, next := c.state()
	if id != vecClientID || session != vecSession || next != 1 {
		t.Errorf("after login: client %v session %#x watermark %d; want %v %#x 1", id, session, next, vecClientID, vecSession)
	}
	// The next non-replicated request repeats watermark 1 on the session.
	s.add(step{check: func(t *testing.T, h wire.Request, _ []byte) {
		if h.Request != 1 || h.Session != vecSession || h.Code != wire.CmdPing || h.Client != vecClientID {
			t.Errorf("ping after login: %+v", h)
		}
	}})
	if err := c.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

func TestLoginWithTokenTranscript(t *testing.T) {
	v := loadVector(t, "login_with_personal_access_token")
	s := newFakeServer(t, transcriptSteps(t, v)...)
	opts := testOptions(s.addr())
	opts.Token = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
	c := dialTest(t, opts)
	if _, session, _ := c.state(); session != vecSession {
		t.Errorf("session %#x, want %#x", session, vecSession)
	}
}

func TestLoginUserMethodDecodesTheReply(t *testing.T) {
	r := loadReply(t, "login_user__register_reply")
	s := newFakeServer(t,
		step{check: func(t *testing.T, h wire.Request, _ []byte) {
			if h.Operation != wire.OpRegister || h.Request != 0 || h.Session != 0 {
				t.Errorf("register header %+v", h)
			}
		}, reply: unhex(t, r.ReplyFrameHex)},
		step{check: func(t *testing.T, h wire.Request, _ []byte) {
			if h.Code != wire.CmdGetClusterMetadata || h.Request != 1 || h.Session != 128 {
				t.Errorf("cluster metadata header %+v", h)
			}
		}, status: wire.CodeFeatureUnavailable}, // only logged
	)
	c := dialTest(t, testOptions(s.addr()))
	info, err := c.LoginUser(testContext(t), "iggy", "iggy")
	if err != nil {
		t.Fatal(err)
	}
	want := LoginInfo{UserID: 7, Session: 128, ServerProtocol: 11264, ServerVersion: "0.11.0-edge.1"}
	if *info != want {
		t.Errorf("login info %+v, want %+v", *info, want)
	}
}

func TestLoginReplyDecoding(t *testing.T) {
	for _, name := range []string{"login_register__golden_fixture", "login_register__empty_server_version_fixture"} {
		t.Run(name, func(t *testing.T) {
			r := loadReply(t, name)
			payload, err := wire.StripResult(unhex(t, r.ReplyBodyHex))
			if err != nil {
				t.Fatal(err)
			}
			info, err := decodeRegisterReply(payload)
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				UserID        uint32 `json:"user_id"`
				Session       uint64 `json:"session"`
				Protocol      uint32 `json:"server_protocol_version"`
				ServerVersion string `json:"server_version"`
			}
			if err := json.Unmarshal(r.Decoded, &want); err != nil {
				t.Fatal(err)
			}
			got := LoginInfo{UserID: want.UserID, Session: want.Session, ServerProtocol: want.Protocol, ServerVersion: want.ServerVersion}
			if *info != got {
				t.Errorf("decoded %+v, want %+v", *info, got)
			}
			// Trailing bytes are ignored, as the official SDK does.
			if _, err := decodeRegisterReply(append(payload, 1, 2, 3)); err != nil {
				t.Errorf("with trailing bytes: %v", err)
			}
		})
	}
}

func TestLoginReplyWithSessionZeroDropsTheConnection(t *testing.T) {
	body := wire.AppendResultOK(nil)
	body = (&wire.RegisterReply{UserID: 1, ServerProtocol: wire.ProtocolVersion}).AppendTo(body)
	s := newFakeServer(t,
		step{body: body},
		step{conn: 1, check: func(t *testing.T, h wire.Request, _ []byte) {
			if h.Session != 0 || h.Request != 1 {
				t.Errorf("ping on the new connection: %+v", h)
			}
		}},
	)
	c := dialTest(t, testOptions(s.addr()))
	_, err := c.LoginUser(testContext(t), "iggy", "iggy")
	if !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("login with session 0: %v, want invalid command", err)
	}
	if err := c.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if s.dialed() != 2 {
		t.Errorf("dialed %d times, want 2", s.dialed())
	}
}

func TestLogout(t *testing.T) {
	v := loadVector(t, "logout_user")
	r := loadReply(t, "logout_user")
	s := newFakeServer(t, step{want: unhex(t, v.FrameHex), reply: unhex(t, r.ReplyFrameHex)})
	ids := []wire.Uint128{vecClientID, {Lo: 99, Hi: 98}}
	opts := testOptions(s.addr())
	opts.newClientID = func() wire.Uint128 { id := ids[0]; ids = ids[1:]; return id }
	c := dialTest(t, opts)
	bindVectorSession(c)
	if err := c.Logout(testContext(t)); err != nil {
		t.Fatal(err)
	}
	id, session, next := c.state()
	if id != (wire.Uint128{Lo: 99, Hi: 98}) || session != 0 || next != 1 {
		t.Errorf("after logout: client %v session %d watermark %d; want a new client id, 0, 1", id, session, next)
	}
	// Without a session, commands that need one fail without sending.
	if _, err := c.CreateStream(testContext(t), "orders"); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("create stream after logout: %v, want unauthenticated", err)
	}
	if err := c.Logout(testContext(t)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("logout after logout: %v, want unauthenticated", err)
	}
}

func TestLoginWhenLoggedInLogsOutFirst(t *testing.T) {
	regBody := wire.AppendResultOK(nil)
	regBody = (&wire.RegisterReply{UserID: 3, Session: 500, ServerProtocol: wire.ProtocolVersion}).AppendTo(regBody)
	s := newFakeServer(t,
		step{check: func(t *testing.T, h wire.Request, _ []byte) {
			if h.Operation != wire.OpLogout || h.Request != vecWatermark || h.Session != vecSession || h.Client != vecClientID {
				t.Errorf("logout %+v", h)
			}
		}},
		step{check: func(t *testing.T, h wire.Request, _ []byte) {
			if h.Operation != wire.OpRegister || h.Request != 0 || h.Session != 0 || h.Client != (wire.Uint128{Lo: 2}) {
				t.Errorf("register %+v", h)
			}
		}, body: regBody},
		step{check: func(t *testing.T, h wire.Request, _ []byte) {
			if h.Code != wire.CmdGetClusterMetadata || h.Request != 1 || h.Session != 500 {
				t.Errorf("metadata %+v", h)
			}
		}, body: unhex(t, loadReply(t, "get_cluster_metadata__single_node").ReplyBodyHex)},
	)
	ids := []wire.Uint128{vecClientID, {Lo: 2}}
	opts := testOptions(s.addr())
	opts.newClientID = func() wire.Uint128 { id := ids[0]; ids = ids[1:]; return id }
	c := dialTest(t, opts)
	bindVectorSession(c)
	if _, err := c.LoginUser(testContext(t), "alice", "secret"); err != nil {
		t.Fatal(err)
	}
	if _, session, next := c.state(); session != 500 || next != 1 {
		t.Errorf("session %d watermark %d, want 500, 1", session, next)
	}
}

func TestCommandsNeedingASessionSendNothingWithoutOne(t *testing.T) {
	s := newFakeServer(t)
	c := dialTest(t, testOptions(s.addr()))
	ctx := testContext(t)
	checks := map[string]error{}
	_, checks["send"] = c.SendMessages(ctx, NumericID(1), NumericID(2), PartitionID(0), []Message{{Payload: []byte("x")}})
	checks["store offset"] = c.StoreConsumerOffset(ctx, DefaultConsumer(), NumericID(1), NumericID(2), InPartition(0), 1, AckQuorum)
	checks["delete offset"] = c.DeleteConsumerOffset(ctx, DefaultConsumer(), NumericID(1), NumericID(2), InPartition(0), AckQuorum)
	_, checks["create topic"] = c.CreateTopic(ctx, NumericID(1), "t", 1, TopicSettings{})
	checks["delete segments"] = c.DeleteSegments(ctx, NumericID(1), NumericID(2), 0, 1)
	checks["join"] = c.JoinConsumerGroup(ctx, NumericID(1), NumericID(2), NumericID(3))
	checks["logout"] = c.Logout(ctx)
	for name, err := range checks {
		if !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: %v, want unauthenticated", name, err)
		}
	}
	if _, _, next := c.state(); next != 1 {
		t.Errorf("watermark %d after refused calls, want 1", next)
	}
}

func TestLoginWithTokenMethod(t *testing.T) {
	v := loadVector(t, "login_with_personal_access_token")
	s := newFakeServer(t, transcriptSteps(t, v)...)
	c := dialTest(t, testOptions(s.addr()))
	info, err := c.LoginWithToken(testContext(t), "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN")
	if err != nil {
		t.Fatal(err)
	}
	if info.Session != vecSession {
		t.Errorf("session %#x", info.Session)
	}
}

func TestRandomClientIDs(t *testing.T) {
	seen := map[wire.Uint128]bool{}
	for range 100 {
		id := randomClientID()
		if id.IsZero() || seen[id] {
			t.Fatalf("client id %v is zero or repeated", id)
		}
		seen[id] = true
	}
}
