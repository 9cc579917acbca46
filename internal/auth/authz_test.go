package auth

import (
	"reflect"
	"slices"
	"testing"
)

// flag is one permission flag at one level, set by name through reflection
// so that the expectations below are written independently of the rule
// masks in authz.go.
type flag struct {
	level string // "global", "stream" or "topic"
	field string // Go field name
}

func (f flag) String() string { return f.level + "." + f.field }

var allFlags = []flag{
	{"global", "ManageServers"}, {"global", "ReadServers"},
	{"global", "ManageUsers"}, {"global", "ReadUsers"},
	{"global", "ManageStreams"}, {"global", "ReadStreams"},
	{"global", "ManageTopics"}, {"global", "ReadTopics"},
	{"global", "PollMessages"}, {"global", "SendMessages"},
	{"stream", "ManageStream"}, {"stream", "ReadStream"},
	{"stream", "ManageTopics"}, {"stream", "ReadTopics"},
	{"stream", "PollMessages"}, {"stream", "SendMessages"},
	{"topic", "ManageTopic"}, {"topic", "ReadTopic"},
	{"topic", "PollMessages"}, {"topic", "SendMessages"},
}

const (
	testStream = 7
	testTopic  = 3
)

// grant returns permissions with only f set, on testStream / testTopic for
// stream and topic flags.
func grant(f flag) *Permissions {
	p := &Permissions{}
	var target reflect.Value
	switch f.level {
	case "global":
		target = reflect.ValueOf(&p.Global).Elem()
	case "stream":
		s := &StreamPerms{}
		p.Streams = map[uint32]*StreamPerms{testStream: s}
		target = reflect.ValueOf(s).Elem()
	case "topic":
		t := &TopicPerms{}
		p.Streams = map[uint32]*StreamPerms{testStream: {Topics: map[uint32]*TopicPerms{testTopic: t}}}
		target = reflect.ValueOf(t).Elem()
	}
	field := target.FieldByName(f.field)
	if !field.IsValid() {
		panic("no field " + f.String())
	}
	field.SetBool(true)
	return p
}

func flags(level string, fields ...string) []flag {
	out := make([]flag, len(fields))
	for i, f := range fields {
		out[i] = flag{level, f}
	}
	return out
}

// wantGrants is the matrix of the package doc, written out flag by flag:
// for each action, exactly the flags that allow it.
var wantGrants = func() map[Action][]flag {
	mtG := flags("global", "ManageStreams", "ManageTopics")
	rtG := append(slices.Clone(mtG), flags("global", "ReadStreams", "ReadTopics")...)
	mtS := flags("stream", "ManageStream", "ManageTopics")
	rtS := append(slices.Clone(mtS), flags("stream", "ReadStream", "ReadTopics")...)
	join := func(parts ...[]flag) []flag { return slices.Concat(parts...) }

	manageTopic := join(mtG, mtS, flags("topic", "ManageTopic"))
	readTopic := join(rtG, rtS, flags("topic", "ManageTopic", "ReadTopic"))
	poll := join(rtG, flags("global", "PollMessages"), rtS, flags("stream", "PollMessages"),
		flags("topic", "ManageTopic", "ReadTopic", "PollMessages"))
	send := join(mtG, flags("global", "SendMessages"), mtS, flags("stream", "SendMessages"),
		flags("topic", "ManageTopic", "SendMessages"))
	manageStream := join(flags("global", "ManageStreams"), flags("stream", "ManageStream"))

	return map[Action][]flag{
		ActionReadServers:   flags("global", "ManageServers", "ReadServers"),
		ActionManageServers: flags("global", "ManageServers"),
		ActionReadUsers:     flags("global", "ManageUsers", "ReadUsers"),
		ActionManageUsers:   flags("global", "ManageUsers"),

		ActionListStreams:  flags("global", "ManageStreams", "ReadStreams"),
		ActionCreateStream: flags("global", "ManageStreams"),
		ActionReadStream:   join(flags("global", "ManageStreams", "ReadStreams"), flags("stream", "ManageStream", "ReadStream")),
		ActionUpdateStream: manageStream,
		ActionDeleteStream: manageStream,
		ActionPurgeStream:  manageStream,

		ActionListTopics:       join(rtG, rtS),
		ActionCreateTopic:      join(mtG, mtS),
		ActionReadTopic:        readTopic,
		ActionUpdateTopic:      manageTopic,
		ActionDeleteTopic:      manageTopic,
		ActionPurgeTopic:       manageTopic,
		ActionManagePartitions: manageTopic,
		ActionDeleteSegments:   manageTopic,

		ActionReadConsumerGroup:   readTopic,
		ActionManageConsumerGroup: readTopic,
		ActionJoinConsumerGroup:   readTopic,

		ActionSendMessages:         send,
		ActionPollMessages:         poll,
		ActionReadConsumerOffset:   poll,
		ActionStoreConsumerOffset:  poll,
		ActionDeleteConsumerOffset: poll,
	}
}()

