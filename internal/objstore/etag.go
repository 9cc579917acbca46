package objstore

import (
	"encoding/hex"

	"github.com/zeebo/xxh3"
)

// ContentETag is the ETag the fs and mem backends give an object: the hex
// XXH3-128 of its content. Like S3's MD5 ETags it names the content, so it
// changes with every different write; unlike MD5 it costs almost nothing
// next to the write itself.
func ContentETag(data []byte) string {
	sum := xxh3.Hash128(data).Bytes()
	return hex.EncodeToString(sum[:])
}

// ETagHasher computes ContentETag over data written to it in pieces.
type ETagHasher struct{ h *xxh3.Hasher128 }

// NewETagHasher returns an empty hasher.
func NewETagHasher() *ETagHasher { return &ETagHasher{h: xxh3.New128()} }

// Write adds p; it never fails.
func (e *ETagHasher) Write(p []byte) (int, error) { return e.h.Write(p) }

// ETag is ContentETag of everything written so far.
func (e *ETagHasher) ETag() string {
	sum := e.h.Sum128().Bytes()
	return hex.EncodeToString(sum[:])
}
