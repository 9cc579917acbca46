package client

import (
	"context"
	"fmt"

	"github.com/shoalstream/shoal/internal/wire"
)

// Consumer groups and their records.
type (
	ConsumerGroup        = wire.Group
	ConsumerGroupDetails = wire.GroupDetails
	ConsumerGroupMember  = wire.Member
	// Assignment is this client's share of a consumer group: the
	// partitions it may poll, and the generation of the group's
	// assignment it comes from.
	Assignment = wire.Assignment
)

// CreateConsumerGroup creates a consumer group on a topic and returns it.
func (c *Client) CreateConsumerGroup(ctx context.Context, stream, topic Identifier, name string) (*ConsumerGroupDetails, error) {
	if err := checkName(name, wire.CodeInvalidConsumerGroupName, "consumer group"); err != nil {
		return nil, err
	}
	req := wire.CreateConsumerGroupRequest{Stream: stream, Topic: topic, Name: name}
	return callDecode[ConsumerGroupDetails](ctx, c, wire.CmdCreateConsumerGroup, req.AppendTo(nil))
}

// GetConsumerGroup returns a consumer group and its members
// (ErrConsumerGroupNotFound if there is none).
func (c *Client) GetConsumerGroup(ctx context.Context, stream, topic, group Identifier) (*ConsumerGroupDetails, error) {
	req := wire.GetConsumerGroupRequest{Stream: stream, Topic: topic, Group: group}
	return callDecodeOrEmpty[ConsumerGroupDetails](ctx, c, wire.CmdGetConsumerGroup, req.AppendTo(nil),
		ErrConsumerGroupNotFound, fmt.Sprintf("group %s of topic %s of stream %s", group, topic, stream))
}

// GetConsumerGroups returns the consumer groups of a topic.
func (c *Client) GetConsumerGroups(ctx context.Context, stream, topic Identifier) ([]ConsumerGroup, error) {
	req := wire.GetConsumerGroupsRequest{Stream: stream, Topic: topic}
	return callDecodeList(ctx, c, wire.CmdGetConsumerGroups, req.AppendTo(nil), wire.DecodeGroups)
}

// DeleteConsumerGroup deletes a consumer group. Group polls of this client
// do not join it again by themselves until JoinConsumerGroup.
func (c *Client) DeleteConsumerGroup(ctx context.Context, stream, topic, group Identifier) error {
	return c.groupChange(ctx, wire.CmdDeleteConsumerGroup, stream, topic, group, leaving)
}

// JoinConsumerGroup makes this client a member of a consumer group.
func (c *Client) JoinConsumerGroup(ctx context.Context, stream, topic, group Identifier) error {
	return c.groupChange(ctx, wire.CmdJoinConsumerGroup, stream, topic, group, joining)
}

// LeaveConsumerGroup ends this client's membership of a consumer group.
// Group polls of this client do not join it again by themselves until
// JoinConsumerGroup.
func (c *Client) LeaveConsumerGroup(ctx context.Context, stream, topic, group Identifier) error {
	return c.groupChange(ctx, wire.CmdLeaveConsumerGroup, stream, topic, group, leaving)
}

// membershipChange says whether a command makes the caller a member of a
// group or ends its membership.
type membershipChange uint8

const (
	joining membershipChange = iota
	leaving
)

// groupChange sends a membership command and updates what group polls
// know: the cached assignment goes, and whether the caller left the group.
func (c *Client) groupChange(ctx context.Context, code uint32, stream, topic, group Identifier, m membershipChange) error {
	return c.withConn(ctx, func(ctx context.Context) error {
		if _, err := c.callLocked(ctx, code, appendIDs(nil, stream, topic, group)); err != nil {
			return err
		}
		key := groupKey(stream, topic, group)
		delete(c.groups.assignments, key)
		if m == leaving {
			c.groups.left[key] = true
		} else {
			delete(c.groups.left, key)
		}
		return nil
	})
}

// SyncConsumerGroup returns this client's assignment in a consumer group
// (ErrConsumerGroupMemberNotFound if it is not a member).
func (c *Client) SyncConsumerGroup(ctx context.Context, stream, topic, group Identifier) (*Assignment, error) {
	req := wire.SyncConsumerGroupRequest{Stream: stream, Topic: topic, Group: group}
	return callDecodeOrEmpty[Assignment](ctx, c, wire.CmdSyncConsumerGroup, req.AppendTo(nil),
		ErrConsumerGroupMemberNotFound, fmt.Sprintf("this client is not a member of group %s", group))
}
