package client

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/shoalstream/shoal/internal/wire"
)

// HeaderKind is the kind of a user-header key or value (the protocol's
// kind byte).
type HeaderKind uint8

// Header kinds. Part of the protocol.
const (
	KindRaw     = HeaderKind(wire.KindRaw)
	KindString  = HeaderKind(wire.KindString)
	KindBool    = HeaderKind(wire.KindBool)
	KindInt8    = HeaderKind(wire.KindInt8)
	KindInt16   = HeaderKind(wire.KindInt16)
	KindInt32   = HeaderKind(wire.KindInt32)
	KindInt64   = HeaderKind(wire.KindInt64)
	KindInt128  = HeaderKind(wire.KindInt128)
	KindUint8   = HeaderKind(wire.KindUint8)
	KindUint16  = HeaderKind(wire.KindUint16)
	KindUint32  = HeaderKind(wire.KindUint32)
	KindUint64  = HeaderKind(wire.KindUint64)
	KindUint128 = HeaderKind(wire.KindUint128)
	KindFloat32 = HeaderKind(wire.KindFloat32)
	KindFloat64 = HeaderKind(wire.KindFloat64)
)

// MaxUserHeadersSize is the largest encoded user-header block of one
// message.
const MaxUserHeadersSize = wire.MaxOptionsBytes

// HeaderValue is a typed key or value of a user header: its kind and its
// bytes as they travel (numbers little-endian).
type HeaderValue struct {
	Kind HeaderKind
	Data []byte
}

// Header is one user header of a message. Keys are usually strings, but
// any kind is allowed.
type Header struct {
	Key, Value HeaderValue
}

// NewHeader returns a header with a string key.
func NewHeader(key string, value HeaderValue) Header {
	return Header{Key: StringValue(key), Value: value}
}

// RawValue returns a Raw value (1..255 bytes).
func RawValue(b []byte) HeaderValue { return HeaderValue{Kind: KindRaw, Data: b} }

// StringValue returns a String value (1..255 bytes of UTF-8).
func StringValue(s string) HeaderValue { return HeaderValue{Kind: KindString, Data: []byte(s)} }

// BoolValue returns a Bool value.
func BoolValue(v bool) HeaderValue {
	return HeaderValue{Kind: KindBool, Data: wire.AppendBool(nil, v)}
}

// Int8Value returns an Int8 value.
func Int8Value(v int8) HeaderValue { return HeaderValue{Kind: KindInt8, Data: []byte{byte(v)}} }

// Int16Value returns an Int16 value.
func Int16Value(v int16) HeaderValue {
	return HeaderValue{Kind: KindInt16, Data: wire.AppendU16(nil, uint16(v))}
}

// Int32Value returns an Int32 value.
func Int32Value(v int32) HeaderValue {
	return HeaderValue{Kind: KindInt32, Data: wire.AppendU32(nil, uint32(v))}
}

// Int64Value returns an Int64 value.
func Int64Value(v int64) HeaderValue {
	return HeaderValue{Kind: KindInt64, Data: wire.AppendU64(nil, uint64(v))}
}

// Int128Value returns an Int128 value from its 16 little-endian bytes.
func Int128Value(le [16]byte) HeaderValue {
	return HeaderValue{Kind: KindInt128, Data: append([]byte(nil), le[:]...)}
}

// Uint8Value returns a Uint8 value.
func Uint8Value(v uint8) HeaderValue { return HeaderValue{Kind: KindUint8, Data: []byte{v}} }

// Uint16Value returns a Uint16 value.
func Uint16Value(v uint16) HeaderValue {
	return HeaderValue{Kind: KindUint16, Data: wire.AppendU16(nil, v)}
}

// Uint32Value returns a Uint32 value.
func Uint32Value(v uint32) HeaderValue {
	return HeaderValue{Kind: KindUint32, Data: wire.AppendU32(nil, v)}
}

// Uint64Value returns a Uint64 value.
func Uint64Value(v uint64) HeaderValue {
	return HeaderValue{Kind: KindUint64, Data: wire.AppendU64(nil, v)}
}

// Uint128Value returns a Uint128 value from its 16 little-endian bytes.
func Uint128Value(le [16]byte) HeaderValue {
	return HeaderValue{Kind: KindUint128, Data: append([]byte(nil), le[:]...)}
}

// Float32Value returns a Float32 value.
func Float32Value(v float32) HeaderValue {
	return HeaderValue{Kind: KindFloat32, Data: wire.AppendF32(nil, v)}
}

// Float64Value returns a Float64 value.
func Float64Value(v float64) HeaderValue {
	return HeaderValue{Kind: KindFloat64, Data: wire.AppendU64(nil, math.Float64bits(v))}
}

func (v HeaderValue) kindError(want string) error {
	return ErrInvalidHeaderValue.With("a %s header value of kind %d and %d bytes", want, v.Kind, len(v.Data))
}

// AsString returns the text of a String value.
func (v HeaderValue) AsString() (string, error) {
	if v.Kind != KindString || !utf8.Valid(v.Data) {
		return "", v.kindError("string")
	}
	return string(v.Data), nil
}

// AsBool returns the value of a Bool.
func (v HeaderValue) AsBool() (bool, error) {
	if v.Kind != KindBool || len(v.Data) != 1 {
		return false, v.kindError("bool")
	}
	return v.Data[0] != 0, nil
}

