package broker

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/logstore"
)

// state is everything the broker persists through the journal. It is
// changed only by apply (records in journal order) and restore (a
// checkpoint's snapshot), so that a live server and a recovered one hold
// the same state.
type state struct {
	Streams map[uint32]*Stream `json:"streams"`
	Users   map[uint32]*User   `json:"users"`
	// NextPartitionUID numbers partition instances for their storage key;
	// it never goes back, so a key is never reused after a delete or purge.
	NextPartitionUID uint32 `json:"next_partition_uid"`
}

// Stream is a stream.
type Stream struct {
	ID        uint32            `json:"id"`
	Name      string            `json:"name"`
	CreatedAt uint64            `json:"created_at"`
	Topics    map[uint32]*Topic `json:"topics"`
}

// Topic is a topic of a stream.
type Topic struct {
	ID          uint32            `json:"id"`
	Name        string            `json:"name"`
	CreatedAt   uint64            `json:"created_at"`
	Config      TopicConfig       `json:"config"`
	Partitions  []*Partition      `json:"partitions"`
	Groups      map[uint32]*Group `json:"groups"`
	NextGroupID uint32            `json:"next_group_id"`
}

// Partition is a partition of a topic. UID names its data in the log.
type Partition struct {
	ID        uint32 `json:"id"`
	UID       uint32 `json:"uid"`
	CreatedAt uint64 `json:"created_at"`
	// Consumer offsets by consumer key, and group offsets by group id.
	ConsumerOffsets map[uint32]uint64 `json:"consumer_offsets,omitempty"`
	GroupOffsets    map[uint32]uint64 `json:"group_offsets,omitempty"`
}

// Group is a consumer group of a topic. Its membership is not persisted:
// members are live sessions.
type Group struct {
	ID        uint32 `json:"id"`
	Name      string `json:"name"`
	CreatedAt uint64 `json:"created_at"`

	rt groupRuntime
}

// User is a user account.
type User struct {
	ID           uint32            `json:"id"`
	Username     string            `json:"username"`
	PasswordHash string            `json:"password_hash"`
	Status       uint8             `json:"status"`
	CreatedAt    uint64            `json:"created_at"`
	Permissions  *auth.Permissions `json:"permissions,omitempty"`
	PATs         map[string]*PAT   `json:"pats,omitempty"`
}

// PAT is a personal access token; only its hash is kept.
type PAT struct {
	Name     string `json:"name"`
	Hash     string `json:"hash"`
	ExpiryAt uint64 `json:"expiry_at"` // µs since the epoch; 0 never
}

// User statuses (the protocol's values).
const (
	UserActive   uint8 = 1
	UserInactive uint8 = 2
)

// Consumer kinds.
const (
	ConsumerSingle uint8 = 1
	ConsumerGroup  uint8 = 2
)

// record is one metadata change as it is written to the journal (JSON).
// Every field a change needs is in the record, ids and times included, so
// applying it is deterministic.
type record struct {
	Op        string   `json:"op"`
	Stream    uint32   `json:"s,omitempty"`
	Topic     uint32   `json:"t,omitempty"`
	Partition uint32   `json:"p,omitempty"`
	ID        uint32   `json:"id,omitempty"`
	Name      string   `json:"n,omitempty"`
	Time      uint64   `json:"ts,omitempty"`
	Count     uint32   `json:"c,omitempty"`
	UIDs      []uint32 `json:"uids,omitempty"`
	// UID is the partition an offset record was written for, so an offset
	// for a purged or re-created partition never lands on its successor.
	UID    uint32            `json:"uid,omitempty"`
	Config *TopicConfig      `json:"cfg,omitempty"`
	User   *User             `json:"user,omitempty"`
	PAT    *PAT              `json:"pat,omitempty"`
	Perms  *auth.Permissions `json:"perms,omitempty"`
	Status uint8             `json:"st,omitempty"`
	Hash   string            `json:"h,omitempty"`
	Kind   uint8             `json:"k,omitempty"`
	Key    uint32            `json:"key,omitempty"`
	Offset uint64            `json:"o,omitempty"`
	Max    bool              `json:"max,omitempty"` // offset: only move forward
}

