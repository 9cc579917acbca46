package broker

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/shoalstream/shoal/internal/auth"
)

// Ident names an entity by numeric id or by name.
type Ident struct {
	ID    uint32
	Name  string
	Named bool
}

// ByID and ByName build identifiers.
func ByID(id uint32) Ident     { return Ident{ID: id} }
func ByName(name string) Ident { return Ident{Name: name, Named: true} }
func (i Ident) String() string {
	if i.Named {
		return "'" + i.Name + "'"
	}
	return itoa(i.ID)
}

func itoa(v uint32) string {
	var b [10]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[n:])
		}
	}
}

// Transports of a client connection (the protocol's values).
const (
	TransportTCP uint8 = 1
)

// Session is one client connection. The server creates it with Connect
// and ends it with Close.
type Session struct {
	b         *Broker
	ID        uint32 // the client id shown by GetClients
	Address   string
	Transport uint8

	mu       sync.Mutex
	userID   uint32
	loggedIn bool
	lastSeen time.Time
}

// NoUser is the user id shown for a connection that is not logged in.
const NoUser = ^uint32(0)

// Connect registers a new client connection.
func (b *Broker) Connect(address string, transport uint8) *Session {
	b.clientsMu.Lock()
	defer b.clientsMu.Unlock()
	b.nextClient++
	for b.clients[b.nextClient] != nil || b.nextClient == 0 {
		b.nextClient++
	}
	s := &Session{b: b, ID: b.nextClient, Address: address, Transport: transport, lastSeen: b.opts.Now()}
	b.clients[s.ID] = s
	return s
}

// Close ends the session: it leaves every consumer group and disappears
// from the client list.
func (s *Session) Close() {
	s.Logout()
	s.b.clientsMu.Lock()
	delete(s.b.clients, s.ID)
	s.b.clientsMu.Unlock()
}

// Logout unbinds the user and leaves every consumer group.
func (s *Session) Logout() {
	s.mu.Lock()
	s.loggedIn = false
	s.userID = 0
	s.mu.Unlock()
	s.b.leaveAll(s)
}

// Touch records activity (any request).
func (s *Session) Touch() {
	s.mu.Lock()
	s.lastSeen = s.b.opts.Now()
	s.mu.Unlock()
}

// User returns the logged-in user id.
func (s *Session) User() (uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userID, s.loggedIn
}

func (s *Session) bind(uid uint32) {
	s.mu.Lock()
	s.userID, s.loggedIn = uid, true
	s.mu.Unlock()
}

// Login checks a username and password and binds the user to the session.
// Wrong credentials and an inactive user are the same error.
func (b *Broker) Login(_ context.Context, s *Session, username, password string) (uint32, error) {
	if len(username) < 3 || len(username) > 50 || len(password) < 3 || len(password) > 100 {
		return 0, errf(KindCredentials, "invalid credentials")
	}
	b.mu.RLock()
	u := b.st.userByName(username)
	var hash string
	var active bool
	if u != nil {
		hash, active = u.PasswordHash, u.Status == UserActive
	}
	b.mu.RUnlock()
	if u == nil {
		return 0, errf(KindCredentials, "invalid credentials")
	}
	ok, err := auth.VerifyPassword(hash, password)
	if err != nil || !ok || !active {
		return 0, errf(KindCredentials, "invalid credentials")
	}
	s.bind(u.ID)
	return u.ID, nil
}

// LoginWithToken checks a personal access token and binds its user. An
// unknown or expired token is KindCredentials; a valid token of an
// inactive user is KindUnauthenticated.
func (b *Broker) LoginWithToken(_ context.Context, s *Session, token string) (uint32, error) {
	now := b.now()
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, u := range b.st.Users {
		for _, p := range u.PATs {
			if !auth.TokenMatches(p.Hash, token) {
				continue
			}
			if p.ExpiryAt != 0 && p.ExpiryAt <= now {
				return 0, errf(KindCredentials, "personal access token expired")
			}
			if u.Status != UserActive {
				return 0, errf(KindUnauthenticated, "user %q is inactive", u.Username)
			}
			s.bind(u.ID)
			return u.ID, nil
		}
	}
	return 0, errf(KindCredentials, "invalid personal access token")
}

