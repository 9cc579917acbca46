package wire

// User statuses. Part of the protocol (the Go SDK's own constants 0/1 are
// not the wire values).
const (
	UserActive   uint8 = 1
	UserInactive uint8 = 2
)

// User is a user record (wire.md §5.2), alone in the GetUsers list:
//
//	[id u32][created_at u64][status u8][username name8][options_len u32][options]
//
// Decode refuses a status other than UserActive or UserInactive, as the Go
// SDK does.
type User struct {
	ID        uint32
	CreatedAt uint64 // µs since the epoch
	Status    uint8
	Username  string
	Options   Options // the user catalog has no keys: empty in practice
}

// AppendTo appends the encoded record.
func (u User) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, u.ID)
	dst = AppendU64(dst, u.CreatedAt)
	dst = append(dst, u.Status)
	dst = AppendName8(dst, u.Username)
	return appendOptionsField(dst, u.Options)
}

// Decode decodes a record that is exactly b.
func (u *User) Decode(b []byte) error {
	var v User
	if err := ctlDecode(b, func(r *Reader) { v = readUser(r) }); err != nil {
		return err
	}
	*u = v
	return nil
}

func readUser(r *Reader) User {
	var u User
	u.ID = r.U32()
	u.CreatedAt = r.U64()
	u.Status = r.U8()
	if r.Err() == nil && u.Status != UserActive && u.Status != UserInactive {
		r.Failf("user status %d", u.Status)
	}
	u.Username = r.Name8()
	u.Options = readOptionsField(r)
	if r.Err() != nil {
		return User{}
	}
	return u
}

// UserDetails is the GetUser, CreateUser (framed) and GetMe-user reply:
//
//	User then [0x01][perms_len u32][perms]   with permissions
//	     or   [00 00 00 00]                   without (a u32 zero)
//
// Decode also accepts the one-byte form [0x00] that the Go SDK would read;
// AppendTo always writes the 4-byte form the reference sends.
type UserDetails struct {
	User
	Permissions *Permissions // nil: none
}

// AppendTo appends the encoded details.
func (u UserDetails) AppendTo(dst []byte) []byte {
	dst = u.User.AppendTo(dst)
	if u.Permissions == nil {
		return AppendU32(dst, 0)
	}
	dst = append(dst, 1)
	return appendPermissionsField(dst, u.Permissions)
}

