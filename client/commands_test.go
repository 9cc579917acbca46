package client

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/shoalstream/shoal/internal/wire"
)

var (
	ok4      = []byte{0, 0, 0, 0} // a success result section
	sOrders  = NamedID("orders")
	tEvents  = NamedID("events")
	stream1  = NumericID(1)
	topic2   = NumericID(2)
	group3   = NumericID(3)
	user5    = NumericID(5)
	emptyPol = wire.AppendPollPrefix(nil, 1, 0, 0)
)

func framed(payload []byte) []byte { return append(append([]byte(nil), ok4...), payload...) }

// decodeBody decodes the body of a request vector with the codec, for
// inputs that are easier to take from the bytes (permission sets).
func decodeBody[T any, P interface {
	*T
	Decode([]byte) error
}](t *testing.T, v vector) T {
	t.Helper()
	var x T
	if err := P(&x).Decode(unhex(t, v.BodyHex)); err != nil {
		t.Fatal(err)
	}
	return x
}

// TestCommandVectors runs every single-frame request vector of the
// official SDK through the matching client method on a session in the
// vectors' state, checks the exact frame the client writes (header
// stamping included) and the watermark after it, and answers with a reply
// the method must accept.
func TestCommandVectors(t *testing.T) {
	type tc struct {
		vector string
		call   func(ctx context.Context, t *testing.T, c *Client, v vector) error
		reply  []byte // reply body
		op     uint8  // reply operation if not the request's
		status uint32
	}
	userBody := wire.UserDetails{User: wire.User{ID: 5, Status: wire.UserActive, Username: "alice"}}.AppendTo(nil)
	clientBody := wire.ClientDetails{ClientInfo: wire.ClientInfo{ClientID: 7, UserID: 0, Transport: wire.TransportTCP, Address: "127.0.0.1:5000"}}.AppendTo(nil)
	groupBody := wire.GroupDetails{Group: wire.Group{ID: 3, PartitionsCount: 3, Name: "billing"}}.AppendTo(nil)
	streamBody := wire.StreamDetails{Stream: wire.Stream{ID: 1, Name: "orders"}}.AppendTo(nil)
	offsetBody := (&wire.ConsumerOffsetInfo{PartitionID: 1, CurrentOffset: 10, StoredOffset: 4}).AppendTo(nil)

	cases := []tc{
		{vector: "ping", call: func(ctx context.Context, t *testing.T, c *Client, v vector) error { return c.Ping(ctx) }},
		{vector: "get_stats", reply: unhex(t, loadReply(t, "get_stats__sample_fixture").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				st, err := c.GetStats(ctx)
				if err == nil && st.ProcessID != 1234 {
					t.Errorf("stats process id %d, want 1234", st.ProcessID)
				}
				return err
			}},
		{vector: "get_snapshot__raw", reply: []byte("PK\x05\x06"),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				zip, err := c.GetSnapshot(ctx, SnapshotStored, SnapshotFilesystemOverview)
				if err == nil && string(zip) != "PK\x05\x06" {
					t.Errorf("snapshot %q", zip)
				}
				return err
			}},
		{vector: "get_cluster_metadata", reply: unhex(t, loadReply(t, "get_cluster_metadata__single_node").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				m, err := c.GetClusterMetadata(ctx)
				if err == nil && (len(m.Nodes) != 1 || m.Nodes[0].TCP != 8090) {
					t.Errorf("cluster metadata %+v", m)
				}
				return err
			}},
		{vector: "describe_options__topic", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.DescribeOptions(ctx, ScopeTopic)
			return err
		}},
		{vector: "describe_options__stream", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.DescribeOptions(ctx, ScopeStream)
			return err
		}},
		{vector: "describe_options__user", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.DescribeOptions(ctx, ScopeUser)
			return err
		}},
		{vector: "get_me__raw", reply: clientBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.GetMe(ctx)
			return err
		}},
		{vector: "get_client", reply: clientBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			d, err := c.GetClient(ctx, 7)
			if err == nil && d.Address != "127.0.0.1:5000" {
				t.Errorf("client %+v", d)
			}
			return err
		}},
		{vector: "get_clients", call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.GetClients(ctx)
			return err
		}},
		{vector: "get_user__by_id", reply: userBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			u, err := c.GetUser(ctx, user5)
			if err == nil && u.Username != "alice" {
				t.Errorf("user %+v", u)
			}
			return err
		}},
		{vector: "get_user__by_name", reply: userBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.GetUser(ctx, NamedID("alice"))
			return err
		}},
		{vector: "get_users", reply: wire.AppendUsers(nil, []wire.User{{ID: 0, Status: wire.UserActive, Username: "iggy"}}),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				us, err := c.GetUsers(ctx)
				if err == nil && len(us) != 1 {
					t.Errorf("users %+v", us)
				}
				return err
			}},
		{vector: "create_user__no_permissions", reply: framed(userBody), call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.CreateUser(ctx, "bob", "p4ss", UserInactive, nil)
			return err
		}},
		{vector: "create_user__with_permissions", reply: framed(userBody), call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			req := decodeBody[wire.CreateUserRequest](t, v)
			_, err := c.CreateUser(ctx, "alice", "s3cret-pass", UserActive, req.Permissions)
			return err
		}},
		{vector: "create_user__multi_stream_permissions", reply: framed(userBody), call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			req := decodeBody[wire.CreateUserRequest](t, v)
			_, err := c.CreateUser(ctx, "carol", "pa55word", UserActive, req.Permissions)
			return err
		}},
		{vector: "delete_user", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.DeleteUser(ctx, user5)
		}},
		{vector: "update_user__empty_username_no_status", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.UpdateUser(ctx, user5, UserUpdate{})
		}},
		{vector: "update_user__status_only", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.UpdateUser(ctx, NamedID("alice"), UserUpdate{Status: UserActive})
		}},
		{vector: "update_user__username_and_status", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.UpdateUser(ctx, user5, UserUpdate{Username: "alice2", Status: UserInactive})
		}},
		{vector: "update_permissions", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			req := decodeBody[wire.UpdatePermissionsRequest](t, v)
			return c.UpdatePermissions(ctx, user5, req.Permissions)
		}},
		{vector: "update_permissions__clear", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.UpdatePermissions(ctx, user5, nil)
		}},
		{vector: "change_password", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.ChangePassword(ctx, user5, "s3cret-pass", "n3w-s3cret")
		}},
		{vector: "create_personal_access_token__default_expiry", reply: framed(wire.RawPAT{Token: "secret"}.AppendTo(nil)),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				tok, err := c.CreatePersonalAccessToken(ctx, "ci-token", 0)
				if err == nil && tok != "secret" {
					t.Errorf("token %q", tok)
				}
				return err
			}},
		// The official SDK writes its u32 expiry into the high half of the
		// u64 the server reads; this client sends the u64 itself, so the
		// same bytes come from the value the server reads.
		{vector: "create_personal_access_token", reply: framed(wire.RawPAT{Token: "secret"}.AppendTo(nil)),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				_, err := c.CreatePersonalAccessToken(ctx, "ci-token", 3600<<32)
				return err
			}},
		{vector: "get_personal_access_tokens", call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			ps, err := c.GetPersonalAccessTokens(ctx)
			if err == nil && len(ps) != 0 {
				t.Errorf("tokens %+v", ps)
			}
			return err
		}},
		{vector: "delete_personal_access_token", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.DeletePersonalAccessToken(ctx, "ci-token")
		}},
		{vector: "create_stream", reply: unhex(t, loadReply(t, "create_stream").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				s, err := c.CreateStream(ctx, "orders")
				if err == nil && (s.ID != 9 || s.Name != "orders") {
					t.Errorf("stream %+v", s)
				}
				return err
			}},
		{vector: "get_stream__by_id", reply: streamBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.GetStream(ctx, stream1)
			return err
		}},
		{vector: "get_stream__by_name", reply: streamBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.GetStream(ctx, sOrders)
			return err
		}},
		{vector: "get_streams", reply: unhex(t, loadReply(t, "get_streams").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				ss, err := c.GetStreams(ctx)
				if err == nil && (len(ss) != 2 || ss[1].Name != "billing") {
					t.Errorf("streams %+v", ss)
				}
				return err
			}},
		{vector: "update_stream", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.UpdateStream(ctx, stream1, "orders-v2")
		}},
		{vector: "delete_stream", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.DeleteStream(ctx, stream1)
		}},
		{vector: "purge_stream__raw", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.PurgeStream(ctx, stream1)
		}},
		{vector: "create_topic__defaults", reply: unhex(t, loadReply(t, "create_topic").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				td, err := c.CreateTopic(ctx, sOrders, "events", 1, TopicSettings{})
				if err == nil && td.PartitionsCount != 3 {
					t.Errorf("topic %+v", td)
				}
				return err
			}},
		{vector: "create_topic__all_options", reply: unhex(t, loadReply(t, "create_topic").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				_, err := c.CreateTopic(ctx, stream1, "events", 3, TopicSettings{
					Compression:   CompressionGzip,
					MessageExpiry: 3_600_000_000,
					MaxTopicSize:  10_737_418_240,
					Extra: []KV{
						Uint64KV("segment_size", 67_108_864),
						BoolKV("enforce_fsync", true),
						Uint32KV("messages_required_to_save", 500),
						Uint64KV("size_of_messages_required_to_save", 2_097_152),
						BoolKV("preallocate_segments", true),
						StringKV(OptMessageExpiry, "1h"), // dropped: the typed setting wins
					},
				})
				return err
			}},
		{vector: "create_topic__none_compression_never_expire_unlimited", reply: unhex(t, loadReply(t, "create_topic").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				_, err := c.CreateTopic(ctx, stream1, "audit", 2, TopicSettings{
					Compression: CompressionNone, MessageExpiry: ExpiryNever, MaxTopicSize: MaxTopicSizeUnlimited,
				})
				return err
			}},
		{vector: "get_topic__by_id", reply: unhex(t, loadReply(t, "get_topic").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				td, err := c.GetTopic(ctx, stream1, topic2)
				if err == nil && (td.PartitionsCount != 4 || td.Name != "orders") {
					t.Errorf("topic %+v", td)
				}
				return err
			}},
		{vector: "get_topic__by_name", reply: unhex(t, loadReply(t, "get_topic").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				_, err := c.GetTopic(ctx, sOrders, tEvents)
				return err
			}},
		{vector: "get_topics", reply: unhex(t, loadReply(t, "get_topics").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				ts, err := c.GetTopics(ctx, stream1)
				if err == nil && len(ts) != 2 {
					t.Errorf("topics %+v", ts)
				}
				return err
			}},
		{vector: "update_topic__all_settings", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.UpdateTopic(ctx, stream1, topic2, "events-v2", TopicSettings{
				Compression: CompressionGzip, MessageExpiry: 7_200_000_000, MaxTopicSize: 21_474_836_480,
			})
		}},
		{vector: "update_topic__rename_only", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.UpdateTopic(ctx, stream1, topic2, "events-v2", TopicSettings{})
		}},
		{vector: "delete_topic", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.DeleteTopic(ctx, stream1, topic2)
		}},
		{vector: "purge_topic__raw", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.PurgeTopic(ctx, stream1, topic2)
		}},
		{vector: "create_partitions", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.CreatePartitions(ctx, stream1, topic2, 2)
		}},
		{vector: "delete_partitions", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.DeletePartitions(ctx, stream1, topic2, 1)
		}},
		// The reference server commits DeleteSegments as TruncatePartition
		// and answers with that operation, result-framed.
		{vector: "delete_segments", reply: ok4, op: wire.OpTruncatePartition, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.DeleteSegments(ctx, stream1, topic2, 1, 2)
		}},
		{vector: "create_consumer_group", reply: unhex(t, loadReply(t, "create_consumer_group").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				g, err := c.CreateConsumerGroup(ctx, stream1, topic2, "billing")
				if err == nil && (g.ID != 7 || g.Name != "billing") {
					t.Errorf("group %+v", g)
				}
				return err
			}},
		{vector: "get_consumer_group__by_id", reply: groupBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.GetConsumerGroup(ctx, stream1, topic2, group3)
			return err
		}},
		{vector: "get_consumer_group__by_name", reply: groupBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.GetConsumerGroup(ctx, sOrders, tEvents, NamedID("billing"))
			return err
		}},
		{vector: "get_consumer_groups", reply: unhex(t, loadReply(t, "get_consumer_groups").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				gs, err := c.GetConsumerGroups(ctx, stream1, topic2)
				if err == nil && len(gs) != 2 {
					t.Errorf("groups %+v", gs)
				}
				return err
			}},
		{vector: "delete_consumer_group", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.DeleteConsumerGroup(ctx, stream1, topic2, group3)
		}},
		{vector: "join_consumer_group", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.JoinConsumerGroup(ctx, stream1, topic2, group3)
		}},
		{vector: "leave_consumer_group", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.LeaveConsumerGroup(ctx, stream1, topic2, group3)
		}},
		{vector: "sync_consumer_group", reply: unhex(t, loadReply(t, "sync_consumer_group__golden").ReplyBodyHex),
			call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
				a, err := c.SyncConsumerGroup(ctx, stream1, topic2, group3)
				if err == nil && (a.Generation != 7 || len(a.Partitions) != 3) {
					t.Errorf("assignment %+v", a)
				}
				return err
			}},
		{vector: "get_consumer_offset", reply: offsetBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			o, err := c.GetConsumerOffset(ctx, SingleConsumer(NumericID(7)), stream1, topic2, InPartition(1))
			if err == nil && (o == nil || o.StoredOffset != 4 || o.CurrentOffset != 10) {
				t.Errorf("offset %+v", o)
			}
			return err
		}},
		{vector: "get_consumer_offset__consumer_group_no_partition", reply: offsetBody, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.GetConsumerOffset(ctx, GroupConsumer(group3), stream1, topic2, AnyPartition())
			return err
		}},
		{vector: "store_consumer_offset", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.StoreConsumerOffset(ctx, SingleConsumer(NumericID(7)), stream1, topic2, InPartition(1), 42, AckQuorum)
		}},
		{vector: "store_consumer_offset__consumer_group", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.StoreConsumerOffset(ctx, GroupConsumer(group3), stream1, topic2, InPartition(0), 1000, AckQuorum)
		}},
		{vector: "store_consumer_offset__no_partition", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.StoreConsumerOffset(ctx, SingleConsumer(NumericID(7)), stream1, topic2, AnyPartition(), 42, AckQuorum)
		}},
		{vector: "store_consumer_offset__raw_no_ack", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.StoreConsumerOffset(ctx, DefaultConsumer(), stream1, topic2, InPartition(0), 4, AckNone)
		}},
		{vector: "delete_consumer_offset", reply: ok4, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			return c.DeleteConsumerOffset(ctx, SingleConsumer(NumericID(7)), stream1, topic2, InPartition(1), AckQuorum)
		}},
		{vector: "poll_messages__first", reply: emptyPol, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.PollMessages(ctx, PollRequest{Consumer: SingleConsumer(NamedID("worker-1")), Stream: stream1, Topic: topic2,
				Partition: InPartition(0), Strategy: FirstStrategy(), Count: 50})
			return err
		}},
		{vector: "poll_messages__last", reply: emptyPol, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.PollMessages(ctx, PollRequest{Consumer: SingleConsumer(NumericID(7)), Stream: stream1, Topic: topic2,
				Partition: InPartition(2), Strategy: LastStrategy(), Count: 5})
			return err
		}},
		{vector: "poll_messages__next", reply: emptyPol, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.PollMessages(ctx, PollRequest{Consumer: SingleConsumer(NumericID(7)), Stream: stream1, Topic: topic2,
				Partition: InPartition(1), Strategy: NextStrategy(), Count: 100, AutoCommit: true})
			return err
		}},
		{vector: "poll_messages__offset", reply: emptyPol, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.PollMessages(ctx, PollRequest{Consumer: SingleConsumer(NumericID(7)), Stream: stream1, Topic: topic2,
				Partition: InPartition(1), Strategy: OffsetStrategy(100), Count: 10})
			return err
		}},
		{vector: "poll_messages__timestamp", reply: emptyPol, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.PollMessages(ctx, PollRequest{Consumer: SingleConsumer(NumericID(7)), Stream: stream1, Topic: topic2,
				Partition: InPartition(1), Strategy: TimestampStrategy(1_767_225_600_000_000), Count: 10, AutoCommit: true})
			return err
		}},
		{vector: "poll_messages__no_partition", reply: emptyPol, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.PollMessages(ctx, PollRequest{Consumer: SingleConsumer(NumericID(7)), Stream: stream1, Topic: topic2,
				Strategy: NextStrategy(), Count: 10})
			return err
		}},
		{vector: "poll_messages__consumer_group_explicit_partition", reply: emptyPol, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.PollMessages(ctx, PollRequest{Consumer: GroupConsumer(group3), Stream: stream1, Topic: topic2,
				Partition: InPartition(2), Strategy: NextStrategy(), Count: 10, AutoCommit: true})
			return err
		}},
		{vector: "raw__vendor_code_60000", status: wire.CodeInvalidCommand, call: func(ctx context.Context, t *testing.T, c *Client, v vector) error {
			_, err := c.Do(ctx, 60000, nil)
			if !errors.Is(err, ErrInvalidCommand) {
				t.Errorf("vendor code: %v, want invalid command", err)
			}
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.vector, func(t *testing.T) {
			v := loadVector(t, tc.vector)
			s := newFakeServer(t, step{want: unhex(t, v.FrameHex), body: tc.reply, op: tc.op, status: tc.status})
			c := dialTest(t, testOptions(s.addr()))
			bindVectorSession(c)
			if err := tc.call(testContext(t), t, c, v); err != nil {
				t.Fatal(err)
			}
			want := uint64(vecWatermark)
			if op := v.Operation; op == wire.OpLogout || (op >= wire.OpCreateStream && op <= wire.OpLeaveConsumerGroup) {
				want++ // metadata operations consume their id
			}
			if _, _, next := c.state(); next != want {
				t.Errorf("watermark after %s: %d, want %d", tc.vector, next, want)
			}
		})
	}
}

