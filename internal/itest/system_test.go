package itest

import (
	"archive/zip"
	"bytes"
	"net"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/server"
)

// TestSystem covers the commands about the server and its connections:
// ping, stats, me, clients, client, cluster metadata, snapshot, flush,
// option catalogs and raw codes, before and after login.
func TestSystem(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})

		// Before login: ping only.
		anon := n.dial("", "")
		ok(t, anon.Ping(ctx))
		_, err := anon.GetClusterMetadata(ctx)
		isErr(t, "cluster metadata before login", err, client.ErrUnauthenticated)
		_, err = anon.GetStreams(ctx)
		isErr(t, "streams before login", err, client.ErrUnauthenticated)
		_, err = anon.CreateStream(ctx, "x")
		isErr(t, "create stream before login", err, client.ErrUnauthenticated)
		_, err = anon.LoginUser(ctx, rootUser, "wrong")
		isErr(t, "wrong password", err, client.ErrInvalidCredentials)
		_, err = anon.LoginUser(ctx, "nobody", rootPass)
		isErr(t, "unknown user", err, client.ErrInvalidCredentials)
		info := must[*client.LoginInfo](t)(anon.LoginUser(ctx, rootUser, rootPass))
		if info.UserID != 0 || info.Session == 0 {
			t.Fatalf("root login: %+v", info)
		}

		c := n.root()
		ok(t, c.Ping(ctx))

		// Cluster metadata: one healthy leader at the address dialled.
		md := must[*client.ClusterMetadata](t)(c.GetClusterMetadata(ctx))
		host, port, _ := net.SplitHostPort(n.addr)
		if len(md.Nodes) != 1 || md.Nodes[0].IP != host || strconv.Itoa(int(md.Nodes[0].TCP)) != port ||
			md.Nodes[0].Role != 0 || md.Nodes[0].Status != 0 {
			t.Fatalf("cluster metadata %+v, server at %s", md, n.addr)
		}

		// Some state for the counters.
		st := must[*client.StreamDetails](t)(c.CreateStream(ctx, "sys"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, id(st.ID), "t", 3, client.TopicSettings{}))
		must[*client.ConsumerGroupDetails](t)(c.CreateConsumerGroup(ctx, id(st.ID), name("t"), "g"))
		ok(t, c.JoinConsumerGroup(ctx, name("sys"), name("t"), name("g")))
		sendN(t, c, name("sys"), name("t"), 1, 5, "m")

		stats := must[*client.Stats](t)(c.GetStats(ctx))
		if stats.StreamsCount != 1 || stats.TopicsCount != 1 || stats.PartitionsCount != 3 ||
			stats.MessagesCount != 5 || stats.ConsumerGroupsCount != 1 || stats.ClientsCount < 2 ||
			stats.SegmentsCount < 3 || stats.MessagesSizeBytes == 0 || stats.ProcessID == 0 ||
			stats.StartTime == 0 || stats.ServerVersion == "" ||
			stats.TotalMemory == 0 || stats.AvailableMemory > stats.TotalMemory {
			t.Fatalf("stats %+v", stats)
		}
		if runtime.GOOS == "linux" && stats.AvailableMemory == 0 {
			t.Errorf("stats: no available memory on Linux: %+v", stats)
		}

		// Me, clients, client.
		me := must[*client.ClientDetails](t)(c.GetMe(ctx))
		if me.UserID != 0 || me.Transport != 1 || me.Address == "" || len(me.Groups) != 1 ||
			me.Groups[0] != (client.ClientGroup{StreamID: st.ID, TopicID: 0, GroupID: 0}) {
			t.Fatalf("me %+v", me)
		}
		anonMe := must[*client.ClientDetails](t)(anon.GetMe(ctx))
		cs := must[[]client.ClientInfo](t)(c.GetClients(ctx))
		var seenMe, seenAnon bool
		for _, ci := range cs {
			seenMe = seenMe || ci.ClientID == me.ClientID && ci.ConsumerGroupsCount == 1
			seenAnon = seenAnon || ci.ClientID == anonMe.ClientID
		}
		if !seenMe || !seenAnon {
			t.Fatalf("clients %+v lack me %d or the other client %d", cs, me.ClientID, anonMe.ClientID)
		}
		other := must[*client.ClientDetails](t)(c.GetClient(ctx, anonMe.ClientID))
		if other.UserID != 0 || other.Address != anonMe.Address {
			t.Fatalf("client %d: %+v, want %+v", anonMe.ClientID, other, anonMe)
		}
		_, err = c.GetClient(ctx, 999_999)
		isErr(t, "missing client", err, client.ErrClientNotFound)
		// A client that is not logged in shows the "no user" id.
		fresh := n.dial("", "")
		ok(t, fresh.Ping(ctx))
		eventually(t, "unauthenticated client listed", func() bool {
			for _, ci := range must[[]client.ClientInfo](t)(c.GetClients(ctx)) {
				if ci.UserID == ^uint32(0) {
					return true
				}
			}
			return false
		})

		// Snapshot: a ZIP archive with what was asked for.
		for _, comp := range []client.SnapshotCompression{client.SnapshotStored, client.SnapshotDeflated} {
			zb := must[[]byte](t)(c.GetSnapshot(ctx, comp, client.SnapshotTest, client.SnapshotServerConfig))
			zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
			if err != nil || len(zr.File) != 2 {
				t.Fatalf("snapshot (compression %d): %v, %d files", comp, err, len(zr.File))
			}
		}
		zb := must[[]byte](t)(c.GetSnapshot(ctx, client.SnapshotDeflated, client.SnapshotAll))
		if zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb))); err != nil || len(zr.File) < 6 {
			t.Fatalf("snapshot of everything: %v", err)
		}
		// The SDK suite's raw snapshot request.
		if raw := must[[]byte](t)(c.Do(ctx, 11, []byte{1, 1, 1})); len(raw) == 0 {
			t.Fatal("raw snapshot: empty reply")
		}
		_, err = c.Do(ctx, 11, []byte{9, 1, 1})
		isErr(t, "snapshot with an unknown compression", err, client.ErrInvalidCommand)

		// Flush: fine on a partition that exists.
		ok(t, c.FlushUnsavedBuffer(ctx, client.FlushUnsavedBufferRequest{Stream: name("sys"), Topic: name("t"), Partition: 1, Fsync: true}))
		err = c.FlushUnsavedBuffer(ctx, client.FlushUnsavedBufferRequest{Stream: name("nope"), Topic: name("t")})
		isErr(t, "flush in a missing stream", err, client.ErrStreamNotFound)
		err = c.FlushUnsavedBuffer(ctx, client.FlushUnsavedBufferRequest{Stream: name("sys"), Topic: name("nope")})
		isErr(t, "flush of a missing topic", err, client.ErrTopicNotFound)
		err = c.FlushUnsavedBuffer(ctx, client.FlushUnsavedBufferRequest{Stream: name("sys"), Topic: name("t"), Partition: 3})
		isErr(t, "flush of a missing partition", err, client.ErrPartitionNotFound)

		// Option catalogs.
		topicOpts := must[[]client.OptionDescription](t)(c.DescribeOptions(ctx, client.ScopeTopic))
		var keys []string
		for _, d := range topicOpts {
			keys = append(keys, d.Key)
			if d.Key == "segment_size" && (d.Kind != uint8(client.KindUint64) || d.Description == "") {
				t.Fatalf("segment_size description %+v", d)
			}
		}
		want := []string{"compression_algorithm", "message_expiry", "max_topic_size", "segment_size", "enforce_fsync",
			"messages_required_to_save", "size_of_messages_required_to_save", "preallocate_segments"}
		if !slices.Equal(keys, want) {
			t.Fatalf("topic option keys %q, want %q", keys, want)
		}
		for _, sc := range []client.OptionScope{client.ScopeStream, client.ScopeUser} {
			if ds := must[[]client.OptionDescription](t)(c.DescribeOptions(ctx, sc)); len(ds) != 0 {
				t.Fatalf("scope %d options: %+v", sc, ds)
			}
		}

		// Raw codes: unknown vendor codes are InvalidCommand, stats work raw,
		// and the connection goes on after both.
		_, err = c.Do(ctx, 60000, nil)
		isErr(t, "vendor code 60000", err, client.ErrInvalidCommand)
		for range 5 {
			_, err = c.Do(ctx, 60001, []byte{1, 2, 3})
			isErr(t, "vendor code 60001", err, client.ErrInvalidCommand)
		}
		if raw := must[[]byte](t)(c.Do(ctx, 10, nil)); len(raw) < 108 {
			t.Fatalf("raw stats: %d bytes", len(raw))
		}
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "after-raw"))

		// Logout, then the same client logs in again.
		ok(t, anon.Logout(ctx))
		_, err = anon.GetStreams(ctx)
		isErr(t, "streams after logout", err, client.ErrUnauthenticated)
		must[*client.LoginInfo](t)(anon.LoginUser(ctx, rootUser, rootPass))
		if ss := must[[]client.Stream](t)(anon.GetStreams(ctx)); len(ss) != 2 {
			t.Fatalf("streams after logging in again: %+v", ss)
		}
	})
}

