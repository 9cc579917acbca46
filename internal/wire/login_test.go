package wire_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/shoalstream/shoal/internal/wire"
)

func TestLoginRequestVectors(t *testing.T) {
	for _, tc := range []struct {
		file string
		code uint32
	}{
		{"login_user.json", wire.CmdLoginRegister},
		{"login_with_personal_access_token.json", wire.CmdLoginRegisterWithPAT},
	} {
		t.Run(tc.file, func(t *testing.T) {
			v := loadMsgVector(t, tc.file)
			in := jObj(t, v, "inputs")
			want := wire.LoginRequest{Version: wire.ClientVersion{
				Protocol:   uint32(jU64(t, in, "protocol_version")),
				SDKName:    jStr(t, in, "sdk_name"),
				SDKVersion: jStr(t, in, "sdk_version"),
			}}
			if tc.code == wire.CmdLoginRegisterWithPAT {
				want.Token, want.WithToken = jStr(t, in, "token"), true
			} else {
				want.Username, want.Password = jStr(t, in, "username"), jStr(t, in, "password")
			}
			body := jHex(t, v, "body_hex")

			// The frame: Register carries no code, so ParseRequest says
			// CmdLoginRegister for both; the body tells them apart.
			if got := requestBody(t, jHex(t, v, "frame_hex"), wire.OpRegister, wire.CmdLoginRegister); !bytes.Equal(got, body) {
				t.Fatalf("frame body %x, want %x", got, body)
			}
			step := transcriptStep(t, v, uint64(tc.code))
			if got := requestBody(t, jHex(t, step, "request_frame_hex"), wire.OpRegister, wire.CmdLoginRegister); !bytes.Equal(got, body) {
				t.Fatalf("transcript body %x, want %x", got, body)
			}

			var got wire.LoginRequest
			if err := got.Decode(body); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %+v, want %+v", got, want)
			}
			if got.Code() != tc.code {
				t.Fatalf("Code() = %d, want %d", got.Code(), tc.code)
			}
			if enc := want.AppendTo(nil); !bytes.Equal(enc, body) {
				t.Fatalf("encoded %x, want %x", enc, body)
			}
			if !wire.ProtocolAccepted(got.Version.Protocol) {
				t.Fatalf("protocol %d refused", got.Version.Protocol)
			}

			// The test double's Register reply: user 0, session
			// 0x2122232425262728.
			payload, err := wire.StripResult(replyBody(t, jHex(t, step, "reply_frame_hex"), wire.OpRegister))
			if err != nil {
				t.Fatal(err)
			}
			var rep wire.RegisterReply
			if err := rep.Decode(payload); err != nil {
				t.Fatal(err)
			}
			if rep.UserID != 0 || rep.Session != 0x2122232425262728 || rep.ServerProtocol != wire.ProtocolVersion {
				t.Fatalf("register reply %+v", rep)
			}
		})
	}
}

func TestRegisterReplyVectors(t *testing.T) {
	for _, file := range msgVectorFiles(t, "replies/login_*.json") {
		t.Run(file, func(t *testing.T) {
			v := loadMsgVector(t, file)
			body := jHex(t, v, "reply_body_hex")
			payload, err := wire.StripResult(body)
			if err != nil {
				t.Fatal(err)
			}
			if want := jHex(t, v, "payload_hex"); !bytes.Equal(payload, want) {
				t.Fatalf("payload %x, want %x", payload, want)
			}
			var got wire.RegisterReply
			if err := got.Decode(payload); err != nil {
				t.Fatal(err)
			}
			dec := jObj(t, v, "decoded")
			if got.UserID != uint32(jU64(t, dec, "user_id")) {
				t.Fatalf("user %d, decoded %v", got.UserID, dec["user_id"])
			}
			if _, ok := dec["session"]; ok {
				want := wire.RegisterReply{
					UserID:         uint32(jU64(t, dec, "user_id")),
					Session:        jU64(t, dec, "session"),
					ServerProtocol: uint32(jU64(t, dec, "server_protocol_version")),
					ServerVersion:  jStr(t, dec, "server_version"),
				}
				if got != want {
					t.Fatalf("decoded %+v, want %+v", got, want)
				}
			} else if got.Session != jU64(t, dec, "session_bound_by_sdk") {
				t.Fatalf("session %d, SDK bound %v", got.Session, dec["session_bound_by_sdk"])
			}
			if enc := got.AppendTo(wire.AppendResultOK(nil)); !bytes.Equal(enc, body) {
				t.Fatalf("encoded %x, want %x", enc, body)
			}
			if fh, ok := v["reply_frame_hex"].(string); ok {
				if b := replyBody(t, msgUnhex(t, fh), wire.OpRegister); !bytes.Equal(b, body) {
					t.Fatalf("frame body %x, want %x", b, body)
				}
			}
		})
	}
}

