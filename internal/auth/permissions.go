package auth

// Permissions are the grants of one user: global flags, and per-stream
// flags (with per-topic flags under each stream) keyed by numeric stream and
// topic id. A nil *Permissions, a nil map and a nil map entry all grant
// nothing. The fields mirror the permissions blob of the wire protocol.
type Permissions struct {
	Global  Global
	Streams map[uint32]*StreamPerms
}

// Global are the flags that apply to the whole server.
type Global struct {
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

// StreamPerms are the flags that apply to one stream and every topic in it,
// and the per-topic flags of that stream.
type StreamPerms struct {
	ManageStream bool
	ReadStream   bool
	ManageTopics bool
	ReadTopics   bool
	PollMessages bool
	SendMessages bool
	Topics       map[uint32]*TopicPerms
}

// TopicPerms are the flags that apply to one topic.
type TopicPerms struct {
	ManageTopic  bool
	ReadTopic    bool
	PollMessages bool
	SendMessages bool
}

// RootPermissions returns every global flag set and no stream entries: the
// permissions the root user reports. Authorization does not read them for
// root (see Allowed); they are what GetUser shows.
func RootPermissions() *Permissions {
	return &Permissions{Global: Global{
		ManageServers: true, ReadServers: true,
		ManageUsers: true, ReadUsers: true,
		ManageStreams: true, ReadStreams: true,
		ManageTopics: true, ReadTopics: true,
		PollMessages: true, SendMessages: true,
	}}
}

// Clone returns a deep copy of p, sharing nothing with it; nil stays nil,
// and so do nil maps and nil map entries.
func (p *Permissions) Clone() *Permissions {
	if p == nil {
		return nil
	}
	c := &Permissions{Global: p.Global}
	if p.Streams != nil {
		c.Streams = make(map[uint32]*StreamPerms, len(p.Streams))
		for id, s := range p.Streams {
			c.Streams[id] = s.Clone()
		}
	}
	return c
}

// Clone returns a deep copy of s; nil stays nil.
func (s *StreamPerms) Clone() *StreamPerms {
	if s == nil {
		return nil
	}
	c := *s
	if s.Topics != nil {
		c.Topics = make(map[uint32]*TopicPerms, len(s.Topics))
		for id, t := range s.Topics {
			if t == nil {
				c.Topics[id] = nil
				continue
			}
			tc := *t
			c.Topics[id] = &tc
		}
	}
	return &c
}
