package wire

import (
	"encoding/binary"
	"io"
)

// Frame sizes. Part of the protocol.
const (
	HeaderSize   = 256
	MaxFrameSize = 64 << 20
)

// Frame command bytes (header offset 60).
const (
	FrameRequest  uint8 = 5
	FrameReply    uint8 = 8
	FrameEviction uint8 = 13
)

// Header offsets. Part of the protocol.
const (
	offSize         = 48
	offCommand      = 60
	offReqClient    = 128
	offReqChecksum  = 144
	offReqRequest   = 168
	offReqOperation = 176
	offReqSession   = 184
	offReqCode      = 196
	offRepReqCksum  = 128
	offRepClient    = 160
	offRepRequest   = 200
	offRepOperation = 208
	offRepStatus    = 216
	offEvClient     = 128
	offEvVersionMax = 144
	offEvVersionMin = 148
	offEvReason     = 255
)

// ProtocolVersion is the packed version shoal speaks (0.11.0):
// major<<20 | minor<<10 | patch.
const ProtocolVersion uint32 = 0<<20 | 11<<10 | 0

// PackVersion packs a semantic version the protocol's way.
func PackVersion(major, minor, patch uint32) uint32 { return major<<20 | minor<<10 | patch }

// Uint128 is a 128-bit value as the protocol carries it: low half first.
type Uint128 struct{ Lo, Hi uint64 }

// IsZero reports whether u is 0.
func (u Uint128) IsZero() bool { return u.Lo == 0 && u.Hi == 0 }

// FrameSize returns the size field of a 256-byte header and checks it is in
// [HeaderSize, max] (max ≤ 0 means MaxFrameSize).
func FrameSize(h []byte, max int) (int, error) {
	if len(h) < HeaderSize {
		return 0, Malformed("frame header of %d bytes", len(h))
	}
	if max <= 0 || max > MaxFrameSize {
		max = MaxFrameSize
	}
	n := binary.LittleEndian.Uint32(h[offSize:])
	if n < HeaderSize || uint64(n) > uint64(max) {
		return 0, Malformed("frame size %d outside [%d, %d]", n, HeaderSize, max)
	}
	return int(n), nil
}