var wantScope = map[Action]Scope{
	ActionReadServers:          ScopeServer,
	ActionManageServers:        ScopeServer,
	ActionReadUsers:            ScopeServer,
	ActionManageUsers:          ScopeServer,
	ActionListStreams:          ScopeServer,
	ActionCreateStream:         ScopeServer,
	ActionReadStream:           ScopeStream,
	ActionUpdateStream:         ScopeStream,
	ActionDeleteStream:         ScopeStream,
	ActionPurgeStream:          ScopeStream,
	ActionListTopics:           ScopeStream,
	ActionCreateTopic:          ScopeStream,
	ActionReadTopic:            ScopeTopic,
	ActionUpdateTopic:          ScopeTopic,
	ActionDeleteTopic:          ScopeTopic,
	ActionPurgeTopic:           ScopeTopic,
	ActionManagePartitions:     ScopeTopic,
	ActionDeleteSegments:       ScopeTopic,
	ActionReadConsumerGroup:    ScopeTopic,
	ActionManageConsumerGroup:  ScopeTopic,
	ActionJoinConsumerGroup:    ScopeTopic,
	ActionSendMessages:         ScopeTopic,
	ActionPollMessages:         ScopeTopic,
	ActionReadConsumerOffset:   ScopeTopic,
	ActionStoreConsumerOffset:  ScopeTopic,
	ActionDeleteConsumerOffset: ScopeTopic,
}

func allActions() []Action {
	var out []Action
	for a := actionInvalid + 1; a < numActions; a++ {
		out = append(out, a)
	}
	return out
}

func TestEveryActionIsSpecified(t *testing.T) {
	for _, a := range allActions() {
		if _, ok := wantGrants[a]; !ok {
			t.Errorf("%v: no expected grants", a)
		}
		if got, want := a.Scope(), wantScope[a]; got != want {
			t.Errorf("%v: Scope() = %v, want %v", a, got, want)
		}
		if a.String() == "" || a.String() == "Action(invalid)" {
			t.Errorf("action %d has no name", int(a))
		}
	}
	if len(wantGrants) != len(allActions()) {
		t.Errorf("wantGrants has %d actions, the package %d", len(wantGrants), len(allActions()))
	}
}

// TestAllowedSingleFlag grants each flag alone and checks every action
// against the matrix, on the granted stream and topic.
func TestAllowedSingleFlag(t *testing.T) {
	for _, a := range allActions() {
		for _, f := range allFlags {
			want := slices.Contains(wantGrants[a], f)
			if got := Allowed(grant(f), false, a, testStream, testTopic); got != want {
				t.Errorf("%v with only %v: Allowed = %v, want %v", a, f, got, want)
			}
		}
	}
}

// TestAllowedOtherIDs checks that stream and topic flags stay on their
// stream and topic, and global flags do not.
func TestAllowedOtherIDs(t *testing.T) {
	for _, a := range allActions() {
		for _, f := range wantGrants[a] {
			p := grant(f)
			// Another stream: only global flags still grant.
			if got, want := Allowed(p, false, a, testStream+1, testTopic), f.level == "global"; got != want {
				t.Errorf("%v with %v on stream %d, asked for stream %d: Allowed = %v, want %v",
					a, f, testStream, testStream+1, got, want)
			}
			// Another topic of the same stream: global and stream flags
			// still grant, topic flags do not.
			if got, want := Allowed(p, false, a, testStream, testTopic+1), f.level != "topic"; got != want {
				t.Errorf("%v with %v on topic %d, asked for topic %d: Allowed = %v, want %v",
					a, f, testTopic, testTopic+1, got, want)
			}
			// The same topic id under another stream.
			if f.level == "topic" {
				if Allowed(p, false, a, testStream+1, testTopic) {
					t.Errorf("%v with %v on stream %d: allowed on topic %d of stream %d",
						a, f, testStream, testTopic, testStream+1)
				}
			}
		}
	}
}

