package itest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
)

// TestRestart stops the server gracefully in the middle of a workload,
// twice, and checks after each restart that everything is back: streams,
// topics with their options, partitions, messages byte for byte, users
// with their permissions and passwords, tokens, groups, consumer offsets
// (auto-committed ones included); that the clients of the old server
// reconnect by themselves; and that work goes on where it stopped.
func TestRestart(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) { restartScenario(t, p, false) })
}

// TestCrash is TestRestart with crashes: the server is abandoned, not
// stopped, and another starts on what the storage holds. Everything the
// server acknowledged must be back. (On the filesystem a crash cannot be
// simulated in-process, as the data directory is locked and a copy taken
// under a running server is no crash image; the memory backend stands in
// for it.)
func TestCrash(t *testing.T) {
	onBackends(t, []backend{memBackend, s3Backend}, func(t *testing.T, p *place) { restartScenario(t, p, true) })
}

// world is what a workload made that a dump cannot show.
type world struct {
	tokens    map[string]uint32 // token secret → its user
	goneToken string
	logins    map[string]string // username → password that must work
	refused   map[string]string // username → password that must not
	consumers []client.Consumer // consumers whose offsets are checked
	member    *client.Client    // a member of orders/events/workers
}

func restartScenario(t *testing.T, p *place, crash bool) {
	ctx := t.Context()
	n := start(t, p, config{})
	c := n.root()
	w := buildWorld(t, n, c, !crash)
	before := dump(t, c, w)
	// A dump that shows little would prove little.
	if count := countPrefix(before, "message "); count != 16+5+1+3+6+1 {
		t.Fatalf("the dump shows %d messages", count)
	}
	if count := countPrefix(before, "offset "); count < 4 {
		t.Fatalf("the dump shows %d offsets", count)
	}

	kill := func(n *node) *node {
		if crash {
			return n.crash()
		}
		return n.restart()
	}
	n = kill(n)
	// The root client of the old server, when it is still reachable,
	// reconnects and logs in again by itself; otherwise a new one.
	if crash {
		if p.fences {
			checkFenced(t, c)
		}
		c = n.root()
	} else {
		reconnect(t, c)
	}
	after := dump(t, c, w)
	diffDumps(t, "after the first "+killName(crash), before, after)
	checkLogins(t, n, w)

	// Work goes on where it stopped.
	if base := sendN(t, c, name("orders"), name("events"), 0, 2, "after"); base != 16 {
		t.Fatalf("first offset after the %s: %d, want 16", killName(crash), base)
	}
	if s := must[*client.StreamDetails](t)(c.CreateStream(ctx, "after")); s.ID != 2 {
		t.Fatalf("new stream after the %s: id %d, want 2 (the deleted stream's)", killName(crash), s.ID)
	}
	// Partitions made after the restart never see data of deleted ones
	// that had the same ids: the stream and topic ids of the deleted
	// stream "temp", the last partition of audit/log.
	must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("after"), "t", 1, client.TopicSettings{}))
	ok(t, c.DeletePartitions(ctx, name("audit"), name("log"), 1))
	ok(t, c.CreatePartitions(ctx, name("audit"), name("log"), 1))
	for _, at := range [][3]client.Identifier{{name("after"), name("t"), id(0)}, {name("audit"), name("log"), id(2)}} {
		pm := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: at[0], Topic: at[1],
			Partition: client.InPartition(at[2].ID), Strategy: client.FirstStrategy(), Count: 100})
		if len(pm.Messages) != 0 || pm.CurrentOffset != 0 {
			t.Fatalf("new partition %v/%v/%d after the %s holds %q", at[0], at[1], at[2].ID, killName(crash), payloads(pm.Messages))
		}
	}
	if g := must[*client.ConsumerGroupDetails](t)(c.CreateConsumerGroup(ctx, name("orders"), name("events"), "late")); g.ID != 3 {
		t.Fatalf("new group after the %s: id %d, want 3 (ids are never reused)", killName(crash), g.ID)
	}
	if u := must[*client.UserDetails](t)(c.CreateUser(ctx, "erin", "secret-e", client.UserActive, nil)); u.ID != 3 {
		t.Fatalf("new user after the %s: id %d, want 3 (the deleted user's)", killName(crash), u.ID)
	}
	w.logins["erin"] = "secret-e"
	// A group member rejoins and goes on from the group's offset.
	m := w.member
	if crash {
		m = n.root()
	} else {
		reconnect(t, m)
	}
	ok(t, m.JoinConsumerGroup(ctx, name("orders"), name("events"), name("workers")))
	pm := poll(t, m, client.PollRequest{Consumer: client.GroupConsumer(name("workers")), Stream: name("orders"), Topic: name("events"),
		Partition: client.InPartition(0), Strategy: client.NextStrategy(), Count: 3, AutoCommit: !crash})
	wantFrom := uint64(5)
	if crash {
		wantFrom = 0 // the crash run commits group offsets explicitly only
	}
	if got := offsets(pm.Messages); len(got) != 3 || got[0] != wantFrom {
		t.Fatalf("group poll after the %s: offsets %v, want from %d", killName(crash), got, wantFrom)
	}
	if crash {
		ok(t, m.StoreConsumerOffset(ctx, client.GroupConsumer(name("workers")), name("orders"), name("events"), client.InPartition(0), 2, client.AckQuorum))
	}
	ok(t, c.StoreConsumerOffset(ctx, client.SingleConsumer(id(7)), name("orders"), name("events"), client.InPartition(0), 17, client.AckQuorum))
	ok(t, c.DeletePersonalAccessToken(ctx, "hourly"))
	for tok, uid := range w.tokens {
		if uid == 0 {
			delete(w.tokens, tok)
		}
	}
	ok(t, c.DeleteConsumerGroup(ctx, name("audit"), name("log"), name("auditors")))
	ok(t, c.DeleteSegments(ctx, name("orders"), name("events"), 0, 1))

	// And everything is back after a second one.
	before = dump(t, c, w)
	n = kill(n)
	if crash {
		c = n.root()
	} else {
		reconnect(t, c)
	}
	after = dump(t, c, w)
	diffDumps(t, "after the second "+killName(crash), before, after)
	checkLogins(t, n, w)
}

