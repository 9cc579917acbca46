package client

import "github.com/shoalstream/shoal/internal/wire"

// Error is a protocol error: the protocol's numeric code, its name and a
// detail that never travels on the wire. errors.Is matches two *Error
// values with the same code.
type Error = wire.Error

// ErrorForCode returns the *Error of a protocol code.
func ErrorForCode(code uint32) *Error { return wire.ErrorForCode(code) }

// CodeOf returns the protocol code of the *Error in err's chain, or 1 (the
// generic error) if there is none.
func CodeOf(err error) uint32 { return wire.CodeOf(err) }

// Errors a caller may want to tell apart; each matches (errors.Is) any
// *Error with its code, whatever its detail.
var (
	ErrInvalidCommand              = wire.ErrInvalidCommand
	ErrFeatureUnavailable          = wire.ErrFeatureUnavailable
	ErrResourceNotFound            = wire.ErrResourceNotFound
	ErrUnauthenticated             = wire.ErrUnauthenticated
	ErrUnauthorized                = wire.ErrUnauthorized
	ErrInvalidCredentials          = wire.ErrInvalidCredentials
	ErrStreamNotFound              = wire.ErrStreamIDNotFound
	ErrStreamNameAlreadyExists     = wire.ErrStreamNameAlreadyExists
	ErrTopicNotFound               = wire.ErrTopicIDNotFound
	ErrTopicNameAlreadyExists      = wire.ErrTopicNameAlreadyExists
	ErrPartitionNotFound           = wire.ErrPartitionNotFound
	ErrConsumerGroupNotFound       = wire.ErrConsumerGroupIDNotFound
	ErrConsumerGroupMemberNotFound = wire.ErrConsumerGroupMemberNotFound
	ErrConsumerOffsetNotFound      = wire.ErrConsumerOffsetNotFound

	ErrInvalidConfiguration           = wire.ErrorForCode(wire.CodeInvalidConfiguration)
	ErrInvalidFormat                  = wire.ErrorForCode(wire.CodeInvalidFormat)
	ErrDisconnected                   = wire.ErrorForCode(wire.CodeDisconnected)
	ErrCannotEstablishConnection      = wire.ErrorForCode(wire.CodeCannotEstablishConnection)
	ErrStaleClient                    = wire.ErrorForCode(wire.CodeStaleClient)
	ErrInvalidUsername                = wire.ErrorForCode(wire.CodeInvalidUsername)
	ErrUserAlreadyExists              = wire.ErrorForCode(wire.CodeUserAlreadyExists)
	ErrCannotDeleteUser               = wire.ErrorForCode(wire.CodeCannotDeleteUser)
	ErrCannotChangePermissions        = wire.ErrorForCode(wire.CodeCannotChangePermissions)
	ErrPATAlreadyExists               = wire.ErrorForCode(wire.CodePATAlreadyExists)
	ErrPATLimitReached                = wire.ErrorForCode(wire.CodePATLimitReached)
	ErrInvalidPAT                     = wire.ErrorForCode(wire.CodeInvalidPAT)
	ErrInvalidPATExpiry               = wire.ErrorForCode(wire.CodeInvalidPATExpiry)
	ErrNotConnected                   = wire.ErrorForCode(wire.CodeNotConnected)
	ErrClosed                         = wire.ErrorForCode(wire.CodeClientShutdown)
	ErrClientNotFound                 = wire.ErrorForCode(wire.CodeClientNotFound)
	ErrInvalidStreamName              = wire.ErrorForCode(wire.CodeInvalidStreamName)
	ErrInvalidTopicSize               = wire.ErrorForCode(wire.CodeInvalidTopicSize)
	ErrTooManyStreams                 = wire.ErrorForCode(wire.CodeTooManyStreams)
	ErrInvalidTopicName               = wire.ErrorForCode(wire.CodeInvalidTopicName)
	ErrTooManyPartitions              = wire.ErrorForCode(wire.CodeTooManyPartitions)
	ErrInvalidPartitionsCount         = wire.ErrorForCode(wire.CodeInvalidPartitionsCount)
	ErrTooManyTopics                  = wire.ErrorForCode(wire.CodeTooManyTopics)
	ErrInvalidMessagesCount           = wire.ErrorForCode(wire.CodeInvalidMessagesCount)
	ErrTooBigUserHeaders              = codeError(codeTooBigUserHeaders)
	ErrInvalidHeaderKey               = codeError(codeInvalidHeaderKey)
	ErrInvalidHeaderValue             = codeError(codeInvalidHeaderValue)
	ErrTooBigMessagePayload           = codeError(codeTooBigMessagePayload)
	ErrInvalidMessagePayloadLength    = codeError(codeInvalidMessagePayloadLength)
	ErrInvalidKeyValueLength          = wire.ErrorForCode(wire.CodeInvalidKeyValueLength)
	ErrUnsupportedOptionKey           = wire.ErrorForCode(wire.CodeUnsupportedOptionKey)
	ErrInvalidOptionValue             = wire.ErrorForCode(wire.CodeInvalidOptionValue)
	ErrInvalidOffset                  = wire.ErrorForCode(wire.CodeInvalidOffset)
	ErrConsumerGroupNameAlreadyExists = wire.ErrorForCode(wire.CodeConsumerGroupNameAlreadyExists)
	ErrInvalidConsumerGroupName       = wire.ErrorForCode(wire.CodeInvalidConsumerGroupName)
	ErrConsumerGroupPartitionNotOwned = wire.ErrorForCode(wire.CodeConsumerGroupPartitionNotOwned)
	ErrIncompatibleProtocolVersion    = wire.ErrorForCode(wire.CodeIncompatibleProtocolVersion)
)

// Message validation codes of the protocol that the wire package does not
// name (the client raises them before sending, as the official SDK does).
const (
	codeTooBigUserHeaders           uint32 = 4017
	codeInvalidHeaderKey            uint32 = 4018
	codeInvalidHeaderValue          uint32 = 4019
	codeTooBigMessagePayload        uint32 = 4022
	codeInvalidMessagePayloadLength uint32 = 4025
)

// localCodeNames names the codes above.
var localCodeNames = map[uint32]string{
	codeTooBigUserHeaders:           "too_big_headers_payload",
	codeInvalidHeaderKey:            "invalid_header_key",
	codeInvalidHeaderValue:          "invalid_header_value",
	codeTooBigMessagePayload:        "too_big_message_payload",
	codeInvalidMessagePayloadLength: "invalid_message_payload_length",
}

// codeError is wire.ErrorForCode that also names the codes above.
func codeError(code uint32) *Error {
	if n, ok := localCodeNames[code]; ok {
		return &Error{Code: code, Name: n}
	}
	return wire.ErrorForCode(code)
}

func errClosed() error { return ErrClosed.With("the client is closed") }

func errorf(code uint32, format string, args ...any) *Error {
	return codeError(code).With(format, args...)
}
