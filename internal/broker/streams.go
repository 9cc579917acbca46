package broker

import (
	"context"
	"maps"
	"slices"

	"github.com/shoalstream/shoal/internal/auth"
)

// Limits of the id spaces (the reference server's).
const (
	MaxStreams            = 1 << 20
	MaxTopicsPerStream    = 4096
	MaxPartitionsPerTopic = 1_000_000
	MaxPartitionsPerCall  = 1000
)

// StreamInfo is a stream with its figures.
type StreamInfo struct {
	ID        uint32
	Name      string
	CreatedAt uint64
	Size      uint64
	Messages  uint64
	Topics    []TopicInfo // in id order; only filled by GetStream
	TopicsN   uint32
}

// TopicInfo is a topic with its figures.
type TopicInfo struct {
	ID         uint32
	Name       string
	CreatedAt  uint64
	Config     TopicConfig
	Size       uint64
	Messages   uint64
	Partitions []PartitionInfo // only filled by GetTopic
	PartsN     uint32
}

// PartitionInfo is a partition with its figures.
type PartitionInfo struct {
	ID            uint32
	CreatedAt     uint64
	Segments      uint32
	CurrentOffset uint64
	Size          uint64
	Messages      uint64
}

// resolveStreamLocked finds a stream; the caller holds b.mu.
func (b *Broker) resolveStreamLocked(id Ident) *Stream {
	if !id.Named {
		return b.st.Streams[id.ID]
	}
	for _, s := range b.st.Streams {
		if s.Name == id.Name {
			return s
		}
	}
	return nil
}

func resolveTopic(st *Stream, id Ident) *Topic {
	if st == nil {
		return nil
	}
	if !id.Named {
		return st.Topics[id.ID]
	}
	for _, t := range st.Topics {
		if t.Name == id.Name {
			return t
		}
	}
	return nil
}

// lookupLocked resolves a stream and topic, with the protocol's errors.
func (b *Broker) lookupLocked(stream, topic Ident) (*Stream, *Topic, error) {
	st := b.resolveStreamLocked(stream)
	if st == nil {
		return nil, nil, errf(KindStreamNotFound, "stream %s not found", stream)
	}
	t := resolveTopic(st, topic)
	if t == nil {
		return st, nil, errf(KindTopicNotFound, "topic %s not found in stream %s", topic, stream)
	}
	return st, t, nil
}

func validName(name string) bool { return len(name) >= 1 && len(name) <= 255 }

