package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/wire"
)

// subject names what a command addressed, as the user typed it, so that a
// protocol error (which carries only a code) becomes a sentence about it:
// "stream 'orders' not found", not "error 1009".
type subject struct {
	stream, topic, group string
	partition            string
	consumer             string // "consumer 0", "consumer group 'g'"
	user                 string
	token                string
	clientID             string
	// name is the name a create or rename gives, for "already exists".
	name string
	// what is what ResourceNotFound (20) means for the command, when it is
	// not one of the above: "user 'bob'".
	what string
	// probe: on ResourceNotFound and other codes that do not say which
	// part is missing, look the stream, topic, partition and group up.
	probe bool
}

// quoted shows an identifier argument: a number as it is, a name quoted.
func quoted(s string) string {
	if _, err := parseUint32("", s); err == nil {
		return s
	}
	return "'" + s + "'"
}

func (sub subject) streamText() string { return "stream " + quoted(sub.stream) }

func (sub subject) topicText() string {
	return "topic " + quoted(sub.topic) + " in stream " + quoted(sub.stream)
}

func (sub subject) groupText() string {
	return "consumer group " + quoted(sub.group) + " of " + sub.topicText()
}

func (sub subject) partitionText() string {
	return "partition " + sub.partition + " of " + sub.topicText()
}

// cliError is a one-line reason that keeps the error it explains.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

func reason(err error, format string, args ...any) error {
	return &cliError{msg: fmt.Sprintf(format, args...), err: err}
}

// explain turns err into a one-line reason about sub. s.Client may be nil
// (dial failures), and then nothing is probed.
func (s *session) explain(ctx context.Context, err error, sub subject) error {
	if err == nil {
		return nil
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return reason(err, "no answer from %s within %v (see --timeout)", s.address, s.cli.timeout)
	}
	if errors.Is(err, context.Canceled) {
		return reason(err, "interrupted")
	}
	var we *wire.Error
	if !errors.As(err, &we) {
		return err
	}
	switch we.Code {
	case wire.CodeCannotEstablishConnection:
		return reason(err, "cannot connect to %s: %s", s.address, cause(err))
	case wire.CodeDisconnected, wire.CodeNotConnected, wire.CodeTcpError, wire.CodeEmptyResponse:
		return reason(err, "the connection to %s was lost: %s", s.address, cause(err))
	case wire.CodeIncompatibleProtocolVersion:
		return reason(err, "the server at %s speaks an incompatible protocol version", s.address)
	case wire.CodeStaleClient:
		return reason(err, "the server dropped this client as stale")
	case wire.CodeUnauthenticated:
		return reason(err, "%s", errNotLoggedIn)
	case wire.CodeUnauthorized:
		return reason(err, "permission denied: the logged-in user may not do this")
	case wire.CodeInvalidCredentials:
		return reason(err, "invalid credentials: the current password is wrong")
	case wire.CodeInvalidPAT:
		return reason(err, "the personal access token is invalid or expired; run 'shoal login' again")
	case wire.CodeFeatureUnavailable:
		return reason(err, "the server does not support this command")

	case wire.CodeStreamIDNotFound:
		return reason(err, "%s not found", sub.streamText())
	case wire.CodeTopicIDNotFound:
		if m := s.locate(ctx, subject{stream: sub.stream}); m != "" {
			return reason(err, "%s", m)
		}
		return reason(err, "%s not found", sub.topicText())
	case wire.CodePartitionNotFound:
		if sub.partition == "" {
			return reason(err, "partition not found in %s", sub.topicText())
		}
		if m := s.locate(ctx, subject{stream: sub.stream, topic: sub.topic, partition: sub.partition}); m != "" {
			return reason(err, "%s", m)
		}
		return reason(err, "%s not found", sub.partitionText())
	case wire.CodeConsumerGroupIDNotFound:
		if m := s.locate(ctx, subject{stream: sub.stream, topic: sub.topic}); m != "" {
			return reason(err, "%s", m)
		}
		return reason(err, "%s not found", sub.groupText())
	case wire.CodeResourceNotFound:
		if sub.probe {
			if m := s.locate(ctx, sub); m != "" {
				return reason(err, "%s", m)
			}
		}
		switch {
		case sub.group != "" && sub.partition != "" && sub.probe:
			return reason(err, "partition %s of %s is assigned to another member of consumer group %s", sub.partition, sub.topicText(), quoted(sub.group))
		case sub.what != "":
			return reason(err, "%s not found", sub.what)
		case sub.user != "":
			return reason(err, "user %s not found", quoted(sub.user))
		case sub.token != "":
			return reason(err, "personal access token '%s' not found", sub.token)
		}
		return reason(err, "not found")
	case wire.CodeClientNotFound:
		return reason(err, "client %s not found", sub.clientID)
	case wire.CodeConsumerOffsetNotFound:
		return reason(err, "no offset stored for %s on %s", sub.consumer, sub.partitionText())
	case wire.CodeConsumerGroupMemberNotFound:
		return reason(err, "this client is not a member of %s", sub.groupText())
	case wire.CodeConsumerGroupPartitionNotOwned:
		return reason(err, "partition %s is not assigned to this client in %s", sub.partition, sub.groupText())

	case wire.CodeStreamNameAlreadyExists:
		return reason(err, "stream '%s' already exists", sub.name)
	case wire.CodeTopicNameAlreadyExists:
		return reason(err, "topic '%s' already exists in stream %s", sub.name, quoted(sub.stream))
	case wire.CodeConsumerGroupNameAlreadyExists:
		return reason(err, "consumer group '%s' already exists in %s", sub.name, sub.topicText())
	case wire.CodeUserAlreadyExists:
		return reason(err, "user '%s' already exists", sub.name)
	case wire.CodePATAlreadyExists:
		return reason(err, "personal access token '%s' already exists", sub.name)

	case wire.CodeInvalidStreamName:
		return reason(err, "invalid stream name '%s': it must be 1 to 255 bytes", sub.name)
	case wire.CodeInvalidTopicName:
		return reason(err, "invalid topic name '%s': it must be 1 to 255 bytes", sub.name)
	case wire.CodeInvalidConsumerGroupName:
		return reason(err, "invalid consumer group name '%s': it must be 1 to 255 bytes", sub.name)
	case wire.CodeInvalidUsername:
		return reason(err, "invalid username '%s': it must be 3 to 50 bytes", sub.name)
	case wire.CodeInvalidPassword:
		return reason(err, "invalid password: it must be 3 to 100 bytes")
	case wire.CodeCannotDeleteUser:
		return reason(err, "the root user cannot be deleted")
	case wire.CodeCannotChangePermissions:
		return reason(err, "the root user's permissions cannot be changed")
	case wire.CodePATLimitReached:
		return reason(err, "too many personal access tokens: delete one first ('shoal pat list')")
	case wire.CodeInvalidPATExpiry:
		return reason(err, "invalid expiry for personal access token '%s'", sub.name)
	case wire.CodeInvalidTopicSize:
		return reason(err, "invalid topic size: the max topic size must be at least the segment size")
	case wire.CodeTooManyStreams:
		return reason(err, "too many streams: the server allows no more")
	case wire.CodeTooManyTopics:
		return reason(err, "too many topics in stream %s", quoted(sub.stream))
	case wire.CodeTooManyPartitions:
		return reason(err, "invalid partitions count: from 1 to %d at a time", client.MaxPartitionsPerRequest)
	case wire.CodeInvalidPartitionsCount:
		return reason(err, "invalid partitions count: %s has fewer partitions", sub.topicText())
	case wire.CodePartitionIDSpaceExhausted:
		return reason(err, "%s has no partition ids left", sub.topicText())
	case wire.CodeUnsupportedOptionKey:
		return reason(err, "unsupported option: the server does not know it, or it cannot be changed (see 'shoal topic options')")
	case wire.CodeInvalidOptionValue:
		return reason(err, "invalid option value (see 'shoal topic options')")
	case wire.CodeInvalidOffset:
		return reason(err, "invalid offset")
	case wire.CodeInvalidMessagesCount:
		return reason(err, "no messages to send")
	case wire.CodeSnapshotFailed:
		return reason(err, "the server could not build the snapshot")
	}
	// The client's own checks carry a detail that says what is wrong.
	name := strings.ReplaceAll(we.Name, "_", " ")
	if we.Detail != "" {
		return reason(err, "%s: %s", name, we.Detail)
	}
	return reason(err, "%s (protocol error %d)", name, we.Code)
}

