package client

import (
	"context"
	"fmt"

	"github.com/shoalstream/shoal/internal/wire"
)

// UserStatus is whether a user may log in.
type UserStatus uint8

// User statuses (the protocol's values).
const (
	UserActive   = UserStatus(wire.UserActive)
	UserInactive = UserStatus(wire.UserInactive)
)

// CreateUser creates a user and returns it. perms may be nil (no
// permissions).
func (c *Client) CreateUser(ctx context.Context, username, password string, status UserStatus, perms *Permissions) (*UserDetails, error) {
	if err := checkCredentialLengths(username, password); err != nil {
		return nil, err
	}
	req := wire.CreateUserRequest{Username: username, Password: password, Status: uint8(status), Permissions: perms}
	return callDecode[UserDetails](ctx, c, wire.CmdCreateUser, req.AppendTo(nil))
}

func checkCredentialLengths(username, password string) error {
	if len(username) < 1 || len(username) > 255 {
		return ErrInvalidUsername.With("username of %d bytes (1..255)", len(username))
	}
	if len(password) > 255 {
		return wire.ErrorForCode(wire.CodeInvalidPassword).With("password of %d bytes (at most 255)", len(password))
	}
	return nil
}

// GetUser returns a user (ErrResourceNotFound if there is none).
func (c *Client) GetUser(ctx context.Context, user Identifier) (*UserDetails, error) {
	req := wire.GetUserRequest{User: user}
	return callDecodeOrEmpty[UserDetails](ctx, c, wire.CmdGetUser, req.AppendTo(nil),
		ErrResourceNotFound, fmt.Sprintf("user %s", user))
}

// GetUsers returns every user.
func (c *Client) GetUsers(ctx context.Context) ([]User, error) {
	return callDecodeList(ctx, c, wire.CmdGetUsers, nil, wire.DecodeUsers)
}

// UserUpdate says what UpdateUser changes; zero fields are left as they
// are.
type UserUpdate struct {
	Username string
	Status   UserStatus
}

// UpdateUser renames a user or changes its status.
func (c *Client) UpdateUser(ctx context.Context, user Identifier, u UserUpdate) error {
	req := wire.UpdateUserRequest{User: user}
	if u.Username != "" {
		if len(u.Username) > 255 {
			return ErrInvalidUsername.With("username of %d bytes (1..255)", len(u.Username))
		}
		req.Username = &u.Username
	}
	if u.Status != 0 {
		st := uint8(u.Status)
		req.Status = &st
	}
	_, err := c.call(ctx, wire.CmdUpdateUser, req.AppendTo(nil))
	return err
}

// DeleteUser deletes a user (not the root user).
func (c *Client) DeleteUser(ctx context.Context, user Identifier) error {
	_, err := c.call(ctx, wire.CmdDeleteUser, wire.DeleteUserRequest{User: user}.AppendTo(nil))
	return err
}

// UpdatePermissions replaces a user's permissions; nil removes them all.
func (c *Client) UpdatePermissions(ctx context.Context, user Identifier, perms *Permissions) error {
	req := wire.UpdatePermissionsRequest{User: user, Permissions: perms}
	_, err := c.call(ctx, wire.CmdUpdatePermissions, req.AppendTo(nil))
	return err
}

// ChangePassword changes a user's password (ErrInvalidCredentials if
// current is wrong).
func (c *Client) ChangePassword(ctx context.Context, user Identifier, current, next string) error {
	if len(current) > 255 || len(next) > 255 {
		return wire.ErrorForCode(wire.CodeInvalidPassword).With("passwords are at most 255 bytes")
	}
	req := wire.ChangePasswordRequest{User: user, Current: current, New: next}
	_, err := c.call(ctx, wire.CmdChangePassword, req.AppendTo(nil))
	return err
}

// CreatePersonalAccessToken creates a token for the logged-in user and
// returns its secret, which the server shows only this once. expiry is in
// microseconds from now: 0 for the server default, ExpiryNever for never.
func (c *Client) CreatePersonalAccessToken(ctx context.Context, name string, expiry uint64) (string, error) {
	if len(name) < 1 || len(name) > 255 {
		return "", wire.ErrorForCode(wire.CodeInvalidPATName).With("token name of %d bytes (1..255)", len(name))
	}
	req := wire.CreatePATRequest{Name: name, Expiry: expiry}
	raw, err := callDecode[RawPersonalAccessToken](ctx, c, wire.CmdCreatePersonalAccessToken, req.AppendTo(nil))
	if err != nil {
		return "", err
	}
	return raw.Token, nil
}

// GetPersonalAccessTokens returns the logged-in user's tokens (names and
// expiry times, not secrets).
func (c *Client) GetPersonalAccessTokens(ctx context.Context) ([]PersonalAccessToken, error) {
	return callDecodeList(ctx, c, wire.CmdGetPersonalAccessTokens, nil, wire.DecodePATs)
}

// DeletePersonalAccessToken deletes one of the logged-in user's tokens.
func (c *Client) DeletePersonalAccessToken(ctx context.Context, name string) error {
	_, err := c.call(ctx, wire.CmdDeletePersonalAccessToken, wire.DeletePATRequest{Name: name}.AppendTo(nil))
	return err
}
