package broker

import (
	"context"
	"errors"

	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/bufpool"
	"github.com/shoalstream/shoal/internal/logstore"
)

// Partitioning kinds of a send.
const (
	PartitionBalanced uint8 = 1
	PartitionByID     uint8 = 2
	PartitionByKey    uint8 = 3
)

// Partitioning says where a send goes. For PartitionByKey, KeyHash is the
// XXH32 of the key (the server computes it: it is the protocol's hash).
type Partitioning struct {
	Kind    uint8
	ID      uint32
	KeyHash uint32
}

// Confirmation is where a sent batch landed.
type Confirmation struct {
	Stream, Topic, Partition uint32
	BaseOffset               uint64
}

// Send validates a producer's batch and appends it to the partition the
// partitioning picks. Every failure to resolve the stream, topic or
// partition is KindNotFound (the protocol answers them all with 20).
// With buf set, data lies in buf's bytes and Send takes both over with
// the caller's reference to buf: data may be stamped in place and kept as
// the stored batch (a large batch is not copied on its way to storage),
// and buf is released once nothing reads it, so the caller must not use
// either again. With buf nil, data is copied and stays the caller's.
func (b *Broker) Send(ctx context.Context, s *Session, stream, topic Ident, p Partitioning, data []byte, buf *bufpool.Buf, count uint32) (Confirmation, error) {
	defer func() { buf.Release() }() // nil once handed to the log
	// The checksums are verified once, by the log's append (below); the
	// header's own rules are checked here.
	h, err := batch.ParseHeader(data)
	switch {
	case err != nil:
		return Confirmation{}, &Error{Kind: KindInvalid, Msg: "invalid message batch", Err: err}
	case h.Count != count:
		return Confirmation{}, errf(KindMessagesCount, "the batch holds %d messages but the request says %d", h.Count, count)
	case h.PartitionID != 0 || h.BaseOffset != 0 || h.BaseTimestamp != 0:
		return Confirmation{}, errf(KindInvalid, "a producer's batch must have partition id, base offset and base timestamp 0")
	}
	b.dataMu.RLock()
	defer b.dataMu.RUnlock()
	b.mu.RLock()
	st, t, err := b.lookupLocked(stream, topic)
	if err != nil {
		b.mu.RUnlock()
		if lerr := loggedIn(s); lerr != nil {
			return Confirmation{}, lerr
		}
		return Confirmation{}, errf(KindNotFound, "%v", err)
	}
	if err := b.authorizeLocked(s, auth.ActionSendMessages, st.ID, t.ID); err != nil {
		b.mu.RUnlock()
		return Confirmation{}, err
	}
	n := uint32(len(t.Partitions))
	var pid uint32
	switch p.Kind {
	case PartitionByID:
		pid = p.ID
	case PartitionByKey:
		if n > 0 {
			pid = p.KeyHash % n
		}
	default:
		pid = b.nextBalanced(st.ID, t.ID, n)
	}
	if pid >= n {
		b.mu.RUnlock()
		return Confirmation{}, errf(KindNotFound, "partition %d not found in topic %s", pid, topic)
	}
	k := partKey(st.ID, t.ID, t.Partitions[pid].UID)
	sid, tid := st.ID, t.ID
	b.mu.RUnlock()
	var stamped batch.Header
	if buf != nil {
		stamped, err = b.log.AppendOwnedAs(ctx, k, pid, data, buf)
		buf = nil
	} else {
		stamped, err = b.log.AppendAs(ctx, k, pid, data)
	}
	switch {
	case errors.Is(err, batch.ErrBatchChecksum):
		return Confirmation{}, &Error{Kind: KindBatchChecksum, Msg: "invalid batch checksum", Err: err}
	case errors.Is(err, batch.ErrChecksum):
		return Confirmation{}, &Error{Kind: KindMessageChecksum, Msg: "invalid message checksum", Err: err}
	case errors.Is(err, batch.ErrInvalid):
		return Confirmation{}, &Error{Kind: KindInvalid, Msg: "invalid message batch", Err: err}
	case err != nil:
		return Confirmation{}, &Error{Kind: KindUnavailable, Msg: "storing the messages failed", Err: err}
	}
	return Confirmation{Stream: sid, Topic: tid, Partition: pid, BaseOffset: stamped.BaseOffset}, nil
}

