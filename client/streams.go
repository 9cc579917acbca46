package client

import (
	"context"
	"fmt"

	"github.com/shoalstream/shoal/internal/wire"
)

// Limits the client checks before it sends, as the official Go SDK does.
const (
	// MaxNameSize is the longest stream, topic or consumer-group name.
	MaxNameSize = 255
	// MaxPartitionsPerRequest is the most partitions one CreateTopic,
	// CreatePartitions or DeletePartitions may name.
	MaxPartitionsPerRequest = 1000
)

func checkName(name string, code uint32, what string) error {
	if len(name) < 1 || len(name) > MaxNameSize {
		return errorf(code, "%s name of %d bytes (1..%d)", what, len(name), MaxNameSize)
	}
	return nil
}

// CreateStream creates a stream and returns it (with its server-assigned
// id). Options are the stream's options; the server knows none today.
func (c *Client) CreateStream(ctx context.Context, name string, options ...KV) (*StreamDetails, error) {
	if err := checkName(name, wire.CodeInvalidStreamName, "stream"); err != nil {
		return nil, err
	}
	req := wire.CreateStreamRequest{Name: name, Options: options}
	return callDecode[StreamDetails](ctx, c, wire.CmdCreateStream, req.AppendTo(nil))
}

// GetStream returns a stream and its topics (ErrStreamNotFound if there is
// none).
func (c *Client) GetStream(ctx context.Context, stream Identifier) (*StreamDetails, error) {
	req := wire.GetStreamRequest{Stream: stream}
	return callDecodeOrEmpty[StreamDetails](ctx, c, wire.CmdGetStream, req.AppendTo(nil),
		ErrStreamNotFound, fmt.Sprintf("stream %s", stream))
}

// GetStreams returns every stream (without their topics).
func (c *Client) GetStreams(ctx context.Context) ([]Stream, error) {
	return callDecodeList(ctx, c, wire.CmdGetStreams, nil, wire.DecodeStreams)
}

// UpdateStream renames a stream.
func (c *Client) UpdateStream(ctx context.Context, stream Identifier, name string, options ...KV) error {
	if err := checkName(name, wire.CodeInvalidStreamName, "stream"); err != nil {
		return err
	}
	req := wire.UpdateStreamRequest{Stream: stream, Name: name, Options: options}
	_, err := c.call(ctx, wire.CmdUpdateStream, req.AppendTo(nil))
	return err
}

// DeleteStream deletes a stream with its topics, messages, groups and
// offsets.
func (c *Client) DeleteStream(ctx context.Context, stream Identifier) error {
	return c.withConn(ctx, func(ctx context.Context) error {
		_, err := c.callLocked(ctx, wire.CmdDeleteStream, wire.DeleteStreamRequest{Stream: stream}.AppendTo(nil))
		if err == nil {
			c.topics.clearCounts()
		}
		return err
	})
}

// PurgeStream deletes every message of a stream, keeping its topics and
// partitions.
func (c *Client) PurgeStream(ctx context.Context, stream Identifier) error {
	_, err := c.call(ctx, wire.CmdPurgeStream, wire.PurgeStreamRequest{Stream: stream}.AppendTo(nil))
	return err
}

// Compression is a topic's compression algorithm.
type Compression uint8

// Compression algorithms.
const (
	// CompressionDefault leaves the choice to the server (none).
	CompressionDefault Compression = 0
	CompressionNone                = Compression(wire.CompressionNone)
	CompressionGzip                = Compression(wire.CompressionGzip)
)

// Topic option keys the client sets from TopicSettings.
const (
	OptCompressionAlgorithm = "compression_algorithm"
	OptMessageExpiry        = "message_expiry"
	OptMaxTopicSize         = "max_topic_size"
)

// TopicSettings are a topic's settings beyond its name and partitions.
// Zero values leave a setting to the server (on create) or unchanged (on
// update).
type TopicSettings struct {
	// Compression: CompressionGzip is sent; CompressionDefault and
	// CompressionNone are not (none is the default, as with the official
	// SDK).
	Compression Compression
	// MessageExpiry in microseconds; ExpiryNever for never.
	MessageExpiry uint64
	// MaxTopicSize in bytes; MaxTopicSizeUnlimited for no limit.
	MaxTopicSize uint64
	// Extra are further option entries (segment_size, enforce_fsync, …),
	// sent after the ones above; an entry with one of their keys is
	// dropped.
	Extra []KV
}

// options returns the options block of s, in the official SDK's order.
func (s TopicSettings) options() (OptionsBlock, error) {
	var o OptionsBlock
	switch s.Compression {
	case CompressionDefault, CompressionNone:
	case CompressionGzip:
		o = append(o, wire.StringKV(OptCompressionAlgorithm, "gzip"))
	default:
		return nil, ErrInvalidOptionValue.With("compression algorithm %d", s.Compression)
	}
	if s.MessageExpiry != 0 {
		o = append(o, wire.Uint64KV(OptMessageExpiry, s.MessageExpiry))
	}
	if s.MaxTopicSize != 0 {
		o = append(o, wire.Uint64KV(OptMaxTopicSize, s.MaxTopicSize))
	}
	typed := len(o)
	for _, kv := range s.Extra {
		if kv.KeyKind != wire.KindString {
			return nil, ErrUnsupportedOptionKey.With("option key of kind %d (keys are strings)", kv.KeyKind)
		}
		dup := false
		for _, t := range o[:typed] {
			if string(t.Key) == string(kv.Key) {
				dup = true
				break
			}
		}
		if !dup {
			o = append(o, kv)
		}
	}
	return o, nil
}

