package auth

// RootUserID is the id of the root user, which may do everything and can be
// neither deleted nor have its permissions changed.
const RootUserID uint32 = 0

// Action is a guarded operation. Its Scope says which ids Allowed reads.
// The zero Action is invalid and is never allowed.
type Action int

// The guarded operations; the package doc maps each to the commands it
// guards and to the flags that grant it.
const (
	actionInvalid Action = iota

	ActionReadServers
	ActionManageServers
	ActionReadUsers
	ActionManageUsers

	ActionListStreams
	ActionCreateStream
	ActionReadStream
	ActionUpdateStream
	ActionDeleteStream
	ActionPurgeStream

	ActionListTopics
	ActionCreateTopic
	ActionReadTopic
	ActionUpdateTopic
	ActionDeleteTopic
	ActionPurgeTopic
	ActionManagePartitions
	ActionDeleteSegments

	ActionReadConsumerGroup
	ActionManageConsumerGroup
	ActionJoinConsumerGroup

	ActionSendMessages
	ActionPollMessages
	ActionReadConsumerOffset
	ActionStoreConsumerOffset
	ActionDeleteConsumerOffset

	numActions
)

// Scope is what an Action applies to, and so which ids Allowed reads.
type Scope int

const (
	// ScopeServer actions ignore the stream and topic ids.
	ScopeServer Scope = iota + 1
	// ScopeStream actions read the stream id and ignore the topic id.
	ScopeStream
	// ScopeTopic actions read both.
	ScopeTopic
)

// Flag bits, one per permission flag, so that each rule below is three
// masks: the flags that grant the action at each level.
type (
	globalBits uint16
	streamBits uint8
	topicBits  uint8
)

const (
	gManageServers globalBits = 1 << iota
	gReadServers
	gManageUsers
	gReadUsers
	gManageStreams
	gReadStreams
	gManageTopics
	gReadTopics
	gPollMessages
	gSendMessages
)

const (
	sManageStream streamBits = 1 << iota
	sReadStream
	sManageTopics
	sReadTopics
	sPollMessages
	sSendMessages
)

const (
	tManageTopic topicBits = 1 << iota
	tReadTopic
	tPollMessages
	tSendMessages
)

func (g *Global) bits() globalBits {
	var b globalBits
	set := func(on bool, bit globalBits) {
		if on {
			b |= bit
		}
	}
	set(g.ManageServers, gManageServers)
	set(g.ReadServers, gReadServers)
	set(g.ManageUsers, gManageUsers)
	set(g.ReadUsers, gReadUsers)
	set(g.ManageStreams, gManageStreams)
	set(g.ReadStreams, gReadStreams)
	set(g.ManageTopics, gManageTopics)
	set(g.ReadTopics, gReadTopics)
	set(g.PollMessages, gPollMessages)
	set(g.SendMessages, gSendMessages)
	return b
}

func (s *StreamPerms) bits() streamBits {
	var b streamBits
	set := func(on bool, bit streamBits) {
		if on {
			b |= bit
		}
	}
	set(s.ManageStream, sManageStream)
	set(s.ReadStream, sReadStream)
	set(s.ManageTopics, sManageTopics)
	set(s.ReadTopics, sReadTopics)
	set(s.PollMessages, sPollMessages)
	set(s.SendMessages, sSendMessages)
	return b
}

func (t *TopicPerms) bits() topicBits {
	var b topicBits
	set := func(on bool, bit topicBits) {
		if on {
			b |= bit
		}
	}
	set(t.ManageTopic, tManageTopic)
	set(t.ReadTopic, tReadTopic)
	set(t.PollMessages, tPollMessages)
	set(t.SendMessages, tSendMessages)
	return b
}

// The recurring grant sets of the matrix (see the package doc).
const (
	// Managing a stream: global manage_streams or that stream's manage_stream.
	manageStreamG = gManageStreams
	manageStreamS = sManageStream

	// Reading a stream.
	readStreamG = gManageStreams | gReadStreams
	readStreamS = sManageStream | sReadStream

	// Managing topics: manage_streams and manage_topics at either level, or
	// the topic's manage_topic.
	manageTopicG = gManageStreams | gManageTopics
	manageTopicS = sManageStream | sManageTopics
	manageTopicT = tManageTopic

	// Reading topics: any manage or read flag on streams or topics.
	readTopicG = gManageStreams | gReadStreams | gManageTopics | gReadTopics
	readTopicS = sManageStream | sReadStream | sManageTopics | sReadTopics
	readTopicT = tManageTopic | tReadTopic

	// Polling: reading topics, or poll_messages at any level.
	pollG = readTopicG | gPollMessages
	pollS = readTopicS | sPollMessages
	pollT = readTopicT | tPollMessages

	// Sending: managing topics, or send_messages at any level. No read
	// flag grants it.
	sendG = manageTopicG | gSendMessages
	sendS = manageTopicS | sSendMessages
	sendT = manageTopicT | tSendMessages
)

type rule struct {
	name   string
	scope  Scope
	global globalBits
	stream streamBits
	topic  topicBits
}