func (b *Broker) nextBalanced(stream, topic, n uint32) uint32 {
	if n == 0 {
		return 0
	}
	b.rrMu.Lock()
	defer b.rrMu.Unlock()
	key := [2]uint32{stream, topic}
	c := b.rr[key]
	b.rr[key] = c + 1
	return c % n
}

// Consumer is who polls or commits: a single consumer by its key (numeric
// id, or XXH32 of its name), or a group.
type Consumer struct {
	Kind  uint8
	Key   uint32 // single consumer
	Group Ident  // consumer group
}

// Polling strategies.
const (
	PollOffset    uint8 = 1
	PollTimestamp uint8 = 2
	PollFirst     uint8 = 3
	PollLast      uint8 = 4
	PollNext      uint8 = 5
)

// PollRequest is a poll.
type PollRequest struct {
	Consumer   Consumer
	Stream     Ident
	Topic      Ident
	Partition  uint32
	HasPart    bool
	Strategy   uint8
	Value      uint64
	Count      uint32
	AutoCommit bool
}

// PollResult is what a poll returns: the stored batches holding the
// messages From..From+Count−1 (the first and last batch may hold more;
// the server slices them).
type PollResult struct {
	Partition uint32
	Current   uint64 // the partition's last offset (0 if empty)
	From      uint64
	Count     uint32
	// Batches hold the messages; they are valid until Release.
	Batches [][]byte
	// Resync: a group poll failed the group fence (the caller must sync).
	Resync bool
	held   *logstore.Held
}

// Release lets go of the memory Batches lie in, which the log then uses
// again: the batches must not be used after. A result that is never
// released only keeps that memory from being used again.
func (r *PollResult) Release() {
	if r.held != nil {
		r.held.Release()
		r.held = nil
	}
	r.Batches = nil
}

// maxPollBytes keeps a poll reply under the protocol's 64 MiB frame.
const maxPollBytes = 48 << 20

// Poll reads messages.
func (b *Broker) Poll(ctx context.Context, s *Session, req PollRequest) (PollResult, error) {
	b.dataMu.RLock()
	defer b.dataMu.RUnlock()
	b.mu.RLock()
	st, t, err := b.lookupLocked(req.Stream, req.Topic)
	isGroup := req.Consumer.Kind == ConsumerGroup
	if err != nil {
		b.mu.RUnlock()
		if err := loggedIn(s); err != nil {
			return PollResult{}, err
		}
		if isGroup {
			return PollResult{Partition: resyncPartition, Resync: true}, nil
		}
		return PollResult{}, err
	}
	if aerr := b.authorizeLocked(s, auth.ActionPollMessages, st.ID, t.ID); aerr != nil {
		b.mu.RUnlock()
		return PollResult{}, aerr
	}
	pid := req.Partition
	var g *Group
	if isGroup {
		if !req.HasPart {
			b.mu.RUnlock()
			return PollResult{}, nil
		}
		g = resolveGroup(t, req.Consumer.Group)
		if g == nil || pid >= uint32(len(t.Partitions)) || !groupPollable(g, s, pid) {
			b.mu.RUnlock()
			return PollResult{Partition: resyncPartition, Resync: true}, nil
		}
	} else if !req.HasPart {
		pid = 0
	}
	if pid >= uint32(len(t.Partitions)) {
		b.mu.RUnlock()
		return PollResult{}, errf(KindPartitionNotFound, "partition %d not found", pid)
	}
	part := t.Partitions[pid]
	k := partKey(st.ID, t.ID, part.UID)
	stored, hasStored := part.ConsumerOffsets[req.Consumer.Key]
	if isGroup {
		stored, hasStored = part.GroupOffsets[g.ID]
	}
	sid, tid, uid := st.ID, t.ID, part.UID
	var gid uint32
	var gen uint64
	if g != nil {
		gid, gen = g.ID, g.rt.generation
	}
	b.mu.RUnlock()

	res := PollResult{Partition: pid}
	first, next, ok := b.log.Bounds(k)
	if !ok {
		return res, nil
	}
	last := next - 1
	res.Current = last
	var start uint64
	switch req.Strategy {
	case PollOffset:
		start = req.Value
	case PollFirst:
		start = 0
	case PollLast:
		if uint64(req.Count) <= last {
			start = last - uint64(req.Count) + 1
		}
	case PollNext:
		if hasStored {
			start = stored + 1
		}
	case PollTimestamp:
		off, found, err := b.log.OffsetAt(ctx, k, req.Value)
		if err != nil {
			return PollResult{}, &Error{Kind: KindUnavailable, Msg: "reading the partition failed", Err: err}
		}
		if !found {
			return res, nil
		}
		start = off
	default:
		return PollResult{}, errf(KindInvalid, "unknown polling strategy %d", req.Strategy)
	}
	start = max(start, first)
	if req.Count == 0 || start > last {
		return res, nil
	}
	held := new(logstore.Held)
	batches, err := b.log.Read(ctx, k, start, logstore.ReadOptions{MaxMessages: int(req.Count), MaxBytes: maxPollBytes, Hold: held})
	// What was read is held until the caller releases the result; a
	// result without the batches lets go of them here.
	defer func() {
		if res.held == nil {
			held.Release()
		}
	}()
	if err != nil {
		return PollResult{}, &Error{Kind: KindUnavailable, Msg: "reading the partition failed", Err: err}
	}
	if len(batches) == 0 {
		return res, nil
	}
	// The messages the batches hold from start on, up to Count.
	h, _ := batch.ParseHeader(batches[0])
	from := max(start, h.BaseOffset)
	lh, _ := batch.ParseHeader(batches[len(batches)-1])
	end := min(lh.LastOffset(), from+uint64(req.Count)-1, last)
	if end < from {
		return res, nil
	}
	res.From, res.Count, res.Batches, res.held = from, uint32(end-from+1), batches, held
	var commit *record
	if req.AutoCommit {
		commit = &record{Op: opStoreOffset, Stream: sid, Topic: tid, Partition: pid, UID: uid, Offset: end, Max: true}
		if isGroup {
			commit.Kind, commit.Key = ConsumerGroup, gid
		} else {
			commit.Kind, commit.Key = ConsumerSingle, req.Consumer.Key
		}
	}
	if isGroup {
		// The group may have moved the partition to another member while
		// it was read; that member polls from the group's offset, so
		// serving (and committing) here too would deliver the messages
		// twice. Checking that no rebalance happened and committing under
		// one lock orders every group poll of a partition with every
		// rebalance.
		b.mu.Lock()
		if g.rt.generation != gen || !groupPollable(g, s, pid) {
			b.mu.Unlock()
			res.Release()
			return PollResult{Partition: resyncPartition, Resync: true}, nil
		}
		if g.rt.lastPolled == nil {
			g.rt.lastPolled = map[uint32]uint64{}
		}
		g.rt.lastPolled[pid] = max(g.rt.lastPolled[pid], end)
		if commit != nil {
			b.st.apply(commit)
		}
		b.mu.Unlock()
		if commit != nil {
			b.persistAutoCommit(commit)
		}
		return res, nil
	}
	if commit != nil {
		b.autoCommit(commit)
	}
	return res, nil
}