// checkFenced checks that the abandoned server, still running on storage
// another has taken over, accepts no more writes.
func checkFenced(t *testing.T, old *client.Client) {
	t.Helper()
	ctx := t.Context()
	_, err := old.SendMessages(ctx, name("orders"), name("events"), client.PartitionID(0), []client.Message{client.NewMessage([]byte("zombie"))})
	if err == nil {
		t.Fatal("the fenced server acknowledged a send")
	}
	_, err = old.CreateStream(ctx, "zombie")
	if err == nil {
		t.Fatal("the fenced server acknowledged a new stream")
	}
	if err := old.StoreConsumerOffset(ctx, client.SingleConsumer(id(7)), name("orders"), name("events"), client.InPartition(0), 1, client.AckQuorum); err == nil {
		t.Fatal("the fenced server acknowledged an offset")
	}
	// Reads of what it holds still work.
	if _, err := old.GetStreams(ctx); err != nil {
		t.Fatalf("the fenced server stopped reading: %v", err)
	}
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func killName(crash bool) string {
	if crash {
		return "crash"
	}
	return "restart"
}

// buildWorld makes a bit of every kind of state, some of it changed or
// deleted since.
func buildWorld(t *testing.T, n *node, c *client.Client, autoCommit bool) *world {
	ctx := t.Context()
	w := &world{tokens: map[string]uint32{}, logins: map[string]string{}, refused: map[string]string{}}
	for _, s := range []string{"orders", "audit", "temp", "old-name"} {
		must[*client.StreamDetails](t)(c.CreateStream(ctx, s))
	}
	ok(t, c.UpdateStream(ctx, name("old-name"), "renamed"))
	must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("orders"), "events", 3, client.TopicSettings{
		Compression: client.CompressionGzip, MessageExpiry: uint64(time.Hour / time.Microsecond), MaxTopicSize: 4 << 30,
		Extra: []client.KV{client.StringKV("enforce_fsync", "true"), client.Uint64KV("segment_size", 1<<20)},
	}))
	must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("orders"), "plain", 1, client.TopicSettings{}))
	must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("orders"), "gone", 1, client.TopicSettings{}))
	must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("audit"), "log", 2, client.TopicSettings{}))
	must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("audit"), "purged", 1, client.TopicSettings{}))
	must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("temp"), "t", 1, client.TopicSettings{}))
	ok(t, c.CreatePartitions(ctx, name("audit"), name("log"), 1))
	ok(t, c.UpdateTopic(ctx, name("orders"), name("plain"), "plain2", client.TopicSettings{MessageExpiry: 300_000_000}))

	// Messages with headers, partly sealed into segments, partly in the
	// journal's tail; data of deleted and purged things.
	hdrs := []client.Header{client.NewHeader("k", client.StringValue("v")), client.NewHeader("n", client.Uint64Value(42))}
	for i := range 3 {
		msgs := make([]client.Message, 4)
		for j := range msgs {
			msgs[j] = client.NewMessage(fmt.Appendf(nil, "e0-%d-%d", i, j), hdrs...)
		}
		must[[]client.SendConfirmation](t)(c.SendMessages(ctx, name("orders"), name("events"), client.PartitionID(0), msgs))
		if i == 1 {
			ok(t, n.b.Log().Seal(ctx))
		}
	}
	sendN(t, c, name("orders"), name("events"), 0, 4, "e0-tail")
	sendN(t, c, name("orders"), name("events"), 1, 5, "e1")
	sendN(t, c, name("orders"), name("events"), 2, 1, "e2")
	sendN(t, c, name("orders"), name("plain2"), 0, 3, "p")
	sendN(t, c, name("orders"), name("gone"), 0, 3, "g")
	for i := range 6 {
		must[[]client.SendConfirmation](t)(c.SendMessages(ctx, name("audit"), name("log"), client.Balanced(),
			[]client.Message{client.NewMessage(fmt.Appendf(nil, "log-%d", i))}))
	}
	sendN(t, c, name("audit"), name("purged"), 0, 3, "before-purge")
	sendN(t, c, name("temp"), name("t"), 0, 3, "temp")
	ok(t, n.b.Log().Seal(ctx))
	ok(t, c.PurgeTopic(ctx, name("audit"), name("purged")))
	sendN(t, c, name("audit"), name("purged"), 0, 1, "after-purge")
	ok(t, c.DeleteTopic(ctx, name("orders"), name("gone")))
	ok(t, c.DeleteStream(ctx, name("temp")))

	// Users.
	alicePerms := &client.Permissions{Streams: map[uint32]*client.StreamPermissions{
		0: {ReadStream: true, PollMessages: true, Topics: map[uint32]*client.TopicPermissions{0: {SendMessages: true}}}}}
	must[*client.UserDetails](t)(c.CreateUser(ctx, "alice", "alice-1", client.UserActive, alicePerms)) // 1
	must[*client.UserDetails](t)(c.CreateUser(ctx, "bob", "bob-1", client.UserInactive, nil))          // 2
	must[*client.UserDetails](t)(c.CreateUser(ctx, "carol", "carol-1", client.UserActive, nil))        // 3
	must[*client.UserDetails](t)(c.CreateUser(ctx, "dave", "dave-1", client.UserActive, nil))          // 4
	ac := n.dial("alice", "alice-1")
	ok(t, ac.ChangePassword(ctx, name("alice"), "alice-1", "alice-2"))
	ok(t, c.DeleteUser(ctx, name("carol")))
	ok(t, c.UpdateUser(ctx, name("dave"), client.UserUpdate{Username: "david"}))
	ok(t, c.UpdatePermissions(ctx, name("david"), &client.Permissions{Global: client.GlobalPermissions{ReadServers: true}}))
	w.logins["alice"], w.logins["david"], w.logins[rootUser] = "alice-2", "dave-1", rootPass
	w.refused["alice"], w.refused["bob"], w.refused["carol"], w.refused["dave"] = "alice-1", "bob-1", "carol-1", "dave-1"

	// Tokens.
	w.tokens[must[string](t)(c.CreatePersonalAccessToken(ctx, "ci", 0))] = 0
	w.tokens[must[string](t)(c.CreatePersonalAccessToken(ctx, "hourly", uint64(time.Hour/time.Microsecond)))] = 0
	w.goneToken = must[string](t)(c.CreatePersonalAccessToken(ctx, "gone", 0))
	ok(t, c.DeletePersonalAccessToken(ctx, "gone"))
	w.tokens[must[string](t)(ac.CreatePersonalAccessToken(ctx, "alice-ci", client.ExpiryNever))] = 1

	// Groups and offsets.
	for _, g := range []string{"workers", "tmp", "readers"} {
		must[*client.ConsumerGroupDetails](t)(c.CreateConsumerGroup(ctx, name("orders"), name("events"), g))
	}
	ok(t, c.DeleteConsumerGroup(ctx, name("orders"), name("events"), name("tmp")))
	must[*client.ConsumerGroupDetails](t)(c.CreateConsumerGroup(ctx, name("audit"), name("log"), "auditors"))
	w.member = n.root()
	ok(t, w.member.JoinConsumerGroup(ctx, name("orders"), name("events"), name("workers")))
	workers := client.GroupConsumer(name("workers"))
	if autoCommit {
		pm := poll(t, w.member, client.PollRequest{Consumer: workers, Stream: name("orders"), Topic: name("events"),
			Partition: client.InPartition(0), Strategy: client.NextStrategy(), Count: 5, AutoCommit: true})
		if len(pm.Messages) != 5 {
			t.Fatalf("group poll: %d messages", len(pm.Messages))
		}
		pm = poll(t, c, client.PollRequest{Consumer: client.SingleConsumer(id(8)), Stream: name("orders"), Topic: name("events"),
			Partition: client.InPartition(2), Strategy: client.NextStrategy(), Count: 5, AutoCommit: true})
		if len(pm.Messages) != 1 {
			t.Fatalf("auto-commit poll: %d messages", len(pm.Messages))
		}
	}
	ok(t, w.member.StoreConsumerOffset(ctx, workers, name("orders"), name("events"), client.InPartition(1), 3, client.AckQuorum))
	ok(t, c.StoreConsumerOffset(ctx, client.SingleConsumer(id(7)), name("orders"), name("events"), client.InPartition(0), 6, client.AckQuorum))
	ok(t, c.StoreConsumerOffset(ctx, client.SingleConsumer(name("named")), name("orders"), name("events"), client.InPartition(1), 2, client.AckNone))
	ok(t, c.StoreConsumerOffset(ctx, client.SingleConsumer(id(9)), name("orders"), name("events"), client.InPartition(1), 1, client.AckQuorum))
	ok(t, c.DeleteConsumerOffset(ctx, client.SingleConsumer(id(9)), name("orders"), name("events"), client.InPartition(1), client.AckQuorum))
	ok(t, c.StoreConsumerOffset(ctx, client.SingleConsumer(id(7)), name("audit"), name("purged"), client.InPartition(0), 0, client.AckQuorum))
	w.consumers = []client.Consumer{
		client.SingleConsumer(id(7)), client.SingleConsumer(id(8)), client.SingleConsumer(id(9)), client.SingleConsumer(name("named")),
		client.GroupConsumer(id(0)), client.GroupConsumer(id(1)), client.GroupConsumer(id(2)), client.GroupConsumer(id(3)),
	}
	return w
}