// TestRawRequests sends the raw-only vectors through Do.
func TestRawRequests(t *testing.T) {
	for _, name := range []string{"get_me__raw", "get_snapshot__raw", "purge_stream__raw", "purge_topic__raw", "raw__vendor_code_60000"} {
		t.Run(name, func(t *testing.T) {
			v := loadVector(t, name)
			var reply []byte
			if wire.IsResultFramed(v.Operation) {
				reply = ok4
			}
			s := newFakeServer(t, step{want: unhex(t, v.FrameHex), body: reply})
			c := dialTest(t, testOptions(s.addr()))
			bindVectorSession(c)
			payload, err := c.Do(testContext(t), v.Code, unhex(t, v.BodyHex))
			if err != nil {
				t.Fatal(err)
			}
			if len(payload) != 0 {
				t.Errorf("payload %x, want none (the result section is stripped)", payload)
			}
		})
	}
}

func TestDoRefusesSessionCommands(t *testing.T) {
	s := newFakeServer(t)
	c := dialTest(t, testOptions(s.addr()))
	for _, code := range []uint32{38, 39, 40, 44, 45} {
		if _, err := c.Do(testContext(t), code, nil); !errors.Is(err, ErrInvalidCommand) {
			t.Errorf("Do(%d): %v, want invalid command", code, err)
		}
	}
}

