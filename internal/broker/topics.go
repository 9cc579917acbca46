package broker

import (
	"context"
	"maps"
	"slices"

	"github.com/shoalstream/shoal/internal/auth"
)

// CreateTopic creates a topic with the lowest free id in the stream and
// partitions 0..partitions−1.
func (b *Broker) CreateTopic(ctx context.Context, s *Session, stream Ident, name string, partitions uint32, opts []Option) (TopicInfo, error) {
	if !validName(name) {
		return TopicInfo{}, errf(KindInvalid, "topic name must be 1 to 255 bytes")
	}
	if partitions > MaxPartitionsPerCall {
		return TopicInfo{}, errf(KindTooManyPartitions, "at most %d partitions per request", MaxPartitionsPerCall)
	}
	cfg, err := newTopicConfig(opts, partitions)
	if err != nil {
		return TopicInfo{}, err
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	st := b.resolveStreamLocked(stream)
	r := &record{Op: opCreateTopic, Name: name, Config: &cfg, Time: b.now()}
	if st == nil {
		err = errf(KindStreamNotFound, "stream %s not found", stream)
	} else if err = b.authorizeLocked(s, auth.ActionCreateTopic, st.ID, 0); err == nil {
		r.Stream, r.ID = st.ID, lowestFree(st.Topics)
		switch {
		case resolveTopic(st, ByName(name)) != nil:
			err = errf(KindTopicExists, "topic '%s' already exists in stream %s", name, stream)
		case r.ID >= MaxTopicsPerStream:
			err = errf(KindTooManyTopics, "too many topics in stream %s", stream)
		default:
			r.UIDs = b.newUIDsLocked(int(partitions))
		}
	}
	b.mu.RUnlock()
	if err != nil {
		return TopicInfo{}, err
	}
	if err := b.commit(ctx, r); err != nil {
		return TopicInfo{}, err
	}
	return b.GetTopic(s, ByID(r.Stream), ByID(r.ID))
}

// GetTopic returns a topic with its partitions.
func (b *Broker) GetTopic(s *Session, stream, topic Ident) (TopicInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	st, t, err := b.lookupLocked(stream, topic)
	if err != nil {
		if lerr := loggedIn(s); lerr != nil {
			return TopicInfo{}, lerr
		}
		return TopicInfo{}, err
	}
	if err := b.authorizeLocked(s, auth.ActionReadTopic, st.ID, t.ID); err != nil {
		return TopicInfo{}, err
	}
	return b.topicInfoLocked(st, t, true), nil
}

// Topics lists a stream's topics the caller may read, in id order.
func (b *Broker) Topics(s *Session, stream Ident) ([]TopicInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	st := b.resolveStreamLocked(stream)
	if st == nil {
		if _, ok := s.User(); !ok {
			return nil, errf(KindUnauthenticated, "not logged in")
		}
		return nil, errf(KindStreamNotFound, "stream %s not found", stream)
	}
	if err := b.authorizeLocked(s, auth.ActionListTopics, st.ID, 0); err != nil {
		return nil, err
	}
	var out []TopicInfo
	for _, id := range slices.Sorted(maps.Keys(st.Topics)) {
		out = append(out, b.topicInfoLocked(st, st.Topics[id], false))
	}
	return out, nil
}

// UpdateTopic renames a topic and patches its updatable options.
func (b *Broker) UpdateTopic(ctx context.Context, s *Session, stream, topic Ident, name string, opts []Option) error {
	if !validName(name) {
		return errf(KindInvalid, "topic name must be 1 to 255 bytes")
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	st, t, err := b.lookupLocked(stream, topic)
	var r *record
	if err == nil {
		err = b.authorizeLocked(s, auth.ActionUpdateTopic, st.ID, t.ID)
	}
	if err == nil {
		if other := resolveTopic(st, ByName(name)); other != nil && other != t {
			err = errf(KindTopicExists, "topic '%s' already exists in stream %s", name, stream)
		}
	}
	if err == nil {
		var cfg TopicConfig
		cfg, err = t.Config.update(opts)
		r = &record{Op: opUpdateTopic, Stream: st.ID, Topic: t.ID, Name: name, Config: &cfg}
	}
	b.mu.RUnlock()
	if err != nil {
		return err
	}
	return b.commit(ctx, r)
}

// DeleteTopic deletes a topic with its data, groups and offsets.
func (b *Broker) DeleteTopic(ctx context.Context, s *Session, stream, topic Ident) error {
	return b.topicChange(ctx, s, stream, topic, auth.ActionDeleteTopic, &record{Op: opDeleteTopic}, 0)
}

// PurgeTopic deletes every message of the topic's partitions, and their
// offsets.
func (b *Broker) PurgeTopic(ctx context.Context, s *Session, stream, topic Ident) error {
	return b.topicChange(ctx, s, stream, topic, auth.ActionPurgeTopic, &record{Op: opPurgeTopic}, 0)
}

// CreatePartitions adds count partitions after the last one.
func (b *Broker) CreatePartitions(ctx context.Context, s *Session, stream, topic Ident, count uint32) error {
	if count == 0 || count > MaxPartitionsPerCall {
		return errf(KindTooManyPartitions, "partitions count must be 1 to %d", MaxPartitionsPerCall)
	}
	return b.topicChange(ctx, s, stream, topic, auth.ActionManagePartitions, &record{Op: opCreatePartitions, Count: count}, count)
}

// DeletePartitions removes the last count partitions with their data.
func (b *Broker) DeletePartitions(ctx context.Context, s *Session, stream, topic Ident, count uint32) error {
	if count == 0 || count > MaxPartitionsPerCall {
		return errf(KindTooManyPartitions, "partitions count must be 1 to %d", MaxPartitionsPerCall)
	}
	return b.topicChange(ctx, s, stream, topic, auth.ActionManagePartitions, &record{Op: opDeletePartitions, Count: count}, count)
}

func (b *Broker) topicChange(ctx context.Context, s *Session, stream, topic Ident, a auth.Action, r *record, count uint32) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	st, t, err := b.lookupLocked(stream, topic)
	if err == nil {
		err = b.authorizeLocked(s, a, st.ID, t.ID)
	}
	if err == nil {
		r.Stream, r.Topic = st.ID, t.ID
		switch r.Op {
		case opPurgeTopic:
			r.UIDs = b.newUIDsLocked(len(t.Partitions))
		case opCreatePartitions:
			if uint64(len(t.Partitions))+uint64(count) > MaxPartitionsPerTopic {
				err = errf(KindPartitionIDSpace, "partition ids exhausted")
			}
			r.UIDs, r.Time = b.newUIDsLocked(int(count)), b.now()
		case opDeletePartitions:
			if int(count) > len(t.Partitions) {
				err = errf(KindPartitionsCount, "topic has %d partitions, cannot delete %d", len(t.Partitions), count)
			}
		}
	}
	b.mu.RUnlock()
	if err != nil {
		return err
	}
	return b.commit(ctx, r)
}

// DeleteSegments deletes up to count of the oldest sealed segments of a
// partition (never its unsealed data). count 0 does nothing.
func (b *Broker) DeleteSegments(ctx context.Context, s *Session, stream, topic Ident, partition, count uint32) error {
	b.mu.RLock()
	st, t, err := b.lookupLocked(stream, topic)
	if err == nil {
		err = b.authorizeLocked(s, auth.ActionDeleteSegments, st.ID, t.ID)
	}
	var uid uint32
	if err == nil {
		if partition >= uint32(len(t.Partitions)) {
			err = errf(KindPartitionNotFound, "partition %d not found", partition)
		} else {
			uid = t.Partitions[partition].UID
		}
	}
	b.mu.RUnlock()
	if err != nil || count == 0 {
		return err
	}
	b.dataMu.RLock()
	defer b.dataMu.RUnlock()
	k := partKey(st.ID, t.ID, uid)
	segs := b.log.Segments(k)
	if len(segs) == 0 {
		return nil
	}
	n := min(int(count), len(segs))
	if err := b.log.TrimBefore(ctx, k, segs[n-1].LastOffset+1); err != nil {
		return &Error{Kind: KindUnavailable, Msg: "deleting segments failed", Err: err}
	}
	return nil
}
