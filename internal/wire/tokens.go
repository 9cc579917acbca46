package wire

// Personal access tokens (wire.md §5.3). GetPersonalAccessTokens (41) has
// an empty request.

// CreatePATRequest is [name name8][expiry u64]: the expiry is a duration
// in µs, 0 for the server default, ExpiryNever for never. (The Go SDK
// writes a u32 expiry into the high half of the u64, so what arrives is
// its argument << 32; the field carries the u64 as read.) The reply is a
// framed RawPAT.
type CreatePATRequest struct {
	Name   string
	Expiry uint64
}

// AppendTo appends the encoded request.
func (q CreatePATRequest) AppendTo(dst []byte) []byte {
	dst = AppendName8(dst, q.Name)
	return AppendU64(dst, q.Expiry)
}

// Decode decodes a request that is exactly b.
func (q *CreatePATRequest) Decode(b []byte) error {
	var v CreatePATRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Name = r.Name8()
		v.Expiry = r.U64()
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// DeletePATRequest is [name name8].
type DeletePATRequest struct {
	Name string
}

// AppendTo appends the encoded request.
func (q DeletePATRequest) AppendTo(dst []byte) []byte { return AppendName8(dst, q.Name) }

// Decode decodes a request that is exactly b.
func (q *DeletePATRequest) Decode(b []byte) error {
	var v DeletePATRequest
	if err := ctlDecode(b, func(r *Reader) { v.Name = r.Name8() }); err != nil {
		return err
	}
	*q = v
	return nil
}

// RawPAT is the CreatePersonalAccessToken reply payload: [token name8],
// the secret, shown only once.
type RawPAT struct {
	Token string
}

// AppendTo appends the encoded reply.
func (p RawPAT) AppendTo(dst []byte) []byte { return AppendName8(dst, p.Token) }

// Decode decodes a reply that is exactly b.
func (p *RawPAT) Decode(b []byte) error {
	var v RawPAT
	if err := ctlDecode(b, func(r *Reader) { v.Token = r.Name8() }); err != nil {
		return err
	}
	*p = v
	return nil
}

// PATInfo is one entry of the GetPersonalAccessTokens reply:
// [name name8][expiry_at u64], expiry_at absolute µs since the epoch, 0
// when the token never expires.
type PATInfo struct {
	Name     string
	ExpiryAt uint64
}

// AppendTo appends the encoded entry.
func (p PATInfo) AppendTo(dst []byte) []byte {
	dst = AppendName8(dst, p.Name)
	return AppendU64(dst, p.ExpiryAt)
}

// Decode decodes an entry that is exactly b.
func (p *PATInfo) Decode(b []byte) error {
	var v PATInfo
	if err := ctlDecode(b, func(r *Reader) { v = readPATInfo(r) }); err != nil {
		return err
	}
	*p = v
	return nil
}

func readPATInfo(r *Reader) PATInfo {
	var p PATInfo
	p.Name = r.Name8()
	p.ExpiryAt = r.U64()
	return p
}

// AppendPATs appends the GetPersonalAccessTokens reply: entries back to
// back, no count (an empty body when there are none, as the reference
// sends, although the Go SDK then reports 4024).
func AppendPATs(dst []byte, ps []PATInfo) []byte {
	for _, p := range ps {
		dst = p.AppendTo(dst)
	}
	return dst
}

// DecodePATs decodes a GetPersonalAccessTokens reply; an empty body
// decodes to nil.
func DecodePATs(b []byte) ([]PATInfo, error) {
	var ps []PATInfo
	err := ctlDecode(b, func(r *Reader) {
		for r.Len() > 0 {
			p := readPATInfo(r)
			if r.Err() != nil {
				return
			}
			ps = append(ps, p)
		}
	})
	if err != nil {
		return nil, err
	}
	return ps, nil
}
