package objstore

import (
	"context"
	"slices"
	"time"
)

// Pieces is the bytes of one object given as pieces to write one after
// the other (a journal frame whose large batches stay in the buffers they
// arrived in), and their checksum when the caller has it.
type Pieces struct {
	Bufs [][]byte
	// CRC32C is the CRC-32C (Castagnoli) of all the bytes, if HasCRC32C:
	// a backend that sends a checksum with the body for the store to
	// verify sends this one instead of reading the bytes to compute it.
	CRC32C    uint32
	HasCRC32C bool
}

// Len is the object's length.
func (p Pieces) Len() int {
	n := 0
	for _, b := range p.Bufs {
		n += len(b)
	}
	return n
}

// PiecesPutter is implemented by a backend that can put an object given in
// pieces without joining them first. PutPieces is Put in every other way.
type PiecesPutter interface {
	PutPieces(ctx context.Context, key string, p Pieces, cond Condition) (Info, error)
}

// PutPieces stores the object made of p's pieces under key if cond holds;
// see Backend.Put. Backends that cannot take pieces get them joined.
func (s *Store) PutPieces(ctx context.Context, key string, p Pieces, cond Condition) (Info, error) {
	pp, ok := s.b.(PiecesPutter)
	if !ok {
		return s.Put(ctx, key, slices.Concat(p.Bufs...), cond)
	}
	if err := s.prepare(ctx, OpPut, key, ValidateKey); err != nil {
		return Info{}, err
	}
	defer s.leave()
	start := time.Now()
	info, err := pp.PutPieces(ctx, key, p, cond)
	if err != nil {
		return Info{}, s.done(OpPut, key, start, err)
	}
	s.bytesWritten.Add(uint64(p.Len()))
	info.ETag = NormalizeETag(info.ETag)
	return info, s.done(OpPut, key, start, nil)
}
