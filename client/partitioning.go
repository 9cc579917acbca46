package client

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/shoalstream/shoal/internal/wire"
)

// Partitioning says which partition of a topic a send goes to.
type Partitioning = wire.Partitioning

// Balanced spreads sends over the topic's partitions round-robin, one
// cursor per topic on this client. The cursor starts at a random
// partition, so that clients that send a few batches each (or start
// together) do not all begin on the same partitions.
func Balanced() Partitioning { return Partitioning{Kind: wire.PartitionBalanced} }

// PartitionID sends to partition id.
func PartitionID(id uint32) Partitioning { return wire.PartitionID(id) }

// MessagesKey sends to the partition key hashes to (XXH32 modulo the
// partition count), so that every send with the same key lands on the
// same partition. The key is 1..255 bytes.
func MessagesKey(key []byte) Partitioning {
	return Partitioning{Kind: wire.PartitionByMessageKey, Value: key}
}

// MessagesKeyString is MessagesKey with a string key.
func MessagesKeyString(key string) Partitioning { return MessagesKey([]byte(key)) }

// MessagesKeyUint32 is MessagesKey with a u32 key (4 little-endian bytes).
func MessagesKeyUint32(key uint32) Partitioning {
	return MessagesKey(binary.LittleEndian.AppendUint32(nil, key))
}

// MessagesKeyUint64 is MessagesKey with a u64 key (8 little-endian bytes).
func MessagesKeyUint64(key uint64) Partitioning {
	return MessagesKey(binary.LittleEndian.AppendUint64(nil, key))
}

func checkPartitioning(p Partitioning) error {
	switch p.Kind {
	case wire.PartitionBalanced:
		return nil
	case wire.PartitionByID:
		if len(p.Value) != 4 {
			return ErrInvalidKeyValueLength.With("partition id of %d bytes", len(p.Value))
		}
		return nil
	case wire.PartitionByMessageKey:
		if len(p.Value) < 1 || len(p.Value) > MaxKeySize {
			return ErrInvalidKeyValueLength.With("messages key of %d bytes (1..%d)", len(p.Value), MaxKeySize)
		}
		return nil
	}
	return ErrInvalidCommand.With("partitioning kind %d", p.Kind)
}

// topicCache holds what client-side partitioning needs per topic, keyed by
// the encoded stream and topic identifiers: the partition count (read with
// GetTopic, forgotten when it may have changed or the connection was lost)
// and the round-robin cursor (kept for the life of the client).
type topicCache struct {
	counts  map[string]uint32
	cursors map[string]uint32
}

func (t *topicCache) init() {
	t.counts = make(map[string]uint32)
	t.cursors = make(map[string]uint32)
}

func topicKey(stream, topic Identifier) string {
	var b [2 * 257]byte
	return string(topic.AppendTo(stream.AppendTo(b[:0])))
}

func (t *topicCache) forget(stream, topic Identifier) { delete(t.counts, topicKey(stream, topic)) }

func (t *topicCache) clearCounts() { clear(t.counts) }

// resolvePartitionLocked returns the partition id a send with p goes to.
func (c *Client) resolvePartitionLocked(ctx context.Context, stream, topic Identifier, p Partitioning) (uint32, error) {
	if p.Kind == wire.PartitionByID {
		return p.ID(), nil
	}
	key := topicKey(stream, topic)
	n, ok := c.topics.counts[key]
	if !ok {
		var err error
		n, err = c.partitionCountLocked(ctx, stream, topic)
		if err != nil {
			return 0, err
		}
		c.topics.counts[key] = n
	}
	if n == 0 {
		return 0, ErrTopicNotFound.With("topic %s of stream %s has no partitions", topic, stream)
	}
	if p.Kind == wire.PartitionByMessageKey {
		return wire.KeyPartition(p.Value, n), nil
	}
	cur, ok := c.topics.cursors[key]
	if !ok {
		cur = c.opts.balancedStart()
	}
	c.topics.cursors[key] = cur + 1
	return cur % n, nil
}

// partitionCountLocked reads a topic's partition count with GetTopic. It
// reads the count from the fixed part of the topic record and nothing
// else, so it does not depend on the rest of the reply.
func (c *Client) partitionCountLocked(ctx context.Context, stream, topic Identifier) (uint32, error) {
	body, err := c.callLocked(ctx, wire.CmdGetTopic, appendIDs(nil, stream, topic))
	if err != nil {
		return 0, err
	}
	const offPartitionsCount = 12 // [id u32][created_at u64][partitions_count u32]
	if len(body) == 0 {
		return 0, ErrTopicNotFound.With("topic %s of stream %s", topic, stream)
	}
	if len(body) < offPartitionsCount+4 {
		return 0, fmt.Errorf("%s: %w", cmdName(wire.CmdGetTopic), wire.Malformed("topic record of %d bytes", len(body)))
	}
	return binary.LittleEndian.Uint32(body[offPartitionsCount:]), nil
}

func appendIDs(dst []byte, ids ...Identifier) []byte {
	for _, id := range ids {
		dst = id.AppendTo(dst)
	}
	return dst
}