// TestIdleClients checks the server's idle limit: a silent connection is
// closed (and leaves its groups), a client that pings stays, and a client
// whose connection was closed reconnects and logs in again by itself.
func TestIdleClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{server: func(o *server.Options) { o.IdleTimeout = 300 * time.Millisecond }})
		dial := func(heartbeat time.Duration) *client.Client {
			c, err := client.Dial(ctx, client.Options{Address: n.addr, Username: rootUser, Password: rootPass, Heartbeat: heartbeat})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}
		alive, idle := dial(50*time.Millisecond), dial(0)
		must[*client.StreamDetails](t)(alive.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(alive.CreateTopic(ctx, name("s"), "t", 1, client.TopicSettings{}))
		must[*client.ConsumerGroupDetails](t)(alive.CreateConsumerGroup(ctx, name("s"), name("t"), "g"))
		ok(t, idle.JoinConsumerGroup(ctx, name("s"), name("t"), name("g")))
		aliveID := must[*client.ClientDetails](t)(alive.GetMe(ctx)).ClientID
		idleID := must[*client.ClientDetails](t)(idle.GetMe(ctx)).ClientID

		eventually(t, "the idle connection closed", func() bool {
			for _, ci := range must[[]client.ClientInfo](t)(alive.GetClients(ctx)) {
				if ci.ClientID == idleID {
					return false
				}
			}
			return true
		})
		if g := must[*client.ConsumerGroupDetails](t)(alive.GetConsumerGroup(ctx, name("s"), name("t"), name("g"))); g.MembersCount != 0 {
			t.Fatalf("the idle client is still a member: %+v", g)
		}
		if id := must[*client.ClientDetails](t)(alive.GetMe(ctx)).ClientID; id != aliveID {
			t.Fatalf("the pinging client was reconnected: client %d, was %d", id, aliveID)
		}
		reconnect(t, idle)
		if me := must[*client.ClientDetails](t)(idle.GetMe(ctx)); me.ClientID == idleID || me.UserID != 0 {
			t.Fatalf("the idle client after reconnecting: %+v (was client %d)", me, idleID)
		}
	})
}

// TestConnectionLimit checks that connections past the server's limit are
// refused and that a closed one makes room.
func TestConnectionLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{server: func(o *server.Options) { o.MaxConnections = 2 }})
		a, b := n.root(), n.root()
		_, err := client.Dial(ctx, client.Options{Address: n.addr, Username: rootUser, Password: rootPass})
		if err == nil {
			t.Fatal("a third connection was accepted")
		}
		ok(t, a.Ping(ctx))
		ok(t, b.Close())
		eventually(t, "a closed connection makes room", func() bool {
			c, err := client.Dial(ctx, client.Options{Address: n.addr, Username: rootUser, Password: rootPass})
			if err != nil {
				return false
			}
			defer c.Close()
			_, err = c.GetMe(ctx)
			return err == nil
		})
		ok(t, a.Ping(ctx))
	})
}
