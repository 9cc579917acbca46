package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shoalstream/shoal/client"
)

// Permission names, in wire order.
var (
	globalPermNames = []string{"manage_servers", "read_servers", "manage_users", "read_users", "manage_streams",
		"read_streams", "manage_topics", "read_topics", "poll_messages", "send_messages"}
	streamPermNames = []string{"manage_stream", "read_stream", "manage_topics", "read_topics", "poll_messages", "send_messages"}
	topicPermNames  = []string{"manage_topic", "read_topic", "poll_messages", "send_messages"}
)

func globalPerms(g *client.GlobalPermissions) []*bool {
	return []*bool{&g.ManageServers, &g.ReadServers, &g.ManageUsers, &g.ReadUsers, &g.ManageStreams,
		&g.ReadStreams, &g.ManageTopics, &g.ReadTopics, &g.PollMessages, &g.SendMessages}
}

func streamPerms(s *client.StreamPermissions) []*bool {
	return []*bool{&s.ManageStream, &s.ReadStream, &s.ManageTopics, &s.ReadTopics, &s.PollMessages, &s.SendMessages}
}

func topicPerms(t *client.TopicPermissions) []*bool {
	return []*bool{&t.ManageTopic, &t.ReadTopic, &t.PollMessages, &t.SendMessages}
}

// setPerms sets the flags a comma-separated list names ("all" for every
// one) and returns an error naming an unknown one.
func setPerms(list string, names []string, flags []*bool) error {
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if n == "all" {
			for _, f := range flags {
				*f = true
			}
			continue
		}
		i := indexOf(names, n)
		if i < 0 {
			return fmt.Errorf("unknown permission %q (one of: all, %s)", n, strings.Join(names, ", "))
		}
		*flags[i] = true
	}
	return nil
}

func indexOf(names []string, n string) int {
	for i, m := range names {
		if m == n {
			return i
		}
	}
	return -1
}

func permsSet(names []string, flags []*bool) []string {
	out := []string{}
	for i, f := range flags {
		if *f {
			out = append(out, names[i])
		}
	}
	return out
}

// permFlags are the permission flags of user create and user permissions.
type permFlags struct {
	global  []string
	streams []string
	topics  []string
	none    bool
}

func (f *permFlags) add(cmd *cobra.Command, withNone bool) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.global, "global", nil, "server-wide permissions: all or "+strings.Join(globalPermNames, ","))
	fl.StringArrayVar(&f.streams, "stream", nil, "permissions on one stream, `STREAM=LIST` with LIST all or "+strings.Join(streamPermNames, ",")+" (repeatable)")
	fl.StringArrayVar(&f.topics, "topic", nil, "permissions on one topic, `STREAM/TOPIC=LIST` with LIST all or "+strings.Join(topicPermNames, ",")+" (repeatable)")
	if withNone {
		fl.BoolVar(&f.none, "none", false, "remove every permission")
	}
}

func (f *permFlags) given() bool {
	return len(f.global)+len(f.streams)+len(f.topics) > 0
}

