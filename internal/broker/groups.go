package broker

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/shoalstream/shoal/internal/auth"
)

// groupRuntime is a group's live membership and assignment (not
// persisted: members are sessions). Guarded by Broker.mu.
type groupRuntime struct {
	generation uint64
	members    []*member         // in slab order
	lastPolled map[uint32]uint64 // partition → highest offset served to the group
}

type member struct {
	s       *Session
	id      uint32
	parts   []uint32     // owned partitions
	pending []revocation // owned partitions moving to another member
}

type revocation struct {
	partition uint32
	target    *member
	created   time.Time
}

// GroupInfo describes a consumer group.
type GroupInfo struct {
	ID              uint32
	Name            string
	PartitionsCount uint32
	Members         []MemberInfo
}

// MemberInfo is a group member and the partitions it owns.
type MemberInfo struct {
	ID         uint32
	Partitions []uint32
}

// Assignment is what SyncConsumerGroup returns: the caller's pollable
// partitions.
type Assignment struct {
	Generation uint64
	Partitions []uint32
}

func resolveGroup(t *Topic, id Ident) *Group {
	if t == nil {
		return nil
	}
	if !id.Named {
		return t.Groups[id.ID]
	}
	for _, g := range t.Groups {
		if g.Name == id.Name {
			return g
		}
	}
	return nil
}

func groupInfo(t *Topic, g *Group) GroupInfo {
	gi := GroupInfo{ID: g.ID, Name: g.Name, PartitionsCount: uint32(len(t.Partitions))}
	for _, m := range g.rt.members {
		gi.Members = append(gi.Members, MemberInfo{ID: m.id, Partitions: slices.Clone(m.parts)})
	}
	return gi
}

// lookupGroupLocked resolves stream, topic and group with the protocol's
// errors.
func (b *Broker) lookupGroupLocked(stream, topic, group Ident) (*Stream, *Topic, *Group, error) {
	st, t, err := b.lookupLocked(stream, topic)
	if err != nil {
		return st, t, nil, err
	}
	g := resolveGroup(t, group)
	if g == nil {
		return st, t, nil, errf(KindGroupNotFound, "consumer group %s not found", group)
	}
	return st, t, g, nil
}

// groupForLocked resolves a group and then checks that the session may do
// a on its topic: a missing stream, topic or group is reported before a
// denial, as the reference server does. The caller holds b.mu.
func (b *Broker) groupForLocked(s *Session, a auth.Action, stream, topic, group Ident) (*Stream, *Topic, *Group, error) {
	st, t, g, err := b.lookupGroupLocked(stream, topic, group)
	if err != nil {
		if lerr := loggedIn(s); lerr != nil {
			return nil, nil, nil, lerr
		}
		return nil, nil, nil, err
	}
	if err := b.authorizeLocked(s, a, st.ID, t.ID); err != nil {
		return nil, nil, nil, err
	}
	return st, t, g, nil
}

// CreateGroup creates a consumer group; ids are never reused in a topic.
func (b *Broker) CreateGroup(ctx context.Context, s *Session, stream, topic Ident, name string) (GroupInfo, error) {
	if !validName(name) {
		return GroupInfo{}, errf(KindInvalid, "consumer group name must be 1 to 255 bytes")
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	st, t, err := b.lookupLocked(stream, topic)
	if err == nil {
		err = b.authorizeLocked(s, auth.ActionManageConsumerGroup, st.ID, t.ID)
	}
	r := &record{Op: opCreateGroup, Name: name, Time: b.now()}
	if err == nil {
		if resolveGroup(t, ByName(name)) != nil {
			err = errf(KindGroupExists, "consumer group '%s' already exists", name)
		}
		r.Stream, r.Topic, r.ID = st.ID, t.ID, t.NextGroupID
	}
	b.mu.RUnlock()
	if err != nil {
		return GroupInfo{}, err
	}
	if err := b.commit(ctx, r); err != nil {
		return GroupInfo{}, err
	}
	return b.GetGroup(s, ByID(r.Stream), ByID(r.Topic), ByID(r.ID))
}

// GetGroup returns a group with its members.
func (b *Broker) GetGroup(s *Session, stream, topic, group Ident) (GroupInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	_, t, g, err := b.groupForLocked(s, auth.ActionReadConsumerGroup, stream, topic, group)
	if err != nil {
		return GroupInfo{}, err
	}
	return groupInfo(t, g), nil
}

// Groups lists a topic's groups in id order.
func (b *Broker) Groups(s *Session, stream, topic Ident) ([]GroupInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	st, t, err := b.lookupLocked(stream, topic)
	if err != nil {
		if lerr := loggedIn(s); lerr != nil {
			return nil, lerr
		}
		return nil, err
	}
	if err := b.authorizeLocked(s, auth.ActionReadConsumerGroup, st.ID, t.ID); err != nil {
		return nil, err
	}
	var out []GroupInfo
	for _, id := range slices.Sorted(maps.Keys(t.Groups)) {
		out = append(out, groupInfo(t, t.Groups[id]))
	}
	return out, nil
}

// DeleteGroup deletes a group and its offsets; its members are dropped.
func (b *Broker) DeleteGroup(ctx context.Context, s *Session, stream, topic, group Ident) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	st, t, g, err := b.lookupGroupLocked(stream, topic, group)
	if err == nil {
		err = b.authorizeLocked(s, auth.ActionManageConsumerGroup, st.ID, t.ID)
	}
	b.mu.RUnlock()
	if err != nil {
		return err
	}
	return b.commit(ctx, &record{Op: opDeleteGroup, Stream: st.ID, Topic: t.ID, ID: g.ID})
}

