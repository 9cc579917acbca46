package wire

import (
	"encoding/binary"
	"math"
	"unicode/utf8"
)

// Header value kinds: the kind byte of a key or value in a key/value block
// (options and message user headers). Part of the protocol.
const (
	KindRaw     uint8 = 1
	KindString  uint8 = 2
	KindBool    uint8 = 3
	KindInt8    uint8 = 4
	KindInt16   uint8 = 5
	KindInt32   uint8 = 6
	KindInt64   uint8 = 7
	KindInt128  uint8 = 8
	KindUint8   uint8 = 9
	KindUint16  uint8 = 10
	KindUint32  uint8 = 11
	KindUint64  uint8 = 12
	KindUint128 uint8 = 13
	KindFloat32 uint8 = 14
	KindFloat64 uint8 = 15
)

// Limits of key/value blocks. Part of the protocol.
const (
	// MaxKVField is the longest key or value: lengths are 1..MaxKVField.
	MaxKVField = 255
	// MaxOptions is the most entries an options block may hold.
	MaxOptions = 1024
	// MaxOptionsBytes is the largest encoded options block (and the
	// client-side cap of a message's user headers).
	MaxOptionsBytes = 100_000
)

// Sentinels of u64 settings (wire.md §4.4).
const (
	// ExpiryNever is the message expiry (or PAT expiry) that never expires.
	ExpiryNever uint64 = math.MaxUint64
	// MaxTopicSizeUnlimited is the max_topic_size without a limit.
	MaxTopicSizeUnlimited uint64 = math.MaxUint64
)

// KindSize returns the size a value of a fixed-width kind must have, or 0
// for a variable-width kind (Raw, String, or an unknown kind).
func KindSize(kind uint8) int {
	switch kind {
	case KindBool, KindInt8, KindUint8:
		return 1
	case KindInt16, KindUint16:
		return 2
	case KindInt32, KindUint32, KindFloat32:
		return 4
	case KindInt64, KindUint64, KindFloat64:
		return 8
	case KindInt128, KindUint128:
		return 16
	}
	return 0
}

// KV is one entry of a key/value block:
//
//	[key_kind u8][key_len u32][key][value_kind u8][value_len u32][value]
//
// Kinds are non-zero and both lengths are 1..255.
type KV struct {
	KeyKind   uint8
	Key       []byte
	ValueKind uint8
	Value     []byte
}

// Size returns the encoded size of kv.
func (kv KV) Size() int { return 10 + len(kv.Key) + len(kv.Value) }

// AppendTo appends the encoded entry.
func (kv KV) AppendTo(dst []byte) []byte {
	dst = append(dst, kv.KeyKind)
	dst = AppendU32(dst, uint32(len(kv.Key)))
	dst = append(dst, kv.Key...)
	dst = append(dst, kv.ValueKind)
	dst = AppendU32(dst, uint32(len(kv.Value)))
	return append(dst, kv.Value...)
}

// AppendKVs appends a key/value block (no length prefix).
func AppendKVs(dst []byte, kvs []KV) []byte {
	for _, kv := range kvs {
		dst = kv.AppendTo(dst)
	}
	return dst
}

// KVsSize returns the encoded size of a key/value block.
func KVsSize(kvs []KV) int {
	n := 0
	for _, kv := range kvs {
		n += kv.Size()
	}
	return n
}

// DecodeKVs decodes a key/value block that is exactly b, with the
// structural rules only (wire.md §4.2, messages.md §1.6): every kind is
// non-zero, every length is 1..255, entries come in key/value pairs and
// the block is consumed exactly. Any kind code other than 0 is accepted,
// and fixed-width values are not checked against their kind's size (see
// CheckKindSizes). The entries are copied out of b. An empty block
// decodes to nil.
func DecodeKVs(b []byte) ([]KV, error) {
	if len(b) == 0 {
		return nil, nil
	}
	// First pass: validate the structure and count the entries, so the
	// second pass allocates exactly once.
	n, err := walkKVs(b)
	if err != nil {
		return nil, err
	}
	buf := append([]byte(nil), b...)
	kvs := make([]KV, 0, n)
	off := 0
	field := func() (uint8, []byte) {
		k := buf[off]
		l := int(binary.LittleEndian.Uint32(buf[off+1:]))
		v := buf[off+5 : off+5+l : off+5+l]
		off += 5 + l
		return k, v
	}
	for off < len(buf) {
		var kv KV
		kv.KeyKind, kv.Key = field()
		kv.ValueKind, kv.Value = field()
		kvs = append(kvs, kv)
	}
	return kvs, nil
}

