package wire

import (
	"encoding/binary"
	"math"
	"unicode/utf8"
)

// Reader decodes little-endian values from a byte slice. Its getters return
// zero values once the input is exhausted or malformed and latch the first
// error, which Err (or Complete) reports; a decoder checks once, at the end.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Offset returns how many bytes have been consumed.
func (r *Reader) Offset() int { return r.off }

// Len returns how many bytes are left.
func (r *Reader) Len() int {
	if r.err != nil {
		return 0
	}
	return len(r.b) - r.off
}

// Fail latches err (if no error is latched yet).
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Failf latches a malformed-input error with code CodeInvalidCommand.
func (r *Reader) Failf(format string, args ...any) {
	r.Fail(Malformed(format, args...))
}

// Complete returns the latched error, or an error if bytes are left over.
func (r *Reader) Complete() error {
	if r.err != nil {
		return r.err
	}
	if r.off != len(r.b) {
		return Malformed("%d trailing bytes", len(r.b)-r.off)
	}
	return nil
}

func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = Malformed("truncated: need %d bytes at offset %d, have %d", n, r.off, len(r.b)-r.off)
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

// U8 reads a u8.
func (r *Reader) U8() uint8 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// Bool reads a one-byte boolean: any non-zero byte is true.
func (r *Reader) Bool() bool { return r.U8() != 0 }

// U16 reads a u16.
func (r *Reader) U16() uint16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

// U32 reads a u32.
func (r *Reader) U32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// U64 reads a u64.
func (r *Reader) U64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// F32 reads an IEEE-754 single.
func (r *Reader) F32() float32 { return math.Float32frombits(r.U32()) }

// Bytes reads n bytes; the result aliases the input.
func (r *Reader) Bytes(n int) []byte { return r.take(n) }

// Rest reads every byte left; the result aliases the input.
func (r *Reader) Rest() []byte {
	if r.err != nil {
		return nil
	}
	return r.take(len(r.b) - r.off)
}

// Name8 reads [len u8][len bytes UTF-8] with len in 1..255.
func (r *Reader) Name8() string {
	n := int(r.U8())
	if r.err != nil {
		return ""
	}
	if n == 0 {
		r.Failf("empty name at offset %d", r.off-1)
		return ""
	}
	b := r.take(n)
	if b != nil && !utf8.Valid(b) {
		r.Failf("name at offset %d is not UTF-8", r.off-n)
		return ""
	}
	return string(b)
}

// Str8 reads [len u8][len bytes], len 0..255, not checked for UTF-8
// (passwords and tokens).
func (r *Reader) Str8() string {
	n := int(r.U8())
	return string(r.take(n))
}

// Str32 reads [len u32][len bytes UTF-8], bounded by the bytes at hand.
func (r *Reader) Str32() string {
	n := r.U32()
	if r.err != nil {
		return ""
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.Failf("string of %d bytes at offset %d overruns the body", n, r.off-4)
		return ""
	}
	b := r.take(int(n))
	if !utf8.Valid(b) {
		r.Failf("string at offset %d is not UTF-8", r.off-int(n))
		return ""
	}
	return string(b)
}

// Count reads a u32 element count and checks that count elements of at
// least minSize bytes each can fit in what is left, so a caller may
// allocate count elements.
func (r *Reader) Count(minSize int) int {
	n := r.U32()
	if r.err != nil {
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.b)-r.off) {
		r.Failf("count %d at offset %d overruns the body", n, r.off-4)
		return 0
	}
	return int(n)
}

// AppendU8 appends v.
func AppendU8(dst []byte, v uint8) []byte { return append(dst, v) }

// AppendBool appends 1 or 0.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// AppendU16 appends v little-endian.
func AppendU16(dst []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(dst, v) }

// AppendU32 appends v little-endian.
func AppendU32(dst []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(dst, v) }

// AppendU64 appends v little-endian.
func AppendU64(dst []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(dst, v) }

// AppendF32 appends v's IEEE-754 bits little-endian.
func AppendF32(dst []byte, v float32) []byte { return AppendU32(dst, math.Float32bits(v)) }

// AppendName8 appends [len u8][bytes]. s must be at most 255 bytes (longer
// strings are cut: encoders validate lengths before they get here).
func AppendName8(dst []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	dst = append(dst, byte(len(s)))
	return append(dst, s...)
}

// AppendStr32 appends [len u32][bytes].
func AppendStr32(dst []byte, s string) []byte {
	dst = AppendU32(dst, uint32(len(s)))
	return append(dst, s...)
}