// JoinGroup makes the session a member (a no-op if it is one already) and
// rebalances cooperatively.
func (b *Broker) JoinGroup(s *Session, stream, topic, group Ident) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, t, g, err := b.groupForLocked(s, auth.ActionJoinConsumerGroup, stream, topic, group)
	if err != nil {
		return err
	}
	if findMember(g, s) != nil {
		return nil
	}
	ids := make([]uint32, 0, len(g.rt.members))
	for _, m := range g.rt.members {
		ids = append(ids, m.id)
	}
	var id uint32
	for slices.Contains(ids, id) {
		id++
	}
	g.rt.members = append(g.rt.members, &member{s: s, id: id})
	slices.SortFunc(g.rt.members, func(a, c *member) int { return int(a.id) - int(c.id) })
	b.cooperativeLocked(t, g)
	return nil
}

// LeaveGroup removes the session from a group (KindMemberNotFound if it is
// not a member) and rebalances.
func (b *Broker) LeaveGroup(s *Session, stream, topic, group Ident) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, t, g, err := b.groupForLocked(s, auth.ActionJoinConsumerGroup, stream, topic, group)
	if err != nil {
		return err
	}
	if findMember(g, s) == nil {
		return errf(KindMemberNotFound, "not a member of consumer group %s", group)
	}
	b.removeMemberLocked(t, g, s)
	return nil
}

// SyncGroup returns the caller's pollable partitions; ok is false when it
// is not a member (or the group, topic or stream is unknown).
func (b *Broker) SyncGroup(s *Session, stream, topic, group Ident) (Assignment, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, t, g, err := b.groupForLocked(s, auth.ActionJoinConsumerGroup, stream, topic, group)
	if k := KindOf(err); k == KindUnauthorized || k == KindUnauthenticated {
		return Assignment{}, false, err
	}
	if err != nil {
		return Assignment{}, false, nil // not a member of a group that is not there
	}
	b.completeGroupLocked(t, g, b.opts.Now())
	m := findMember(g, s)
	if m == nil {
		return Assignment{}, false, nil
	}
	a := Assignment{Generation: g.rt.generation, Partitions: []uint32{}}
	for _, p := range m.parts {
		if !m.pendingOn(p) {
			a.Partitions = append(a.Partitions, p)
		}
	}
	return a, true, nil
}

func findMember(g *Group, s *Session) *member {
	for _, m := range g.rt.members {
		if m.s == s {
			return m
		}
	}
	return nil
}

func (m *member) pendingOn(p uint32) bool {
	return slices.ContainsFunc(m.pending, func(r revocation) bool { return r.partition == p })
}

func (m *member) owns(p uint32) bool { return slices.Contains(m.parts, p) }

// leaveAll removes the session from every group it is in.
func (b *Broker) leaveAll(s *Session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, st := range b.st.Streams {
		for _, t := range st.Topics {
			for _, g := range t.Groups {
				if findMember(g, s) != nil {
					b.removeMemberLocked(t, g, s)
				}
			}
		}
	}
}

