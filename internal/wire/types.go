package wire

import (
	"encoding/binary"
	"unicode/utf8"
)

// Identifier kinds.
const (
	IDNumeric uint8 = 1
	IDString  uint8 = 2
)

// Identifier names a stream, topic, consumer, group or user: a numeric id
// or a name.
//
//	[kind u8][len u8][value]   numeric: kind 1, len 4, u32; string: kind 2, len 1..255
type Identifier struct {
	Name string // used when Kind is IDString
	ID   uint32 // used when Kind is IDNumeric
	Kind uint8
}

// NumericID returns a numeric identifier.
func NumericID(id uint32) Identifier { return Identifier{Kind: IDNumeric, ID: id} }

// NamedID returns a string identifier.
func NamedID(name string) Identifier { return Identifier{Kind: IDString, Name: name} }

// IsNumeric reports whether the identifier is a numeric id.
func (id Identifier) IsNumeric() bool { return id.Kind == IDNumeric }

// String returns the id as a person reads it.
func (id Identifier) String() string {
	if id.Kind == IDNumeric {
		return itoa(uint64(id.ID))
	}
	return id.Name
}

// Size returns the encoded size.
func (id Identifier) Size() int {
	if id.Kind == IDNumeric {
		return 6
	}
	return 2 + len(id.Name)
}

// AppendTo appends the encoded identifier.
func (id Identifier) AppendTo(dst []byte) []byte {
	if id.Kind == IDNumeric {
		dst = append(dst, IDNumeric, 4)
		return AppendU32(dst, id.ID)
	}
	name := id.Name
	if len(name) > 255 {
		name = name[:255]
	}
	dst = append(dst, IDString, byte(len(name)))
	return append(dst, name...)
}

// ReadIdentifier reads an identifier from r.
func ReadIdentifier(r *Reader) Identifier {
	kind := r.U8()
	n := int(r.U8())
	if r.Err() != nil {
		return Identifier{}
	}
	switch kind {
	case IDNumeric:
		if n != 4 {
			r.Failf("numeric identifier of length %d", n)
			return Identifier{}
		}
		return Identifier{Kind: IDNumeric, ID: r.U32()}
	case IDString:
		if n == 0 {
			r.Failf("empty string identifier")
			return Identifier{}
		}
		b := r.Bytes(n)
		if b != nil && !utf8.Valid(b) {
			r.Failf("string identifier is not UTF-8")
			return Identifier{}
		}
		return Identifier{Kind: IDString, Name: string(b)}
	default:
		r.Failf("identifier kind %d", kind)
		return Identifier{}
	}
}

// Consumer kinds.
const (
	ConsumerSingle uint8 = 1
	ConsumerGroup  uint8 = 2
)

// Consumer is a single consumer or a consumer group: [kind u8][Identifier].
type Consumer struct {
	Kind uint8
	ID   Identifier
}

// AppendTo appends the encoded consumer.
func (c Consumer) AppendTo(dst []byte) []byte {
	dst = append(dst, c.Kind)
	return c.ID.AppendTo(dst)
}

// ReadConsumer reads a consumer from r.
func ReadConsumer(r *Reader) Consumer {
	k := r.U8()
	if r.Err() == nil && k != ConsumerSingle && k != ConsumerGroup {
		r.Failf("consumer kind %d", k)
		return Consumer{}
	}
	return Consumer{Kind: k, ID: ReadIdentifier(r)}
}

// Partitioning kinds (SendMessages routing).
const (
	PartitionBalanced     uint8 = 1
	PartitionByID         uint8 = 2
	PartitionByMessageKey uint8 = 3
)

// Partitioning says where a send goes: [kind u8][len u8][value].
type Partitioning struct {
	Kind  uint8
	Value []byte // empty for balanced, u32 for by-id, 1..255 key bytes
}

// PartitionID returns a partitioning to partition id.
func PartitionID(id uint32) Partitioning {
	return Partitioning{Kind: PartitionByID, Value: binary.LittleEndian.AppendUint32(nil, id)}
}

// ID returns the partition id of a by-id partitioning.
func (p Partitioning) ID() uint32 {
	if len(p.Value) != 4 {
		return 0
	}
	return binary.LittleEndian.Uint32(p.Value)
}

// AppendTo appends the encoded partitioning.
func (p Partitioning) AppendTo(dst []byte) []byte {
	dst = append(dst, p.Kind, byte(len(p.Value)))
	return append(dst, p.Value...)
}

// ReadPartitioning reads a partitioning from r.
func ReadPartitioning(r *Reader) Partitioning {
	k := r.U8()
	n := int(r.U8())
	v := r.Bytes(n)
	if r.Err() != nil {
		return Partitioning{}
	}
	switch {
	case k == PartitionBalanced && n == 0:
	case k == PartitionByID && n == 4:
	case k == PartitionByMessageKey && n >= 1:
	default:
		r.Failf("partitioning kind %d with %d value bytes", k, n)
		return Partitioning{}
	}
	return Partitioning{Kind: k, Value: append([]byte(nil), v...)}
}

// Polling strategy kinds.
const (
	PollOffset    uint8 = 1
	PollTimestamp uint8 = 2
	PollFirst     uint8 = 3
	PollLast      uint8 = 4
	PollNext      uint8 = 5
)

// PollingStrategy is [kind u8][value u64].
type PollingStrategy struct {
	Kind  uint8
	Value uint64
}

// AppendTo appends the encoded strategy.
func (s PollingStrategy) AppendTo(dst []byte) []byte {
	dst = append(dst, s.Kind)
	return AppendU64(dst, s.Value)
}

// ReadPollingStrategy reads a strategy from r.
func ReadPollingStrategy(r *Reader) PollingStrategy {
	k := r.U8()
	v := r.U64()
	if r.Err() == nil && (k < PollOffset || k > PollNext) {
		r.Failf("polling strategy kind %d", k)
	}
	return PollingStrategy{Kind: k, Value: v}
}

// OptionalPartition is [flag u8][partition u32]: flag 1 = present.
type OptionalPartition struct {
	Set bool
	ID  uint32
}

// AppendTo appends the encoded optional partition.
func (p OptionalPartition) AppendTo(dst []byte) []byte {
	dst = AppendBool(dst, p.Set)
	if !p.Set {
		return AppendU32(dst, 0)
	}
	return AppendU32(dst, p.ID)
}

// ReadOptionalPartition reads an optional partition from r.
func ReadOptionalPartition(r *Reader) OptionalPartition {
	f := r.U8()
	id := r.U32()
	if f != 1 {
		return OptionalPartition{}
	}
	return OptionalPartition{Set: true, ID: id}
}

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}
