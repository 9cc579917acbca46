package server

import (
	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/wire"
)

func ident(id wire.Identifier) broker.Ident {
	if id.Kind == wire.IDString {
		return broker.ByName(id.Name)
	}
	return broker.ByID(id.ID)
}

func options(o wire.Options) []broker.Option {
	out := make([]broker.Option, 0, len(o))
	for _, kv := range o {
		out = append(out, broker.Option{Key: string(kv.Key), Kind: kv.ValueKind, Value: kv.Value})
	}
	return out
}

func wireOptions(o []broker.Option) wire.Options {
	out := make(wire.Options, 0, len(o))
	for _, e := range o {
		out = append(out, wire.KV{KeyKind: wire.KindString, Key: []byte(e.Key), ValueKind: e.Kind, Value: e.Value})
	}
	return out
}

func consumer(c wire.Consumer) broker.Consumer {
	if c.Kind == wire.ConsumerGroup {
		return broker.Consumer{Kind: broker.ConsumerGroup, Group: ident(c.ID)}
	}
	return broker.Consumer{Kind: broker.ConsumerSingle, Key: wire.ConsumerKey(c.ID)}
}

// authPerms and wirePerms convert between the protocol's permissions and
// the domain's: the two models have the same shape (the global and topic
// flag structs convert directly; only the maps differ in type).
func authPerms(p *wire.Permissions) *auth.Permissions {
	if p == nil {
		return nil
	}
	out := &auth.Permissions{Global: auth.Global(p.Global)}
	out.Streams = convertByID(p.Streams, func(s *wire.StreamPermissions) *auth.StreamPerms {
		return &auth.StreamPerms{ManageStream: s.ManageStream, ReadStream: s.ReadStream, ManageTopics: s.ManageTopics,
			ReadTopics: s.ReadTopics, PollMessages: s.PollMessages, SendMessages: s.SendMessages,
			Topics: convertByID(s.Topics, func(t *wire.TopicPermissions) *auth.TopicPerms { c := auth.TopicPerms(*t); return &c })}
	})
	return out
}

func wirePerms(p *auth.Permissions) *wire.Permissions {
	if p == nil {
		return nil
	}
	out := &wire.Permissions{Global: wire.GlobalPermissions(p.Global)}
	out.Streams = convertByID(p.Streams, func(s *auth.StreamPerms) *wire.StreamPermissions {
		return &wire.StreamPermissions{ManageStream: s.ManageStream, ReadStream: s.ReadStream, ManageTopics: s.ManageTopics,
			ReadTopics: s.ReadTopics, PollMessages: s.PollMessages, SendMessages: s.SendMessages,
			Topics: convertByID(s.Topics, func(t *auth.TopicPerms) *wire.TopicPermissions { c := wire.TopicPermissions(*t); return &c })}
	})
	return out
}

// convertByID converts a permission map by id, skipping nil entries; an
// empty map stays nil.
func convertByID[A, B any](in map[uint32]*A, conv func(*A) *B) map[uint32]*B {
	if len(in) == 0 {
		return nil
	}
	out := make(map[uint32]*B, len(in))
	for id, v := range in {
		if v != nil {
			out[id] = conv(v)
		}
	}
	return out
}

func wireStream(s broker.StreamInfo) wire.Stream {
	return wire.Stream{ID: s.ID, CreatedAt: s.CreatedAt, TopicsCount: s.TopicsN, SizeBytes: s.Size, MessagesCount: s.Messages, Name: s.Name}
}

func wireStreamDetails(s broker.StreamInfo) wire.StreamDetails {
	d := wire.StreamDetails{Stream: wireStream(s)}
	for _, t := range s.Topics {
		d.Topics = append(d.Topics, wireTopicHeader(t))
	}
	d.TopicsCount = uint32(len(d.Topics))
	return d
}

func wireTopicHeader(t broker.TopicInfo) wire.TopicHeader {
	return wire.TopicHeader{
		ID: t.ID, CreatedAt: t.CreatedAt, PartitionsCount: t.PartsN, MessageExpiry: t.Config.MessageExpiry,
		Compression: t.Config.Compression, MaxTopicSize: t.Config.MaxTopicSize, SizeBytes: t.Size,
		MessagesCount: t.Messages, Name: t.Name, Options: wireOptions(t.Config.Explicit),
		DerivedOptions: wireOptions(t.Config.Derived()),
	}
}

func wireTopicDetails(t broker.TopicInfo) wire.TopicDetails {
	d := wire.TopicDetails{TopicHeader: wireTopicHeader(t)}
	for _, p := range t.Partitions {
		d.Partitions = append(d.Partitions, wire.Partition{ID: p.ID, CreatedAt: p.CreatedAt, SegmentsCount: p.Segments,
			CurrentOffset: p.CurrentOffset, SizeBytes: p.Size, MessagesCount: p.Messages})
	}
	d.PartitionsCount = uint32(len(d.Partitions))
	return d
}

func wireUser(u broker.UserInfo) wire.User {
	return wire.User{ID: u.ID, CreatedAt: u.CreatedAt, Status: u.Status, Username: u.Username}
}

func wireUserDetails(u broker.UserInfo) wire.UserDetails {
	p := u.Permissions
	if u.ID == 0 && p == nil {
		p = auth.RootPermissions()
	}
	return wire.UserDetails{User: wireUser(u), Permissions: wirePerms(p)}
}

func wireGroup(g broker.GroupInfo) wire.Group {
	return wire.Group{ID: g.ID, PartitionsCount: g.PartitionsCount, MembersCount: uint32(len(g.Members)), Name: g.Name}
}

func wireGroupDetails(g broker.GroupInfo) wire.GroupDetails {
	d := wire.GroupDetails{Group: wireGroup(g)}
	for _, m := range g.Members {
		d.Members = append(d.Members, wire.Member{ID: m.ID, Partitions: m.Partitions})
	}
	return d
}

func wireClient(ci broker.ClientInfo) wire.ClientDetails {
	d := wire.ClientDetails{ClientInfo: wire.ClientInfo{ClientID: ci.ID, UserID: ci.UserID, Transport: ci.Transport,
		Address: ci.Address, ConsumerGroupsCount: uint32(len(ci.Groups))}}
	for _, g := range ci.Groups {
		d.Groups = append(d.Groups, wire.ClientGroup{StreamID: g.Stream, TopicID: g.Topic, GroupID: g.Group})
	}
	return d
}