// Decode decodes details that are exactly b.
func (u *UserDetails) Decode(b []byte) error {
	var v UserDetails
	err := ctlDecode(b, func(r *Reader) {
		v.User = readUser(r)
		switch f := r.U8(); {
		case r.Err() != nil:
		case f == 1:
			v.Permissions = readPermissionsField(r)
		case f == 0:
			// The rest of the u32 zero, or nothing.
			if r.Len() > 0 {
				z := r.Bytes(3)
				if r.Err() == nil && (z[0]|z[1]|z[2]) != 0 {
					r.Failf("user without permissions: non-zero bytes after the flag")
				}
			}
		default:
			r.Failf("user has_permissions flag %d", f)
		}
	})
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// AppendUsers appends the GetUsers reply: records back to back, no count.
func AppendUsers(dst []byte, us []User) []byte {
	for _, u := range us {
		dst = u.AppendTo(dst)
	}
	return dst
}

// DecodeUsers decodes a GetUsers reply; an empty body decodes to nil (the
// Go SDK errors on it, but a server always has its root user).
func DecodeUsers(b []byte) ([]User, error) {
	var us []User
	err := ctlDecode(b, func(r *Reader) {
		for r.Len() > 0 {
			u := readUser(r)
			if r.Err() != nil {
				return
			}
			us = append(us, u)
		}
	})
	if err != nil {
		return nil, err
	}
	return us, nil
}

// GetUserRequest is [user id] (a numeric id or the username).
type GetUserRequest struct {
	User Identifier
}

// AppendTo appends the encoded request.
func (q GetUserRequest) AppendTo(dst []byte) []byte { return q.User.AppendTo(dst) }

// Decode decodes a request that is exactly b.
func (q *GetUserRequest) Decode(b []byte) error { return ctlDecodeIDs(b, &q.User) }

// DeleteUserRequest is [user id].
type DeleteUserRequest struct {
	User Identifier
}

// AppendTo appends the encoded request.
func (q DeleteUserRequest) AppendTo(dst []byte) []byte { return q.User.AppendTo(dst) }

// Decode decodes a request that is exactly b.
func (q *DeleteUserRequest) Decode(b []byte) error { return ctlDecodeIDs(b, &q.User) }

// CreateUserRequest is
//
//	[username name8][password_len u8][password][status u8][has_perms u8]
//	([perms_len u32][perms] if has_perms = 1)[options to the end]
//
// The password may be 0..255 bytes and is not checked for UTF-8; the
// status is not checked (the reference creates an unknown status as
// active). The reply is a framed UserDetails.
type CreateUserRequest struct {
	Username    string
	Password    string
	Status      uint8
	Permissions *Permissions
	Options     Options
}

// AppendTo appends the encoded request.
func (q CreateUserRequest) AppendTo(dst []byte) []byte {
	dst = AppendName8(dst, q.Username)
	dst = AppendName8(dst, q.Password)
	dst = append(dst, q.Status)
	if q.Permissions == nil {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		dst = appendPermissionsField(dst, q.Permissions)
	}
	return q.Options.AppendTo(dst)
}

// Decode decodes a request that is exactly b.
func (q *CreateUserRequest) Decode(b []byte) error {
	var v CreateUserRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Username = r.Name8()
		v.Password = r.Str8()
		v.Status = r.U8()
		if ctlFlag(r, "has_permissions") {
			v.Permissions = readPermissionsField(r)
		}
		v.Options = readOptionsRest(r)
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// UpdateUserRequest is
//
//	[user id][has_username u8]([username name8])[has_status u8]([status u8])[options to the end]
//
// A nil field is left unchanged. The Go SDK sends an empty new username as
// has_username = 0; AppendTo does the same.
type UpdateUserRequest struct {
	User     Identifier
	Username *string
	Status   *uint8
	Options  Options
}

// AppendTo appends the encoded request.
func (q UpdateUserRequest) AppendTo(dst []byte) []byte {
	dst = q.User.AppendTo(dst)
	if q.Username == nil || *q.Username == "" {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		dst = AppendName8(dst, *q.Username)
	}
	if q.Status == nil {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1, *q.Status)
	}
	return q.Options.AppendTo(dst)
}

// Decode decodes a request that is exactly b.
func (q *UpdateUserRequest) Decode(b []byte) error {
	var v UpdateUserRequest
	err := ctlDecode(b, func(r *Reader) {
		v.User = ReadIdentifier(r)
		if ctlFlag(r, "has_username") {
			name := r.Name8()
			v.Username = &name
		}
		if ctlFlag(r, "has_status") {
			st := r.U8()
			v.Status = &st
		}
		v.Options = readOptionsRest(r)
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// UpdatePermissionsRequest is [user id][has_perms u8]([perms_len u32][perms]);
// nil Permissions (has_perms = 0) clears every permission.
type UpdatePermissionsRequest struct {
	User        Identifier
	Permissions *Permissions
}

// AppendTo appends the encoded request.
func (q UpdatePermissionsRequest) AppendTo(dst []byte) []byte {
	dst = q.User.AppendTo(dst)
	if q.Permissions == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	return appendPermissionsField(dst, q.Permissions)
}

// Decode decodes a request that is exactly b.
func (q *UpdatePermissionsRequest) Decode(b []byte) error {
	var v UpdatePermissionsRequest
	err := ctlDecode(b, func(r *Reader) {
		v.User = ReadIdentifier(r)
		if ctlFlag(r, "has_permissions") {
			v.Permissions = readPermissionsField(r)
		}
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// ChangePasswordRequest is [user id][current_len u8][current][new_len u8][new].
// Passwords are 0..255 bytes, not checked for UTF-8.
type ChangePasswordRequest struct {
	User    Identifier
	Current string
	New     string
}

// AppendTo appends the encoded request.
func (q ChangePasswordRequest) AppendTo(dst []byte) []byte {
	dst = q.User.AppendTo(dst)
	dst = AppendName8(dst, q.Current)
	return AppendName8(dst, q.New)
}

// Decode decodes a request that is exactly b.
func (q *ChangePasswordRequest) Decode(b []byte) error {
	var v ChangePasswordRequest
	err := ctlDecode(b, func(r *Reader) {
		v.User = ReadIdentifier(r)
		v.Current = r.Str8()
		v.New = r.Str8()
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}
