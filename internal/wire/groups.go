package wire

// Consumer groups (wire.md §5.8, messages.md §4).

// Group is a consumer group record, alone in the GetConsumerGroups list:
// [id u32][partitions_count u32][members_count u32][name name8].
// PartitionsCount is the topic's partition count. In a list MembersCount is
// informational; GroupDetails is followed by that many Member records.
type Group struct {
	ID              uint32
	PartitionsCount uint32
	MembersCount    uint32
	Name            string
}

// AppendTo appends the encoded record.
func (g Group) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, g.ID)
	dst = AppendU32(dst, g.PartitionsCount)
	dst = AppendU32(dst, g.MembersCount)
	return AppendName8(dst, g.Name)
}

// Decode decodes a record that is exactly b.
func (g *Group) Decode(b []byte) error {
	var v Group
	if err := ctlDecode(b, func(r *Reader) { v = readGroup(r) }); err != nil {
		return err
	}
	*g = v
	return nil
}

func readGroup(r *Reader) Group {
	var g Group
	g.ID = r.U32()
	g.PartitionsCount = r.U32()
	g.MembersCount = r.U32()
	g.Name = r.Name8()
	return g
}

// Member is a group member: [member_id u32][partitions_count u32][partition_id u32 × count].
type Member struct {
	ID         uint32
	Partitions []uint32 // nil when empty
}

const minMemberSize = 8

// AppendTo appends the encoded member.
func (m Member) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, m.ID)
	return appendU32s(dst, m.Partitions)
}

// Decode decodes a member that is exactly b.
func (m *Member) Decode(b []byte) error {
	var v Member
	err := ctlDecode(b, func(r *Reader) {
		v.ID = r.U32()
		v.Partitions = readU32s(r)
	})
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// appendU32s appends [count u32][u32 × count].
func appendU32s(dst []byte, vs []uint32) []byte {
	dst = AppendU32(dst, uint32(len(vs)))
	for _, v := range vs {
		dst = AppendU32(dst, v)
	}
	return dst
}

// readU32s reads [count u32][u32 × count]; nil when count is 0.
func readU32s(r *Reader) []uint32 {
	n := r.Count(4)
	if n == 0 {
		return nil
	}
	vs := make([]uint32, n)
	for i := range vs {
		vs[i] = r.U32()
	}
	return vs
}

// GroupDetails is the GetConsumerGroup and CreateConsumerGroup (framed)
// reply: Group then members_count × Member. (CreateConsumerGroup's reply
// must not be empty: the Go SDK indexes it unchecked.)
type GroupDetails struct {
	Group
	Members []Member // nil when empty
}

// AppendTo appends the encoded details; the members count written is
// len(Members) (Group.MembersCount is ignored).
func (d GroupDetails) AppendTo(dst []byte) []byte {
	g := d.Group
	g.MembersCount = uint32(len(d.Members))
	dst = g.AppendTo(dst)
	for _, m := range d.Members {
		dst = m.AppendTo(dst)
	}
	return dst
}

// Decode decodes details that are exactly b: exactly members_count
// members.
func (d *GroupDetails) Decode(b []byte) error {
	var v GroupDetails
	err := ctlDecode(b, func(r *Reader) {
		v.Group = readGroup(r)
		n := ctlBound(r, v.MembersCount, minMemberSize, "group members")
		if n > 0 {
			v.Members = make([]Member, 0, n)
		}
		for range n {
			m := Member{ID: r.U32(), Partitions: readU32s(r)}
			if r.Err() != nil {
				return
			}
			v.Members = append(v.Members, m)
		}
	})
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// AppendGroups appends the GetConsumerGroups reply: records back to back,
// no count.
func AppendGroups(dst []byte, gs []Group) []byte {
	for _, g := range gs {
		dst = g.AppendTo(dst)
	}
	return dst
}

// DecodeGroups decodes a GetConsumerGroups reply; an empty body decodes to
// nil.
func DecodeGroups(b []byte) ([]Group, error) {
	var gs []Group
	err := ctlDecode(b, func(r *Reader) {
		for r.Len() > 0 {
			g := readGroup(r)
			if r.Err() != nil {
				return
			}
			gs = append(gs, g)
		}
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}

// Assignment is the SyncConsumerGroup reply, the partitions the calling
// client owns: [generation u64][partitions_count u32][partition_id u32 × count],
// exactly 12 + 4n bytes. An empty body means "not a member" and is not an
// Assignment.
type Assignment struct {
	Generation uint64
	Partitions []uint32 // nil when empty
}

// AppendTo appends the encoded assignment.
func (a Assignment) AppendTo(dst []byte) []byte {
	dst = AppendU64(dst, a.Generation)
	return appendU32s(dst, a.Partitions)
}

// Decode decodes an assignment that is exactly b.
func (a *Assignment) Decode(b []byte) error {
	var v Assignment
	err := ctlDecode(b, func(r *Reader) {
		v.Generation = r.U64()
		v.Partitions = readU32s(r)
	})
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// GetConsumerGroupsRequest is [stream id][topic id].
type GetConsumerGroupsRequest struct {
	Stream Identifier
	Topic  Identifier
}

// AppendTo appends the encoded request.
func (q GetConsumerGroupsRequest) AppendTo(dst []byte) []byte {
	return ctlAppendIDs(dst, q.Stream, q.Topic)
}

// Decode decodes a request that is exactly b.
func (q *GetConsumerGroupsRequest) Decode(b []byte) error {
	return ctlDecodeIDs(b, &q.Stream, &q.Topic)
}

// CreateConsumerGroupRequest is [stream id][topic id][name name8] (no group
// id: the server assigns it).
type CreateConsumerGroupRequest struct {
	Stream Identifier
	Topic  Identifier
	Name   string
}

// AppendTo appends the encoded request.
func (q CreateConsumerGroupRequest) AppendTo(dst []byte) []byte {
	return AppendName8(ctlAppendIDs(dst, q.Stream, q.Topic), q.Name)
}

// Decode decodes a request that is exactly b.
func (q *CreateConsumerGroupRequest) Decode(b []byte) error {
	var v CreateConsumerGroupRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Stream = ReadIdentifier(r)
		v.Topic = ReadIdentifier(r)
		v.Name = r.Name8()
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// GroupRequest is the body of every command that names one consumer
// group: [stream id][topic id][group id].
type GroupRequest struct {
	Stream Identifier
	Topic  Identifier
	Group  Identifier
}

// AppendTo appends the encoded request.
func (q GroupRequest) AppendTo(dst []byte) []byte {
	return ctlAppendIDs(dst, q.Stream, q.Topic, q.Group)
}

// Decode decodes a request that is exactly b.
func (q *GroupRequest) Decode(b []byte) error {
	return ctlDecodeIDs(b, &q.Stream, &q.Topic, &q.Group)
}

// The group commands' bodies. Get's reply is GroupDetails, or an empty
// body when the group does not exist; Join's and Leave's member is the
// calling session (nothing in the body names it); Sync's reply is the
// caller's Assignment, or an empty body when it is not a member.
type (
	GetConsumerGroupRequest    = GroupRequest
	DeleteConsumerGroupRequest = GroupRequest
	JoinConsumerGroupRequest   = GroupRequest
	LeaveConsumerGroupRequest  = GroupRequest
	SyncConsumerGroupRequest   = GroupRequest
)
