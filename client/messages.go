package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/wire"
)

// Limits the client checks before it sends, as the official Go SDK does.
const (
	// MaxPayloadSize is the largest payload of one message.
	MaxPayloadSize = 10_000_000
	// MaxKeySize is the longest MessagesKey.
	MaxKeySize = 255
)

// Message is a message to send, or one that was polled.
type Message struct {
	// ID is the message's 16-byte id. Sending a zero id sends a random
	// UUIDv4 instead.
	ID [16]byte
	// OriginTimestamp is when the producer made the message, in
	// microseconds since the Unix epoch. Sending 0 sends the current time.
	OriginTimestamp uint64
	Payload         []byte
	// Headers are the typed user headers.
	Headers []Header
	// RawHeaders is the user-header block as it travels. When sending, it
	// is used only if Headers is empty. A polled message carries the block
	// it was stored with, and Headers decoded from it if it is a valid
	// block (the server stores whatever the producer sent).
	RawHeaders []byte

	// Set on polled messages only.
	Offset    uint64
	Timestamp uint64 // when the server appended the message's batch, µs
	Checksum  uint64
}

// NewMessage returns a message with payload and headers, stamped with the
// current time as its origin timestamp and a zero id (a random UUIDv4 is
// sent).
func NewMessage(payload []byte, headers ...Header) Message {
	return Message{OriginTimestamp: nowMicros(), Payload: payload, Headers: headers}
}

// NewUUID returns a random UUIDv4 as the 16 bytes a message id travels as.
func NewUUID() [16]byte {
	var id [16]byte
	_, _ = rand.Read(id[:])
	return uuidV4(id)
}

