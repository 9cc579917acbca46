package broker

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/shoalstream/shoal/internal/auth"
)

// UserInfo is a user as clients see it (no secrets).
type UserInfo struct {
	ID          uint32
	Username    string
	Status      uint8
	CreatedAt   uint64
	Permissions *auth.Permissions
}

func userInfo(u *User) UserInfo {
	return UserInfo{ID: u.ID, Username: u.Username, Status: u.Status, CreatedAt: u.CreatedAt, Permissions: u.Permissions.Clone()}
}

func (b *Broker) resolveUserLocked(id Ident) *User {
	if id.Named {
		return b.st.userByName(id.Name)
	}
	return b.st.Users[id.ID]
}

func validUsername(name string) bool { return len(name) >= 3 && len(name) <= 50 }

func validPassword(pw string) bool { return len(pw) >= 3 && len(pw) <= 100 }

// CreateUser creates a user with the lowest free id.
func (b *Broker) CreateUser(ctx context.Context, s *Session, username, password string, status uint8, perms *auth.Permissions) (UserInfo, error) {
	if err := b.authorize(s, auth.ActionManageUsers, 0, 0); err != nil {
		return UserInfo{}, err
	}
	if !validUsername(username) {
		return UserInfo{}, errf(KindUsername, "username must be 3 to 50 bytes")
	}
	if !validPassword(password) {
		return UserInfo{}, errf(KindPassword, "password must be 3 to 100 bytes")
	}
	if status != UserInactive {
		status = UserActive
	}
	hash, err := b.hashPassword(password)
	if err != nil {
		return UserInfo{}, err
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	exists := b.st.userByName(username) != nil
	id := lowestFree(b.st.Users)
	b.mu.RUnlock()
	if exists {
		return UserInfo{}, errf(KindUserExists, "user '%s' already exists", username)
	}
	u := &User{ID: id, Username: username, PasswordHash: hash, Status: status, CreatedAt: b.now(), Permissions: perms.Clone()}
	if err := b.commit(ctx, &record{Op: opCreateUser, User: u}); err != nil {
		return UserInfo{}, err
	}
	return userInfo(u), nil
}

// GetUser returns a user. Anyone may read themselves.
func (b *Broker) GetUser(s *Session, id Ident) (UserInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	u := b.resolveUserLocked(id)
	me, _ := s.User()
	if u == nil || u.ID != me {
		if err := b.authorizeLocked(s, auth.ActionReadUsers, 0, 0); err != nil {
			return UserInfo{}, err
		}
	} else if _, ok := s.User(); !ok {
		return UserInfo{}, errf(KindUnauthenticated, "not logged in")
	}
	if u == nil {
		return UserInfo{}, errf(KindNotFound, "user %s not found", id)
	}
	return userInfo(u), nil
}

// Users lists every user in id order.
func (b *Broker) Users(s *Session) ([]UserInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.authorizeLocked(s, auth.ActionReadUsers, 0, 0); err != nil {
		return nil, err
	}
	out := make([]UserInfo, 0, len(b.st.Users))
	for _, id := range slices.Sorted(maps.Keys(b.st.Users)) {
		out = append(out, userInfo(b.st.Users[id]))
	}
	return out, nil
}

// UpdateUser changes a user's name and/or status (nil: unchanged).
func (b *Broker) UpdateUser(ctx context.Context, s *Session, id Ident, username *string, status *uint8) error {
	if username != nil && !validUsername(*username) {
		return errf(KindUsername, "username must be 3 to 50 bytes")
	}
	if status != nil && *status != UserActive && *status != UserInactive {
		return errf(KindInvalid, "user status must be 1 (active) or 2 (inactive)")
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	err := b.authorizeLocked(s, auth.ActionManageUsers, 0, 0)
	u := b.resolveUserLocked(id)
	r := &record{Op: opUpdateUser}
	if err == nil && u == nil {
		err = errf(KindNotFound, "user %s not found", id)
	}
	if err == nil {
		r.ID = u.ID
		if username != nil {
			if other := b.st.userByName(*username); other != nil && other != u {
				err = errf(KindUserExists, "user '%s' already exists", *username)
			}
			r.Name = *username
		}
		if status != nil {
			r.Status = *status
		}
	}
	b.mu.RUnlock()
	if err != nil {
		return err
	}
	return b.commit(ctx, r)
}

// DeleteUser deletes a user (not root).
func (b *Broker) DeleteUser(ctx context.Context, s *Session, id Ident) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	u, err := b.userToManage(s, id, errf(KindCannotDeleteUser, "the root user cannot be deleted"))
	if err != nil {
		return err
	}
	if err := b.commit(ctx, &record{Op: opDeleteUser, ID: u.ID}); err != nil {
		return err
	}
	b.logoutUser(u.ID)
	return nil
}

// userToManage resolves the user a manage_users change is about; rootErr
// is the error when that is the root user, who cannot be changed so (nil:
// root may be). The caller holds writeMu.
func (b *Broker) userToManage(s *Session, id Ident, rootErr error) (*User, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.authorizeLocked(s, auth.ActionManageUsers, 0, 0); err != nil {
		return nil, err
	}
	u := b.resolveUserLocked(id)
	if u == nil {
		return nil, errf(KindNotFound, "user %s not found", id)
	}
	if u.ID == 0 && rootErr != nil {
		return nil, rootErr
	}
	return u, nil
}

// logoutUser ends the logins of a deleted user.
func (b *Broker) logoutUser(uid uint32) {
	b.clientsMu.Lock()
	var ss []*Session
	for _, c := range b.clients {
		if id, ok := c.User(); ok && id == uid {
			ss = append(ss, c)
		}
	}
	b.clientsMu.Unlock()
	for _, c := range ss {
		c.Logout()
	}
}

// UpdatePermissions replaces a user's permissions (nil clears them).
func (b *Broker) UpdatePermissions(ctx context.Context, s *Session, id Ident, perms *auth.Permissions) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	u, err := b.userToManage(s, id, errf(KindCannotChangePermissions, "the root user's permissions cannot be changed"))
	if err != nil {
		return err
	}
	return b.commit(ctx, &record{Op: opSetPermissions, ID: u.ID, Perms: perms.Clone()})
}