const resyncPartition = ^uint32(0)

// autoCommit applies an auto-commit in memory at once (never moving an
// offset back) and writes it to the journal without waiting.
func (b *Broker) autoCommit(r *record) {
	b.mu.Lock()
	b.st.apply(r)
	b.mu.Unlock()
	b.persistAutoCommit(r)
}

// persistAutoCommit writes an applied auto-commit to the journal without
// waiting, as a lazy record: with other writes, or on its own after the
// log's lazy flush interval (a crash can lose that window of auto-commits;
// the consumer then reads those messages again). Close stops the wait: the
// record is in the journal's open frame then, which closing the log
// flushes.
func (b *Broker) persistAutoCommit(r *record) {
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		if err := b.commitLazy(b.runCtx, r); err != nil && b.runCtx.Err() == nil {
			b.lg.Warn("persisting an auto-committed offset failed", "err", err)
		}
	}()
}

// OffsetInfo is a consumer's stored offset on a partition.
type OffsetInfo struct {
	Partition uint32
	Current   uint64
	Stored    uint64
}

// resolveOffsetTarget finds the partition and the offset key of an offset
// command. notFound is the error for an unresolvable namespace.
func (b *Broker) resolveOffsetTargetLocked(s *Session, c Consumer, stream, topic Ident, partition uint32, a auth.Action) (st *Stream, t *Topic, p *Partition, key uint32, err error) {
	st, t, err = b.lookupLocked(stream, topic)
	if err != nil {
		if lerr := loggedIn(s); lerr != nil {
			return nil, nil, nil, 0, lerr
		}
		return nil, nil, nil, 0, err
	}
	if aerr := b.authorizeLocked(s, a, st.ID, t.ID); aerr != nil {
		return nil, nil, nil, 0, aerr
	}
	key = c.Key
	if c.Kind == ConsumerGroup {
		g := resolveGroup(t, c.Group)
		if g == nil {
			return st, t, nil, 0, errf(KindGroupNotFound, "consumer group %s not found", c.Group)
		}
		key = g.ID
		if a != auth.ActionReadConsumerOffset && !groupCommittable(g, s, partition) {
			return st, t, nil, 0, errf(KindNotOwned, "partition %d is not assigned to this member of group %s", partition, c.Group)
		}
	}
	if partition >= uint32(len(t.Partitions)) {
		return st, t, nil, 0, errf(KindPartitionNotFound, "partition %d not found", partition)
	}
	return st, t, t.Partitions[partition], key, nil
}