// CreateTopic creates a topic with partitions partitions (0-based ids) and
// returns it.
func (c *Client) CreateTopic(ctx context.Context, stream Identifier, name string, partitions uint32, s TopicSettings) (*TopicDetails, error) {
	if err := checkName(name, wire.CodeInvalidTopicName, "topic"); err != nil {
		return nil, err
	}
	if partitions > MaxPartitionsPerRequest {
		return nil, ErrTooManyPartitions.With("%d partitions (at most %d)", partitions, MaxPartitionsPerRequest)
	}
	opts, err := s.options()
	if err != nil {
		return nil, err
	}
	req := wire.CreateTopicRequest{Stream: stream, PartitionsCount: partitions, Name: name, Options: opts}
	return callDecode[TopicDetails](ctx, c, wire.CmdCreateTopic, req.AppendTo(nil))
}

// GetTopic returns a topic and its partitions (ErrTopicNotFound if the
// stream or the topic does not exist).
func (c *Client) GetTopic(ctx context.Context, stream, topic Identifier) (*TopicDetails, error) {
	req := wire.GetTopicRequest{Stream: stream, Topic: topic}
	return callDecodeOrEmpty[TopicDetails](ctx, c, wire.CmdGetTopic, req.AppendTo(nil),
		ErrTopicNotFound, fmt.Sprintf("topic %s of stream %s", topic, stream))
}

// GetTopics returns the topics of a stream (none if the stream does not
// exist).
func (c *Client) GetTopics(ctx context.Context, stream Identifier) ([]TopicHeader, error) {
	req := wire.GetTopicsRequest{Stream: stream}
	return callDecodeList(ctx, c, wire.CmdGetTopics, req.AppendTo(nil), wire.DecodeTopics)
}

// UpdateTopic renames a topic and changes the settings s sets (only
// compression, message expiry and max topic size may change).
func (c *Client) UpdateTopic(ctx context.Context, stream, topic Identifier, name string, s TopicSettings) error {
	if err := checkName(name, wire.CodeInvalidTopicName, "topic"); err != nil {
		return err
	}
	opts, err := s.options()
	if err != nil {
		return err
	}
	req := wire.UpdateTopicRequest{Stream: stream, Topic: topic, Name: name, Options: opts}
	_, err = c.call(ctx, wire.CmdUpdateTopic, req.AppendTo(nil))
	return err
}

// DeleteTopic deletes a topic with its messages, groups and offsets.
func (c *Client) DeleteTopic(ctx context.Context, stream, topic Identifier) error {
	return c.topicChange(ctx, stream, topic, wire.CmdDeleteTopic, wire.DeleteTopicRequest{Stream: stream, Topic: topic}.AppendTo(nil))
}

// PurgeTopic deletes every message of a topic, keeping its partitions.
func (c *Client) PurgeTopic(ctx context.Context, stream, topic Identifier) error {
	_, err := c.call(ctx, wire.CmdPurgeTopic, wire.PurgeTopicRequest{Stream: stream, Topic: topic}.AppendTo(nil))
	return err
}

// CreatePartitions adds count partitions to a topic (the next ids).
func (c *Client) CreatePartitions(ctx context.Context, stream, topic Identifier, count uint32) error {
	if count > MaxPartitionsPerRequest {
		return ErrTooManyPartitions.With("%d partitions (at most %d)", count, MaxPartitionsPerRequest)
	}
	req := wire.CreatePartitionsRequest{Stream: stream, Topic: topic, Count: count}
	return c.topicChange(ctx, stream, topic, wire.CmdCreatePartitions, req.AppendTo(nil))
}

// DeletePartitions removes the last count partitions of a topic with their
// messages.
func (c *Client) DeletePartitions(ctx context.Context, stream, topic Identifier, count uint32) error {
	if count > MaxPartitionsPerRequest {
		return ErrTooManyPartitions.With("%d partitions (at most %d)", count, MaxPartitionsPerRequest)
	}
	req := wire.DeletePartitionsRequest{Stream: stream, Topic: topic, Count: count}
	return c.topicChange(ctx, stream, topic, wire.CmdDeletePartitions, req.AppendTo(nil))
}

// topicChange sends a command that may change a topic's partition count
// and forgets the count this client cached.
func (c *Client) topicChange(ctx context.Context, stream, topic Identifier, code uint32, body []byte) error {
	return c.withConn(ctx, func(ctx context.Context) error {
		_, err := c.callLocked(ctx, code, body)
		if err == nil {
			c.topics.forget(stream, topic)
		}
		return err
	})
}

// DeleteSegments deletes up to count of the oldest sealed segments of a
// partition (the active segment is never deleted; 0 does nothing).
func (c *Client) DeleteSegments(ctx context.Context, stream, topic Identifier, partition, count uint32) error {
	req := wire.DeleteSegmentsRequest{Stream: stream, Topic: topic, Partition: partition, Count: count}
	_, err := c.call(ctx, wire.CmdDeleteSegments, req.AppendTo(nil))
	return err
}
