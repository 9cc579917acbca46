package wire

import (
	"errors"
	"fmt"
)

// Error is a protocol error: a numeric code (carried in a reply's status or
// result section) and its name. Compare with errors.Is against the Err*
// values, which match any *Error with the same code.
type Error struct {
	Code uint32
	Name string
	// Detail says what went wrong; it never travels on the wire.
	Detail string
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%s (%d): %s", e.Name, e.Code, e.Detail)
	}
	return fmt.Sprintf("%s (%d)", e.Name, e.Code)
}

// Is matches any *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// With returns a copy of e carrying detail.
func (e *Error) With(format string, args ...any) *Error {
	c := *e
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// Error codes shoal sends or the client must recognise. The values are the
// protocol's; never change them.
const (
	CodeError                          uint32 = 1
	CodeInvalidConfiguration           uint32 = 2
	CodeInvalidCommand                 uint32 = 3
	CodeInvalidFormat                  uint32 = 4
	CodeFeatureUnavailable             uint32 = 5
	CodeInvalidIdentifier              uint32 = 6
	CodeDisconnected                   uint32 = 8
	CodeCannotEstablishConnection      uint32 = 9
	CodeResourceNotFound               uint32 = 20
	CodeStaleClient                    uint32 = 30
	CodeTcpError                       uint32 = 31
	CodeUnauthenticated                uint32 = 40
	CodeUnauthorized                   uint32 = 41
	CodeInvalidCredentials             uint32 = 42
	CodeInvalidUsername                uint32 = 43
	CodeInvalidPassword                uint32 = 44
	CodeInvalidUserStatus              uint32 = 45
	CodeUserAlreadyExists              uint32 = 46
	CodeUserInactive                   uint32 = 47
	CodeCannotDeleteUser               uint32 = 48
	CodeCannotChangePermissions        uint32 = 49
	CodeInvalidPATName                 uint32 = 50
	CodePATAlreadyExists               uint32 = 51
	CodePATLimitReached                uint32 = 52
	CodeInvalidPAT                     uint32 = 53
	CodePATExpired                     uint32 = 54
	CodeUsersLimitReached              uint32 = 55
	CodeInvalidPATExpiry               uint32 = 56
	CodeTransientNotCommitted          uint32 = 57
	CodeTransientNotAccepted           uint32 = 58
	CodeRequestAlreadyApplied          uint32 = 59
	CodeNotConnected                   uint32 = 61
	CodeClientShutdown                 uint32 = 63
	CodeClientNotFound                 uint32 = 100
	CodeEmptyResponse                  uint32 = 304
	CodeStreamIDNotFound               uint32 = 1009
	CodeStreamNameAlreadyExists        uint32 = 1012
	CodeInvalidStreamName              uint32 = 1013
	CodeInvalidTopicSize               uint32 = 1019
	CodeTooManyStreams                 uint32 = 1020
	CodeTopicIDNotFound                uint32 = 2010
	CodeTopicNameAlreadyExists         uint32 = 2013
	CodeInvalidTopicName               uint32 = 2014
	CodeTooManyPartitions              uint32 = 2015
	CodeInvalidPartitionsCount         uint32 = 2019
	CodeTooManyTopics                  uint32 = 2021
	CodePartitionNotFound              uint32 = 3007
	CodePartitionIDSpaceExhausted      uint32 = 3013
	CodeConsumerOffsetNotFound         uint32 = 3021
	CodeInvalidMessagesCount           uint32 = 4009
	CodeEmptyMessagePayload            uint32 = 4024
	CodeInvalidMessageChecksum         uint32 = 4027
	CodeInvalidKeyValueLength          uint32 = 4028
	CodeInvalidBatchChecksum           uint32 = 4039
	CodeUnsupportedOptionKey           uint32 = 4041
	CodeInvalidOptionValue             uint32 = 4042
	CodeInvalidOffset                  uint32 = 4100
	CodeConsumerGroupIDNotFound        uint32 = 5000
	CodeConsumerGroupNameAlreadyExists uint32 = 5004
	CodeInvalidConsumerGroupName       uint32 = 5005
	CodeConsumerGroupMemberNotFound    uint32 = 5006
	CodeConsumerGroupPartitionNotOwned uint32 = 5009
	CodeSnapshotFailed                 uint32 = 9000
	CodeIncompatibleProtocolVersion    uint32 = 14003
)

var codeNames = map[uint32]string{
	CodeError:                          "error",
	CodeInvalidConfiguration:           "invalid_configuration",
	CodeInvalidCommand:                 "invalid_command",
	CodeInvalidFormat:                  "invalid_format",
	CodeFeatureUnavailable:             "feature_unavailable",
	CodeInvalidIdentifier:              "invalid_identifier",
	CodeDisconnected:                   "disconnected",
	CodeCannotEstablishConnection:      "cannot_establish_connection",
	CodeResourceNotFound:               "resource_not_found",
	CodeStaleClient:                    "stale_client",
	CodeTcpError:                       "tcp_error",
	CodeUnauthenticated:                "unauthenticated",
	CodeUnauthorized:                   "unauthorized",
	CodeInvalidCredentials:             "invalid_credentials",
	CodeInvalidUsername:                "invalid_username",
	CodeInvalidPassword:                "invalid_password",
	CodeInvalidUserStatus:              "invalid_user_status",
	CodeUserAlreadyExists:              "user_already_exists",
	CodeUserInactive:                   "user_inactive",
	CodeCannotDeleteUser:               "cannot_delete_user",
	CodeCannotChangePermissions:        "cannot_change_permissions",
	CodeInvalidPATName:                 "invalid_personal_access_token_name",
	CodePATAlreadyExists:               "personal_access_token_already_exists",
	CodePATLimitReached:                "personal_access_tokens_limit_reached",
	CodeInvalidPAT:                     "invalid_personal_access_token",
	CodePATExpired:                     "personal_access_token_expired",
	CodeUsersLimitReached:              "users_limit_reached",
	CodeInvalidPATExpiry:               "invalid_personal_access_token_expiry",
	CodeTransientNotCommitted:          "transient_not_committed",
	CodeTransientNotAccepted:           "transient_not_accepted",
	CodeRequestAlreadyApplied:          "request_already_applied",
	CodeNotConnected:                   "not_connected",
	CodeClientShutdown:                 "client_shutdown",
	CodeClientNotFound:                 "client_not_found",
	CodeEmptyResponse:                  "empty_response",
	CodeStreamIDNotFound:               "stream_id_not_found",
	CodeStreamNameAlreadyExists:        "stream_name_already_exists",
	CodeInvalidStreamName:              "invalid_stream_name",
	CodeInvalidTopicSize:               "invalid_topic_size",
	CodeTooManyStreams:                 "too_many_streams",
	CodeTopicIDNotFound:                "topic_id_not_found",
	CodeTopicNameAlreadyExists:         "topic_name_already_exists",
	CodeInvalidTopicName:               "invalid_topic_name",
	CodeTooManyPartitions:              "too_many_partitions",
	CodeInvalidPartitionsCount:         "invalid_partitions_count",
	CodeTooManyTopics:                  "too_many_topics",
	CodePartitionNotFound:              "partition_not_found",
	CodePartitionIDSpaceExhausted:      "partition_id_space_exhausted",
	CodeConsumerOffsetNotFound:         "consumer_offset_not_found",
	CodeInvalidMessagesCount:           "invalid_messages_count",
	CodeEmptyMessagePayload:            "empty_message_payload",
	CodeInvalidMessageChecksum:         "invalid_message_checksum",
	CodeInvalidKeyValueLength:          "invalid_key_value_length",
	CodeInvalidBatchChecksum:           "invalid_batch_checksum",
	CodeUnsupportedOptionKey:           "unsupported_option_key",
	CodeInvalidOptionValue:             "invalid_option_value",
	CodeInvalidOffset:                  "invalid_offset",
	CodeConsumerGroupIDNotFound:        "consumer_group_id_not_found",
	CodeConsumerGroupNameAlreadyExists: "consumer_group_name_already_exists",
	CodeInvalidConsumerGroupName:       "invalid_consumer_group_name",
	CodeConsumerGroupMemberNotFound:    "consumer_group_member_not_found",
	CodeConsumerGroupPartitionNotOwned: "consumer_group_partition_not_owned",
	CodeSnapshotFailed:                 "snapshot_file_completion_failed",
	CodeIncompatibleProtocolVersion:    "incompatible_protocol_version",
}

// CodeName returns the protocol's name for code ("error_<n>" if unknown).
func CodeName(code uint32) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return fmt.Sprintf("error_%d", code)
}

