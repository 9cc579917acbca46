package wire

// Operation bytes (request header offset 176). Part of the protocol.
const (
	OpRegister                  uint8 = 1
	OpNonReplicated             uint8 = 2
	OpLogout                    uint8 = 3
	OpTruncatePartition         uint8 = 68
	OpCreateStream              uint8 = 128
	OpUpdateStream              uint8 = 129
	OpDeleteStream              uint8 = 130
	OpPurgeStream               uint8 = 131
	OpCreateTopic               uint8 = 132
	OpUpdateTopic               uint8 = 133
	OpDeleteTopic               uint8 = 134
	OpPurgeTopic                uint8 = 135
	OpCreatePartitions          uint8 = 136
	OpDeletePartitions          uint8 = 137
	OpDeleteSegments            uint8 = 138
	OpCreateConsumerGroup       uint8 = 139
	OpDeleteConsumerGroup       uint8 = 140
	OpCreateUser                uint8 = 141
	OpUpdateUser                uint8 = 142
	OpDeleteUser                uint8 = 143
	OpChangePassword            uint8 = 144
	OpUpdatePermissions         uint8 = 145
	OpCreatePersonalAccessToken uint8 = 146
	OpDeletePersonalAccessToken uint8 = 147
	OpJoinConsumerGroup         uint8 = 148
	OpLeaveConsumerGroup        uint8 = 149
	OpSendMessages              uint8 = 160
	OpStoreConsumerOffset       uint8 = 161
	OpDeleteConsumerOffset      uint8 = 162
)

// Command codes. Part of the protocol.
const (
	CmdPing                      uint32 = 1
	CmdGetStats                  uint32 = 10
	CmdGetSnapshot               uint32 = 11
	CmdGetClusterMetadata        uint32 = 12
	CmdDescribeOptions           uint32 = 13
	CmdGetMe                     uint32 = 20
	CmdGetClient                 uint32 = 21
	CmdGetClients                uint32 = 22
	CmdGetUser                   uint32 = 31
	CmdGetUsers                  uint32 = 32
	CmdCreateUser                uint32 = 33
	CmdDeleteUser                uint32 = 34
	CmdUpdateUser                uint32 = 35
	CmdUpdatePermissions         uint32 = 36
	CmdChangePassword            uint32 = 37
	CmdLoginUserLegacy           uint32 = 38
	CmdLogoutUser                uint32 = 39
	CmdLoginRegister             uint32 = 40
	CmdGetPersonalAccessTokens   uint32 = 41
	CmdCreatePersonalAccessToken uint32 = 42
	CmdDeletePersonalAccessToken uint32 = 43
	CmdLoginWithPATLegacy        uint32 = 44
	CmdLoginRegisterWithPAT      uint32 = 45
	CmdPollMessages              uint32 = 100
	CmdSendMessages              uint32 = 101
	CmdFlushUnsavedBuffer        uint32 = 102
	CmdGetConsumerOffset         uint32 = 120
	CmdStoreConsumerOffset       uint32 = 121
	CmdDeleteConsumerOffset      uint32 = 122
	CmdGetStream                 uint32 = 200
	CmdGetStreams                uint32 = 201
	CmdCreateStream              uint32 = 202
	CmdDeleteStream              uint32 = 203
	CmdUpdateStream              uint32 = 204
	CmdPurgeStream               uint32 = 205
	CmdGetTopic                  uint32 = 300
	CmdGetTopics                 uint32 = 301
	CmdCreateTopic               uint32 = 302
	CmdDeleteTopic               uint32 = 303
	CmdUpdateTopic               uint32 = 304
	CmdPurgeTopic                uint32 = 305
	CmdCreatePartitions          uint32 = 402
	CmdDeletePartitions          uint32 = 403
	CmdDeleteSegments            uint32 = 503
	CmdGetConsumerGroup          uint32 = 600
	CmdGetConsumerGroups         uint32 = 601
	CmdCreateConsumerGroup       uint32 = 602
	CmdDeleteConsumerGroup       uint32 = 603
	CmdJoinConsumerGroup         uint32 = 604
	CmdLeaveConsumerGroup        uint32 = 605
	CmdSyncConsumerGroup         uint32 = 606
)

// opOfCode is the operation each replicated command travels as; every other
// code travels as OpNonReplicated with the code in the header.
var opOfCode = map[uint32]uint8{
	CmdLoginRegister:             OpRegister,
	CmdLoginRegisterWithPAT:      OpRegister,
	CmdLogoutUser:                OpLogout,
	CmdCreateStream:              OpCreateStream,
	CmdUpdateStream:              OpUpdateStream,
	CmdDeleteStream:              OpDeleteStream,
	CmdPurgeStream:               OpPurgeStream,
	CmdCreateTopic:               OpCreateTopic,
	CmdUpdateTopic:               OpUpdateTopic,
	CmdDeleteTopic:               OpDeleteTopic,
	CmdPurgeTopic:                OpPurgeTopic,
	CmdCreatePartitions:          OpCreatePartitions,
	CmdDeletePartitions:          OpDeletePartitions,
	CmdDeleteSegments:            OpDeleteSegments,
	CmdCreateConsumerGroup:       OpCreateConsumerGroup,
	CmdDeleteConsumerGroup:       OpDeleteConsumerGroup,
	CmdCreateUser:                OpCreateUser,
	CmdUpdateUser:                OpUpdateUser,
	CmdDeleteUser:                OpDeleteUser,
	CmdChangePassword:            OpChangePassword,
	CmdUpdatePermissions:         OpUpdatePermissions,
	CmdCreatePersonalAccessToken: OpCreatePersonalAccessToken,
	CmdDeletePersonalAccessToken: OpDeletePersonalAccessToken,
	CmdJoinConsumerGroup:         OpJoinConsumerGroup,
	CmdLeaveConsumerGroup:        OpLeaveConsumerGroup,
	CmdSendMessages:              OpSendMessages,
	CmdStoreConsumerOffset:       OpStoreConsumerOffset,
	CmdDeleteConsumerOffset:      OpDeleteConsumerOffset,
}

var codeOfOp = func() map[uint8]uint32 {
	m := make(map[uint8]uint32, len(opOfCode))
	for c, op := range opOfCode {
		if op != OpRegister {
			m[op] = c
		}
	}
	m[OpRegister] = CmdLoginRegister
	return m
}()

// OpForCode returns the operation a command travels as.
func OpForCode(code uint32) uint8 {
	if op, ok := opOfCode[code]; ok {
		return op
	}
	return OpNonReplicated
}

// CodeForOp returns the command a replicated operation carries (0 for an
// undeclared operation or OpNonReplicated).
func CodeForOp(op uint8) uint32 { return codeOfOp[op] }

// IsReplicatedCode reports whether code travels with an operation of its
// own (not OpNonReplicated).
func IsReplicatedCode(code uint32) bool {
	_, ok := opOfCode[code]
	return ok
}

// IsDeclaredOp reports whether op is an operation a client may see in a
// reply.
func IsDeclaredOp(op uint8) bool {
	switch {
	case op >= 1 && op <= 3, op >= 64 && op <= 68, op >= 128 && op <= 149, op >= 160 && op <= 162:
		return true
	}
	return false
}

// IsResultFramed reports whether replies with operation op start with a
// result section (Register only when the body is non-empty).
func IsResultFramed(op uint8) bool {
	switch {
	case op >= 64 && op <= 68, op >= 128 && op <= 137, op >= 139 && op <= 149, op == 161, op == 162, op == OpRegister:
		return true
	}
	return false
}
