package wire

import (
	"maps"
	"slices"
)

// Permissions is a user's permission set, the blob of wire.md §4.3:
//
//	[10 × bool global]
//	[has_streams u8]
//	  per stream: [stream_id u32][6 × bool][has_topics u8]
//	                per topic: [topic_id u32][4 × bool][has_next_topic u8]
//	              [has_next_stream u8]
//
// The blob is 11 bytes with no streams; each stream adds 12 bytes and each
// of its topics 9. Clients write the entries in any order (the Go SDK in
// map order): Decode accepts any order and refuses a repeated id; AppendTo
// writes ids in ascending order, as the reference stores them. A nil map
// and an empty map encode alike; Decode leaves empty maps nil.
type Permissions struct {
	Global  GlobalPermissions
	Streams map[uint32]*StreamPermissions
}

// GlobalPermissions are the ten server-wide flags, in wire order.
type GlobalPermissions struct {
	ManageServers bool
	ReadServers   bool
	ManageUsers   bool
	ReadUsers     bool
	ManageStreams bool
	ReadStreams   bool
	ManageTopics  bool
	ReadTopics    bool
	PollMessages  bool
	SendMessages  bool
}

// StreamPermissions are the flags of one stream, in wire order, and its
// topics' permissions. A nil entry encodes as all false with no topics.
type StreamPermissions struct {
	ManageStream bool
	ReadStream   bool
	ManageTopics bool
	ReadTopics   bool
	PollMessages bool
	SendMessages bool
	Topics       map[uint32]*TopicPermissions
}

// TopicPermissions are the flags of one topic, in wire order. A nil entry
// encodes as all false.
type TopicPermissions struct {
	ManageTopic  bool
	ReadTopic    bool
	PollMessages bool
	SendMessages bool
}

// Sizes of the permissions blob. Part of the protocol.
const (
	permsBaseSize   = 11 // 10 global flags + has_streams
	permsStreamSize = 12 // id + 6 flags + has_topics + has_next_stream
	permsTopicSize  = 9  // id + 4 flags + has_next_topic
)

// Size returns the encoded size of the blob.
func (p Permissions) Size() int {
	n := permsBaseSize
	for _, s := range p.Streams {
		n += permsStreamSize
		if s != nil {
			n += permsTopicSize * len(s.Topics)
		}
	}
	return n
}

// AppendTo appends the blob (without a length prefix).
func (p Permissions) AppendTo(dst []byte) []byte {
	g := p.Global
	for _, f := range [...]bool{g.ManageServers, g.ReadServers, g.ManageUsers, g.ReadUsers,
		g.ManageStreams, g.ReadStreams, g.ManageTopics, g.ReadTopics, g.PollMessages, g.SendMessages} {
		dst = AppendBool(dst, f)
	}
	ids := slices.Sorted(maps.Keys(p.Streams))
	dst = AppendBool(dst, len(ids) > 0)
	for i, id := range ids {
		s := p.Streams[id]
		if s == nil {
			s = &StreamPermissions{}
		}
		dst = AppendU32(dst, id)
		for _, f := range [...]bool{s.ManageStream, s.ReadStream, s.ManageTopics, s.ReadTopics, s.PollMessages, s.SendMessages} {
			dst = AppendBool(dst, f)
		}
		tids := slices.Sorted(maps.Keys(s.Topics))
		dst = AppendBool(dst, len(tids) > 0)
		for j, tid := range tids {
			t := s.Topics[tid]
			if t == nil {
				t = &TopicPermissions{}
			}
			dst = AppendU32(dst, tid)
			for _, f := range [...]bool{t.ManageTopic, t.ReadTopic, t.PollMessages, t.SendMessages} {
				dst = AppendBool(dst, f)
			}
			dst = AppendBool(dst, j < len(tids)-1)
		}
		dst = AppendBool(dst, i < len(ids)-1)
	}
	return dst
}

// Decode decodes a blob that is exactly b. Permission flags read any
// non-zero byte as true (as the reference does); the has_* flags must be 0
// or 1.
func (p *Permissions) Decode(b []byte) error {
	r := NewReader(b)
	v := readPermissions(r)
	if err := r.Complete(); err != nil {
		return err
	}
	*p = v
	return nil
}

func readPermissions(r *Reader) Permissions {
	var p Permissions
	g := &p.Global
	for _, f := range [...]*bool{&g.ManageServers, &g.ReadServers, &g.ManageUsers, &g.ReadUsers,
		&g.ManageStreams, &g.ReadStreams, &g.ManageTopics, &g.ReadTopics, &g.PollMessages, &g.SendMessages} {
		*f = r.Bool()
	}
	more := ctlFlag(r, "has_streams")
	for more && r.Err() == nil {
		id := r.U32()
		s := &StreamPermissions{}
		for _, f := range [...]*bool{&s.ManageStream, &s.ReadStream, &s.ManageTopics, &s.ReadTopics, &s.PollMessages, &s.SendMessages} {
			*f = r.Bool()
		}
		moreTopics := ctlFlag(r, "has_topics")
		for moreTopics && r.Err() == nil {
			tid := r.U32()
			t := &TopicPermissions{ManageTopic: r.Bool(), ReadTopic: r.Bool(), PollMessages: r.Bool(), SendMessages: r.Bool()}
			moreTopics = ctlFlag(r, "has_next_topic")
			if r.Err() != nil {
				break
			}
			if _, dup := s.Topics[tid]; dup {
				r.Failf("permissions: topic %d of stream %d listed twice", tid, id)
				break
			}
			if s.Topics == nil {
				s.Topics = make(map[uint32]*TopicPermissions)
			}
			s.Topics[tid] = t
		}
		more = ctlFlag(r, "has_next_stream")
		if r.Err() != nil {
			break
		}
		if _, dup := p.Streams[id]; dup {
			r.Failf("permissions: stream %d listed twice", id)
			break
		}
		if p.Streams == nil {
			p.Streams = make(map[uint32]*StreamPermissions)
		}
		p.Streams[id] = s
	}
	if r.Err() != nil {
		return Permissions{}
	}
	return p
}

// appendPermissionsField appends [len u32][blob].
func appendPermissionsField(dst []byte, p *Permissions) []byte {
	dst = AppendU32(dst, uint32(p.Size()))
	return p.AppendTo(dst)
}

// readPermissionsField reads [len u32][blob]; the blob must fill exactly
// len bytes.
func readPermissionsField(r *Reader) *Permissions {
	n := r.U32()
	if r.Err() != nil {
		return nil
	}
	if uint64(n) > uint64(r.Len()) {
		r.Failf("permissions of %d bytes at offset %d overrun the body", n, r.Offset()-4)
		return nil
	}
	var p Permissions
	if err := p.Decode(r.Bytes(int(n))); err != nil {
		r.Fail(err)
		return nil
	}
	return &p
}