// rules is the authorization matrix, indexed by Action.
var rules = [numActions]rule{
	ActionReadServers:   {"ReadServers", ScopeServer, gManageServers | gReadServers, 0, 0},
	ActionManageServers: {"ManageServers", ScopeServer, gManageServers, 0, 0},
	ActionReadUsers:     {"ReadUsers", ScopeServer, gManageUsers | gReadUsers, 0, 0},
	ActionManageUsers:   {"ManageUsers", ScopeServer, gManageUsers, 0, 0},

	ActionListStreams:  {"ListStreams", ScopeServer, readStreamG, 0, 0},
	ActionCreateStream: {"CreateStream", ScopeServer, manageStreamG, 0, 0},
	ActionReadStream:   {"ReadStream", ScopeStream, readStreamG, readStreamS, 0},
	ActionUpdateStream: {"UpdateStream", ScopeStream, manageStreamG, manageStreamS, 0},
	ActionDeleteStream: {"DeleteStream", ScopeStream, manageStreamG, manageStreamS, 0},
	ActionPurgeStream:  {"PurgeStream", ScopeStream, manageStreamG, manageStreamS, 0},

	ActionListTopics:       {"ListTopics", ScopeStream, readTopicG, readTopicS, 0},
	ActionCreateTopic:      {"CreateTopic", ScopeStream, manageTopicG, manageTopicS, 0},
	ActionReadTopic:        {"ReadTopic", ScopeTopic, readTopicG, readTopicS, readTopicT},
	ActionUpdateTopic:      {"UpdateTopic", ScopeTopic, manageTopicG, manageTopicS, manageTopicT},
	ActionDeleteTopic:      {"DeleteTopic", ScopeTopic, manageTopicG, manageTopicS, manageTopicT},
	ActionPurgeTopic:       {"PurgeTopic", ScopeTopic, manageTopicG, manageTopicS, manageTopicT},
	ActionManagePartitions: {"ManagePartitions", ScopeTopic, manageTopicG, manageTopicS, manageTopicT},
	ActionDeleteSegments:   {"DeleteSegments", ScopeTopic, manageTopicG, manageTopicS, manageTopicT},

	ActionReadConsumerGroup:   {"ReadConsumerGroup", ScopeTopic, readTopicG, readTopicS, readTopicT},
	ActionManageConsumerGroup: {"ManageConsumerGroup", ScopeTopic, readTopicG, readTopicS, readTopicT},
	ActionJoinConsumerGroup:   {"JoinConsumerGroup", ScopeTopic, readTopicG, readTopicS, readTopicT},

	ActionSendMessages:         {"SendMessages", ScopeTopic, sendG, sendS, sendT},
	ActionPollMessages:         {"PollMessages", ScopeTopic, pollG, pollS, pollT},
	ActionReadConsumerOffset:   {"ReadConsumerOffset", ScopeTopic, pollG, pollS, pollT},
	ActionStoreConsumerOffset:  {"StoreConsumerOffset", ScopeTopic, pollG, pollS, pollT},
	ActionDeleteConsumerOffset: {"DeleteConsumerOffset", ScopeTopic, pollG, pollS, pollT},
}

func (a Action) valid() bool { return a > actionInvalid && a < numActions }

// String returns the action's name without the "Action" prefix.
func (a Action) String() string {
	if !a.valid() {
		return "Action(invalid)"
	}
	return rules[a].name
}

// Scope returns what a applies to; 0 for an invalid Action.
func (a Action) Scope() Scope {
	if !a.valid() {
		return 0
	}
	return rules[a].scope
}

// Allowed reports whether a user with permissions p may perform a on the
// given stream and topic (numeric ids, already resolved; ignored where a's
// Scope does not use them). root (the user is RootUserID) allows every
// valid action whatever p says. A nil p grants nothing, and an invalid
// Action is never allowed. The rules are the matrix in the package doc.
func Allowed(p *Permissions, root bool, a Action, stream, topic uint32) bool {
	if !a.valid() {
		return false
	}
	if root {
		return true
	}
	if p == nil {
		return false
	}
	r := &rules[a]
	if p.Global.bits()&r.global != 0 {
		return true
	}
	if r.scope == ScopeServer {
		return false
	}
	s := p.Streams[stream]
	if s == nil {
		return false
	}
	if s.bits()&r.stream != 0 {
		return true
	}
	if r.scope == ScopeStream {
		return false
	}
	t := s.Topics[topic]
	return t != nil && t.bits()&r.topic != 0
}

// MayReadUser reports whether caller (with permissions p; root as in
// Allowed) may read user target (GetUser): every user may read themselves,
// otherwise it needs ActionReadUsers.
func MayReadUser(p *Permissions, root bool, caller, target uint32) bool {
	return caller == target || Allowed(p, root, ActionReadUsers, 0, 0)
}

// MayChangePassword reports whether caller may change the password of user
// target (ChangePassword): every user may change their own, otherwise it
// needs ActionManageUsers. Either way the request's current password must
// still match the target's stored hash (VerifyPassword; a mismatch is
// InvalidCredentials); that check is the caller's, as in the reference,
// which makes it for self and admin changes alike.
func MayChangePassword(p *Permissions, root bool, caller, target uint32) bool {
	return caller == target || Allowed(p, root, ActionManageUsers, 0, 0)
}
