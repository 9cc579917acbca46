package itest

import (
	"reflect"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/broker"
)

// TestUsers covers user commands and their errors.
func TestUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()

		perms := &client.Permissions{
			Global: client.GlobalPermissions{ReadStreams: true, ReadUsers: true},
			Streams: map[uint32]*client.StreamPermissions{
				3: {ReadStream: true, Topics: map[uint32]*client.TopicPermissions{1: {PollMessages: true}}},
				5: {SendMessages: true},
			},
		}
		alice := must[*client.UserDetails](t)(c.CreateUser(ctx, "alice", "secret1", client.UserActive, perms))
		if alice.ID != 1 || alice.Username != "alice" || alice.Status != uint8(client.UserActive) || alice.CreatedAt == 0 ||
			!reflect.DeepEqual(alice.Permissions, perms) {
			t.Fatalf("created alice %+v perms %+v", alice, alice.Permissions)
		}
		bob := must[*client.UserDetails](t)(c.CreateUser(ctx, "bob", "secret2", client.UserInactive, nil))
		if bob.ID != 2 || bob.Status != uint8(client.UserInactive) || bob.Permissions != nil {
			t.Fatalf("created bob %+v", bob)
		}
		_, err := c.CreateUser(ctx, "alice", "whatever", client.UserActive, nil)
		isErr(t, "duplicate user", err, client.ErrUserAlreadyExists)
		_, err = c.CreateUser(ctx, "al", "whatever", client.UserActive, nil)
		isErr(t, "short username", err, client.ErrInvalidUsername)
		_, err = c.CreateUser(ctx, string(make([]byte, 51)), "whatever", client.UserActive, nil)
		isErr(t, "long username", err, client.ErrInvalidUsername)

		for _, uid := range []client.Identifier{id(1), name("alice")} {
			got := must[*client.UserDetails](t)(c.GetUser(ctx, uid))
			if got.ID != 1 || !reflect.DeepEqual(got.Permissions, perms) {
				t.Fatalf("get user %v: %+v", uid, got)
			}
		}
		root := must[*client.UserDetails](t)(c.GetUser(ctx, id(0)))
		if root.Username != rootUser || root.Status != uint8(client.UserActive) {
			t.Fatalf("root %+v", root)
		}
		_, err = c.GetUser(ctx, name("nobody"))
		isErr(t, "missing user", err, client.ErrResourceNotFound)
		us := must[[]client.User](t)(c.GetUsers(ctx))
		if len(us) != 3 || us[0].Username != rootUser || us[1].Username != "alice" || us[2].Username != "bob" {
			t.Fatalf("users %+v", us)
		}

		// An inactive user cannot log in; activated, it can.
		bc, err := client.Dial(ctx, client.Options{Address: n.addr, Username: "bob", Password: "secret2"})
		isErr(t, "inactive user login", err, client.ErrInvalidCredentials)
		if bc != nil {
			t.Fatal("a failed dial returned a client")
		}
		ok(t, c.UpdateUser(ctx, name("bob"), client.UserUpdate{Username: "robert", Status: client.UserActive}))
		rc := n.dial("robert", "secret2")
		if me := must[*client.ClientDetails](t)(rc.GetMe(ctx)); me.UserID != 2 {
			t.Fatalf("robert's session %+v", me)
		}
		isErr(t, "rename onto another user", c.UpdateUser(ctx, id(2), client.UserUpdate{Username: "alice"}), client.ErrUserAlreadyExists)
		isErr(t, "rename to a short name", c.UpdateUser(ctx, id(2), client.UserUpdate{Username: "xy"}), client.ErrInvalidUsername)
		isErr(t, "update a missing user", c.UpdateUser(ctx, id(9), client.UserUpdate{Username: "xyz"}), client.ErrResourceNotFound)

		// Permissions: replaced, cleared; root's cannot change.
		ok(t, c.UpdatePermissions(ctx, name("robert"), perms))
		if got := must[*client.UserDetails](t)(c.GetUser(ctx, id(2))); !reflect.DeepEqual(got.Permissions, perms) {
			t.Fatalf("updated permissions %+v", got.Permissions)
		}
		ok(t, c.UpdatePermissions(ctx, name("robert"), nil))
		if got := must[*client.UserDetails](t)(c.GetUser(ctx, id(2))); got.Permissions != nil {
			t.Fatalf("cleared permissions %+v", got.Permissions)
		}
		isErr(t, "root's permissions", c.UpdatePermissions(ctx, id(0), perms), client.ErrCannotChangePermissions)
		isErr(t, "permissions of a missing user", c.UpdatePermissions(ctx, id(9), perms), client.ErrResourceNotFound)

		// Passwords: the current one must match, for oneself and for root.
		ac := n.dial("alice", "secret1")
		isErr(t, "wrong current password", ac.ChangePassword(ctx, name("alice"), "nope", "secret3"), client.ErrInvalidCredentials)
		ok(t, ac.ChangePassword(ctx, name("alice"), "secret1", "secret3"))
		isErr(t, "root with a wrong current password", c.ChangePassword(ctx, id(1), "secret1", "secret4"), client.ErrInvalidCredentials)
		ok(t, c.ChangePassword(ctx, id(1), "secret3", "secret4"))
		_, err = client.Dial(ctx, client.Options{Address: n.addr, Username: "alice", Password: "secret3"})
		isErr(t, "old password", err, client.ErrInvalidCredentials)
		n.dial("alice", "secret4")
		isErr(t, "password of a missing user", c.ChangePassword(ctx, name("ghost"), "a", "bcd"), client.ErrResourceNotFound)
		// Another's password needs manage_users.
		isErr(t, "alice changes robert's password", ac.ChangePassword(ctx, name("robert"), "secret2", "secret5"), client.ErrUnauthorized)

		// Deletes: never root; a deleted user's sessions end.
		isErr(t, "delete root", c.DeleteUser(ctx, id(0)), client.ErrCannotDeleteUser)
		isErr(t, "delete a missing user", c.DeleteUser(ctx, name("ghost")), client.ErrResourceNotFound)
		ok(t, c.DeleteUser(ctx, name("robert")))
		_, err = rc.GetMe(ctx)
		_, err2 := rc.GetStreams(ctx)
		if err2 == nil {
			t.Fatalf("a deleted user's session still reads streams (me: %v)", err)
		}
		_, err = c.GetUser(ctx, id(2))
		isErr(t, "deleted user", err, client.ErrResourceNotFound)
		// Its id is free again.
		if u := must[*client.UserDetails](t)(c.CreateUser(ctx, "carol", "secret6", client.UserActive, nil)); u.ID != 2 {
			t.Fatalf("new user after a delete got id %d", u.ID)
		}
	})
}