// ErrorForCode returns an *Error for code.
func ErrorForCode(code uint32) *Error { return &Error{Code: code, Name: CodeName(code)} }

// Malformed returns an InvalidCommand error with a detail.
func Malformed(format string, args ...any) *Error {
	return ErrorForCode(CodeInvalidCommand).With(format, args...)
}

// CodeOf returns the protocol code of err: the code of an *Error in its
// chain, or CodeError.
func CodeOf(err error) uint32 {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeError
}

// Sentinels for errors.Is; each matches any *Error with its code.
var (
	ErrInvalidCommand              = ErrorForCode(CodeInvalidCommand)
	ErrFeatureUnavailable          = ErrorForCode(CodeFeatureUnavailable)
	ErrResourceNotFound            = ErrorForCode(CodeResourceNotFound)
	ErrUnauthenticated             = ErrorForCode(CodeUnauthenticated)
	ErrUnauthorized                = ErrorForCode(CodeUnauthorized)
	ErrInvalidCredentials          = ErrorForCode(CodeInvalidCredentials)
	ErrStreamIDNotFound            = ErrorForCode(CodeStreamIDNotFound)
	ErrStreamNameAlreadyExists     = ErrorForCode(CodeStreamNameAlreadyExists)
	ErrTopicIDNotFound             = ErrorForCode(CodeTopicIDNotFound)
	ErrTopicNameAlreadyExists      = ErrorForCode(CodeTopicNameAlreadyExists)
	ErrPartitionNotFound           = ErrorForCode(CodePartitionNotFound)
	ErrConsumerGroupIDNotFound     = ErrorForCode(CodeConsumerGroupIDNotFound)
	ErrConsumerGroupMemberNotFound = ErrorForCode(CodeConsumerGroupMemberNotFound)
	ErrConsumerOffsetNotFound      = ErrorForCode(CodeConsumerOffsetNotFound)
)