// ChangePassword changes a user's password, given the current one. A user
// may change their own; changing another's needs manage_users.
func (b *Broker) ChangePassword(ctx context.Context, s *Session, id Ident, current, next string) error {
	if !validPassword(next) {
		return errf(KindPassword, "password must be 3 to 100 bytes")
	}
	b.mu.RLock()
	u := b.resolveUserLocked(id)
	me, logged := s.User()
	var err error
	switch {
	case !logged:
		err = errf(KindUnauthenticated, "not logged in")
	case u == nil || u.ID != me:
		err = b.authorizeLocked(s, auth.ActionManageUsers, 0, 0)
	}
	if err == nil && u == nil {
		err = errf(KindNotFound, "user %s not found", id)
	}
	var hash string
	if err == nil {
		hash = u.PasswordHash
	}
	b.mu.RUnlock()
	if err != nil {
		return err
	}
	if ok, _ := auth.VerifyPassword(hash, current); !ok {
		return errf(KindCredentials, "the current password is wrong")
	}
	newHash, err := b.hashPassword(next)
	if err != nil {
		return err
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	return b.commit(ctx, &record{Op: opSetPassword, ID: u.ID, Hash: newHash})
}

// PATInfo is a personal access token without its secret.
type PATInfo struct {
	Name     string
	ExpiryAt uint64 // µs since the epoch; 0 never
}

// CreatePAT mints a personal access token for the caller and returns its
// secret (shown once). expiry is a duration in µs: 0 or Never mean none.
func (b *Broker) CreatePAT(ctx context.Context, s *Session, name string, expiry uint64) (string, error) {
	uid, ok := s.User()
	if !ok {
		return "", errf(KindUnauthenticated, "not logged in")
	}
	if !validName(name) {
		return "", errf(KindInvalid, "token name must be 1 to 255 bytes")
	}
	now := b.now()
	var at uint64
	if expiry != 0 && expiry != Never {
		at = now + expiry
		if at < now { // overflow: as good as never
			at = 0
		}
	}
	token, err := auth.NewToken()
	if err != nil {
		return "", err
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	u := b.st.Users[uid]
	switch {
	case u == nil:
		err = errf(KindUnauthenticated, "the session's user no longer exists")
	case u.PATs[name] != nil:
		err = errf(KindPATExists, "personal access token '%s' already exists", name)
	case len(u.PATs) >= b.opts.MaxPATsPerUser:
		err = errf(KindPATLimit, "at most %d personal access tokens per user", b.opts.MaxPATsPerUser)
	}
	b.mu.RUnlock()
	if err != nil {
		return "", err
	}
	pat := &PAT{Name: name, Hash: auth.HashToken(token), ExpiryAt: at}
	if err := b.commit(ctx, &record{Op: opCreatePAT, ID: uid, PAT: pat}); err != nil {
		return "", err
	}
	return token, nil
}

// PATs lists the caller's tokens by name.
func (b *Broker) PATs(s *Session) ([]PATInfo, error) {
	uid, ok := s.User()
	if !ok {
		return nil, errf(KindUnauthenticated, "not logged in")
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	u := b.st.Users[uid]
	if u == nil {
		return nil, errf(KindUnauthenticated, "the session's user no longer exists")
	}
	out := make([]PATInfo, 0, len(u.PATs))
	for _, p := range u.PATs {
		out = append(out, PATInfo{Name: p.Name, ExpiryAt: p.ExpiryAt})
	}
	slices.SortFunc(out, func(a, c PATInfo) int { return strings.Compare(a.Name, c.Name) })
	return out, nil
}

// DeletePAT deletes one of the caller's tokens.
func (b *Broker) DeletePAT(ctx context.Context, s *Session, name string) error {
	uid, ok := s.User()
	if !ok {
		return errf(KindUnauthenticated, "not logged in")
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	u := b.st.Users[uid]
	exists := u != nil && u.PATs[name] != nil
	b.mu.RUnlock()
	if !exists {
		return errf(KindNotFound, "personal access token '%s' not found", name)
	}
	return b.commit(ctx, &record{Op: opDeletePAT, ID: uid, Name: name})
}