// walkKVs checks the structure of a key/value block and returns how many
// entries it holds.
func walkKVs(b []byte) (int, error) {
	off, fields := 0, 0
	for off < len(b) {
		if len(b)-off < 5 {
			return 0, Malformed("key/value block: truncated field header at offset %d", off)
		}
		if b[off] == 0 {
			return 0, Malformed("key/value block: kind 0 at offset %d", off)
		}
		l := binary.LittleEndian.Uint32(b[off+1:])
		if l == 0 || l > MaxKVField {
			return 0, Malformed("key/value block: field length %d at offset %d outside 1..%d", l, off+1, MaxKVField)
		}
		if int(l) > len(b)-off-5 {
			return 0, Malformed("key/value block: field of %d bytes at offset %d overruns the block", l, off+5)
		}
		off += 5 + int(l)
		fields++
	}
	if fields%2 != 0 {
		return 0, Malformed("key/value block: a key without a value")
	}
	return fields / 2, nil
}

// CheckKindSizes reports a malformed-input error if a key or value of a
// fixed-width kind (KindSize > 0) does not have that size. The Go SDK
// rejects such entries when it decodes replies.
func CheckKindSizes(kvs []KV) error {
	for i, kv := range kvs {
		if n := KindSize(kv.KeyKind); n > 0 && len(kv.Key) != n {
			return Malformed("key/value entry %d: key of kind %d has %d bytes, want %d", i, kv.KeyKind, len(kv.Key), n)
		}
		if n := KindSize(kv.ValueKind); n > 0 && len(kv.Value) != n {
			return Malformed("key/value entry %d: value of kind %d has %d bytes, want %d", i, kv.ValueKind, len(kv.Value), n)
		}
	}
	return nil
}

// Options is an options block (wire.md §4.2): key/value entries in wire
// order, whose keys are UTF-8 strings (kind 2), distinct, at most
// MaxOptions of them in at most MaxOptionsBytes. Value kinds are not
// restricted to the known ones (forward compatibility, as the reference).
//
// In requests the block runs to the end of the body; in replies it is a
// field, [len u32][block]. A nil or empty Options encodes as no bytes.
type Options []KV

// AppendTo appends the block without a length prefix.
func (o Options) AppendTo(dst []byte) []byte { return AppendKVs(dst, o) }

// Size returns the encoded size of the block (without a length prefix).
func (o Options) Size() int { return KVsSize(o) }

// Decode decodes a block that is exactly b and checks the options rules.
// An empty block decodes to nil.
func (o *Options) Decode(b []byte) error {
	if len(b) > MaxOptionsBytes {
		return Malformed("options block of %d bytes exceeds %d", len(b), MaxOptionsBytes)
	}
	kvs, err := DecodeKVs(b)
	if err != nil {
		return err
	}
	if err := Options(kvs).Validate(); err != nil {
		return err
	}
	*o = kvs
	return nil
}

// Validate checks the options rules on o, the rules Decode enforces: the
// structural ones (non-zero kinds, lengths 1..255), key kind String and
// valid UTF-8, distinct keys, at most MaxOptions entries, at most
// MaxOptionsBytes encoded. An encoder's caller may use it before sending.
func (o Options) Validate() error {
	if len(o) > MaxOptions {
		return Malformed("options block has %d entries, more than %d", len(o), MaxOptions)
	}
	if n := o.Size(); n > MaxOptionsBytes {
		return Malformed("options block of %d bytes exceeds %d", n, MaxOptionsBytes)
	}
	seen := make(map[string]struct{}, len(o))
	for i, kv := range o {
		if kv.KeyKind == 0 || kv.ValueKind == 0 {
			return Malformed("option %d: kind 0", i)
		}
		if len(kv.Key) == 0 || len(kv.Key) > MaxKVField || len(kv.Value) == 0 || len(kv.Value) > MaxKVField {
			return Malformed("option %d: key or value length outside 1..%d", i, MaxKVField)
		}
		if kv.KeyKind != KindString {
			return Malformed("option %d: key kind %d is not a string", i, kv.KeyKind)
		}
		if !utf8.Valid(kv.Key) {
			return Malformed("option %d: key is not UTF-8", i)
		}
		if _, dup := seen[string(kv.Key)]; dup {
			return Malformed("duplicate option key %q", kv.Key)
		}
		seen[string(kv.Key)] = struct{}{}
	}
	return nil
}