// build returns the permissions the flags give (nil for none); names of
// streams and topics are looked up, since permissions name them by id.
func (f *permFlags) build(ctx context.Context, s *session) (*client.Permissions, error) {
	if !f.given() {
		return nil, nil
	}
	p := &client.Permissions{}
	if err := setPerms(strings.Join(f.global, ","), globalPermNames, globalPerms(&p.Global)); err != nil {
		return nil, err
	}
	streamOf := func(arg string) (*client.StreamPermissions, client.Identifier, error) {
		id, err := parseID(arg)
		if err != nil {
			return nil, id, err
		}
		num := id.ID
		if !id.IsNumeric() {
			d, err := s.GetStream(ctx, id)
			if err != nil {
				return nil, id, s.explain(ctx, err, subject{stream: arg})
			}
			num = d.ID
		}
		if p.Streams == nil {
			p.Streams = map[uint32]*client.StreamPermissions{}
		}
		if p.Streams[num] == nil {
			p.Streams[num] = &client.StreamPermissions{}
		}
		return p.Streams[num], id, nil
	}
	for _, spec := range f.streams {
		name, list, ok := strings.Cut(spec, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--stream %q: want STREAM=LIST", spec)
		}
		sp, _, err := streamOf(name)
		if err != nil {
			return nil, err
		}
		if err := setPerms(list, streamPermNames, streamPerms(sp)); err != nil {
			return nil, err
		}
	}
	for _, spec := range f.topics {
		path, list, ok := strings.Cut(spec, "=")
		sname, tname, ok2 := strings.Cut(path, "/")
		if !ok || !ok2 || sname == "" || tname == "" {
			return nil, fmt.Errorf("--topic %q: want STREAM/TOPIC=LIST", spec)
		}
		sp, sid, err := streamOf(sname)
		if err != nil {
			return nil, err
		}
		tid, err := parseID(tname)
		if err != nil {
			return nil, err
		}
		num := tid.ID
		if !tid.IsNumeric() {
			d, err := s.GetTopic(ctx, sid, tid)
			if err != nil {
				return nil, s.explain(ctx, err, subject{stream: sname, topic: tname})
			}
			num = d.ID
		}
		if sp.Topics == nil {
			sp.Topics = map[uint32]*client.TopicPermissions{}
		}
		if sp.Topics[num] == nil {
			sp.Topics[num] = &client.TopicPermissions{}
		}
		if err := setPerms(list, topicPermNames, topicPerms(sp.Topics[num])); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// userView is a user; Permissions is null for a user without any.
type userView struct {
	ID          uint32           `json:"id"`
	Username    string           `json:"username"`
	Status      string           `json:"status"`
	CreatedAt   string           `json:"created_at"`
	Permissions *permissionsView `json:"permissions,omitempty"`

	createdAt uint64
}

type permissionsView struct {
	Global  []string           `json:"global"`
	Streams []streamPermission `json:"streams"`
}

type streamPermission struct {
	StreamID    uint32            `json:"stream_id"`
	Permissions []string          `json:"permissions"`
	Topics      []topicPermission `json:"topics,omitempty"`
}

type topicPermission struct {
	TopicID     uint32   `json:"topic_id"`
	Permissions []string `json:"permissions"`
}

func statusText(s uint8) string {
	switch client.UserStatus(s) {
	case client.UserActive:
		return "active"
	case client.UserInactive:
		return "inactive"
	}
	return fmt.Sprintf("unknown (%d)", s)
}

func parseStatus(s string) (client.UserStatus, error) {
	switch s {
	case "active":
		return client.UserActive, nil
	case "inactive":
		return client.UserInactive, nil
	}
	return 0, fmt.Errorf("unknown user status %q: use active or inactive", s)
}

func newUserView(u client.User) userView {
	return userView{ID: u.ID, Username: u.Username, Status: statusText(u.Status), CreatedAt: timeJSON(u.CreatedAt), createdAt: u.CreatedAt}
}

func newUserDetailsView(d *client.UserDetails) userView {
	v := newUserView(d.User)
	if d.Permissions == nil {
		return v
	}
	p := d.Permissions
	pv := &permissionsView{Global: permsSet(globalPermNames, globalPerms(&p.Global)), Streams: []streamPermission{}}
	for sid, sp := range p.Streams {
		if sp == nil {
			sp = &client.StreamPermissions{}
		}
		spv := streamPermission{StreamID: sid, Permissions: permsSet(streamPermNames, streamPerms(sp))}
		for tid, tp := range sp.Topics {
			if tp == nil {
				tp = &client.TopicPermissions{}
			}
			spv.Topics = append(spv.Topics, topicPermission{TopicID: tid, Permissions: permsSet(topicPermNames, topicPerms(tp))})
		}
		sort.Slice(spv.Topics, func(i, j int) bool { return spv.Topics[i].TopicID < spv.Topics[j].TopicID })
		pv.Streams = append(pv.Streams, spv)
	}
	sort.Slice(pv.Streams, func(i, j int) bool { return pv.Streams[i].StreamID < pv.Streams[j].StreamID })
	v.Permissions = pv
	return v
}

func listText(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ", ")
}

func (v userView) table(w io.Writer) {
	global := "none"
	if v.Permissions != nil {
		global = listText(v.Permissions.Global)
	}
	fields(w, "User ID", u32(v.ID), "Username", v.Username, "Status", v.Status, "Created", timeText(v.createdAt),
		"Permissions", global)
	if v.Permissions != nil && len(v.Permissions.Streams) > 0 {
		fmt.Fprintln(w)
		t := newTable(w, "STREAM ID", "TOPIC ID", "PERMISSIONS")
		for _, s := range v.Permissions.Streams {
			t.row(u32(s.StreamID), "-", listText(s.Permissions))
			for _, tp := range s.Topics {
				t.row(u32(s.StreamID), u32(tp.TopicID), listText(tp.Permissions))
			}
		}
		t.flush()
	}
}

func (c *cli) newUserCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage users, their passwords and permissions",
		Long: `Manage users. Passwords are never taken on the command line: they are asked
for on a terminal, or read from standard input, one a line, in this order:
the login password (--password-stdin), the current password
(--current-password-stdin), the new one (--new-password-stdin).

Permissions are server-wide (--global), per stream (--stream STREAM=LIST) or
per topic (--topic STREAM/TOPIC=LIST); LIST is comma-separated, or all.`,
		Example: `  shoal user create alice --global read_streams --stream orders=poll_messages,send_messages
  echo 's3cret-pass' | shoal user create bob --new-password-stdin
  shoal user list
  shoal user get alice
  shoal user permissions alice --topic orders/events=all
  shoal user update alice --status inactive
  shoal user password alice
  shoal user delete alice`,
	}
	var (
		cf        permFlags
		status    string
		pwdStdin  bool
		upName    string
		upStatus  string
		curStdin  bool
		nextStdin bool
		pf        permFlags
	)
	create := &cobra.Command{
		Use:   "create USERNAME",
		Short: "Create a user",
		Example: `  shoal user create alice --global read_streams,read_topics
  printf '%s\n' "$NEW_PASSWORD" | shoal user create bob --new-password-stdin --status inactive`,
		Args: cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			st, err := parseStatus(status)
			if err != nil {
				return err
			}
			perms, err := cf.build(ctx, s)
			if err != nil {
				return err
			}
			pw, err := c.newSecret("the new user's password", pwdStdin, "--new-password-stdin")
			if err != nil {
				return err
			}
			d, err := s.CreateUser(ctx, args[0], pw, st, perms)
			if err != nil {
				return s.explain(ctx, err, subject{name: args[0]})
			}
			if c.jsonOut() {
				return writeJSON(c.env.stdout, newUserDetailsView(d))
			}
			fmt.Fprintf(c.env.stdout, "Created user '%s' (id %d)\n", d.Username, d.ID)
			return nil
		}),
	}
	cf.add(create, false)
	create.Flags().StringVar(&status, "status", "active", "active or inactive")
	create.Flags().BoolVar(&pwdStdin, "new-password-stdin", false, "read the new user's password from the next line of standard input")

	get := &cobra.Command{
		Use:     "get USER",
		Aliases: []string{"show"},
		Short:   "Show a user and its permissions",
		Example: `  shoal user get alice
  shoal user get 0 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			u, err := parseID(args[0])
			if err != nil {
				return err
			}
			d, err := s.GetUser(ctx, u)
			if err != nil {
				return s.explain(ctx, err, subject{user: args[0]})
			}
			v := newUserDetailsView(d)
			return c.emit(v, v.table)
		}),
	}
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the users",
		Example: `  shoal user list`,
		Args:    cobra.NoArgs,
		RunE: c.withSession(func(ctx context.Context, s *session, _ []string) error {
			us, err := s.GetUsers(ctx)
			if err != nil {
				return s.explain(ctx, err, subject{})
			}
			views := make([]userView, 0, len(us))
			for _, u := range us {
				views = append(views, newUserView(u))
			}
			sort.Slice(views, func(i, j int) bool { return views[i].ID < views[j].ID })
			return c.emit(views, func(w io.Writer) {
				t := newTable(w, "ID", "USERNAME", "STATUS", "CREATED")
				for _, v := range views {
					t.row(u32(v.ID), v.Username, v.Status, timeText(v.createdAt))
				}
				t.flush()
			})
		}),
	}
	update := &cobra.Command{
		Use:   "update USER",
		Short: "Rename a user or change its status",
		Example: `  shoal user update alice --new-username alice2
  shoal user update alice --status inactive`,
		Args: cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			u, err := parseID(args[0])
			if err != nil {
				return err
			}
			upd := client.UserUpdate{Username: upName}
			if upStatus != "" {
				if upd.Status, err = parseStatus(upStatus); err != nil {
					return err
				}
			}
			if upd.Username == "" && upd.Status == 0 {
				return errors.New("nothing to change: give --new-username or --status")
			}
			if err := s.UpdateUser(ctx, u, upd); err != nil {
				return s.explain(ctx, err, subject{user: args[0], name: upName})
			}
			return c.done(fmt.Sprintf("Updated user %s", quoted(args[0])), map[string]any{"user": args[0]})
		}),
	}
	update.Flags().StringVar(&upName, "new-username", "", "the new username")
	update.Flags().StringVar(&upStatus, "status", "", "active or inactive")

	del := &cobra.Command{
		Use:     "delete USER",
		Aliases: []string{"rm"},
		Short:   "Delete a user (not the root user)",
		Example: `  shoal user delete alice`,
		Args:    cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			u, err := parseID(args[0])
			if err != nil {
				return err
			}
			if err := s.DeleteUser(ctx, u); err != nil {
				return s.explain(ctx, err, subject{user: args[0]})
			}
			return c.done(fmt.Sprintf("Deleted user %s", quoted(args[0])), map[string]any{"user": args[0]})
		}),
	}
	password := &cobra.Command{
		Use:   "password USER",
		Short: "Change a user's password",
		Long: `Change a user's password: the current one and the new one are asked for on a
terminal, or read from standard input with --current-password-stdin and
--new-password-stdin (one a line, the current first).`,
		Example: `  shoal user password alice
  printf '%s\n%s\n' "$OLD" "$NEW" | shoal user password alice --current-password-stdin --new-password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			u, err := parseID(args[0])
			if err != nil {
				return err
			}
			var cur string
			if curStdin {
				cur, err = c.readSecretLine("the current password")
			} else {
				var ok bool
				cur, ok, err = c.prompt(fmt.Sprintf("Current password of %s: ", args[0]))
				if err == nil && !ok {
					err = errors.New("no current password: use --current-password-stdin, or run on a terminal to be asked")
				}
			}
			if err != nil {
				return err
			}
			next, err := c.newSecret("the new password", nextStdin, "--new-password-stdin")
			if err != nil {
				return err
			}
			if err := s.ChangePassword(ctx, u, cur, next); err != nil {
				return s.explain(ctx, err, subject{user: args[0]})
			}
			return c.done(fmt.Sprintf("Changed the password of user %s", quoted(args[0])), map[string]any{"user": args[0]})
		}),
	}
	password.Flags().BoolVar(&curStdin, "current-password-stdin", false, "read the current password from the next line of standard input")
	password.Flags().BoolVar(&nextStdin, "new-password-stdin", false, "read the new password from the next line of standard input")

	perms := &cobra.Command{
		Use:   "permissions USER",
		Short: "Replace a user's permissions",
		Example: `  shoal user permissions alice --global read_streams --stream orders=all --topic billing/invoices=poll_messages
  shoal user permissions alice --none`,
		Args: cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			u, err := parseID(args[0])
			if err != nil {
				return err
			}
			if pf.none == pf.given() {
				return errors.New("give the permissions (--global, --stream, --topic), or --none to remove them all")
			}
			p, err := pf.build(ctx, s)
			if err != nil {
				return err
			}
			if err := s.UpdatePermissions(ctx, u, p); err != nil {
				return s.explain(ctx, err, subject{user: args[0]})
			}
			return c.done(fmt.Sprintf("Updated the permissions of user %s", quoted(args[0])), map[string]any{"user": args[0]})
		}),
	}
	pf.add(perms, true)
	cmd.AddCommand(create, get, list, update, del, password, perms, c.newOptionsCommand("user", client.ScopeUser))
	return cmd
}

