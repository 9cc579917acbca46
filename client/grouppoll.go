package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

// How group polls are orchestrated (messages.md §2.7).
const (
	// assignmentTTL is how long a synced assignment is used before the
	// client syncs again.
	assignmentTTL = 5 * time.Second
	// groupPollAttempts is how many polls one group poll tries before it
	// gives up with an empty result.
	groupPollAttempts = 2
)

// groupCache holds, per consumer group (keyed by the encoded stream, topic
// and group identifiers), this client's synced assignment and whether the
// caller left the group explicitly. Memberships belong to a client
// identity, so a new one (reconnect, login, logout) clears the
// assignments; an explicit leave is remembered until an explicit join.
type groupCache struct {
	assignments map[string]*groupAssignment
	left        map[string]bool
}

type groupAssignment struct {
	synced     time.Time
	generation uint64
	partitions []uint32
	cursor     uint32
}

func (g *groupCache) init() {
	g.assignments = make(map[string]*groupAssignment)
	g.left = make(map[string]bool)
}

func (g *groupCache) clear() { clear(g.assignments) }

func groupKey(stream, topic, group Identifier) string {
	var b [3 * 257]byte
	return string(appendIDs(b[:0], stream, topic, group))
}

// pollGroupLocked polls a consumer group without a partition: it polls the
// next partition assigned to this client, syncing (and joining) first when
// it has no fresh assignment, and retries once on a stale one.
func (c *Client) pollGroupLocked(ctx context.Context, req PollRequest) (*PolledMessages, error) {
	key := groupKey(req.Stream, req.Topic, req.Consumer.ID)
	for range groupPollAttempts {
		a, err := c.assignmentLocked(ctx, key, req.Stream, req.Topic, req.Consumer.ID)
		if err != nil {
			return nil, err
		}
		if len(a.partitions) == 0 {
			return &PolledMessages{PartitionID: PollNoAssignmentPartition}, nil
		}
		p := a.partitions[a.cursor%uint32(len(a.partitions))]
		a.cursor++
		preq := req
		preq.Partition = InPartition(p)
		res, err := c.pollLocked(ctx, preq)
		switch {
		case errors.Is(err, ErrConsumerGroupMemberNotFound), errors.Is(err, ErrConsumerGroupPartitionNotOwned):
			delete(c.groups.assignments, key)
			continue
		case err != nil:
			return nil, err
		case res.PartitionID == PollResyncPartition && len(res.Messages) == 0:
			delete(c.groups.assignments, key)
			continue
		}
		return res, nil
	}
	return &PolledMessages{PartitionID: PollNoAssignmentPartition}, nil
}

// assignmentLocked returns this client's assignment in a group: the cached
// one if it is fresh, else a synced one. When the client is not a member
// it joins, unless the caller left the group explicitly.
func (c *Client) assignmentLocked(ctx context.Context, key string, stream, topic, group Identifier) (*groupAssignment, error) {
	now := c.opts.now()
	old := c.groups.assignments[key]
	if old != nil && now.Sub(old.synced) < assignmentTTL {
		return old, nil
	}
	gen, parts, err := c.syncGroupLocked(ctx, stream, topic, group)
	if errors.Is(err, ErrConsumerGroupMemberNotFound) && !c.groups.left[key] {
		if _, err := c.callLocked(ctx, wire.CmdJoinConsumerGroup, appendIDs(nil, stream, topic, group)); err != nil {
			return nil, err
		}
		gen, parts, err = c.syncGroupLocked(ctx, stream, topic, group)
	}
	if err != nil {
		return nil, err
	}
	a := &groupAssignment{synced: now, generation: gen, partitions: parts}
	if old != nil && old.generation == gen {
		a.cursor = old.cursor
	}
	c.groups.assignments[key] = a
	return a, nil
}

// syncGroupLocked reads this client's assignment in a group; an empty
// reply (not a member) is ErrConsumerGroupMemberNotFound.
func (c *Client) syncGroupLocked(ctx context.Context, stream, topic, group Identifier) (uint64, []uint32, error) {
	body, err := c.callLocked(ctx, wire.CmdSyncConsumerGroup, appendIDs(nil, stream, topic, group))
	if err != nil {
		return 0, nil, err
	}
	if len(body) == 0 {
		return 0, nil, ErrConsumerGroupMemberNotFound.With("%s: this client is not a member of group %s", cmdName(wire.CmdSyncConsumerGroup), group)
	}
	var a wire.Assignment
	if err := a.Decode(body); err != nil {
		return 0, nil, fmt.Errorf("%s: decoding the reply: %w", cmdName(wire.CmdSyncConsumerGroup), err)
	}
	return a.Generation, a.Partitions, nil
}