// Record operations. Part of the storage format: never rename one.
const (
	opCreateStream     = "create_stream"
	opUpdateStream     = "update_stream"
	opDeleteStream     = "delete_stream"
	opPurgeStream      = "purge_stream"
	opCreateTopic      = "create_topic"
	opUpdateTopic      = "update_topic"
	opDeleteTopic      = "delete_topic"
	opPurgeTopic       = "purge_topic"
	opCreatePartitions = "create_partitions"
	opDeletePartitions = "delete_partitions"
	opCreateGroup      = "create_group"
	opDeleteGroup      = "delete_group"
	opCreateUser       = "create_user"
	opUpdateUser       = "update_user"
	opDeleteUser       = "delete_user"
	opSetPassword      = "set_password"
	opSetPermissions   = "set_permissions"
	opCreatePAT        = "create_pat"
	opDeletePAT        = "delete_pat"
	opStoreOffset      = "store_offset"
	opDeleteOffset     = "delete_offset"
)

func newState() *state {
	return &state{Streams: map[uint32]*Stream{}, Users: map[uint32]*User{}}
}

func (s *state) snapshot() ([]byte, error) { return json.Marshal(s) }

func restoreState(b []byte) (*state, error) {
	s := newState()
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("broker snapshot: %w", err)
	}
	if s.Streams == nil {
		s.Streams = map[uint32]*Stream{}
	}
	if s.Users == nil {
		s.Users = map[uint32]*User{}
	}
	for _, st := range s.Streams {
		if st.Topics == nil {
			st.Topics = map[uint32]*Topic{}
		}
		for _, t := range st.Topics {
			if t.Groups == nil {
				t.Groups = map[uint32]*Group{}
			}
		}
	}
	return s, nil
}

func (s *state) topic(stream, topic uint32) *Topic {
	st := s.Streams[stream]
	if st == nil {
		return nil
	}
	return st.Topics[topic]
}

func (s *state) partition(stream, topic, p uint32) *Partition {
	t := s.topic(stream, topic)
	if t == nil || p >= uint32(len(t.Partitions)) {
		return nil
	}
	return t.Partitions[p]
}