// TestPersonalAccessTokens covers tokens: create, list, login with one,
// delete, expiry and the per-user limit.
func TestPersonalAccessTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{broker: func(o *broker.Options) { o.MaxPATsPerUser = 4 }})
		c := n.root()

		tok := must[string](t)(c.CreatePersonalAccessToken(ctx, "ci", 0))
		if len(tok) != 50 {
			t.Fatalf("token %q", tok)
		}
		_, err := c.CreatePersonalAccessToken(ctx, "ci", 0)
		isErr(t, "duplicate token", err, client.ErrPATAlreadyExists)
		before := uint64(time.Now().UnixMicro())
		must[string](t)(c.CreatePersonalAccessToken(ctx, "hourly", uint64(time.Hour/time.Microsecond)))
		must[string](t)(c.CreatePersonalAccessToken(ctx, "forever", client.ExpiryNever))
		pats := must[[]client.PersonalAccessToken](t)(c.GetPersonalAccessTokens(ctx))
		if len(pats) != 3 || pats[0].Name != "ci" || pats[0].ExpiryAt != 0 || pats[1].Name != "forever" || pats[1].ExpiryAt != 0 ||
			pats[2].Name != "hourly" || pats[2].ExpiryAt < before+uint64(time.Hour/time.Microsecond) ||
			pats[2].ExpiryAt > uint64(time.Now().Add(time.Hour).UnixMicro()) {
			t.Fatalf("tokens %+v", pats)
		}

		// Login with a token, at dial and on a connected client.
		tc, err := client.Dial(ctx, client.Options{Address: n.addr, Token: tok})
		if err != nil {
			t.Fatalf("dial with a token: %v", err)
		}
		t.Cleanup(func() { tc.Close() })
		if me := must[*client.ClientDetails](t)(tc.GetMe(ctx)); me.UserID != 0 {
			t.Fatalf("token session %+v", me)
		}
		must[*client.StreamDetails](t)(tc.CreateStream(ctx, "by-token"))
		anon := n.dial("", "")
		info := must[*client.LoginInfo](t)(anon.LoginWithToken(ctx, tok))
		if info.UserID != 0 || info.Session == 0 {
			t.Fatalf("token login %+v", info)
		}

		// The limit.
		must[string](t)(c.CreatePersonalAccessToken(ctx, "fourth", 0))
		_, err = c.CreatePersonalAccessToken(ctx, "fifth", 0)
		isErr(t, "token limit", err, client.ErrPATLimitReached)

		// Deleted and unknown tokens cannot log in.
		ok(t, c.DeletePersonalAccessToken(ctx, "ci"))
		isErr(t, "delete a deleted token", c.DeletePersonalAccessToken(ctx, "ci"), client.ErrResourceNotFound)
		_, err = anon.LoginWithToken(ctx, tok)
		isErr(t, "login with a deleted token", err, client.ErrInvalidPAT)
		_, err = client.Dial(ctx, client.Options{Address: n.addr, Token: "x" + tok[1:]})
		isErr(t, "login with an unknown token", err, client.ErrInvalidPAT)
		must[string](t)(c.CreatePersonalAccessToken(ctx, "fifth", 0)) // room again

		// Tokens are per user; an expired one is refused; an inactive
		// user's token is not enough.
		must[*client.UserDetails](t)(c.CreateUser(ctx, "dave", "secret1", client.UserActive, nil))
		dc := n.dial("dave", "secret1")
		if ps, err := dc.GetPersonalAccessTokens(ctx); err != nil || len(ps) != 0 {
			t.Fatalf("dave's tokens %+v %v", ps, err)
		}
		isErr(t, "delete another user's token", dc.DeletePersonalAccessToken(ctx, "hourly"), client.ErrResourceNotFound)
		must[string](t)(dc.CreatePersonalAccessToken(ctx, "ci", 0)) // names are per user
		short := must[string](t)(dc.CreatePersonalAccessToken(ctx, "short", 1))
		_, err = client.Dial(ctx, client.Options{Address: n.addr, Token: short})
		isErr(t, "expired token", err, client.ErrInvalidPAT)
		daves := must[string](t)(dc.CreatePersonalAccessToken(ctx, "daves", 0))
		ok(t, c.UpdateUser(ctx, name("dave"), client.UserUpdate{Status: client.UserInactive}))
		_, err = client.Dial(ctx, client.Options{Address: n.addr, Token: daves})
		isErr(t, "token of an inactive user", err, client.ErrUnauthenticated)
		ok(t, c.UpdateUser(ctx, name("dave"), client.UserUpdate{Status: client.UserActive}))
		dt, err := client.Dial(ctx, client.Options{Address: n.addr, Token: daves})
		if err != nil {
			t.Fatalf("token of a re-activated user: %v", err)
		}
		defer dt.Close()
		if me := must[*client.ClientDetails](t)(dt.GetMe(ctx)); me.UserID != 1 {
			t.Fatalf("dave's token session %+v", me)
		}
	})
}