// uuidV4 sets the version and variant bits of 16 random bytes.
func uuidV4(id [16]byte) [16]byte {
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

// SendConfirmation says where a batch landed: the numeric stream, topic and
// partition ids and the offset of its first message.
type SendConfirmation = wire.SendConfirmation

var sendBufs = sync.Pool{New: func() any { return new([]byte) }}

// idSources hands out the generators of the ids of messages sent without
// one: ChaCha8 generators (cryptographically strong, see math/rand/v2)
// seeded from crypto/rand. Reading crypto/rand itself, a call per message,
// took a sixth of a producer's CPU; in one call per batch still a tenth.
var idSources = sync.Pool{New: func() any {
	var seed [32]byte
	_, _ = rand.Read(seed[:])
	return mrand.NewChaCha8(seed)
}}

// SendMessages sends msgs as one batch to a partition of a topic and
// returns the server's confirmations (shoal sends exactly one). With
// Balanced or MessagesKey partitioning the client picks the partition
// itself (see the package doc). If the server's confirmation cannot be
// read the batch still counts as sent and the list is empty, as with the
// official SDK, because sending it again would store it twice.
func (c *Client) SendMessages(ctx context.Context, stream, topic Identifier, p Partitioning, msgs []Message) ([]SendConfirmation, error) {
	if err := checkPartitioning(p); err != nil {
		return nil, fmt.Errorf("send messages: %w", err)
	}
	if len(msgs) == 0 {
		return nil, ErrInvalidMessagesCount.With("send messages: no messages")
	}
	bp := sendBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 16<<20 {
			sendBufs.Put(bp)
		}
	}()
	// The batch is built before the connection is taken, after room for the
	// metadata, which names the partition and is filled in once it is
	// known. The partitioning on the wire is always a partition id.
	metaLen := 4 + stream.Size() + topic.Size() + 6 + 4
	body := append((*bp)[:0], make([]byte, metaLen)...)
	body, err := c.appendBatch(body, msgs)
	*bp = body
	if err != nil {
		return nil, fmt.Errorf("send messages: %w", err)
	}
	var confs []SendConfirmation
	err = c.withConn(ctx, func(ctx context.Context) error {
		part, err := c.resolvePartitionLocked(ctx, stream, topic, p)
		if err != nil {
			return fmt.Errorf("send messages: %w", err)
		}
		meta := wire.SendMessagesRequest{
			Stream: stream, Topic: topic,
			Partitioning:  wire.PartitionID(part),
			MessagesCount: uint32(len(msgs)),
		}
		var scratch [4 + 2*257 + 6 + 4]byte
		if m := meta.AppendTo(scratch[:0]); len(m) != metaLen {
			return fmt.Errorf("send messages: %w", ErrInvalidCommand.With("metadata of %d bytes, %d reserved", len(m), metaLen))
		} else {
			copy(body, m)
		}
		reply, err := c.callLocked(ctx, wire.CmdSendMessages, body)
		if err != nil {
			if errors.Is(err, ErrPartitionNotFound) {
				c.topics.forget(stream, topic)
			}
			return err
		}
		confs, err = wire.DecodeSendConfirmations(reply)
		if err != nil {
			c.log.Warn("send messages: the confirmation is unreadable; the batch counts as sent", "err", err)
			confs = []SendConfirmation{}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return confs, nil
}

// appendBatch checks msgs and appends them to dst as one batch.
func (c *Client) appendBatch(dst []byte, msgs []Message) ([]byte, error) {
	nms := make([]batch.NewMessage, len(msgs))
	// Random bytes for every message's id, read in one go; a message
	// sent without an id gets its own 16.
	random := make([]byte, 16*len(msgs))
	src := idSources.Get().(*mrand.ChaCha8)
	_, _ = src.Read(random)
	idSources.Put(src)
	var hbuf []byte
	now := uint64(0)
	for i, m := range msgs {
		if len(m.Payload) == 0 {
			return dst, ErrInvalidMessagePayloadLength.With("message %d has an empty payload", i)
		}
		if len(m.Payload) > MaxPayloadSize {
			return dst, ErrTooBigMessagePayload.With("message %d has a payload of %d bytes (at most %d)", i, len(m.Payload), MaxPayloadSize)
		}
		nm := batch.NewMessage{ID: m.ID, OriginTimestamp: m.OriginTimestamp, Payload: m.Payload}
		if nm.ID == ([16]byte{}) {
			nm.ID = uuidV4([16]byte(random[16*i:]))
		}
		if nm.OriginTimestamp == 0 {
			if now == 0 {
				now = uint64(c.opts.now().UnixMicro())
			}
			nm.OriginTimestamp = now
		}
		switch {
		case len(m.Headers) > 0:
			start := len(hbuf)
			var err error
			hbuf, err = AppendHeaders(hbuf, m.Headers)
			if err != nil {
				return dst, fmt.Errorf("message %d: %w", i, err)
			}
			// Earlier blocks stay valid if hbuf moves: append copies, it
			// never clears the old array.
			nm.UserHeaders = hbuf[start:len(hbuf):len(hbuf)]
		case len(m.RawHeaders) > MaxUserHeadersSize:
			return dst, ErrTooBigUserHeaders.With("message %d has %d bytes of user headers (at most %d)", i, len(m.RawHeaders), MaxUserHeadersSize)
		default:
			nm.UserHeaders = m.RawHeaders
		}
		nms[i] = nm
	}
	out, err := batch.Build(dst, nms)
	if err != nil {
		return dst, fmt.Errorf("building the batch: %w", err)
	}
	return out, nil
}

// Consumer is a single consumer or a consumer group, as polls and offsets
// name them.
type Consumer = wire.Consumer

// SingleConsumer returns the consumer with the given id (numeric, or a
// name the server hashes).
func SingleConsumer(id Identifier) Consumer { return Consumer{Kind: wire.ConsumerSingle, ID: id} }

// GroupConsumer returns the consumer group with the given id or name.
func GroupConsumer(group Identifier) Consumer { return Consumer{Kind: wire.ConsumerGroup, ID: group} }

// DefaultConsumer is the official SDK's default: single consumer 0.
func DefaultConsumer() Consumer { return SingleConsumer(NumericID(0)) }

// PollingStrategy says where a poll starts.
type PollingStrategy = wire.PollingStrategy

// OffsetStrategy polls from offset.
func OffsetStrategy(offset uint64) PollingStrategy {
	return PollingStrategy{Kind: wire.PollOffset, Value: offset}
}

// TimestampStrategy polls from the first message appended at or after
// micros (µs since the Unix epoch).
func TimestampStrategy(micros uint64) PollingStrategy {
	return PollingStrategy{Kind: wire.PollTimestamp, Value: micros}
}

// FirstStrategy polls from the oldest message.
func FirstStrategy() PollingStrategy { return PollingStrategy{Kind: wire.PollFirst} }

// LastStrategy polls the newest messages.
func LastStrategy() PollingStrategy { return PollingStrategy{Kind: wire.PollLast} }

// NextStrategy polls from after the consumer's stored offset.
func NextStrategy() PollingStrategy { return PollingStrategy{Kind: wire.PollNext} }

// OptionalPartition is a partition id or none.
type OptionalPartition = wire.OptionalPartition

// InPartition names partition id.
func InPartition(id uint32) OptionalPartition { return OptionalPartition{Set: true, ID: id} }

// AnyPartition names no partition: a single consumer then reads
// partition 0, and a consumer group its assigned partitions in turn.
func AnyPartition() OptionalPartition { return OptionalPartition{} }

// Sentinel partition ids of a poll result with no messages.
const (
	// PollResyncPartition: the server refused a group poll (this client
	// does not own the partition any more).
	PollResyncPartition = wire.PollResyncPartition
	// PollNoAssignmentPartition: the client has no partition of the group
	// assigned, or could not get one in two attempts.
	PollNoAssignmentPartition = wire.PollNoAssignmentPartition
)

// PollRequest says what to poll.
type PollRequest struct {
	Consumer      Consumer
	Stream, Topic Identifier
	// Partition to read. Without one a single consumer reads partition 0,
	// and a consumer group reads the partitions assigned to this client in
	// turn (joining the group first unless it left it explicitly).
	Partition  OptionalPartition
	Strategy   PollingStrategy
	Count      uint32
	AutoCommit bool
}

// PolledMessages is what a poll returned.
type PolledMessages struct {
	PartitionID uint32
	// CurrentOffset is the partition's last committed offset.
	CurrentOffset uint64
	// Messages alias one buffer of the reply, never reused by the client.
	Messages []Message
}

// PollMessages polls messages.
func (c *Client) PollMessages(ctx context.Context, req PollRequest) (*PolledMessages, error) {
	var res *PolledMessages
	err := c.withConn(ctx, func(ctx context.Context) error {
		var err error
		if req.Consumer.Kind == wire.ConsumerGroup && !req.Partition.Set {
			res, err = c.pollGroupLocked(ctx, req)
		} else {
			res, err = c.pollLocked(ctx, req)
		}
		return err
	})
	return res, err
}

func (c *Client) pollLocked(ctx context.Context, req PollRequest) (*PolledMessages, error) {
	wr := wire.PollMessagesRequest{
		Consumer: req.Consumer, Stream: req.Stream, Topic: req.Topic,
		Partition: req.Partition, Strategy: req.Strategy,
		Count: req.Count, AutoCommit: req.AutoCommit,
	}
	body, err := c.callLocked(ctx, wire.CmdPollMessages, wr.AppendTo(nil))
	if err != nil {
		return nil, err
	}
	res, err := decodePoll(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmdName(wire.CmdPollMessages), err)
	}
	return res, nil
}

// decodePoll decodes a poll reply with the official SDK's rules.
func decodePoll(body []byte) (*PolledMessages, error) {
	var rep wire.PollReply
	if err := rep.Decode(body); err != nil {
		return nil, err
	}
	res := &PolledMessages{PartitionID: rep.PartitionID, CurrentOffset: rep.CurrentOffset}
	if rep.MessagesCount > 0 {
		res.Messages = make([]Message, 0, rep.MessagesCount)
	}
	for m := range rep.Messages() {
		pm := Message{
			ID:              m.ID,
			OriginTimestamp: m.OriginTimestamp,
			Payload:         m.Payload,
			Offset:          m.Offset,
			Timestamp:       m.Timestamp,
			Checksum:        m.Checksum,
		}
		if len(m.UserHeaders) > 0 {
			pm.RawHeaders = m.UserHeaders
			if hs, err := ParseHeaders(m.UserHeaders); err == nil {
				pm.Headers = hs
			}
		}
		res.Messages = append(res.Messages, pm)
	}
	return res, nil
}

// AckLevel says when the server answers a consumer-offset write.
type AckLevel uint8

// Ack levels.
const (
	// AckNone: once the offset is stored on the server it answers, without
	// waiting for replication.
	AckNone = AckLevel(wire.AckNone)
	// AckQuorum: once the offset is committed (the official SDK's choice).
	AckQuorum = AckLevel(wire.AckQuorum)
)

// ConsumerOffsetInfo is a stored consumer offset and the partition's
// current offset.
type ConsumerOffsetInfo = wire.ConsumerOffsetInfo

// GetConsumerOffset returns the offset stored for a consumer (or group) on
// a partition (partition 0 when none is named), or nil and no error when
// none is stored or the stream, topic or group is unknown.
func (c *Client) GetConsumerOffset(ctx context.Context, consumer Consumer, stream, topic Identifier, partition OptionalPartition) (*ConsumerOffsetInfo, error) {
	req := wire.GetConsumerOffsetRequest{Consumer: consumer, Stream: stream, Topic: topic, Partition: partition}
	body, err := c.call(ctx, wire.CmdGetConsumerOffset, req.AppendTo(nil))
	if err != nil || len(body) == 0 {
		return nil, err
	}
	var info ConsumerOffsetInfo
	if err := info.Decode(body); err != nil {
		return nil, fmt.Errorf("%s: %w", cmdName(wire.CmdGetConsumerOffset), err)
	}
	return &info, nil
}

// StoreConsumerOffset stores offset as the last one a consumer (or group)
// processed on a partition, which the server requires.
func (c *Client) StoreConsumerOffset(ctx context.Context, consumer Consumer, stream, topic Identifier, partition OptionalPartition, offset uint64, ack AckLevel) error {
	req := wire.StoreConsumerOffsetRequest{
		Consumer: consumer, Stream: stream, Topic: topic,
		Partition: partition, Offset: offset, Ack: uint8(ack),
	}
	_, err := c.call(ctx, wire.CmdStoreConsumerOffset, req.AppendTo(nil))
	return err
}

// DeleteConsumerOffset deletes the offset stored for a consumer (or group)
// on a partition (ErrConsumerOffsetNotFound if there is none).
func (c *Client) DeleteConsumerOffset(ctx context.Context, consumer Consumer, stream, topic Identifier, partition OptionalPartition, ack AckLevel) error {
	req := wire.DeleteConsumerOffsetRequest{
		Consumer: consumer, Stream: stream, Topic: topic,
		Partition: partition, Ack: uint8(ack),
	}
	_, err := c.call(ctx, wire.CmdDeleteConsumerOffset, req.AppendTo(nil))
	return err
}

// FlushUnsavedBufferRequest names a partition to flush and whether to
// fsync it.
type FlushUnsavedBufferRequest = wire.FlushUnsavedBufferRequest

// FlushUnsavedBuffer asks the server to write a partition's buffered
// messages to storage (the official Go SDK has no such call; the
// reference server answers ErrFeatureUnavailable).
func (c *Client) FlushUnsavedBuffer(ctx context.Context, req FlushUnsavedBufferRequest) error {
	_, err := c.call(ctx, wire.CmdFlushUnsavedBuffer, req.AppendTo(nil))
	return err
}

func nowMicros() uint64 { return uint64(time.Now().UnixMicro()) }