func TestAllowedRootNilAndEmpty(t *testing.T) {
	empty := []*Permissions{
		nil,
		{},
		{Streams: map[uint32]*StreamPerms{}},
		{Streams: map[uint32]*StreamPerms{testStream: nil}},
		{Streams: map[uint32]*StreamPerms{testStream: {}}},
		{Streams: map[uint32]*StreamPerms{testStream: {Topics: map[uint32]*TopicPerms{testTopic: nil}}}},
		{Streams: map[uint32]*StreamPerms{testStream: {Topics: map[uint32]*TopicPerms{testTopic: {}}}}},
	}
	for _, a := range allActions() {
		for i, p := range empty {
			if Allowed(p, false, a, testStream, testTopic) {
				t.Errorf("%v: allowed with no grants (case %d)", a, i)
			}
			if !Allowed(p, true, a, testStream, testTopic) {
				t.Errorf("%v: root denied (case %d)", a, i)
			}
		}
		if !Allowed(RootPermissions(), false, a, testStream, testTopic) {
			t.Errorf("%v: denied with RootPermissions", a)
		}
	}
	for _, a := range []Action{actionInvalid, numActions, -1, 1000} {
		if Allowed(RootPermissions(), true, a, 0, 0) {
			t.Errorf("invalid action %d allowed", int(a))
		}
		if a.Scope() != 0 || a.String() != "Action(invalid)" {
			t.Errorf("invalid action %d: Scope %v, String %q", int(a), a.Scope(), a.String())
		}
	}
}

