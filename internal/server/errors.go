package server

import (
	"errors"

	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/wire"
)

// kindCodes maps broker error kinds to protocol codes: the one place
// domain errors meet the wire.
var kindCodes = map[broker.Kind]uint32{
	broker.KindInvalid:                 wire.CodeInvalidCommand,
	broker.KindNotFound:                wire.CodeResourceNotFound,
	broker.KindStreamNotFound:          wire.CodeStreamIDNotFound,
	broker.KindTopicNotFound:           wire.CodeTopicIDNotFound,
	broker.KindPartitionNotFound:       wire.CodePartitionNotFound,
	broker.KindGroupNotFound:           wire.CodeConsumerGroupIDNotFound,
	broker.KindMemberNotFound:          wire.CodeConsumerGroupMemberNotFound,
	broker.KindOffsetNotFound:          wire.CodeConsumerOffsetNotFound,
	broker.KindStreamExists:            wire.CodeStreamNameAlreadyExists,
	broker.KindTopicExists:             wire.CodeTopicNameAlreadyExists,
	broker.KindGroupExists:             wire.CodeConsumerGroupNameAlreadyExists,
	broker.KindUserExists:              wire.CodeUserAlreadyExists,
	broker.KindPATExists:               wire.CodePATAlreadyExists,
	broker.KindPATLimit:                wire.CodePATLimitReached,
	broker.KindPATExpiry:               wire.CodeInvalidPATExpiry,
	broker.KindTooManyStreams:          wire.CodeTooManyStreams,
	broker.KindTooManyTopics:           wire.CodeTooManyTopics,
	broker.KindTooManyPartitions:       wire.CodeTooManyPartitions,
	broker.KindPartitionsCount:         wire.CodeInvalidPartitionsCount,
	broker.KindPartitionIDSpace:        wire.CodePartitionIDSpaceExhausted,
	broker.KindTopicSize:               wire.CodeInvalidTopicSize,
	broker.KindOptionKey:               wire.CodeUnsupportedOptionKey,
	broker.KindOptionValue:             wire.CodeInvalidOptionValue,
	broker.KindUsername:                wire.CodeInvalidUsername,
	broker.KindPassword:                wire.CodeInvalidPassword,
	broker.KindCredentials:             wire.CodeInvalidCredentials,
	broker.KindCannotDeleteUser:        wire.CodeCannotDeleteUser,
	broker.KindCannotChangePermissions: wire.CodeCannotChangePermissions,
	broker.KindUnauthenticated:         wire.CodeUnauthenticated,
	broker.KindUnauthorized:            wire.CodeUnauthorized,
	broker.KindInvalidOffset:           wire.CodeInvalidOffset,
	broker.KindMessagesCount:           wire.CodeInvalidMessagesCount,
	broker.KindMessageChecksum:         wire.CodeInvalidMessageChecksum,
	broker.KindBatchChecksum:           wire.CodeInvalidBatchChecksum,
	broker.KindUnavailable:             wire.CodeError,
	broker.KindClientNotFound:          wire.CodeClientNotFound,
	broker.KindNotOwned:                wire.CodeConsumerGroupPartitionNotOwned,
}

// codeFor returns the protocol code of an error.
func codeFor(err error) uint32 {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code
	}
	if c, ok := kindCodes[broker.KindOf(err)]; ok {
		return c
	}
	return wire.CodeError
}