// GetOffset returns a stored offset; ok is false when nothing is stored
// (or the stream, topic or group is unknown).
func (b *Broker) GetOffset(s *Session, c Consumer, stream, topic Ident, partition uint32) (OffsetInfo, bool, error) {
	b.mu.RLock()
	st, t, p, key, err := b.resolveOffsetTargetLocked(s, c, stream, topic, partition, auth.ActionReadConsumerOffset)
	var stored uint64
	var ok bool
	if err == nil {
		if c.Kind == ConsumerGroup {
			stored, ok = p.GroupOffsets[key]
		} else {
			stored, ok = p.ConsumerOffsets[key]
		}
	}
	b.mu.RUnlock()
	if err != nil {
		if k := KindOf(err); k == KindPartitionNotFound || k == KindUnauthorized || k == KindUnauthenticated {
			return OffsetInfo{}, false, err
		}
		return OffsetInfo{}, false, nil
	}
	if !ok {
		return OffsetInfo{}, false, nil
	}
	info := OffsetInfo{Partition: partition, Stored: stored}
	if _, next, has := b.log.Bounds(partKey(st.ID, t.ID, p.UID)); has {
		info.Current = next - 1
	}
	return info, true, nil
}

// StoreOffset stores a consumer's offset (a plain overwrite). Every
// namespace failure is KindNotFound.
func (b *Broker) StoreOffset(ctx context.Context, s *Session, c Consumer, stream, topic Ident, partition uint32, hasPartition bool, offset uint64) error {
	r, err := b.offsetRecord(s, c, stream, topic, partition, hasPartition, auth.ActionStoreConsumerOffset)
	if err != nil {
		return err
	}
	_, next, ok := b.log.Bounds(partKey(r.Stream, r.Topic, r.UID))
	if !ok || offset > next-1 {
		return errf(KindInvalidOffset, "offset %d is beyond the partition's last offset", offset)
	}
	r.Op, r.Offset = opStoreOffset, offset
	return b.commit(ctx, r)
}

// DeleteOffset deletes a consumer's stored offset.
func (b *Broker) DeleteOffset(ctx context.Context, s *Session, c Consumer, stream, topic Ident, partition uint32, hasPartition bool) error {
	r, err := b.offsetRecord(s, c, stream, topic, partition, hasPartition, auth.ActionDeleteConsumerOffset)
	if err != nil {
		return err
	}
	b.mu.RLock()
	p := b.st.partition(r.Stream, r.Topic, partition)
	var exists bool
	if p != nil {
		if c.Kind == ConsumerGroup {
			_, exists = p.GroupOffsets[r.Key]
		} else {
			_, exists = p.ConsumerOffsets[r.Key]
		}
	}
	b.mu.RUnlock()
	if !exists {
		return errf(KindOffsetNotFound, "no offset stored for this consumer on partition %d", partition)
	}
	r.Op = opDeleteOffset
	return b.commit(ctx, r)
}

func (b *Broker) offsetRecord(s *Session, c Consumer, stream, topic Ident, partition uint32, hasPartition bool, a auth.Action) (*record, error) {
	if !hasPartition {
		return nil, errf(KindNotFound, "a partition id is required")
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	st, t, p, key, err := b.resolveOffsetTargetLocked(s, c, stream, topic, partition, a)
	if err != nil {
		if k := KindOf(err); k == KindUnauthorized || k == KindUnauthenticated {
			return nil, err
		}
		return nil, errf(KindNotFound, "%v", err)
	}
	kind := ConsumerSingle
	if c.Kind == ConsumerGroup {
		kind = ConsumerGroup
	}
	return &record{Stream: st.ID, Topic: t.ID, Partition: partition, UID: p.UID, Kind: kind, Key: key}, nil
}