func TestDeleteSegmentsAcceptsAnUnframedReply(t *testing.T) {
	s := newFakeServer(t, step{op: wire.OpDeleteSegments})
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	if err := c.DeleteSegments(testContext(t), stream1, topic2, 0, 0); err != nil {
		t.Fatal(err)
	}
	s.add(step{op: wire.OpTruncatePartition, body: wire.AppendResultErr(nil, wire.CodePartitionNotFound)})
	if err := c.DeleteSegments(testContext(t), stream1, topic2, 9, 1); !errors.Is(err, ErrPartitionNotFound) {
		t.Errorf("committed rejection under op 68: %v, want partition not found", err)
	}
}

func TestLocalValidation(t *testing.T) {
	s := newFakeServer(t)
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	ctx := testContext(t)
	long := string(bytes.Repeat([]byte("x"), 256))
	checks := []struct {
		name string
		err  error
		want error
	}{}
	add := func(name string, err, want error) {
		checks = append(checks, struct {
			name string
			err  error
			want error
		}{name, err, want})
	}
	_, err := c.CreateStream(ctx, "")
	add("empty stream name", err, ErrInvalidStreamName)
	_, err = c.CreateStream(ctx, long)
	add("long stream name", err, ErrInvalidStreamName)
	_, err = c.CreateTopic(ctx, stream1, long, 1, TopicSettings{})
	add("long topic name", err, ErrInvalidTopicName)
	_, err = c.CreateTopic(ctx, stream1, "t", 1001, TopicSettings{})
	add("too many partitions", err, ErrTooManyPartitions)
	_, err = c.CreateTopic(ctx, stream1, "t", 1, TopicSettings{Compression: 9})
	add("unknown compression", err, ErrInvalidOptionValue)
	_, err = c.CreateConsumerGroup(ctx, stream1, topic2, "")
	add("empty group name", err, ErrInvalidConsumerGroupName)
	add("create partitions", c.CreatePartitions(ctx, stream1, topic2, 1001), ErrTooManyPartitions)
	_, err = c.DescribeOptions(ctx, 9)
	add("scope", err, ErrInvalidCommand)
	_, err = c.SendMessages(ctx, stream1, topic2, PartitionID(0), nil)
	add("no messages", err, ErrInvalidMessagesCount)
	_, err = c.SendMessages(ctx, stream1, topic2, PartitionID(0), []Message{{}})
	add("empty payload", err, ErrInvalidMessagePayloadLength)
	_, err = c.SendMessages(ctx, stream1, topic2, MessagesKey(nil), []Message{{Payload: []byte("x")}})
	add("empty key", err, ErrInvalidKeyValueLength)
	_, err = c.SendMessages(ctx, stream1, topic2, MessagesKeyString(long), []Message{{Payload: []byte("x")}})
	add("long key", err, ErrInvalidKeyValueLength)
	_, err = c.SendMessages(ctx, stream1, topic2, PartitionID(0), []Message{{Payload: []byte("x"), Headers: []Header{NewHeader("", StringValue("v"))}}})
	add("empty header key", err, ErrInvalidHeaderKey)
	_, err = c.SendMessages(ctx, stream1, topic2, PartitionID(0), []Message{{Payload: []byte("x"), Headers: []Header{NewHeader("k", HeaderValue{Kind: KindUint32, Data: []byte{1}})}}})
	add("short uint32 header", err, ErrInvalidHeaderValue)
	for _, ch := range checks {
		if !errors.Is(ch.err, ch.want) {
			t.Errorf("%s: %v, want %v", ch.name, ch.err, ch.want)
		}
	}
	if _, _, next := c.state(); next != vecWatermark {
		t.Errorf("watermark %d after refused calls, want %d", next, vecWatermark)
	}
}
