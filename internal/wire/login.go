package wire

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Register (login) bodies, wire.md §2.4. Both logins travel as OpRegister
// with no command code in the header; only the shape of the body says
// whether it carries a password or a personal access token:
//
//	prefix (ClientVersion)
//	  protocol_version  u32    packed (PackVersion)
//	  sdk_name          name8  1..255 bytes
//	  sdk_version       name8  1..255 bytes
//	password tail   [username name8][password_len u8][password][context_len u32][context]
//	token tail      [token_len u8][token][context_len u32][context]
//
// Password, token and context are 0..255, 0..255 and 0..2^32-1 bytes of
// UTF-8.

// MinProtocolVersion is the oldest client protocol shoal accepts.
const MinProtocolVersion = ProtocolVersion

// ProtocolAccepted reports whether a client speaking protocol version v may
// register: v ≥ MinProtocolVersion and its major.minor is not newer than
// the server's (the patch is ignored), wire.md §2.4 step 2. A refused
// client is evicted with EvictIncompatibleProtocol.
func ProtocolAccepted(v uint32) bool {
	return v >= MinProtocolVersion && v>>10 <= ProtocolVersion>>10
}

// ClientVersion is the prefix both Register bodies share.
type ClientVersion struct {
	Protocol   uint32
	SDKName    string
	SDKVersion string
}

// AppendTo appends the encoded prefix.
func (v ClientVersion) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, v.Protocol)
	dst = AppendName8(dst, v.SDKName)
	return AppendName8(dst, v.SDKVersion)
}

// ErrMalformedLogin is matched (errors.Is) by every error
// LoginRequest.Decode returns: the server answers it with an eviction,
// reason EvictMalformedLogin, once the version gate has passed (see
// MalformedLoginError.VersionDecoded).
var ErrMalformedLogin = errors.New("malformed login body")

// MalformedLoginError is the error LoginRequest.Decode returns. It matches
// ErrMalformedLogin, and unwraps to an *Error with CodeInvalidFormat, the
// code a client reports for an EvictMalformedLogin eviction.
type MalformedLoginError struct {
	// VersionDecoded is true when the ClientVersion prefix decoded (the
	// request's Version is then set) and only the tail failed: the server
	// applies the version gate (ProtocolAccepted, eviction 14) before it
	// evicts for the body (15). False when the prefix itself is malformed
	// (eviction 15 at once).
	VersionDecoded bool
	// Detail says what failed; with VersionDecoded, why the body is
	// neither a password tail nor a token tail.
	Detail string
}

func (e *MalformedLoginError) Error() string { return "malformed login body: " + e.Detail }

// Is matches ErrMalformedLogin.
func (e *MalformedLoginError) Is(target error) bool { return target == ErrMalformedLogin }

// Unwrap returns the *Error (CodeInvalidFormat) a client reports.
func (e *MalformedLoginError) Unwrap() error {
	return ErrorForCode(CodeInvalidFormat).With("%s", e.Detail)
}

// LoginRequest is a Register body: LoginRegister (password, WithToken
// false) or LoginRegisterWithPat (Token, WithToken true).
type LoginRequest struct {
	Version  ClientVersion
	Username string // password login only
	Password string // password login only
	Token    string // token login only
	// WithToken selects the token tail.
	WithToken bool
	// Context is the optional client context; nil when context_len is 0.
	// The Go SDK always sends none.
	Context []byte
}

// Code returns the command the body carries: CmdLoginRegister or
// CmdLoginRegisterWithPAT.
func (l *LoginRequest) Code() uint32 {
	if l.WithToken {
		return CmdLoginRegisterWithPAT
	}
	return CmdLoginRegister
}

// AppendTo appends the encoded body. Username must be 1..255 bytes,
// Password and Token at most 255: longer strings are cut.
func (l *LoginRequest) AppendTo(dst []byte) []byte {
	dst = l.Version.AppendTo(dst)
	if l.WithToken {
		dst = appendCutStr8(dst, l.Token)
	} else {
		dst = AppendName8(dst, l.Username)
		dst = appendCutStr8(dst, l.Password)
	}
	dst = AppendU32(dst, uint32(len(l.Context)))
	return append(dst, l.Context...)
}

