package itest

import (
	"context"
	"errors"
	"testing"

	"github.com/shoalstream/shoal/client"
)

// TestPermissions checks what users with limited permissions may do: one
// that may only send to one stream, one that may only read, one with a
// single topic's poll flag, and one with no permissions at all.
func TestPermissions(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		root := n.root()
		orders := must[*client.StreamDetails](t)(root.CreateStream(ctx, "orders"))
		audit := must[*client.StreamDetails](t)(root.CreateStream(ctx, "audit"))
		must[*client.TopicDetails](t)(root.CreateTopic(ctx, name("orders"), "t", 2, client.TopicSettings{}))
		must[*client.TopicDetails](t)(root.CreateTopic(ctx, name("audit"), "t", 1, client.TopicSettings{}))
		must[*client.ConsumerGroupDetails](t)(root.CreateConsumerGroup(ctx, name("orders"), name("t"), "g"))
		sendN(t, root, name("orders"), name("t"), 0, 3, "o")
		sendN(t, root, name("audit"), name("t"), 0, 3, "a")

		mk := func(user string, perms *client.Permissions) *client.Client {
			must[*client.UserDetails](t)(root.CreateUser(ctx, user, "secret", client.UserActive, perms))
			return n.dial(user, "secret")
		}
		sender := mk("sender", &client.Permissions{Streams: map[uint32]*client.StreamPermissions{orders.ID: {SendMessages: true}}})
		reader := mk("reader", &client.Permissions{Global: client.GlobalPermissions{ReadStreams: true}})
		poller := mk("poller", &client.Permissions{Streams: map[uint32]*client.StreamPermissions{
			audit.ID: {Topics: map[uint32]*client.TopicPermissions{0: {PollMessages: true}}}}})
		nobody := mk("nobody", nil)

		one := []client.Message{client.NewMessage([]byte("x"))}
		pollReq := func(stream string) client.PollRequest {
			return client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name(stream), Topic: name("t"),
				Partition: client.InPartition(0), Strategy: client.FirstStrategy(), Count: 10}
		}
		denied := func(who string, calls map[string]func() error) {
			t.Helper()
			for what, call := range calls {
				isErr(t, who+": "+what, call(), client.ErrUnauthorized)
			}
		}
		// What every user may do, permissions or not.
		for who, c := range map[string]*client.Client{"sender": sender, "reader": reader, "poller": poller, "nobody": nobody} {
			ok(t, c.Ping(ctx))
			if me, err := c.GetMe(ctx); err != nil || me.UserID == 0 {
				t.Fatalf("%s: me %+v %v", who, me, err)
			}
			if u, err := c.GetUser(ctx, name(who)); err != nil || u.Username != who {
				t.Fatalf("%s reads itself: %+v %v", who, u, err)
			}
			if _, err := c.CreatePersonalAccessToken(ctx, "mine", 0); err != nil {
				t.Fatalf("%s creates a token: %v", who, err)
			}
			ok(t, c.DeletePersonalAccessToken(ctx, "mine"))
			ok(t, c.ChangePassword(ctx, name(who), "secret", "secret"))
		}
		// Server-wide and user administration: nobody but root.
		for who, c := range map[string]*client.Client{"sender": sender, "reader": reader, "poller": poller, "nobody": nobody} {
			denied(who, map[string]func() error{
				"stats":             func() error { _, err := c.GetStats(ctx); return err },
				"clients":           func() error { _, err := c.GetClients(ctx); return err },
				"another client":    func() error { _, err := c.GetClient(ctx, 1); return err },
				"snapshot":          func() error { _, err := c.GetSnapshot(ctx, client.SnapshotStored, client.SnapshotTest); return err },
				"users":             func() error { _, err := c.GetUsers(ctx); return err },
				"another user":      func() error { _, err := c.GetUser(ctx, id(0)); return err },
				"create user":       func() error { _, err := c.CreateUser(ctx, "mallory", "secret", client.UserActive, nil); return err },
				"update user":       func() error { return c.UpdateUser(ctx, id(0), client.UserUpdate{Username: "pwned"}) },
				"delete user":       func() error { return c.DeleteUser(ctx, name("nobody")) },
				"permissions":       func() error { return c.UpdatePermissions(ctx, name(who), &client.Permissions{}) },
				"another password":  func() error { return c.ChangePassword(ctx, id(0), rootPass, "pwned") },
				"create stream":     func() error { _, err := c.CreateStream(ctx, "mine"); return err },
				"delete stream":     func() error { return c.DeleteStream(ctx, name("orders")) },
				"update stream":     func() error { return c.UpdateStream(ctx, name("orders"), "mine") },
				"purge stream":      func() error { return c.PurgeStream(ctx, name("orders")) },
				"create topic":      func() error { _, err := c.CreateTopic(ctx, name("orders"), "x", 1, client.TopicSettings{}); return err },
				"update topic":      func() error { return c.UpdateTopic(ctx, name("orders"), name("t"), "x", client.TopicSettings{}) },
				"delete topic":      func() error { return c.DeleteTopic(ctx, name("orders"), name("t")) },
				"purge topic":       func() error { return c.PurgeTopic(ctx, name("orders"), name("t")) },
				"create partitions": func() error { return c.CreatePartitions(ctx, name("orders"), name("t"), 1) },
				"delete partitions": func() error { return c.DeletePartitions(ctx, name("orders"), name("t"), 1) },
				"delete segments":   func() error { return c.DeleteSegments(ctx, name("orders"), name("t"), 0, 1) },
			})
		}

		// The sender sends to its stream, by partition id, and nothing else.
		must[[]client.SendConfirmation](t)(sender.SendMessages(ctx, name("orders"), name("t"), client.PartitionID(1), one))
		denied("sender", map[string]func() error{
			"send to another stream": func() error {
				_, err := sender.SendMessages(ctx, name("audit"), name("t"), client.PartitionID(0), one)
				return err
			},
			// A balanced send reads the topic first, which the sender may not.
			"balanced send": func() error {
				_, err := sender.SendMessages(ctx, name("orders"), name("t"), client.Balanced(), one)
				return err
			},
			"poll":          func() error { _, err := sender.PollMessages(ctx, pollReq("orders")); return err },
			"streams":       func() error { _, err := sender.GetStreams(ctx); return err },
			"stream":        func() error { _, err := sender.GetStream(ctx, name("orders")); return err },
			"topics":        func() error { _, err := sender.GetTopics(ctx, name("orders")); return err },
			"topic":         func() error { _, err := sender.GetTopic(ctx, name("orders"), name("t")); return err },
			"groups":        func() error { _, err := sender.GetConsumerGroups(ctx, name("orders"), name("t")); return err },
			"group":         func() error { _, err := sender.GetConsumerGroup(ctx, name("orders"), name("t"), name("g")); return err },
			"join":          func() error { return sender.JoinConsumerGroup(ctx, name("orders"), name("t"), name("g")) },
			"create group":  func() error { _, err := sender.CreateConsumerGroup(ctx, name("orders"), name("t"), "x"); return err },
			"get offset":    func() error { return getOffsetErr(ctx, sender, "orders") },
			"store offset":  func() error { return storeOffset(ctx, sender, "orders", 0) },
			"delete offset": func() error { return deleteOffset(ctx, sender, "orders") },
			"group poll":    func() error { _, err := sender.PollMessages(ctx, groupPoll("orders")); return err },
		})
		// A missing stream is reported before the permission check, as the
		// reference server's admission does (messages.md §1.7).
		if _, err := sender.SendMessages(ctx, name("nope"), name("t"), client.PartitionID(0), one); !errors.Is(err, client.ErrResourceNotFound) {
			t.Fatalf("sender: send to a missing stream: %v, want resource_not_found", err)
		}

		// The reader reads everything and writes nothing.
		if ss := must[[]client.Stream](t)(reader.GetStreams(ctx)); len(ss) != 2 {
			t.Fatalf("reader's streams %+v", ss)
		}
		for _, s := range []string{"orders", "audit"} {
			must[*client.StreamDetails](t)(reader.GetStream(ctx, name(s)))
			must[*client.TopicDetails](t)(reader.GetTopic(ctx, name(s), name("t")))
			must[[]client.TopicHeader](t)(reader.GetTopics(ctx, name(s)))
			if pm := poll(t, reader, pollReq(s)); len(pm.Messages) != 3 {
				t.Fatalf("reader polled %d messages of %s", len(pm.Messages), s)
			}
		}
		ok(t, storeOffset(ctx, reader, "orders", 1))
		if o := must[*client.ConsumerOffsetInfo](t)(reader.GetConsumerOffset(ctx, client.DefaultConsumer(), name("orders"), name("t"), client.InPartition(0))); o == nil || o.StoredOffset != 1 {
			t.Fatalf("reader's offset %+v", o)
		}
		ok(t, deleteOffset(ctx, reader, "orders"))
		must[[]client.ConsumerGroup](t)(reader.GetConsumerGroups(ctx, name("orders"), name("t")))
		ok(t, reader.JoinConsumerGroup(ctx, name("orders"), name("t"), name("g")))
		if pm := poll(t, reader, groupPoll("orders")); len(pm.Messages) == 0 {
			t.Fatalf("reader's group poll: %+v", pm)
		}
		ok(t, reader.LeaveConsumerGroup(ctx, name("orders"), name("t"), name("g")))
		denied("reader", map[string]func() error{
			"send": func() error {
				_, err := reader.SendMessages(ctx, name("orders"), name("t"), client.PartitionID(0), one)
				return err
			},
			"balanced send": func() error {
				_, err := reader.SendMessages(ctx, name("audit"), name("t"), client.Balanced(), one)
				return err
			},
		})

		// The poller polls one topic of one stream.
		if pm := poll(t, poller, pollReq("audit")); len(pm.Messages) != 3 {
			t.Fatalf("poller polled %d messages", len(pm.Messages))
		}
		ok(t, poller.StoreConsumerOffset(ctx, client.DefaultConsumer(), name("audit"), name("t"), client.InPartition(0), 2, client.AckQuorum))
		denied("poller", map[string]func() error{
			"poll another stream": func() error { _, err := poller.PollMessages(ctx, pollReq("orders")); return err },
			"read its topic":      func() error { _, err := poller.GetTopic(ctx, name("audit"), name("t")); return err },
			"read its stream":     func() error { _, err := poller.GetStream(ctx, name("audit")); return err },
			"send": func() error {
				_, err := poller.SendMessages(ctx, name("audit"), name("t"), client.PartitionID(0), one)
				return err
			},
			"offset elsewhere": func() error { return storeOffset(ctx, poller, "orders", 0) },
		})

		// Nobody may do anything with streams or messages.
		denied("nobody", map[string]func() error{
			"streams": func() error { _, err := nobody.GetStreams(ctx); return err },
			"stream":  func() error { _, err := nobody.GetStream(ctx, name("orders")); return err },
			"topics":  func() error { _, err := nobody.GetTopics(ctx, name("orders")); return err },
			"topic":   func() error { _, err := nobody.GetTopic(ctx, name("orders"), name("t")); return err },
			"send": func() error {
				_, err := nobody.SendMessages(ctx, name("orders"), name("t"), client.PartitionID(0), one)
				return err
			},
			"poll":         func() error { _, err := nobody.PollMessages(ctx, pollReq("orders")); return err },
			"group poll":   func() error { _, err := nobody.PollMessages(ctx, groupPoll("orders")); return err },
			"get offset":   func() error { return getOffsetErr(ctx, nobody, "orders") },
			"store offset": func() error { return storeOffset(ctx, nobody, "orders", 0) },
			"groups":       func() error { _, err := nobody.GetConsumerGroups(ctx, name("orders"), name("t")); return err },
			"join":         func() error { return nobody.JoinConsumerGroup(ctx, name("orders"), name("t"), name("g")) },
			"leave":        func() error { return nobody.LeaveConsumerGroup(ctx, name("orders"), name("t"), name("g")) },
			"delete group": func() error { return nobody.DeleteConsumerGroup(ctx, name("orders"), name("t"), name("g")) },
		})

		// Permissions apply at once to logged-in sessions.
		ok(t, root.UpdatePermissions(ctx, name("nobody"), &client.Permissions{Global: client.GlobalPermissions{ReadStreams: true}}))
		if ss := must[[]client.Stream](t)(nobody.GetStreams(ctx)); len(ss) != 2 {
			t.Fatalf("streams after a grant: %+v", ss)
		}
		ok(t, root.UpdatePermissions(ctx, name("nobody"), nil))
		_, err := nobody.GetStreams(ctx)
		isErr(t, "streams after the grant was taken back", err, client.ErrUnauthorized)
		// A global grant covers every stream, including new ones.
		ok(t, root.UpdatePermissions(ctx, name("sender"), &client.Permissions{Global: client.GlobalPermissions{SendMessages: true}}))
		must[*client.StreamDetails](t)(root.CreateStream(ctx, "later"))
		must[*client.TopicDetails](t)(root.CreateTopic(ctx, name("later"), "t", 1, client.TopicSettings{}))
		must[[]client.SendConfirmation](t)(sender.SendMessages(ctx, name("later"), name("t"), client.PartitionID(0), one))
		// A user made inactive loses its session's rights.
		ok(t, root.UpdateUser(ctx, name("reader"), client.UserUpdate{Status: client.UserInactive}))
		_, err = reader.GetStreams(ctx)
		if err == nil {
			t.Fatal("an inactive user's session still reads streams")
		}
	})
}

func groupPoll(stream string) client.PollRequest {
	return client.PollRequest{Consumer: client.GroupConsumer(name("g")), Stream: name(stream), Topic: name("t"),
		Partition: client.InPartition(0), Strategy: client.NextStrategy(), Count: 10, AutoCommit: true}
}

func getOffsetErr(ctx context.Context, c *client.Client, stream string) error {
	_, err := c.GetConsumerOffset(ctx, client.DefaultConsumer(), name(stream), name("t"), client.InPartition(0))
	return err
}

func storeOffset(ctx context.Context, c *client.Client, stream string, off uint64) error {
	return c.StoreConsumerOffset(ctx, client.DefaultConsumer(), name(stream), name("t"), client.InPartition(0), off, client.AckQuorum)
}

func deleteOffset(ctx context.Context, c *client.Client, stream string) error {
	return c.DeleteConsumerOffset(ctx, client.DefaultConsumer(), name(stream), name("t"), client.InPartition(0), client.AckQuorum)
}