// loginBody builds a Register body: the SDK's prefix and tail.
func loginBody(tail ...[]byte) []byte {
	b := (&wire.ClientVersion{Protocol: wire.ProtocolVersion, SDKName: "go-sdk", SDKVersion: "0.9.0"}).AppendTo(nil)
	for _, t := range tail {
		b = append(b, t...)
	}
	return b
}

func TestLoginRequestShapes(t *testing.T) {
	ver := wire.ClientVersion{Protocol: wire.ProtocolVersion, SDKName: "go-sdk", SDKVersion: "0.9.0"}
	for _, tc := range []struct {
		name string
		body []byte
		want wire.LoginRequest
	}{
		{"password", loginBody([]byte{4}, []byte("iggy"), []byte{4}, []byte("pass"), []byte{0, 0, 0, 0}),
			wire.LoginRequest{Username: "iggy", Password: "pass"}},
		{"empty password", loginBody([]byte{4}, []byte("iggy"), []byte{0}, []byte{0, 0, 0, 0}),
			wire.LoginRequest{Username: "iggy"}},
		{"password with context", loginBody([]byte{1}, []byte("u"), []byte{1}, []byte("p"), []byte{3, 0, 0, 0}, []byte("ctx")),
			wire.LoginRequest{Username: "u", Password: "p", Context: []byte("ctx")}},
		{"token", loginBody([]byte{5}, []byte("token"), []byte{0, 0, 0, 0}),
			wire.LoginRequest{Token: "token", WithToken: true}},
		{"empty token", loginBody([]byte{0}, []byte{0, 0, 0, 0}),
			wire.LoginRequest{WithToken: true}},
		{"token with context", loginBody([]byte{1}, []byte("t"), []byte{2, 0, 0, 0}, []byte("ab")),
			wire.LoginRequest{Token: "t", WithToken: true, Context: []byte("ab")}},
		// A token tail one byte longer than a password tail cannot be
		// read as one: the password length byte would be the first byte
		// of context_len, leaving 3 bytes for the next 4.
		{"50-char token", loginBody([]byte{50}, bytes.Repeat([]byte("x"), 50), []byte{0, 0, 0, 0}),
			wire.LoginRequest{Token: string(bytes.Repeat([]byte("x"), 50)), WithToken: true}},
		// Trailing bytes after a password tail are ignored, as the
		// reference server does.
		{"password, trailing bytes", loginBody([]byte{4}, []byte("iggy"), []byte{4}, []byte("pass"), []byte{0, 0, 0, 0, 9, 9, 9}),
			wire.LoginRequest{Username: "iggy", Password: "pass"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.Version = ver
			var got wire.LoginRequest
			if err := got.Decode(tc.body); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("decoded %+v, want %+v", got, tc.want)
			}
			enc := got.AppendTo(nil)
			if !bytes.HasPrefix(tc.body, enc) {
				t.Fatalf("re-encoded %x is not a prefix of %x", enc, tc.body)
			}
		})
	}
}