// Decode decodes a Register body and classifies it by shape: a tail that
// is exactly a password tail is a password login, else a tail that is
// exactly a token tail is a token login. A body that fits both exactly
// (possible only with a non-empty context) reads as a password login, the
// shape the reference server tries first. Failing both, a tail whose
// front is a password tail (trailing bytes ignored, as the reference
// does) is a password login, then likewise a token tail. Strings are
// copied: l does not alias b.
//
// Every error is a *MalformedLoginError (errors.Is ErrMalformedLogin).
// When only the tail is malformed, l.Version is still set, so the server
// can apply the version gate first.
func (l *LoginRequest) Decode(b []byte) error {
	*l = LoginRequest{}
	r := NewReader(b)
	v := ClientVersion{Protocol: r.U32(), SDKName: r.Name8(), SDKVersion: r.Name8()}
	if err := r.Err(); err != nil {
		return &MalformedLoginError{Detail: "client version prefix: " + err.Error()}
	}
	tail := b[r.Offset():]
	pw, pwEnd, pwErr := decodePasswordTail(tail)
	tok, tokEnd, tokErr := decodeTokenTail(tail)
	switch {
	case pwErr == nil && pwEnd == len(tail):
		*l = pw
	case tokErr == nil && tokEnd == len(tail):
		*l = tok
	case pwErr == nil:
		*l = pw
	case tokErr == nil:
		*l = tok
	default:
		l.Version = v
		return &MalformedLoginError{
			VersionDecoded: true,
			Detail:         fmt.Sprintf("not a password tail (%v) nor a token tail (%v)", pwErr, tokErr),
		}
	}
	l.Version = v
	return nil
}

// decodePasswordTail reads [username name8][password str8][context] from
// the front of t and returns how many bytes it used.
func decodePasswordTail(t []byte) (LoginRequest, int, error) {
	r := NewReader(t)
	user := r.Name8()
	pass := readUTF8Str8(r, "password")
	ctx := readContext(r)
	if err := r.Err(); err != nil {
		return LoginRequest{}, 0, err
	}
	return LoginRequest{Username: user, Password: pass, Context: ctx}, r.Offset(), nil
}

// decodeTokenTail reads [token str8][context] from the front of t and
// returns how many bytes it used.
func decodeTokenTail(t []byte) (LoginRequest, int, error) {
	r := NewReader(t)
	tok := readUTF8Str8(r, "token")
	ctx := readContext(r)
	if err := r.Err(); err != nil {
		return LoginRequest{}, 0, err
	}
	return LoginRequest{Token: tok, WithToken: true, Context: ctx}, r.Offset(), nil
}

// readUTF8Str8 reads [len u8][len bytes UTF-8], len 0..255.
func readUTF8Str8(r *Reader, what string) string {
	n := int(r.U8())
	b := r.Bytes(n)
	if r.Err() != nil {
		return ""
	}
	if !utf8.Valid(b) {
		r.Failf("%s is not UTF-8", what)
		return ""
	}
	return string(b)
}

// readContext reads [len u32][len bytes UTF-8], bounded by the bytes left;
// nil when len is 0.
func readContext(r *Reader) []byte {
	n := r.U32()
	if r.Err() != nil || n == 0 {
		return nil
	}
	if uint64(n) > uint64(r.Len()) {
		r.Failf("context of %d bytes overruns the body", n)
		return nil
	}
	b := r.Bytes(int(n))
	if !utf8.Valid(b) {
		r.Failf("context is not UTF-8")
		return nil
	}
	return append([]byte(nil), b...)
}

// appendCutStr8 appends [len u8][bytes], 0..255 bytes (longer strings are
// cut).
func appendCutStr8(dst []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	dst = append(dst, byte(len(s)))
	return append(dst, s...)
}

// RegisterReply is the payload of a successful Register reply, after its
// result section (the server sends AppendResultOK then this):
//
//	[user_id u32][session u64][server_protocol_version u32][server_version str8]
type RegisterReply struct {
	UserID         uint32
	Session        uint64 // must be > 0
	ServerProtocol uint32
	ServerVersion  string // the SDK accepts an empty one; at most 255 bytes
}

// AppendTo appends the encoded payload (without the result section).
func (p *RegisterReply) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, p.UserID)
	dst = AppendU64(dst, p.Session)
	dst = AppendU32(dst, p.ServerProtocol)
	return appendCutStr8(dst, p.ServerVersion)
}

// Decode decodes the payload after the result section (see StripResult).
// Like the Go SDK it accepts an empty server version and refuses session
// 0; unlike it, it refuses trailing bytes.
func (p *RegisterReply) Decode(b []byte) error {
	r := NewReader(b)
	*p = RegisterReply{
		UserID:         r.U32(),
		Session:        r.U64(),
		ServerProtocol: r.U32(),
		ServerVersion:  r.Str8(),
	}
	if err := r.Complete(); err != nil {
		*p = RegisterReply{}
		return err
	}
	if p.Session == 0 {
		*p = RegisterReply{}
		return Malformed("register reply with session 0")
	}
	return nil
}
