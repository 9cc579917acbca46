package journal

// CRC-32C of two byte strings joined, from their CRCs, without reading the
// bytes again: the frame's CRC and the CRC of the object that holds it
// share one pass over the body.
//
// A CRC register is a polynomial over GF(2) in reflected bit order (bit 31
// is x^0). Appending n zero bits to a message multiplies its register by
// x^n modulo the CRC polynomial; so, with the pre- and post-inversion the
// CRC-32 family uses, crc(A‖B) = crc(A)·x^(8·len(B)) mod P  ⊕  crc(B).

// castagnoliReversed is the Castagnoli polynomial, reflected (without its
// x^32 term), as hash/crc32 uses it.
const castagnoliReversed = 0x82f63b78

// x2nTable[k] is x^(2^k) mod P, for every k x2nModP can ask for: lengths
// in bytes (k from 3) of up to 63 bits.
var x2nTable = func() (t [3 + 63]uint32) {
	p := uint32(1) << 30 // x^1
	for k := range t {
		t[k] = p
		p = multModP(p, p)
	}
	return t
}()

// crc32Combine returns the CRC-32C of A followed by B, given crcA, crcB and
// len(B).
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	return multModP(x2nModP(uint64(lenB), 3), crcA) ^ crcB
}

// multModP returns a·b mod P. a must not be zero.
func multModP(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; ; m >>= 1 {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		if b&1 != 0 {
			b = b>>1 ^ castagnoliReversed
		} else {
			b >>= 1
		}
	}
}

// x2nModP returns x^(n·2^k) mod P, never zero (P has an x^0 term).
func x2nModP(n uint64, k uint) uint32 {
	p := uint32(1) << 31 // x^0
	for ; n != 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = multModP(x2nTable[k], p)
		}
	}
	return p
}