// TestAllowedScenarios spells out the inheritance rules of the package doc
// as whole permission sets.
func TestAllowedScenarios(t *testing.T) {
	type check struct {
		a             Action
		stream, topic uint32
		want          bool
	}
	tests := []struct {
		name   string
		p      *Permissions
		checks []check
	}{
		{
			name: "global manage_streams grants everything on every stream",
			p:    &Permissions{Global: Global{ManageStreams: true}},
			checks: []check{
				{ActionCreateStream, 0, 0, true}, {ActionDeleteStream, 9, 0, true},
				{ActionCreateTopic, 9, 0, true}, {ActionPurgeTopic, 9, 4, true},
				{ActionSendMessages, 9, 4, true}, {ActionPollMessages, 9, 4, true},
				{ActionManageConsumerGroup, 9, 4, true},
				{ActionReadServers, 0, 0, false}, {ActionReadUsers, 0, 0, false},
			},
		},
		{
			name: "stream send_messages grants every topic of that stream only",
			p:    &Permissions{Streams: map[uint32]*StreamPerms{1: {SendMessages: true}}},
			checks: []check{
				{ActionSendMessages, 1, 0, true}, {ActionSendMessages, 1, 99, true},
				{ActionSendMessages, 2, 0, false}, {ActionPollMessages, 1, 0, false},
				{ActionReadTopic, 1, 0, false}, {ActionReadStream, 1, 0, false},
			},
		},
		{
			name: "global read_streams reads and polls but never sends or manages",
			p:    &Permissions{Global: Global{ReadStreams: true}},
			checks: []check{
				{ActionListStreams, 0, 0, true}, {ActionReadStream, 5, 0, true},
				{ActionListTopics, 5, 0, true}, {ActionReadTopic, 5, 5, true},
				{ActionPollMessages, 5, 5, true}, {ActionStoreConsumerOffset, 5, 5, true},
				{ActionJoinConsumerGroup, 5, 5, true},
				{ActionSendMessages, 5, 5, false}, {ActionCreateTopic, 5, 0, false},
				{ActionUpdateStream, 5, 0, false},
			},
		},
		{
			name: "stream read_topics lists topics but does not read the stream",
			p:    &Permissions{Streams: map[uint32]*StreamPerms{3: {ReadTopics: true}}},
			checks: []check{
				{ActionListTopics, 3, 0, true}, {ActionReadTopic, 3, 8, true},
				{ActionReadStream, 3, 0, false}, {ActionListStreams, 0, 0, false},
			},
		},
		{
			name: "topic manage_topic manages, reads, polls and sends that topic",
			p: &Permissions{Streams: map[uint32]*StreamPerms{
				2: {Topics: map[uint32]*TopicPerms{4: {ManageTopic: true}}},
			}},
			checks: []check{
				{ActionUpdateTopic, 2, 4, true}, {ActionDeleteSegments, 2, 4, true},
				{ActionManagePartitions, 2, 4, true}, {ActionReadTopic, 2, 4, true},
				{ActionSendMessages, 2, 4, true}, {ActionPollMessages, 2, 4, true},
				{ActionUpdateTopic, 2, 5, false}, {ActionCreateTopic, 2, 0, false},
				{ActionListTopics, 2, 0, false}, {ActionReadStream, 2, 0, false},
			},
		},
		{
			name: "topic poll_messages polls but cannot join a group or read the topic",
			p: &Permissions{Streams: map[uint32]*StreamPerms{
				2: {Topics: map[uint32]*TopicPerms{4: {PollMessages: true}}},
			}},
			checks: []check{
				{ActionPollMessages, 2, 4, true}, {ActionDeleteConsumerOffset, 2, 4, true},
				{ActionJoinConsumerGroup, 2, 4, false}, {ActionReadTopic, 2, 4, false},
				{ActionSendMessages, 2, 4, false},
			},
		},
		{
			name: "global poll and send reach every stream and topic",
			p:    &Permissions{Global: Global{PollMessages: true, SendMessages: true}},
			checks: []check{
				{ActionPollMessages, 100, 200, true}, {ActionSendMessages, 100, 200, true},
				{ActionReadTopic, 100, 200, false}, {ActionListStreams, 0, 0, false},
			},
		},
		{
			name: "manage_servers implies read_servers, manage_users implies read_users",
			p:    &Permissions{Global: Global{ManageServers: true, ManageUsers: true}},
			checks: []check{
				{ActionReadServers, 0, 0, true}, {ActionManageServers, 0, 0, true},
				{ActionReadUsers, 0, 0, true}, {ActionManageUsers, 0, 0, true},
				{ActionListStreams, 0, 0, false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range tt.checks {
				if got := Allowed(tt.p, false, c.a, c.stream, c.topic); got != c.want {
					t.Errorf("Allowed(%v, stream %d, topic %d) = %v, want %v", c.a, c.stream, c.topic, got, c.want)
				}
			}
		})
	}
}

func TestSelfService(t *testing.T) {
	none := &Permissions{}
	readers := &Permissions{Global: Global{ReadUsers: true}}
	managers := &Permissions{Global: Global{ManageUsers: true}}
	tests := []struct {
		name           string
		p              *Permissions
		root           bool
		caller, target uint32
		read, password bool
	}{
		{"self without grants", none, false, 5, 5, true, true},
		{"self with nil permissions", nil, false, 5, 5, true, true},
		{"another without grants", none, false, 5, 6, false, false},
		{"another with read_users", readers, false, 5, 6, true, false},
		{"another with manage_users", managers, false, 5, 6, true, true},
		{"root on another", nil, true, RootUserID, 6, true, true},
		{"another on root", none, false, 6, RootUserID, false, false},
	}
	for _, tt := range tests {
		if got := MayReadUser(tt.p, tt.root, tt.caller, tt.target); got != tt.read {
			t.Errorf("%s: MayReadUser = %v, want %v", tt.name, got, tt.read)
		}
		if got := MayChangePassword(tt.p, tt.root, tt.caller, tt.target); got != tt.password {
			t.Errorf("%s: MayChangePassword = %v, want %v", tt.name, got, tt.password)
		}
	}
}

func TestClone(t *testing.T) {
	if (*Permissions)(nil).Clone() != nil {
		t.Fatal("nil Clone is not nil")
	}
	orig := &Permissions{
		Global: Global{ReadServers: true, SendMessages: true},
		Streams: map[uint32]*StreamPerms{
			1: {ReadStream: true, Topics: map[uint32]*TopicPerms{2: {PollMessages: true}, 3: nil}},
			4: nil,
			5: {ManageTopics: true},
		},
	}
	c := orig.Clone()
	if !reflect.DeepEqual(orig, c) {
		t.Fatalf("clone differs:\n%+v\n%+v", orig, c)
	}
	if c.Streams[5].Topics != nil {
		t.Error("nil topic map became non-nil")
	}
	// Mutating the clone at every level leaves the original alone.
	c.Global.ManageUsers = true
	c.Streams[1].ManageStream = true
	c.Streams[1].Topics[2].SendMessages = true
	c.Streams[1].Topics[9] = &TopicPerms{}
	c.Streams[6] = &StreamPerms{}
	if orig.Global.ManageUsers || orig.Streams[1].ManageStream ||
		orig.Streams[1].Topics[2].SendMessages || orig.Streams[1].Topics[9] != nil || orig.Streams[6] != nil {
		t.Errorf("mutating the clone changed the original: %+v", orig)
	}
	if got := (&Permissions{}).Clone(); got.Streams != nil {
		t.Error("nil stream map became non-nil")
	}
	if got := (&Permissions{Streams: map[uint32]*StreamPerms{}}).Clone(); got.Streams == nil {
		t.Error("empty stream map became nil")
	}
}