// patView is a personal access token (never its secret, except on create).
type patView struct {
	Name      string  `json:"name"`
	ExpiresAt *string `json:"expires_at"` // null: never
	Token     string  `json:"token,omitempty"`

	expiryAt uint64
}

func (c *cli) newPATCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "pat",
		Aliases: []string{"token"},
		Short:   "Manage the logged-in user's personal access tokens",
		Long: `Personal access tokens log in without a password (--token, SHOAL_TOKEN, or a
context that 'shoal login' filled). The server shows a token's secret once,
when it is created.`,
		Example: `  TOKEN=$(shoal pat create ci --expiry 90d)
  shoal pat list
  shoal pat delete ci`,
	}
	var expiry string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a token and print its secret (shown only this once)",
		Long: `Create a personal access token for the logged-in user and print its secret on
standard output (alone, so that a script can capture it). The server shows it
only this once.`,
		Example: `  shoal pat create ci --expiry 90d
  shoal pat create forever --expiry never -o json`,
		Args: cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			var us uint64
			if expiry != "" {
				var err error
				if us, err = parseExpiry(expiry); err != nil {
					return fmt.Errorf("--expiry: %w", err)
				}
			}
			tok, err := s.CreatePersonalAccessToken(ctx, args[0], us)
			if err != nil {
				return s.explain(ctx, err, subject{name: args[0]})
			}
			if c.jsonOut() {
				v := patView{Name: args[0], Token: tok}
				if ts, err := s.GetPersonalAccessTokens(ctx); err == nil {
					for _, t := range ts {
						if t.Name == args[0] {
							v.ExpiresAt = patExpiry(t.ExpiryAt)
						}
					}
				}
				return writeJSON(c.env.stdout, v)
			}
			fmt.Fprintln(c.env.stdout, tok)
			fmt.Fprintf(c.env.stderr, "Created personal access token '%s'; its secret (above) is shown only this once.\n", args[0])
			return nil
		}),
	}
	create.Flags().StringVar(&expiry, "expiry", "", "expire after this `DURATION` (e.g. 90d, 12h) or never (default: the server's, never)")
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the logged-in user's tokens",
		Example: `  shoal pat list`,
		Args:    cobra.NoArgs,
		RunE: c.withSession(func(ctx context.Context, s *session, _ []string) error {
			ts, err := s.GetPersonalAccessTokens(ctx)
			if err != nil {
				return s.explain(ctx, err, subject{})
			}
			views := []patView{}
			for _, t := range ts {
				views = append(views, patView{Name: t.Name, ExpiresAt: patExpiry(t.ExpiryAt), expiryAt: t.ExpiryAt})
			}
			sort.Slice(views, func(i, j int) bool { return views[i].Name < views[j].Name })
			return c.emit(views, func(w io.Writer) {
				t := newTable(w, "NAME", "EXPIRES")
				for _, v := range views {
					exp := "never"
					if v.ExpiresAt != nil {
						exp = timeText(v.expiryAt)
					}
					t.row(v.Name, exp)
				}
				t.flush()
			})
		}),
	}
	del := &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete one of the logged-in user's tokens",
		Example: `  shoal pat delete ci`,
		Args:    cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			if err := s.DeletePersonalAccessToken(ctx, args[0]); err != nil {
				return s.explain(ctx, err, subject{token: args[0]})
			}
			return c.done(fmt.Sprintf("Deleted personal access token '%s'", args[0]), map[string]any{"name": args[0]})
		}),
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

func patExpiry(us uint64) *string {
	if us == 0 {
		return nil
	}
	s := timeJSON(us)
	return &s
}