// Eviction reasons (byte 255 of an eviction frame). Part of the protocol.
const (
	EvictNoSession               uint8 = 1
	EvictInvalidRequestOperation uint8 = 4
	EvictInvalidRequestBody      uint8 = 5
	EvictInvalidRequestBodySize  uint8 = 6
	EvictSessionTooLow           uint8 = 7
	EvictInvalidCredentials      uint8 = 9
	EvictInvalidToken            uint8 = 10
	EvictUserInactive            uint8 = 11
	EvictSessionError            uint8 = 12
	EvictStaleClient             uint8 = 13
	EvictIncompatibleProtocol    uint8 = 14
	EvictMalformedLogin          uint8 = 15
)

// EvictionError returns the error a client reports for an eviction reason
// (wire.md §3.6).
func EvictionError(reason uint8) *Error {
	var code uint32
	switch reason {
	case EvictNoSession, EvictSessionTooLow, 8, EvictUserInactive, EvictSessionError:
		code = CodeUnauthenticated
	case EvictInvalidCredentials:
		code = CodeInvalidCredentials
	case EvictInvalidToken:
		code = CodeInvalidPAT
	case EvictStaleClient:
		code = CodeStaleClient
	case EvictIncompatibleProtocol:
		code = CodeIncompatibleProtocolVersion
	case EvictMalformedLogin:
		code = CodeInvalidFormat
	default:
		code = CodeInvalidCommand
	}
	return ErrorForCode(code).With("evicted by the server (reason %d)", reason)
}