func (st *state) userByName(name string) *User {
	for _, u := range st.Users {
		if u.Username == name {
			return u
		}
	}
	return nil
}

// loggedIn returns KindUnauthenticated if the session has no user. A
// missing stream, topic or group is reported before a permission check (as
// the reference server does), but only to a logged-in session.
func loggedIn(s *Session) error {
	if _, ok := s.User(); !ok {
		return errf(KindUnauthenticated, "not logged in")
	}
	return nil
}

// authorize checks that the session's user may do a on stream/topic. The
// caller holds b.mu (read).
func (b *Broker) authorizeLocked(s *Session, a auth.Action, stream, topic uint32) error {
	uid, ok := s.User()
	if !ok {
		return errf(KindUnauthenticated, "not logged in")
	}
	u := b.st.Users[uid]
	if u == nil {
		return errf(KindUnauthenticated, "the session's user no longer exists")
	}
	if u.Status != UserActive {
		return errf(KindUnauthenticated, "user %q is inactive", u.Username)
	}
	if !auth.Allowed(u.Permissions, u.ID == 0, a, stream, topic) {
		return unauthorized(actionName(a))
	}
	return nil
}

func (b *Broker) authorize(s *Session, a auth.Action, stream, topic uint32) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.authorizeLocked(s, a, stream, topic)
}

func actionName(a auth.Action) string { return a.String() }

// ClientInfo describes a connection.
type ClientInfo struct {
	ID        uint32
	UserID    uint32 // NoUser when not logged in
	Transport uint8
	Address   string
	Groups    []ClientGroup
}

// ClientGroup is a consumer-group membership of a client.
type ClientGroup struct{ Stream, Topic, Group uint32 }

// Clients lists the connections.
func (b *Broker) Clients(s *Session) ([]ClientInfo, error) {
	if err := b.authorize(s, auth.ActionReadServers, 0, 0); err != nil {
		return nil, err
	}
	b.clientsMu.Lock()
	sessions := make([]*Session, 0, len(b.clients))
	for _, c := range b.clients {
		sessions = append(sessions, c)
	}
	b.clientsMu.Unlock()
	slices.SortFunc(sessions, func(a, c *Session) int { return int(a.ID) - int(c.ID) })
	out := make([]ClientInfo, 0, len(sessions))
	for _, c := range sessions {
		out = append(out, b.clientInfo(c))
	}
	return out, nil
}

// Client returns one connection (KindClientNotFound if none).
func (b *Broker) Client(s *Session, id uint32) (ClientInfo, error) {
	if id != s.ID {
		if err := b.authorize(s, auth.ActionReadServers, 0, 0); err != nil {
			return ClientInfo{}, err
		}
	}
	b.clientsMu.Lock()
	c := b.clients[id]
	b.clientsMu.Unlock()
	if c == nil {
		return ClientInfo{}, errf(KindClientNotFound, "client %d not found", id)
	}
	return b.clientInfo(c), nil
}

// Me returns the caller's own connection.
func (b *Broker) Me(s *Session) ClientInfo { return b.clientInfo(s) }

func (b *Broker) clientInfo(c *Session) ClientInfo {
	uid, ok := c.User()
	if !ok {
		uid = NoUser
	}
	return ClientInfo{ID: c.ID, UserID: uid, Transport: c.Transport, Address: c.Address, Groups: b.memberships(c)}
}

// ClientCount returns the number of connections.
func (b *Broker) ClientCount() int {
	b.clientsMu.Lock()
	defer b.clientsMu.Unlock()
	return len(b.clients)
}