func TestLoginRequestMalformed(t *testing.T) {
	for _, tc := range []struct {
		name           string
		body           []byte
		versionDecoded bool
	}{
		{"empty", nil, false},
		{"short version", []byte{0, 0x2c, 0}, false},
		{"no sdk name", []byte{0, 0x2c, 0, 0}, false},
		{"empty sdk name", []byte{0, 0x2c, 0, 0, 0, 1, 'v'}, false},
		{"sdk name overruns", []byte{0, 0x2c, 0, 0, 9, 'g', 'o'}, false},
		{"sdk version not UTF-8", []byte{0, 0x2c, 0, 0, 1, 'g', 1, 0xff}, false},
		{"no tail", loginBody(), true},
		{"tail of one byte", loginBody([]byte{0}), true},
		{"token without context_len", loginBody([]byte{1}, []byte("t")), true},
		{"context overruns", loginBody([]byte{1}, []byte("t"), []byte{9, 0, 0, 0}, []byte("ab")), true},
		{"huge context", loginBody([]byte{1}, []byte("t"), []byte{0xff, 0xff, 0xff, 0xff}), true},
		{"token not UTF-8", loginBody([]byte{1}, []byte{0xff}, []byte{0, 0, 0, 0}), true},
		{"context not UTF-8", loginBody([]byte{1}, []byte("t"), []byte{1, 0, 0, 0}, []byte{0xff}), true},
		{"password not UTF-8, no token shape", loginBody([]byte{1}, []byte("u"), []byte{1}, []byte{0xff}, []byte{0, 0, 0, 0}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l wire.LoginRequest
			err := l.Decode(tc.body)
			if err == nil {
				t.Fatalf("decoded %+v", l)
			}
			if !errors.Is(err, wire.ErrMalformedLogin) {
				t.Fatalf("%v does not match ErrMalformedLogin", err)
			}
			if errors.Is(err, wire.ErrInvalidCommand) {
				t.Fatalf("%v matches ErrInvalidCommand", err)
			}
			if c := wire.CodeOf(err); c != wire.CodeInvalidFormat {
				t.Fatalf("code %d, want %d", c, wire.CodeInvalidFormat)
			}
			var me *wire.MalformedLoginError
			if !errors.As(err, &me) || me.VersionDecoded != tc.versionDecoded {
				t.Fatalf("%v: VersionDecoded = %v, want %v", err, me != nil && me.VersionDecoded, tc.versionDecoded)
			}
			if tc.versionDecoded && l.Version.SDKName != "go-sdk" {
				t.Fatalf("version not kept: %+v", l.Version)
			}
		})
	}
}

func TestProtocolAccepted(t *testing.T) {
	for _, tc := range []struct {
		v    uint32
		want bool
	}{
		{wire.PackVersion(0, 11, 0), true},
		{wire.PackVersion(0, 11, 7), true},
		{wire.PackVersion(0, 10, 9), false},
		{wire.PackVersion(0, 12, 0), false},
		{wire.PackVersion(1, 11, 0), false},
		{0, false},
	} {
		if got := wire.ProtocolAccepted(tc.v); got != tc.want {
			t.Errorf("ProtocolAccepted(%#x) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestRegisterReplyMalformed(t *testing.T) {
	ok := (&wire.RegisterReply{UserID: 1, Session: 2, ServerProtocol: 3, ServerVersion: "v"}).AppendTo(nil)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"16 bytes", ok[:16]},
		{"version overruns", ok[:len(ok)-1]},
		{"trailing byte", append(append([]byte(nil), ok...), 0)},
		{"session 0", (&wire.RegisterReply{UserID: 1}).AppendTo(nil)},
	} {
		var p wire.RegisterReply
		err := p.Decode(tc.b)
		if err == nil || wire.CodeOf(err) != wire.CodeInvalidCommand {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}