// CreateStream creates a stream with the lowest free id.
func (b *Broker) CreateStream(ctx context.Context, s *Session, name string) (StreamInfo, error) {
	if err := b.authorize(s, auth.ActionCreateStream, 0, 0); err != nil {
		return StreamInfo{}, err
	}
	if !validName(name) {
		return StreamInfo{}, errf(KindInvalid, "stream name must be 1 to 255 bytes")
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	exists := b.resolveStreamLocked(ByName(name)) != nil
	id := lowestFree(b.st.Streams)
	b.mu.RUnlock()
	if exists {
		return StreamInfo{}, errf(KindStreamExists, "stream '%s' already exists", name)
	}
	if id >= MaxStreams {
		return StreamInfo{}, errf(KindTooManyStreams, "too many streams")
	}
	if err := b.commit(ctx, &record{Op: opCreateStream, ID: id, Name: name, Time: b.now()}); err != nil {
		return StreamInfo{}, err
	}
	return b.GetStream(s, ByID(id))
}

func lowestFree[V any](m map[uint32]V) uint32 {
	for i := uint32(0); ; i++ {
		if _, ok := m[i]; !ok {
			return i
		}
	}
}

// GetStream returns a stream with its topics.
func (b *Broker) GetStream(s *Session, id Ident) (StreamInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	st := b.resolveStreamLocked(id)
	if st == nil {
		if err := loggedIn(s); err != nil {
			return StreamInfo{}, err
		}
		return StreamInfo{}, errf(KindStreamNotFound, "stream %s not found", id)
	}
	if err := b.authorizeLocked(s, auth.ActionReadStream, st.ID, 0); err != nil {
		return StreamInfo{}, err
	}
	info := b.streamInfoLocked(st)
	for _, tid := range slices.Sorted(maps.Keys(st.Topics)) {
		info.Topics = append(info.Topics, b.topicInfoLocked(st, st.Topics[tid], false))
	}
	return info, nil
}

// Streams lists the streams the caller may read, in id order.
func (b *Broker) Streams(s *Session) ([]StreamInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.authorizeLocked(s, auth.ActionListStreams, 0, 0); err != nil {
		return nil, err
	}
	var out []StreamInfo
	for _, id := range slices.Sorted(maps.Keys(b.st.Streams)) {
		out = append(out, b.streamInfoLocked(b.st.Streams[id]))
	}
	return out, nil
}

func (b *Broker) streamInfoLocked(st *Stream) StreamInfo {
	info := StreamInfo{ID: st.ID, Name: st.Name, CreatedAt: st.CreatedAt, TopicsN: uint32(len(st.Topics))}
	for _, t := range st.Topics {
		ti := b.topicInfoLocked(st, t, false)
		info.Size += ti.Size
		info.Messages += ti.Messages
	}
	return info
}

func (b *Broker) topicInfoLocked(st *Stream, t *Topic, withPartitions bool) TopicInfo {
	info := TopicInfo{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, Config: t.Config, PartsN: uint32(len(t.Partitions))}
	for _, p := range t.Partitions {
		pi := b.partitionInfo(st.ID, t.ID, p)
		info.Size += pi.Size
		info.Messages += pi.Messages
		if withPartitions {
			info.Partitions = append(info.Partitions, pi)
		}
	}
	return info
}

func (b *Broker) partitionInfo(stream, topic uint32, p *Partition) PartitionInfo {
	k := partKey(stream, topic, p.UID)
	pi := PartitionInfo{ID: p.ID, CreatedAt: p.CreatedAt, Segments: 1}
	first, next, ok := b.log.Bounds(k)
	if ok {
		pi.CurrentOffset = next - 1
		pi.Messages = next - first
	}
	segs := b.log.Segments(k)
	pi.Segments += uint32(len(segs))
	pi.Size = uint64(b.log.Size(k))
	return pi
}

// UpdateStream renames a stream.
func (b *Broker) UpdateStream(ctx context.Context, s *Session, id Ident, name string) error {
	if !validName(name) {
		return errf(KindInvalid, "stream name must be 1 to 255 bytes")
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	st := b.resolveStreamLocked(id)
	var err error
	if st == nil {
		err = errf(KindStreamNotFound, "stream %s not found", id)
	} else if err = b.authorizeLocked(s, auth.ActionUpdateStream, st.ID, 0); err == nil {
		if other := b.resolveStreamLocked(ByName(name)); other != nil && other != st {
			err = errf(KindStreamExists, "stream '%s' already exists", name)
		}
	}
	b.mu.RUnlock()
	if err != nil {
		return err
	}
	return b.commit(ctx, &record{Op: opUpdateStream, Stream: st.ID, Name: name})
}

// DeleteStream deletes a stream with all its topics, data, groups and
// offsets.
func (b *Broker) DeleteStream(ctx context.Context, s *Session, id Ident) error {
	return b.streamChange(ctx, s, id, auth.ActionDeleteStream, opDeleteStream)
}

// PurgeStream deletes every message of every partition of a stream, and
// their offsets, keeping the stream, topics and partitions.
func (b *Broker) PurgeStream(ctx context.Context, s *Session, id Ident) error {
	return b.streamChange(ctx, s, id, auth.ActionPurgeStream, opPurgeStream)
}

func (b *Broker) streamChange(ctx context.Context, s *Session, id Ident, a auth.Action, op string) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	st := b.resolveStreamLocked(id)
	var err error
	r := &record{Op: op}
	if st == nil {
		err = errf(KindStreamNotFound, "stream %s not found", id)
	} else if err = b.authorizeLocked(s, a, st.ID, 0); err == nil {
		r.Stream = st.ID
		if op == opPurgeStream {
			n := 0
			for _, t := range st.Topics {
				n += len(t.Partitions)
			}
			r.UIDs = b.newUIDsLocked(n)
		}
	}
	b.mu.RUnlock()
	if err != nil {
		return err
	}
	return b.commit(ctx, r)
}

// newUIDsLocked reserves n partition UIDs (applied by the record).
func (b *Broker) newUIDsLocked(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = b.st.NextPartitionUID + uint32(i)
	}
	return out
}