// explainLogin explains a failed login.
func (s *session) explainLogin(ctx context.Context, err error, creds *credentials) error {
	switch client.CodeOf(err) {
	case wire.CodeInvalidCredentials:
		return reason(err, "login as %s refused: invalid username or password, or the user is inactive (credentials from %s)", quoted(creds.username), creds.from)
	case wire.CodeInvalidPAT:
		return reason(err, "login refused: the personal access token from %s is invalid or expired; run 'shoal login' again", creds.from)
	case wire.CodeUnauthenticated:
		return reason(err, "login refused: the user is inactive or the server refused the session (credentials from %s)", creds.from)
	case wire.CodeInvalidFormat:
		return reason(err, "login refused: the server could not read the login (credentials from %s)", creds.from)
	}
	return s.explain(ctx, err, subject{})
}

// locate looks up the parts of sub, outermost first, and says which one
// does not exist ("" if it cannot tell).
func (s *session) locate(ctx context.Context, sub subject) string {
	if s.Client == nil || sub.stream == "" {
		return ""
	}
	stream, err := parseID(sub.stream)
	if err != nil {
		return ""
	}
	if _, err := s.GetStream(ctx, stream); errors.Is(err, client.ErrStreamNotFound) {
		return sub.streamText() + " not found"
	} else if err != nil || sub.topic == "" {
		return ""
	}
	topic, err := parseID(sub.topic)
	if err != nil {
		return ""
	}
	td, err := s.GetTopic(ctx, stream, topic)
	if errors.Is(err, client.ErrTopicNotFound) {
		return sub.topicText() + " not found"
	} else if err != nil {
		return ""
	}
	if sub.partition != "" {
		if p, err := parseUint32("", sub.partition); err == nil && p >= td.PartitionsCount {
			return fmt.Sprintf("%s not found (it has %s)", sub.partitionText(), plural(int(td.PartitionsCount), "partition"))
		}
	}
	if sub.group != "" {
		group, err := parseID(sub.group)
		if err != nil {
			return ""
		}
		if _, err := s.GetConsumerGroup(ctx, stream, topic, group); errors.Is(err, client.ErrConsumerGroupNotFound) {
			return sub.groupText() + " not found"
		}
	}
	return ""
}

// cause returns the innermost error of a connection failure that is not
// the protocol code the client wrapped it with: "connection refused".
func cause(err error) string {
	for {
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			var next error
			for _, e := range u.Unwrap() {
				var we *wire.Error
				if !errors.As(e, &we) || next == nil {
					next = e
				}
			}
			if next == nil {
				return err.Error()
			}
			err = next
		case *net.OpError:
			if u.Err != nil {
				err = u.Err
				continue
			}
			return u.Error()
		case interface{ Unwrap() error }:
			next := u.Unwrap()
			if next == nil {
				return err.Error()
			}
			if _, ok := next.(*wire.Error); ok {
				return err.Error()
			}
			err = next
		default:
			return err.Error()
		}
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