// dump describes everything a client can see of the server's durable
// state, one fact a line. Left out, because a restart changes them
// legitimately: memberships (they belong to connections), clients, and
// how many segments hold a partition's messages.
func dump(t *testing.T, c *client.Client, w *world) []string {
	ctx := t.Context()
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, s := range must[[]client.Stream](t)(c.GetStreams(ctx)) {
		add("stream %d %q created %d topics %d size %d messages %d options %v", s.ID, s.Name, s.CreatedAt, s.TopicsCount, s.SizeBytes, s.MessagesCount, s.Options)
		sd := must[*client.StreamDetails](t)(c.GetStream(ctx, id(s.ID)))
		for _, th := range sd.Topics {
			td := must[*client.TopicDetails](t)(c.GetTopic(ctx, id(s.ID), id(th.ID)))
			add("topic %d/%d %q created %d partitions %d expiry %d compression %d max %d size %d messages %d options %v derived %v",
				s.ID, td.ID, td.Name, td.CreatedAt, td.PartitionsCount, td.MessageExpiry, td.Compression, td.MaxTopicSize,
				td.SizeBytes, td.MessagesCount, td.Options, td.DerivedOptions)
			for _, pt := range td.Partitions {
				add("partition %d/%d/%d created %d current %d size %d messages %d", s.ID, td.ID, pt.ID, pt.CreatedAt, pt.CurrentOffset, pt.SizeBytes, pt.MessagesCount)
				pm := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: id(s.ID), Topic: id(td.ID),
					Partition: client.InPartition(pt.ID), Strategy: client.FirstStrategy(), Count: 10_000})
				for _, m := range pm.Messages {
					add("message %d/%d/%d@%d id %x ts %d origin %d checksum %x payload %q headers %x",
						s.ID, td.ID, pt.ID, m.Offset, m.ID, m.Timestamp, m.OriginTimestamp, m.Checksum, m.Payload, m.RawHeaders)
				}
				for _, cons := range w.consumers {
					if o := must[*client.ConsumerOffsetInfo](t)(c.GetConsumerOffset(ctx, cons, id(s.ID), id(td.ID), client.InPartition(pt.ID))); o != nil {
						add("offset %d/%d/%d consumer %d:%v %+v", s.ID, td.ID, pt.ID, cons.Kind, cons.ID, *o)
					}
				}
			}
			for _, g := range must[[]client.ConsumerGroup](t)(c.GetConsumerGroups(ctx, id(s.ID), id(td.ID))) {
				add("group %d/%d/%d %q partitions %d", s.ID, td.ID, g.ID, g.Name, g.PartitionsCount)
			}
		}
	}
	for _, u := range must[[]client.User](t)(c.GetUsers(ctx)) {
		ud := must[*client.UserDetails](t)(c.GetUser(ctx, id(u.ID)))
		perms := "none"
		if ud.Permissions != nil {
			perms = fmt.Sprintf("%x", ud.Permissions.AppendTo(nil))
		}
		add("user %d %q created %d status %d options %v permissions %s", ud.ID, ud.Username, ud.CreatedAt, ud.Status, ud.Options, perms)
	}
	for _, p := range must[[]client.PersonalAccessToken](t)(c.GetPersonalAccessTokens(ctx)) {
		add("root token %q expires %d", p.Name, p.ExpiryAt)
	}
	st := must[*client.Stats](t)(c.GetStats(ctx))
	add("stats streams %d topics %d partitions %d messages %d size %d groups %d",
		st.StreamsCount, st.TopicsCount, st.PartitionsCount, st.MessagesCount, st.MessagesSizeBytes, st.ConsumerGroupsCount)
	return out
}