// Get returns the entry whose key is key.
func (o Options) Get(key string) (KV, bool) {
	for _, kv := range o {
		if string(kv.Key) == key {
			return kv, true
		}
	}
	return KV{}, false
}

// appendOptionsField appends [len u32][block].
func appendOptionsField(dst []byte, o Options) []byte {
	dst = AppendU32(dst, uint32(o.Size()))
	return o.AppendTo(dst)
}

// readOptionsField reads [len u32][block] from a reply and checks, as the
// Go SDK does, that fixed-width values have their kind's size.
func readOptionsField(r *Reader) Options {
	n := r.U32()
	if r.Err() != nil {
		return nil
	}
	if uint64(n) > uint64(r.Len()) {
		r.Failf("options block of %d bytes at offset %d overruns the body", n, r.Offset()-4)
		return nil
	}
	b := r.Bytes(int(n))
	var o Options
	if err := o.Decode(b); err != nil {
		r.Fail(err)
		return nil
	}
	if err := CheckKindSizes(o); err != nil {
		r.Fail(err)
		return nil
	}
	return o
}

// readOptionsRest reads the options block that runs to the end of a
// request body.
func readOptionsRest(r *Reader) Options {
	b := r.Rest()
	if r.Err() != nil {
		return nil
	}
	var o Options
	if err := o.Decode(b); err != nil {
		r.Fail(err)
		return nil
	}
	return o
}

// StringKV returns an option entry key = String value.
func StringKV(key, value string) KV {
	return KV{KeyKind: KindString, Key: []byte(key), ValueKind: KindString, Value: []byte(value)}
}

// BoolKV returns an option entry key = Bool value.
func BoolKV(key string, value bool) KV {
	return KV{KeyKind: KindString, Key: []byte(key), ValueKind: KindBool, Value: AppendBool(nil, value)}
}

// Uint8KV returns an option entry key = Uint8 value.
func Uint8KV(key string, value uint8) KV {
	return KV{KeyKind: KindString, Key: []byte(key), ValueKind: KindUint8, Value: []byte{value}}
}

// Uint32KV returns an option entry key = Uint32 value.
func Uint32KV(key string, value uint32) KV {
	return KV{KeyKind: KindString, Key: []byte(key), ValueKind: KindUint32, Value: AppendU32(nil, value)}
}

// Uint64KV returns an option entry key = Uint64 value.
func Uint64KV(key string, value uint64) KV {
	return KV{KeyKind: KindString, Key: []byte(key), ValueKind: KindUint64, Value: AppendU64(nil, value)}
}

// AsString returns the value of a String entry.
func (kv KV) AsString() (string, bool) {
	if kv.ValueKind != KindString || !utf8.Valid(kv.Value) {
		return "", false
	}
	return string(kv.Value), true
}

// AsBool returns the value of a Bool entry (one byte, 0 or 1).
func (kv KV) AsBool() (bool, bool) {
	if kv.ValueKind != KindBool || len(kv.Value) != 1 || kv.Value[0] > 1 {
		return false, false
	}
	return kv.Value[0] == 1, true
}

// AsUint8 returns the value of a Uint8 entry.
func (kv KV) AsUint8() (uint8, bool) {
	if kv.ValueKind != KindUint8 || len(kv.Value) != 1 {
		return 0, false
	}
	return kv.Value[0], true
}

// AsUint32 returns the value of a Uint32 entry.
func (kv KV) AsUint32() (uint32, bool) {
	if kv.ValueKind != KindUint32 || len(kv.Value) != 4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(kv.Value), true
}

// AsUint64 returns the value of a Uint64 entry.
func (kv KV) AsUint64() (uint64, bool) {
	if kv.ValueKind != KindUint64 || len(kv.Value) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(kv.Value), true
}