// apply applies one record. Records whose target is gone are ignored: the
// broker validated them when they were written, and a later record may
// have removed the target since (offsets are written without the
// metadata lock). It returns the partitions whose data must be dropped.
func (s *state) apply(r *record) (dropped []logstore.PartitionKey) {
	switch r.Op {
	case opCreateStream:
		s.Streams[r.ID] = &Stream{ID: r.ID, Name: r.Name, CreatedAt: r.Time, Topics: map[uint32]*Topic{}}
	case opUpdateStream:
		if st := s.Streams[r.Stream]; st != nil {
			st.Name = r.Name
		}
	case opDeleteStream:
		if st := s.Streams[r.Stream]; st != nil {
			for _, t := range st.Topics {
				dropped = append(dropped, t.keys(st.ID)...)
			}
			delete(s.Streams, r.Stream)
		}
	case opPurgeStream, opPurgeTopic:
		// Every partition gets a fresh UID (from r.UIDs, in topic id then
		// partition order) and its offsets are cleared.
		st := s.Streams[r.Stream]
		if st == nil {
			break
		}
		var topics []*Topic
		if r.Op == opPurgeTopic {
			if t := st.Topics[r.Topic]; t != nil {
				topics = append(topics, t)
			}
		} else {
			for _, id := range slices.Sorted(maps.Keys(st.Topics)) {
				topics = append(topics, st.Topics[id])
			}
		}
		i := 0
		for _, t := range topics {
			for _, p := range t.Partitions {
				if i >= len(r.UIDs) {
					break
				}
				dropped = append(dropped, partKey(st.ID, t.ID, p.UID))
				p.UID, p.ConsumerOffsets, p.GroupOffsets = r.UIDs[i], nil, nil
				s.NextPartitionUID = max(s.NextPartitionUID, r.UIDs[i]+1)
				i++
			}
		}
	case opCreateTopic:
		st := s.Streams[r.Stream]
		if st == nil || r.Config == nil {
			break
		}
		t := &Topic{ID: r.ID, Name: r.Name, CreatedAt: r.Time, Config: *r.Config, Groups: map[uint32]*Group{}}
		st.Topics[r.ID] = t
		s.addPartitions(t, r.UIDs, r.Time)
	case opUpdateTopic:
		if t := s.topic(r.Stream, r.Topic); t != nil && r.Config != nil {
			t.Name, t.Config = r.Name, *r.Config
		}
	case opDeleteTopic:
		if st := s.Streams[r.Stream]; st != nil {
			if t := st.Topics[r.Topic]; t != nil {
				dropped = t.keys(st.ID)
				delete(st.Topics, r.Topic)
			}
		}
	case opCreatePartitions:
		if t := s.topic(r.Stream, r.Topic); t != nil {
			s.addPartitions(t, r.UIDs, r.Time)
		}
	case opDeletePartitions:
		if t := s.topic(r.Stream, r.Topic); t != nil {
			n := min(int(r.Count), len(t.Partitions))
			for _, p := range t.Partitions[len(t.Partitions)-n:] {
				dropped = append(dropped, partKey(r.Stream, t.ID, p.UID))
			}
			t.Partitions = slices.Clone(t.Partitions[:len(t.Partitions)-n])
		}
	case opCreateGroup:
		if t := s.topic(r.Stream, r.Topic); t != nil {
			t.Groups[r.ID] = &Group{ID: r.ID, Name: r.Name, CreatedAt: r.Time}
			t.NextGroupID = max(t.NextGroupID, r.ID+1)
		}
	case opDeleteGroup:
		if t := s.topic(r.Stream, r.Topic); t != nil {
			delete(t.Groups, r.ID)
			for _, p := range t.Partitions {
				delete(p.GroupOffsets, r.ID)
			}
		}
	case opCreateUser:
		if r.User != nil {
			u := *r.User
			s.Users[u.ID] = &u
		}
	case opUpdateUser:
		if u := s.Users[r.ID]; u != nil {
			if r.Name != "" {
				u.Username = r.Name
			}
			if r.Status != 0 {
				u.Status = r.Status
			}
		}
	case opDeleteUser:
		delete(s.Users, r.ID)
	case opSetPassword:
		if u := s.Users[r.ID]; u != nil {
			u.PasswordHash = r.Hash
		}
	case opSetPermissions:
		if u := s.Users[r.ID]; u != nil {
			u.Permissions = r.Perms
		}
	case opCreatePAT:
		if u := s.Users[r.ID]; u != nil && r.PAT != nil {
			if u.PATs == nil {
				u.PATs = map[string]*PAT{}
			}
			p := *r.PAT
			u.PATs[p.Name] = &p
		}
	case opDeletePAT:
		if u := s.Users[r.ID]; u != nil {
			delete(u.PATs, r.Name)
		}
	case opStoreOffset:
		p := s.partition(r.Stream, r.Topic, r.Partition)
		if p == nil || p.UID != r.UID {
			break
		}
		m := &p.ConsumerOffsets
		if r.Kind == ConsumerGroup {
			m = &p.GroupOffsets
		}
		if *m == nil {
			*m = map[uint32]uint64{}
		}
		if old, ok := (*m)[r.Key]; r.Max && ok && old >= r.Offset {
			break
		}
		(*m)[r.Key] = r.Offset
	case opDeleteOffset:
		p := s.partition(r.Stream, r.Topic, r.Partition)
		if p == nil || p.UID != r.UID {
			break
		}
		if r.Kind == ConsumerGroup {
			delete(p.GroupOffsets, r.Key)
		} else {
			delete(p.ConsumerOffsets, r.Key)
		}
	}
	return dropped
}

func (s *state) addPartitions(t *Topic, uids []uint32, now uint64) {
	for _, uid := range uids {
		t.Partitions = append(t.Partitions, &Partition{ID: uint32(len(t.Partitions)), UID: uid, CreatedAt: now})
		s.NextPartitionUID = max(s.NextPartitionUID, uid+1)
	}
}

// keys returns the log keys of the topic's partitions.
func (t *Topic) keys(stream uint32) []logstore.PartitionKey {
	out := make([]logstore.PartitionKey, len(t.Partitions))
	for i, p := range t.Partitions {
		out[i] = partKey(stream, t.ID, p.UID)
	}
	return out
}

// partKey is the log key of a partition's data.
func partKey(stream, topic, uid uint32) logstore.PartitionKey {
	return logstore.PartitionKey{Stream: stream, Topic: topic, Partition: uid}
}
