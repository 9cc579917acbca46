package s3

import (
	"errors"
	"io"
)

// piecesReader reads byte slices one after the other as one body, with
// the Seek the SDK needs to learn the length and to rewind for a retry,
// and the WriteTo that lets the HTTP client write each piece straight to
// the connection.
type piecesReader struct {
	pieces [][]byte
	size   int64
	off    int64
}

func newPiecesReader(pieces [][]byte) *piecesReader {
	r := &piecesReader{pieces: pieces}
	for _, p := range pieces {
		r.size += int64(len(p))
	}
	return r
}

// at returns the piece holding byte off and where in it off is; past the
// end, no piece.
func (r *piecesReader) at(off int64) (int, int) {
	for i, p := range r.pieces {
		if off < int64(len(p)) {
			return i, int(off)
		}
		off -= int64(len(p))
	}
	return len(r.pieces), 0
}

func (r *piecesReader) Read(b []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := 0
	for i, in := r.at(r.off); i < len(r.pieces) && n < len(b); i, in = i+1, 0 {
		n += copy(b[n:], r.pieces[i][in:])
	}
	r.off += int64(n)
	return n, nil
}

func (r *piecesReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for i, in := r.at(r.off); i < len(r.pieces); i, in = i+1, 0 {
		n, err := w.Write(r.pieces[i][in:])
		total += int64(n)
		r.off += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (r *piecesReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("s3: pieces reader: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("s3: pieces reader: negative position")
	}
	r.off = offset
	return offset, nil
}
