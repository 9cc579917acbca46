package client

import (
	"context"
	"fmt"

	"github.com/shoalstream/shoal/internal/wire"
)

// LoginInfo is what the server answers a login: the user, the session the
// connection is bound to, and the server's protocol and version.
type LoginInfo = wire.RegisterReply

// LoginUser logs in with a username and password. If the connection is
// logged in already, it logs out first (a new client id then registers).
// The credentials are remembered to log in again after a reconnect.
func (c *Client) LoginUser(ctx context.Context, username, password string) (*LoginInfo, error) {
	if username == "" || len(username) > 255 || len(password) > 255 {
		return nil, ErrInvalidCredentials.With("username must be 1..255 bytes and password at most 255")
	}
	return c.login(ctx, credentials{username: username, password: password})
}

// LoginWithToken logs in with a personal access token, as LoginUser does
// with a password.
func (c *Client) LoginWithToken(ctx context.Context, token string) (*LoginInfo, error) {
	if len(token) > 255 {
		return nil, ErrInvalidPAT.With("token longer than 255 bytes")
	}
	return c.login(ctx, credentials{token: token, withToken: true})
}

func (c *Client) login(ctx context.Context, cr credentials) (*LoginInfo, error) {
	var info *LoginInfo
	err := c.withConn(ctx, func(ctx context.Context) error {
		var err error
		info, err = c.loginLocked(ctx, cr)
		if err != nil {
			c.creds = nil // a refused login is not tried again after a reconnect
		}
		return err
	})
	return info, err
}

// loginLocked runs the login sequence of the official SDK (wire.md §7.2):
// Logout if a session is bound, Register, then GetClusterMetadata, whose
// failure is only logged.
func (c *Client) loginLocked(ctx context.Context, cr credentials) (*LoginInfo, error) {
	if c.session != 0 {
		if err := c.logoutLocked(ctx); err != nil {
			return nil, fmt.Errorf("logging out before logging in again: %w", err)
		}
	}
	req := wire.LoginRequest{
		Version: wire.ClientVersion{
			Protocol:   wire.ProtocolVersion,
			SDKName:    c.opts.sdkName,
			SDKVersion: c.opts.sdkVersion,
		},
		Username:  cr.username,
		Password:  cr.password,
		Token:     cr.token,
		WithToken: cr.withToken,
	}
	payload, err := c.callLocked(ctx, req.Code(), req.AppendTo(nil))
	if err != nil {
		return nil, err
	}
	info, err := decodeRegisterReply(payload)
	if err != nil {
		err = fmt.Errorf("%s: %w", cmdName(req.Code()), err)
		c.dropLocked(err)
		return nil, err
	}
	c.session = info.Session
	c.next = 1
	c.creds = &cr
	c.loggedOut = false
	c.log.Debug("logged in", "user_id", info.UserID, "server_version", info.ServerVersion)

	if _, err := c.callLocked(ctx, wire.CmdGetClusterMetadata, nil); err != nil {
		if c.conn == nil {
			// The connection broke: the login did not survive it.
			return nil, err
		}
		c.log.Warn("reading the cluster metadata after login", "err", err)
	}
	return info, nil
}

// decodeRegisterReply reads a Register payload as the official SDK does: at
// least user id, session, protocol and the version string; trailing bytes
// are ignored, and session 0 is an error.
func decodeRegisterReply(b []byte) (*LoginInfo, error) {
	r := wire.NewReader(b)
	info := &LoginInfo{
		UserID:         r.U32(),
		Session:        r.U64(),
		ServerProtocol: r.U32(),
		ServerVersion:  r.Str8(),
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("decoding the login reply: %w", err)
	}
	if info.Session == 0 {
		return nil, wire.Malformed("login reply with session 0")
	}
	return info, nil
}

// Logout ends the session; the connection stays open. The client does not
// log in again by itself until LoginUser or LoginWithToken.
func (c *Client) Logout(ctx context.Context) error {
	return c.withConn(ctx, c.logoutLocked)
}

func (c *Client) logoutLocked(ctx context.Context) error {
	if _, err := c.callLocked(ctx, wire.CmdLogoutUser, nil); err != nil {
		return err
	}
	c.resetLocked()
	c.topics.clearCounts()
	c.loggedOut = true
	return nil
}
