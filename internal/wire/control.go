package wire

// Helpers shared by the control-plane codecs (system, users, tokens,
// streams, topics, partitions, groups).

// ctlFlag reads a presence flag that must be 0 or 1.
func ctlFlag(r *Reader, what string) bool {
	off := r.Offset()
	v := r.U8()
	if r.Err() == nil && v > 1 {
		r.Failf("%s flag %d at offset %d is not 0 or 1", what, v, off)
	}
	return v == 1
}

// ctlDecode runs read over b and requires it to consume b exactly.
func ctlDecode(b []byte, read func(r *Reader)) error {
	r := NewReader(b)
	read(r)
	return r.Complete()
}

// ctlCopy returns a copy of b, nil when b is empty.
func ctlCopy(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// ctlAppendIDs appends identifiers back to back, the body of many
// requests.
func ctlAppendIDs(dst []byte, ids ...Identifier) []byte {
	for _, id := range ids {
		dst = id.AppendTo(dst)
	}
	return dst
}

// ctlDecodeIDs decodes a body that is exactly len(ids) identifiers; the
// targets are set only when it succeeds.
func ctlDecodeIDs(b []byte, ids ...*Identifier) error {
	var got [3]Identifier
	err := ctlDecode(b, func(r *Reader) {
		for i := range ids {
			got[i] = ReadIdentifier(r)
		}
	})
	if err != nil {
		return err
	}
	for i, id := range ids {
		*id = got[i]
	}
	return nil
}

// minIdentifierSize is the smallest encoded Identifier (a one-byte name).
const minIdentifierSize = 3

// ctlBound checks that n elements of at least minSize bytes each fit in
// what r has left, so a caller may allocate n elements; it returns n, or 0
// after latching an error.
func ctlBound(r *Reader, n uint32, minSize int, what string) int {
	if r.Err() != nil {
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(r.Len()) {
		r.Failf("%d %s at offset %d overrun the body", n, what, r.Offset())
		return 0
	}
	return int(n)
}