// AsInt returns the value of an Int8, Int16, Int32 or Int64.
func (v HeaderValue) AsInt() (int64, error) {
	if wire.KindSize(uint8(v.Kind)) != len(v.Data) {
		return 0, v.kindError("signed integer")
	}
	switch v.Kind {
	case KindInt8:
		return int64(int8(v.Data[0])), nil
	case KindInt16:
		return int64(int16(binary.LittleEndian.Uint16(v.Data))), nil
	case KindInt32:
		return int64(int32(binary.LittleEndian.Uint32(v.Data))), nil
	case KindInt64:
		return int64(binary.LittleEndian.Uint64(v.Data)), nil
	}
	return 0, v.kindError("signed integer")
}

// AsUint returns the value of a Uint8, Uint16, Uint32 or Uint64.
func (v HeaderValue) AsUint() (uint64, error) {
	if wire.KindSize(uint8(v.Kind)) != len(v.Data) {
		return 0, v.kindError("unsigned integer")
	}
	switch v.Kind {
	case KindUint8:
		return uint64(v.Data[0]), nil
	case KindUint16:
		return uint64(binary.LittleEndian.Uint16(v.Data)), nil
	case KindUint32:
		return uint64(binary.LittleEndian.Uint32(v.Data)), nil
	case KindUint64:
		return binary.LittleEndian.Uint64(v.Data), nil
	}
	return 0, v.kindError("unsigned integer")
}

// AsFloat returns the value of a Float32 or Float64.
func (v HeaderValue) AsFloat() (float64, error) {
	switch {
	case v.Kind == KindFloat32 && len(v.Data) == 4:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(v.Data))), nil
	case v.Kind == KindFloat64 && len(v.Data) == 8:
		return math.Float64frombits(binary.LittleEndian.Uint64(v.Data)), nil
	}
	return 0, v.kindError("float")
}

// String formats the value for people: text for strings, numbers for
// numbers, hex otherwise.
func (v HeaderValue) String() string {
	if s, err := v.AsString(); err == nil {
		return strconv.Quote(s)
	}
	if b, err := v.AsBool(); err == nil {
		return strconv.FormatBool(b)
	}
	if i, err := v.AsInt(); err == nil {
		return strconv.FormatInt(i, 10)
	}
	if u, err := v.AsUint(); err == nil {
		return strconv.FormatUint(u, 10)
	}
	if f, err := v.AsFloat(); err == nil {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprintf("%x", v.Data)
}

// checkHeaderValue checks the structural rules of a key or value: a known
// kind, 1..255 bytes, the size of a fixed-width kind.
func checkHeaderValue(v HeaderValue, code uint32, what string) error {
	if v.Kind < KindRaw || v.Kind > KindFloat64 {
		return errorf(code, "%s of unknown kind %d", what, v.Kind)
	}
	if len(v.Data) < 1 || len(v.Data) > wire.MaxKVField {
		return errorf(code, "%s of %d bytes (1..%d)", what, len(v.Data), wire.MaxKVField)
	}
	if n := wire.KindSize(uint8(v.Kind)); n != 0 && n != len(v.Data) {
		return errorf(code, "%s of kind %d has %d bytes, not %d", what, v.Kind, len(v.Data), n)
	}
	if v.Kind == KindString && !utf8.Valid(v.Data) {
		return errorf(code, "%s is not UTF-8", what)
	}
	return nil
}

// AppendHeaders appends the user-header block of hs (no length prefix).
// Every key and value must be 1..255 bytes of a known kind (fixed-width
// kinds at their size), and the block at most MaxUserHeadersSize bytes.
func AppendHeaders(dst []byte, hs []Header) ([]byte, error) {
	start := len(dst)
	for i, h := range hs {
		if err := checkHeaderValue(h.Key, codeInvalidHeaderKey, fmt.Sprintf("header %d key", i)); err != nil {
			return dst[:start], err
		}
		if err := checkHeaderValue(h.Value, codeInvalidHeaderValue, fmt.Sprintf("header %d value", i)); err != nil {
			return dst[:start], err
		}
		dst = wire.KV{KeyKind: uint8(h.Key.Kind), Key: h.Key.Data, ValueKind: uint8(h.Value.Kind), Value: h.Value.Data}.AppendTo(dst)
	}
	if n := len(dst) - start; n > MaxUserHeadersSize {
		return dst[:start], ErrTooBigUserHeaders.With("%d bytes of user headers (at most %d)", n, MaxUserHeadersSize)
	}
	return dst, nil
}

// ParseHeaders decodes a user-header block. The headers alias nothing in
// b.
func ParseHeaders(b []byte) ([]Header, error) {
	kvs, err := wire.DecodeKVs(b)
	if err != nil {
		return nil, fmt.Errorf("decoding user headers: %w", err)
	}
	if err := wire.CheckKindSizes(kvs); err != nil {
		return nil, fmt.Errorf("decoding user headers: %w", err)
	}
	if len(kvs) == 0 {
		return nil, nil
	}
	hs := make([]Header, len(kvs))
	for i, kv := range kvs {
		hs[i] = Header{
			Key:   HeaderValue{Kind: HeaderKind(kv.KeyKind), Data: kv.Key},
			Value: HeaderValue{Kind: HeaderKind(kv.ValueKind), Data: kv.Value},
		}
	}
	return hs, nil
}