// ReadFrame reads one frame from r into buf (grown as needed) and returns
// it. A size outside [HeaderSize, max] is an error before any body byte is
// read or allocated.
func ReadFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	if cap(buf) < HeaderSize {
		buf = make([]byte, HeaderSize, 4096)
	}
	buf = buf[:HeaderSize]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n, err := FrameSize(buf, max)
	if err != nil {
		return nil, err
	}
	if cap(buf) < n {
		nb := make([]byte, n)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[HeaderSize:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// Request is the header of a request frame.
type Request struct {
	Client    Uint128
	Checksum  Uint128 // request_checksum; clients send 0
	Request   uint64
	Operation uint8
	Session   uint64
	// Code is the command code; on the wire only when Operation is
	// OpNonReplicated. ParseRequest fills it from the operation otherwise
	// (Register bodies say which login it is only by their shape: Code
	// is then CmdLoginRegister).
	Code uint32
}

// ParseRequest decodes the header of a request frame and returns it with
// the body. frame must hold exactly one frame (as ReadFrame returns).
func ParseRequest(frame []byte) (Request, []byte, error) {
	n, err := FrameSize(frame, 0)
	if err != nil {
		return Request{}, nil, err
	}
	if n != len(frame) {
		return Request{}, nil, Malformed("frame size %d but %d bytes", n, len(frame))
	}
	if c := frame[offCommand]; c != FrameRequest {
		return Request{}, nil, Malformed("frame command %d is not a request", c)
	}
	le := binary.LittleEndian
	h := Request{
		Client:    Uint128{le.Uint64(frame[offReqClient:]), le.Uint64(frame[offReqClient+8:])},
		Checksum:  Uint128{le.Uint64(frame[offReqChecksum:]), le.Uint64(frame[offReqChecksum+8:])},
		Request:   le.Uint64(frame[offReqRequest:]),
		Operation: frame[offReqOperation],
		Session:   le.Uint64(frame[offReqSession:]),
	}
	if h.Operation == OpNonReplicated {
		h.Code = le.Uint32(frame[offReqCode:])
	} else {
		h.Code = CodeForOp(h.Operation)
	}
	return h, frame[HeaderSize:], nil
}

// AppendRequest appends a request frame: header then body. For
// OpNonReplicated the code goes at offset 196.
func AppendRequest(dst []byte, h Request, body []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	f := dst[start:]
	le := binary.LittleEndian
	le.PutUint32(f[offSize:], uint32(HeaderSize+len(body)))
	f[offCommand] = FrameRequest
	le.PutUint64(f[offReqClient:], h.Client.Lo)
	le.PutUint64(f[offReqClient+8:], h.Client.Hi)
	le.PutUint64(f[offReqChecksum:], h.Checksum.Lo)
	le.PutUint64(f[offReqChecksum+8:], h.Checksum.Hi)
	le.PutUint64(f[offReqRequest:], h.Request)
	f[offReqOperation] = h.Operation
	le.PutUint64(f[offReqSession:], h.Session)
	if h.Operation == OpNonReplicated {
		le.PutUint32(f[offReqCode:], h.Code)
	}
	return append(dst, body...)
}

// Reply is the header of a reply frame, as a client reads it.
type Reply struct {
	Request   uint64
	Operation uint8
	Status    uint32
}

// AppendReplyHeader appends the 256-byte header of a reply to req whose
// body will be bodyLen bytes, echoing the request's id, operation, client
// and checksum. The caller appends the body.
func AppendReplyHeader(dst []byte, req Request, op uint8, status uint32, bodyLen int) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	f := dst[start:]
	le := binary.LittleEndian
	le.PutUint32(f[offSize:], uint32(HeaderSize+bodyLen))
	f[offCommand] = FrameReply
	le.PutUint64(f[offRepReqCksum:], req.Checksum.Lo)
	le.PutUint64(f[offRepReqCksum+8:], req.Checksum.Hi)
	le.PutUint64(f[offRepClient:], req.Client.Lo)
	le.PutUint64(f[offRepClient+8:], req.Client.Hi)
	le.PutUint64(f[offRepRequest:], req.Request)
	f[offRepOperation] = op
	le.PutUint32(f[offRepStatus:], status)
	return dst
}

// AppendEviction appends an eviction frame (header only).
// versionMax and versionMin are sent only with EvictIncompatibleProtocol.
func AppendEviction(dst []byte, client Uint128, reason uint8, versionMax, versionMin uint32) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	f := dst[start:]
	le := binary.LittleEndian
	le.PutUint32(f[offSize:], HeaderSize)
	f[offCommand] = FrameEviction
	if client.IsZero() {
		client.Lo = 1 // the eviction's client must be non-zero
	}
	le.PutUint64(f[offEvClient:], client.Lo)
	le.PutUint64(f[offEvClient+8:], client.Hi)
	if reason == EvictIncompatibleProtocol {
		le.PutUint32(f[offEvVersionMax:], versionMax)
		le.PutUint32(f[offEvVersionMin:], versionMin)
	}
	f[offEvReason] = reason
	return dst
}

// ParseReply decodes a frame a client read in answer to a request: a reply
// (its header and body) or an eviction (returned as the *Error the client
// reports, with the reply zero).
func ParseReply(frame []byte) (Reply, []byte, error) {
	n, err := FrameSize(frame, 0)
	if err != nil {
		return Reply{}, nil, err
	}
	if n != len(frame) {
		return Reply{}, nil, Malformed("frame size %d but %d bytes", n, len(frame))
	}
	switch frame[offCommand] {
	case FrameEviction:
		return Reply{}, nil, EvictionError(frame[offEvReason])
	case FrameReply:
	default:
		return Reply{}, nil, Malformed("frame command %d is not a reply", frame[offCommand])
	}
	le := binary.LittleEndian
	return Reply{
		Request:   le.Uint64(frame[offRepRequest:]),
		Operation: frame[offRepOperation],
		Status:    le.Uint32(frame[offRepStatus:]),
	}, frame[HeaderSize:], nil
}

// AppendResultOK appends the success result section (count 0).
func AppendResultOK(dst []byte) []byte { return AppendU32(dst, 0) }

// AppendResultErr appends a committed rejection: one entry {0, code}.
func AppendResultErr(dst []byte, code uint32) []byte {
	dst = AppendU32(dst, 1)
	dst = AppendU32(dst, 0)
	return AppendU32(dst, code)
}

// StripResult reads the result section at the start of a framed reply
// body: it returns the payload after it, or the error its first entry
// carries.
func StripResult(body []byte) ([]byte, error) {
	r := NewReader(body)
	n := r.U32()
	if r.Err() != nil {
		return nil, Malformed("reply has no result section")
	}
	if n > 0 {
		r.U32()
		res := r.U32()
		if r.Err() != nil {
			return nil, Malformed("truncated result section")
		}
		if res != 0 {
			return nil, ErrorForCode(res)
		}
		if uint64(n) > uint64(len(body)-4)/8 {
			return nil, Malformed("result section of %d entries overruns the body", n)
		}
	}
	return body[4+8*int(n):], nil
}
