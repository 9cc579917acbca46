package client

import (
	"context"
	"fmt"

	"github.com/shoalstream/shoal/internal/wire"
)

// Ping checks that the server answers; it needs no login.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.call(ctx, wire.CmdPing, nil)
	return err
}

// GetStats returns the server's statistics.
func (c *Client) GetStats(ctx context.Context) (*Stats, error) {
	return callDecode[Stats](ctx, c, wire.CmdGetStats, nil)
}

// GetMe returns this connection's client record.
func (c *Client) GetMe(ctx context.Context) (*ClientDetails, error) {
	return callDecode[ClientDetails](ctx, c, wire.CmdGetMe, nil)
}

// GetClient returns the record of a connected client (ErrClientNotFound if
// there is none with that id).
func (c *Client) GetClient(ctx context.Context, id uint32) (*ClientDetails, error) {
	body, err := c.call(ctx, wire.CmdGetClient, wire.GetClientRequest{ClientID: id}.AppendTo(nil))
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, ErrClientNotFound.With("%s: client %d", cmdName(wire.CmdGetClient), id)
	}
	return decodeAs[ClientDetails](wire.CmdGetClient, body)
}

// GetClients returns the records of the connected clients.
func (c *Client) GetClients(ctx context.Context) ([]ClientInfo, error) {
	return callDecodeList(ctx, c, wire.CmdGetClients, nil, wire.DecodeClients)
}

// GetClusterMetadata returns the cluster's nodes (one for a single server).
func (c *Client) GetClusterMetadata(ctx context.Context) (*ClusterMetadata, error) {
	return callDecode[ClusterMetadata](ctx, c, wire.CmdGetClusterMetadata, nil)
}

// OptionScope says which entity's options DescribeOptions lists.
type OptionScope uint8

// Option scopes.
const (
	ScopeTopic  = OptionScope(wire.ScopeTopic)
	ScopeStream = OptionScope(wire.ScopeStream)
	ScopeUser   = OptionScope(wire.ScopeUser)
)

// DescribeOptions returns the option keys the server knows for an entity,
// with their kinds, defaults and descriptions.
func (c *Client) DescribeOptions(ctx context.Context, scope OptionScope) ([]OptionDescription, error) {
	if scope < ScopeTopic || scope > ScopeUser {
		return nil, ErrInvalidCommand.With("%s: scope %d", cmdName(wire.CmdDescribeOptions), scope)
	}
	req := wire.DescribeOptionsRequest{Scope: uint8(scope)}
	return callDecodeList(ctx, c, wire.CmdDescribeOptions, req.AppendTo(nil), wire.DecodeOptionDescriptions)
}

// SnapshotCompression is how GetSnapshot compresses the archive.
type SnapshotCompression uint8

// SnapshotType is a kind of content GetSnapshot collects.
type SnapshotType uint8

// Snapshot compressions and content types. Part of the protocol.
const (
	SnapshotStored   = SnapshotCompression(wire.SnapshotStored)
	SnapshotDeflated = SnapshotCompression(wire.SnapshotDeflated)
	SnapshotBzip2    = SnapshotCompression(wire.SnapshotBzip2)
	SnapshotZstd     = SnapshotCompression(wire.SnapshotZstd)
	SnapshotLzma     = SnapshotCompression(wire.SnapshotLzma)
	SnapshotXz       = SnapshotCompression(wire.SnapshotXz)

	SnapshotFilesystemOverview = SnapshotType(wire.SnapshotFilesystemOverview)
	SnapshotProcessList        = SnapshotType(wire.SnapshotProcessList)
	SnapshotResourceUsage      = SnapshotType(wire.SnapshotResourceUsage)
	SnapshotTest               = SnapshotType(wire.SnapshotTest)
	SnapshotServerLogs         = SnapshotType(wire.SnapshotServerLogs)
	SnapshotServerConfig       = SnapshotType(wire.SnapshotServerConfig)
	SnapshotAll                = SnapshotType(wire.SnapshotAll)
)

// GetSnapshot returns a ZIP archive of diagnostics from the server.
func (c *Client) GetSnapshot(ctx context.Context, compression SnapshotCompression, types ...SnapshotType) ([]byte, error) {
	if len(types) > 255 {
		return nil, ErrInvalidCommand.With("%s: %d snapshot types (at most 255)", cmdName(wire.CmdGetSnapshot), len(types))
	}
	req := wire.GetSnapshotRequest{Compression: uint8(compression)}
	for _, t := range types {
		req.Types = append(req.Types, uint8(t))
	}
	return c.call(ctx, wire.CmdGetSnapshot, req.AppendTo(nil))
}

// Do sends a command by its code with a body the caller encoded, and
// returns the reply payload (for result-framed operations, what follows
// the result section). The code decides how the request travels, as with
// the typed methods; unknown codes go as non-replicated commands. Logins
// and Logout are refused: use their methods, which keep the session.
func (c *Client) Do(ctx context.Context, code uint32, body []byte) ([]byte, error) {
	switch code {
	case wire.CmdLoginUserLegacy, wire.CmdLogoutUser, wire.CmdLoginRegister,
		wire.CmdLoginWithPATLegacy, wire.CmdLoginRegisterWithPAT:
		return nil, ErrInvalidCommand.With("command %d cannot be sent raw: use LoginUser, LoginWithToken or Logout", code)
	}
	return c.call(ctx, code, body)
}

// decoder is a reply record type that decodes itself.
type decoder[T any] interface {
	*T
	Decode([]byte) error
}

// decodeAs decodes a reply payload into a new T.
func decodeAs[T any, P decoder[T]](code uint32, body []byte) (*T, error) {
	v := new(T)
	if err := P(v).Decode(body); err != nil {
		return nil, fmt.Errorf("%s: decoding the reply: %w", cmdName(code), err)
	}
	return v, nil
}

// callDecode sends a command and decodes its reply into a new T.
func callDecode[T any, P decoder[T]](ctx context.Context, c *Client, code uint32, body []byte) (*T, error) {
	payload, err := c.call(ctx, code, body)
	if err != nil {
		return nil, err
	}
	return decodeAs[T, P](code, payload)
}

// callDecodeOrEmpty is callDecode for single-entity reads the server
// answers with an empty body when the entity does not exist: that becomes
// notFound.
func callDecodeOrEmpty[T any, P decoder[T]](ctx context.Context, c *Client, code uint32, body []byte, notFound *Error, what string) (*T, error) {
	payload, err := c.call(ctx, code, body)
	if err != nil {
		return nil, err
	}
	if len(payload) == 0 {
		return nil, notFound.With("%s: %s", cmdName(code), what)
	}
	return decodeAs[T, P](code, payload)
}

// callDecodeList sends a command and decodes its reply with decode.
func callDecodeList[T any](ctx context.Context, c *Client, code uint32, body []byte, decode func([]byte) ([]T, error)) ([]T, error) {
	payload, err := c.call(ctx, code, body)
	if err != nil {
		return nil, err
	}
	list, err := decode(payload)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding the reply: %w", cmdName(code), err)
	}
	return list, nil
}