func diffDumps(t *testing.T, when string, before, after []string) {
	t.Helper()
	if slices.Equal(before, after) {
		return
	}
	var b strings.Builder
	for _, l := range before {
		if !slices.Contains(after, l) {
			fmt.Fprintf(&b, "\n  lost: %s", l)
		}
	}
	for _, l := range after {
		if !slices.Contains(before, l) {
			fmt.Fprintf(&b, "\n  new:  %s", l)
		}
	}
	t.Fatalf("%s the state differs (%d lines before, %d after):%s", when, len(before), len(after), b.String())
}

// checkLogins checks passwords and tokens.
func checkLogins(t *testing.T, n *node, w *world) {
	ctx := t.Context()
	for user, pass := range w.logins {
		n.dial(user, pass)
	}
	for user, pass := range w.refused {
		_, err := client.Dial(ctx, client.Options{Address: n.addr, Username: user, Password: pass})
		isErr(t, "login of "+user, err, client.ErrInvalidCredentials)
	}
	for tok, uid := range w.tokens {
		c, err := client.Dial(ctx, client.Options{Address: n.addr, Token: tok})
		if err != nil {
			t.Fatalf("login with a token of user %d: %v", uid, err)
		}
		me, err := c.GetMe(ctx)
		c.Close()
		if err != nil || me.UserID != uid {
			t.Fatalf("token of user %d logged in as %+v (%v)", uid, me, err)
		}
	}
	_, err := client.Dial(ctx, client.Options{Address: n.addr, Token: w.goneToken})
	isErr(t, "login with a deleted token", err, client.ErrInvalidPAT)
}

// reconnect makes a client of a restarted server reconnect: its first
// call may fail (the connection it had is gone), the next logs in again.
func reconnect(t *testing.T, c *client.Client) {
	t.Helper()
	_, err := c.GetMe(t.Context())
	if err != nil {
		if !errors.Is(err, client.ErrDisconnected) {
			t.Logf("first call after the restart: %v", err)
		}
		_, err = c.GetMe(t.Context())
	}
	if err != nil {
		t.Fatalf("the client did not reconnect: %v", err)
	}
}
