package broker

import (
	"errors"
	"fmt"
)

// Kind classifies a broker error; the server maps each kind to its
// protocol code in one place.
type Kind int

// Error kinds.
const (
	KindInvalid Kind = iota + 1
	KindNotFound
	KindStreamNotFound
	KindTopicNotFound
	KindPartitionNotFound
	KindGroupNotFound
	KindMemberNotFound
	KindOffsetNotFound
	KindStreamExists
	KindTopicExists
	KindGroupExists
	KindUserExists
	KindPATExists
	KindPATLimit
	KindPATExpiry
	KindTooManyStreams
	KindTooManyTopics
	KindTooManyPartitions
	KindPartitionsCount
	KindPartitionIDSpace
	KindTopicSize
	KindOptionKey
	KindOptionValue
	KindUsername
	KindPassword
	KindCredentials
	KindCannotDeleteUser
	KindCannotChangePermissions
	KindUnauthenticated
	KindUnauthorized
	KindInvalidOffset
	KindMessagesCount
	KindMessageChecksum
	KindBatchChecksum
	KindUnavailable // storage did not make it durable in time, or fenced
	KindClientNotFound
	KindNotOwned
)

// Error is the error type of every broker operation.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // the cause, if any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func errf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err (0 if it is not a broker error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func unauthorized(what string) *Error {
	return errf(KindUnauthorized, "permission denied: %s", what)
}