// memberships lists the session's groups.
func (b *Broker) memberships(s *Session) []ClientGroup {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []ClientGroup
	for _, st := range b.st.Streams {
		for _, t := range st.Topics {
			for _, g := range t.Groups {
				if findMember(g, s) != nil {
					out = append(out, ClientGroup{Stream: st.ID, Topic: t.ID, Group: g.ID})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, c ClientGroup) int {
		if a.Stream != c.Stream {
			return int(a.Stream) - int(c.Stream)
		}
		if a.Topic != c.Topic {
			return int(a.Topic) - int(c.Topic)
		}
		return int(a.Group) - int(c.Group)
	})
	return out
}

func (b *Broker) removeMemberLocked(t *Topic, g *Group, s *Session) {
	g.rt.members = slices.DeleteFunc(g.rt.members, func(m *member) bool { return m.s == s })
	b.rebalanceLocked(t, g)
}

// rebalanceLocked is the eager rebalance (messages.md §4.4): on leave,
// member removal and partition count changes, every assignment is dealt
// again, partition i to member i mod M in slab order.
func (b *Broker) rebalanceLocked(t *Topic, g *Group) {
	g.rt.generation++
	for _, m := range g.rt.members {
		m.parts, m.pending = nil, nil
	}
	if len(g.rt.members) == 0 {
		return
	}
	for i := range t.Partitions {
		m := g.rt.members[i%len(g.rt.members)]
		m.parts = append(m.parts, uint32(i))
	}
}

// cooperativeLocked is the rebalance on join (messages.md §4.4): only
// the excess of over-assigned members moves, to idle members, and a
// partition the group has polled past its committed offset moves only
// once that is committed (or the rebalance timeout passes).
func (b *Broker) cooperativeLocked(t *Topic, g *Group) {
	g.rt.generation++
	members := g.rt.members
	if len(members) == 0 || len(t.Partitions) == 0 {
		return
	}
	owned := map[uint32]bool{}
	for _, m := range members {
		for _, p := range m.parts {
			owned[p] = true
		}
	}
	idle := func() []*member {
		var out []*member
		for _, m := range members {
			if len(m.parts) == 0 && !b.isTargetLocked(g, m) {
				out = append(out, m)
			}
		}
		return out
	}
	// Unowned partitions go round-robin to idle members.
	if ids := idle(); len(ids) > 0 {
		i := 0
		for p := range uint32(len(t.Partitions)) {
			if !owned[p] {
				ids[i%len(ids)].parts = append(ids[i%len(ids)].parts, p)
				i++
			}
		}
	}
	// Take the excess of over-assigned members from the end of their lists.
	P, M := len(t.Partitions), len(members)
	fair, rem := P/M, P%M
	var excess []struct {
		from *member
		p    uint32
	}
	for _, m := range members {
		var movable []uint32
		for _, p := range m.parts {
			if !m.pendingOn(p) {
				movable = append(movable, p)
			}
		}
		keep := fair
		if rem > 0 && len(movable) > fair {
			keep = fair + 1
			rem--
		}
		for len(movable) > keep {
			p := movable[len(movable)-1]
			movable = movable[:len(movable)-1]
			excess = append(excess, struct {
				from *member
				p    uint32
			}{m, p})
		}
	}
	targets := idle()
	if len(targets) == 0 {
		return
	}
	now := b.opts.Now()
	for i, e := range excess {
		to := targets[i%len(targets)]
		if b.inFlightLocked(t, g, e.p) {
			e.from.pending = append(e.from.pending, revocation{partition: e.p, target: to, created: now})
			continue
		}
		e.from.parts = slices.DeleteFunc(e.from.parts, func(p uint32) bool { return p == e.p })
		to.parts = append(to.parts, e.p)
		slices.Sort(to.parts)
	}
}

func (b *Broker) isTargetLocked(g *Group, t *member) bool {
	for _, m := range g.rt.members {
		for _, r := range m.pending {
			if r.target == t {
				return true
			}
		}
	}
	return false
}

// inFlightLocked: the group has been served offsets of p beyond what it
// committed.
func (b *Broker) inFlightLocked(t *Topic, g *Group, p uint32) bool {
	polled, ok := g.rt.lastPolled[p]
	if !ok || int(p) >= len(t.Partitions) {
		return false
	}
	committed, ok := t.Partitions[p].GroupOffsets[g.ID]
	return !ok || committed < polled
}

// completeRevocations moves partitions whose old owner has committed what
// it polled, or whose rebalance timeout has passed.
func (b *Broker) completeRevocations() {
	b.mu.RLock()
	pending := false
	for _, st := range b.st.Streams {
		for _, t := range st.Topics {
			for _, g := range t.Groups {
				for _, m := range g.rt.members {
					pending = pending || len(m.pending) > 0
				}
			}
		}
	}
	b.mu.RUnlock()
	if !pending {
		return // the usual case: no exclusive lock every tick
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.opts.Now()
	for _, st := range b.st.Streams {
		for _, t := range st.Topics {
			for _, g := range t.Groups {
				b.completeGroupLocked(t, g, now)
			}
		}
	}
}

// completeGroupLocked completes the group's revocations that are due.
func (b *Broker) completeGroupLocked(t *Topic, g *Group, now time.Time) {
	for _, m := range g.rt.members {
		var keep []revocation
		for _, r := range m.pending {
			if b.inFlightLocked(t, g, r.partition) && now.Sub(r.created) < b.opts.GroupRebalanceTimeout {
				keep = append(keep, r)
				continue
			}
			g.rt.generation++
			if !slices.Contains(g.rt.members, r.target) {
				b.rebalanceLocked(t, g) // clears every member's revocations
				return
			}
			m.parts = slices.DeleteFunc(m.parts, func(p uint32) bool { return p == r.partition })
			r.target.parts = append(r.target.parts, r.partition)
			slices.Sort(r.target.parts)
		}
		m.pending = keep
	}
}

// groupPollable reports whether the session may poll partition p of g
// (owned and not moving away); groupCommittable whether it may commit it.
func groupPollable(g *Group, s *Session, p uint32) bool {
	m := findMember(g, s)
	return m != nil && m.owns(p) && !m.pendingOn(p)
}

func groupCommittable(g *Group, s *Session, p uint32) bool {
	m := findMember(g, s)
	return m != nil && m.owns(p)
}
