package wire_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/shoalstream/shoal/internal/wire"
)

// Fuzz targets of the control-plane decoders. Each one checks, for any
// input the decoder accepts:
//
//   - the re-encoding decodes to an equal value and re-encodes to the same
//     bytes (Decode(AppendTo(x)) == x);
//   - the decoded value owns its bytes (scribbling over the input changes
//     nothing);
//   - AppendTo appends after what dst holds;
//   - the re-encoding less its last byte does not decode (no encoding is
//     a prefix of another, so a torn body is always an error);
//
// and that every rejection is an *wire.Error with code InvalidCommand. No
// input may panic. Seeds are the golden vectors, samples built here, and
// both with a byte cut off or a garbage byte added.

type ctlCodecPtr[T any] interface {
	*T
	ctlCodec
}

// ctlFuzz runs the round-trip checks. eq compares two decoded values (nil:
// reflect.DeepEqual); extra, if set, runs further checks on an accepted
// value and its encoding.
func ctlFuzz[T any, P ctlCodecPtr[T]](f *testing.F, eq func(a, b *T) bool, extra func(t *testing.T, x *T, enc []byte), seeds ...[]byte) {
	for _, s := range seeds {
		if err := P(new(T)).Decode(s); err != nil {
			f.Fatalf("seed %x does not decode: %v", s, err)
		}
		f.Add(s)
		f.Add(append(slices.Clone(s), 0))
		if len(s) > 0 {
			f.Add(s[:len(s)-1])
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if x, enc, ok := ctlRoundTrip[T, P](t, in, eq); ok && extra != nil {
			extra(t, x, enc)
		}
	})
}

func ctlRoundTrip[T any, P ctlCodecPtr[T]](t *testing.T, in []byte, eq func(a, b *T) bool) (*T, []byte, bool) {
	t.Helper()
	b := slices.Clone(in)
	x := new(T)
	if err := P(x).Decode(b); err != nil {
		var e *wire.Error
		if !errors.As(err, &e) || e.Code != wire.CodeInvalidCommand {
			t.Fatalf("decode %x: error %v (%T) is not an InvalidCommand *wire.Error", in, err, err)
		}
		return nil, nil, false
	}
	enc := P(x).AppendTo(nil)
	for i := range b {
		b[i] ^= 0xa5
	}
	if again := P(x).AppendTo(nil); !bytes.Equal(again, enc) {
		t.Fatalf("decode %x: the value changed with its input:\n %x\n %x", in, enc, again)
	}
	if got := P(x).AppendTo([]byte{0xde, 0xad}); !bytes.Equal(got[:2], []byte{0xde, 0xad}) || !bytes.Equal(got[2:], enc) {
		t.Fatalf("AppendTo does not append: %x", got)
	}
	y := new(T)
	if err := P(y).Decode(enc); err != nil {
		t.Fatalf("input %x decodes, its re-encoding %x does not: %v", in, enc, err)
	}
	if eq == nil {
		eq = func(a, b *T) bool { return reflect.DeepEqual(a, b) }
	}
	if !eq(x, y) {
		t.Fatalf("input %x: Decode(AppendTo(x)) != x:\n x %+v\n y %+v", in, *x, *y)
	}
	if enc2 := P(y).AppendTo(nil); !bytes.Equal(enc2, enc) {
		t.Fatalf("input %x: re-encodings differ:\n %x\n %x", in, enc, enc2)
	}
	if len(enc) > 0 {
		if err := P(new(T)).Decode(enc[:len(enc)-1]); err == nil {
			t.Fatalf("input %x: the re-encoding %x less its last byte decodes", in, enc)
		}
	}
	return x, enc, true
}

// ctlConcat checks a list without a count prefix: two encodings back to
// back decode to both lists.
func ctlConcat[L ~[]E, E any, P interface {
	*L
	ctlCodec
}](t *testing.T, x *L, enc []byte) {
	both := new(L)
	if err := P(both).Decode(append(slices.Clone(enc), enc...)); err != nil {
		t.Fatalf("list %x twice does not decode: %v", enc, err)
	}
	want := append(slices.Clone(*x), *x...)
	if len(want) == 0 {
		want = nil
	}
	if !reflect.DeepEqual(*both, want) {
		t.Fatalf("list %x twice decodes to %+v", enc, *both)
	}
}

// Samples: values richer than the vectors, encoded.

func ctlSamplePerms() *wire.Permissions {
	return &wire.Permissions{
		Global: wire.GlobalPermissions{ManageServers: true, ReadUsers: true, SendMessages: true},
		Streams: map[uint32]*wire.StreamPermissions{
			0: {ReadStream: true},
			7: {ManageStream: true, PollMessages: true, Topics: map[uint32]*wire.TopicPermissions{
				1: {ReadTopic: true}, 4096: {SendMessages: true, ManageTopic: true}}},
		},
	}
}

func ctlSampleOptions() wire.Options {
	return wire.Options{
		wire.StringKV("compression_algorithm", "gzip"),
		wire.Uint64KV("message_expiry", 3_600_000_000),
		wire.BoolKV("enforce_fsync", true),
		wire.Uint32KV("messages_required_to_save", 500),
		{KeyKind: wire.KindString, Key: []byte("future"), ValueKind: 200, Value: []byte{1, 2, 3}},
	}
}

func ctlSampleTopic() wire.TopicHeader {
	return wire.TopicHeader{ID: 2, CreatedAt: 1_700_000_000_000_000, PartitionsCount: 2, MessageExpiry: wire.ExpiryNever,
		Compression: wire.CompressionGzip, MaxTopicSize: wire.MaxTopicSizeUnlimited, SizeBytes: 4096, MessagesCount: 12,
		Name: "events", Options: ctlSampleOptions()[:2], DerivedOptions: wire.Options{wire.Uint64KV("segment_size", 1<<30)}}
}

func ctlEnc(c interface{ AppendTo([]byte) []byte }) []byte { return c.AppendTo(nil) }

func statsEq(a, b *wire.Stats) bool {
	bits := func(s wire.Stats) wire.Stats {
		s.CPUUsage = math.Float32frombits(0)
		s.TotalCPUUsage = math.Float32frombits(0)
		s.CacheMetrics = slices.Clone(s.CacheMetrics)
		for i := range s.CacheMetrics {
			s.CacheMetrics[i].HitRatio = 0
		}
		return s
	}
	if math.Float32bits(a.CPUUsage) != math.Float32bits(b.CPUUsage) ||
		math.Float32bits(a.TotalCPUUsage) != math.Float32bits(b.TotalCPUUsage) ||
		len(a.CacheMetrics) != len(b.CacheMetrics) {
		return false
	}
	for i := range a.CacheMetrics {
		if math.Float32bits(a.CacheMetrics[i].HitRatio) != math.Float32bits(b.CacheMetrics[i].HitRatio) {
			return false
		}
	}
	return reflect.DeepEqual(bits(*a), bits(*b))
}

// Options and key/value blocks.

func FuzzDecodeOptions(f *testing.F) {
	seeds := [][]byte{ctlEnc(ctlSampleOptions())}
	v := ctlLoad(f, "create_topic__all_options.json")
	seeds = append(seeds, ctlUnhex(f, v.str("options_tlv_hex")))
	ctlFuzz[wire.Options](f, nil, func(t *testing.T, x *wire.Options, _ []byte) {
		if err := x.Validate(); err != nil {
			t.Fatalf("decoded options fail Validate: %v", err)
		}
	}, seeds...)
}

func FuzzDecodeKVs(f *testing.F) {
	seeds := [][]byte{ctlEnc(ctlSampleOptions()), ctlEnc(ctlKVs{{KeyKind: wire.KindInt32, Key: []byte{1, 0, 0, 0},
		ValueKind: wire.KindRaw, Value: []byte{0}}})}
	ctlFuzz[ctlKVs](f, nil, ctlConcat[ctlKVs], seeds...)
}

func FuzzDecodePermissions(f *testing.F) {
	seeds := [][]byte{ctlEnc(ctlSamplePerms()), ctlEnc(&wire.Permissions{})}
	for _, s := range ctlSeeds(f, "create_user__multi_stream_permissions.json", "create_user__with_permissions.json") {
		var q wire.CreateUserRequest
		if err := q.Decode(s); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, s[len(s)-q.Permissions.Size():]) // the blob ends the body
	}
	ctlFuzz[wire.Permissions](f, nil, nil, seeds...)
}

// System.

func FuzzDecodeStats(f *testing.F) {
	ctlFuzz[wire.Stats](f, statsEq, nil, ctlSeeds(f, "replies/get_stats__sample_fixture.json",
		"replies/get_stats__with_cache_metrics_fixture.json", "replies/get_stats__empty_strings_fixture.json")...)
}

func FuzzDecodeGetSnapshotRequest(f *testing.F) {
	ctlFuzz[wire.GetSnapshotRequest](f, nil, nil, append(ctlSeeds(f, "get_snapshot__raw.json"),
		ctlEnc(wire.GetSnapshotRequest{Compression: wire.SnapshotZstd, Types: []uint8{1, 5, 100}}))...)
}

func FuzzDecodeClusterMetadata(f *testing.F) {
	ctlFuzz[wire.ClusterMetadata](f, nil, nil, ctlSeeds(f, "replies/get_cluster_metadata__single_node.json")...)
}

func FuzzDecodeDescribeOptionsRequest(f *testing.F) {
	ctlFuzz[wire.DescribeOptionsRequest](f, nil, nil, ctlSeeds(f, "describe_options__topic.json",
		"describe_options__stream.json", "describe_options__user.json")...)
}

func ctlSampleOptDescs() ctlOptDescs {
	return ctlOptDescs{
		{Key: "segment_size", Kind: wire.KindUint64, Default: wire.AppendU64(nil, 1<<30), Description: "bytes, 1 MiB..1 GiB"},
		{Key: "compression_algorithm", Kind: wire.KindString, Default: []byte("none"), Description: "none | gzip"},
	}
}

func FuzzDecodeOptionDescription(f *testing.F) {
	ctlFuzz[wire.OptionDescription](f, nil, nil, ctlEnc(ctlSampleOptDescs()[0]))
}

func FuzzDecodeOptionDescriptions(f *testing.F) {
	ctlFuzz[ctlOptDescs](f, nil, nil, ctlEnc(ctlSampleOptDescs()), ctlEnc(ctlOptDescs(nil)))
}

func FuzzDecodeGetClientRequest(f *testing.F) {
	ctlFuzz[wire.GetClientRequest](f, nil, nil, ctlSeeds(f, "get_client.json")...)
}

func ctlSampleClient() wire.ClientDetails {
	return wire.ClientDetails{ClientInfo: wire.ClientInfo{ClientID: 7, UserID: wire.NoUser, Transport: wire.TransportTCP,
		Address: "127.0.0.1:50000"}, Groups: []wire.ClientGroup{{StreamID: 1, TopicID: 2, GroupID: 3}, {}}}
}

func FuzzDecodeClientInfo(f *testing.F) {
	ctlFuzz[wire.ClientInfo](f, nil, nil, ctlEnc(ctlSampleClient().ClientInfo))
}

func FuzzDecodeClientDetails(f *testing.F) {
	ctlFuzz[wire.ClientDetails](f, nil, nil, ctlEnc(ctlSampleClient()))
}

func FuzzDecodeClients(f *testing.F) {
	c := ctlSampleClient().ClientInfo
	ctlFuzz[ctlClients](f, nil, ctlConcat[ctlClients], ctlEnc(ctlClients{c, c}), nil)
}

// Users.

func ctlSampleUser() wire.UserDetails {
	return wire.UserDetails{User: wire.User{ID: 5, CreatedAt: 1, Status: wire.UserActive, Username: "alice"},
		Permissions: ctlSamplePerms()}
}

func FuzzDecodeUser(f *testing.F) {
	ctlFuzz[wire.User](f, nil, nil, ctlEnc(ctlSampleUser().User))
}

func FuzzDecodeUserDetails(f *testing.F) {
	u := ctlSampleUser()
	bare := u
	bare.Permissions = nil
	oneByte := append(ctlEnc(bare.User), 0)
	ctlFuzz[wire.UserDetails](f, nil, nil, ctlEnc(u), ctlEnc(bare), oneByte)
}

func FuzzDecodeUsers(f *testing.F) {
	u := ctlSampleUser().User
	ctlFuzz[ctlUsers](f, nil, ctlConcat[ctlUsers], ctlEnc(ctlUsers{u, u}))
}

func FuzzDecodeGetUserRequest(f *testing.F) {
	ctlFuzz[wire.GetUserRequest](f, nil, nil, ctlSeeds(f, "get_user__by_id.json", "get_user__by_name.json")...)
}

func FuzzDecodeDeleteUserRequest(f *testing.F) {
	ctlFuzz[wire.DeleteUserRequest](f, nil, nil, ctlSeeds(f, "delete_user.json")...)
}

func FuzzDecodeCreateUserRequest(f *testing.F) {
	ctlFuzz[wire.CreateUserRequest](f, nil, nil, append(ctlSeeds(f, "create_user__no_permissions.json",
		"create_user__with_permissions.json", "create_user__multi_stream_permissions.json"),
		ctlEnc(wire.CreateUserRequest{Username: "u", Status: 9, Options: ctlSampleOptions()}))...)
}

func FuzzDecodeUpdateUserRequest(f *testing.F) {
	ctlFuzz[wire.UpdateUserRequest](f, nil, nil, append(ctlSeeds(f, "update_user__empty_username_no_status.json",
		"update_user__status_only.json", "update_user__username_and_status.json"),
		ctlEnc(wire.UpdateUserRequest{User: wire.NumericID(1), Options: ctlSampleOptions()}))...)
}

func FuzzDecodeUpdatePermissionsRequest(f *testing.F) {
	ctlFuzz[wire.UpdatePermissionsRequest](f, nil, nil, ctlSeeds(f, "update_permissions.json", "update_permissions__clear.json")...)
}

func FuzzDecodeChangePasswordRequest(f *testing.F) {
	ctlFuzz[wire.ChangePasswordRequest](f, nil, nil, ctlSeeds(f, "change_password.json")...)
}

// Personal access tokens.

func FuzzDecodeCreatePATRequest(f *testing.F) {
	ctlFuzz[wire.CreatePATRequest](f, nil, nil, ctlSeeds(f, "create_personal_access_token.json",
		"create_personal_access_token__default_expiry.json")...)
}

func FuzzDecodeDeletePATRequest(f *testing.F) {
	ctlFuzz[wire.DeletePATRequest](f, nil, nil, ctlSeeds(f, "delete_personal_access_token.json")...)
}

func FuzzDecodeRawPAT(f *testing.F) {
	ctlFuzz[wire.RawPAT](f, nil, nil, ctlEnc(wire.RawPAT{Token: "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"}))
}

func FuzzDecodePATInfo(f *testing.F) {
	ctlFuzz[wire.PATInfo](f, nil, nil, ctlEnc(wire.PATInfo{Name: "ci", ExpiryAt: 1}))
}

func FuzzDecodePATs(f *testing.F) {
	ctlFuzz[ctlPATs](f, nil, ctlConcat[ctlPATs], ctlEnc(ctlPATs{{Name: "ci", ExpiryAt: 1}, {Name: "never"}}))
}

// Streams.

func ctlSampleStream() wire.StreamDetails {
	return wire.StreamDetails{Stream: wire.Stream{ID: 1, CreatedAt: 2, SizeBytes: 3, MessagesCount: 4, Name: "orders",
		Options: wire.Options{wire.StringKV("k", "v")}}, Topics: []wire.TopicHeader{ctlSampleTopic(), ctlSampleTopic()}}
}

func FuzzDecodeStream(f *testing.F) {
	ctlFuzz[wire.Stream](f, nil, nil, ctlEnc(ctlSampleStream().Stream))
}

func FuzzDecodeStreamDetails(f *testing.F) {
	ctlFuzz[wire.StreamDetails](f, nil, nil, append(ctlSeeds(f, "replies/create_stream.json"), ctlEnc(ctlSampleStream()))...)
}

func FuzzDecodeStreams(f *testing.F) {
	ctlFuzz[ctlStreams](f, nil, ctlConcat[ctlStreams], ctlSeeds(f, "replies/get_streams.json",
		"replies/get_streams__single_stream_fixture.json", "replies/get_streams__stream_with_options_fixture.json",
		"replies/get_streams__three_streams_fixture.json")...)
}

func FuzzDecodeGetStreamRequest(f *testing.F) {
	ctlFuzz[wire.GetStreamRequest](f, nil, nil, ctlSeeds(f, "get_stream__by_id.json", "get_stream__by_name.json")...)
}

func FuzzDecodeCreateStreamRequest(f *testing.F) {
	ctlFuzz[wire.CreateStreamRequest](f, nil, nil, append(ctlSeeds(f, "create_stream.json"),
		ctlEnc(wire.CreateStreamRequest{Name: "s", Options: ctlSampleOptions()}))...)
}

func FuzzDecodeUpdateStreamRequest(f *testing.F) {
	ctlFuzz[wire.UpdateStreamRequest](f, nil, nil, ctlSeeds(f, "update_stream.json")...)
}

func FuzzDecodeDeleteStreamRequest(f *testing.F) {
	ctlFuzz[wire.DeleteStreamRequest](f, nil, nil, ctlSeeds(f, "delete_stream.json")...)
}

func FuzzDecodePurgeStreamRequest(f *testing.F) {
	ctlFuzz[wire.PurgeStreamRequest](f, nil, nil, ctlSeeds(f, "purge_stream__raw.json")...)
}

// Topics.

func FuzzDecodeTopicHeader(f *testing.F) {
	ctlFuzz[wire.TopicHeader](f, nil, nil, ctlEnc(ctlSampleTopic()))
}

func FuzzDecodePartition(f *testing.F) {
	ctlFuzz[wire.Partition](f, nil, nil, ctlEnc(wire.Partition{ID: 1, CreatedAt: 2, SegmentsCount: 1, CurrentOffset: 9}))
}

func FuzzDecodeTopicDetails(f *testing.F) {
	d := wire.TopicDetails{TopicHeader: ctlSampleTopic(), Partitions: []wire.Partition{{ID: 0, SegmentsCount: 1}, {ID: 1}}}
	ctlFuzz[wire.TopicDetails](f, nil, nil, append(ctlSeeds(f, "replies/create_topic.json", "replies/get_topic.json",
		"replies/get_topic__field_order_fixture.json"), ctlEnc(d))...)
}

func FuzzDecodeTopics(f *testing.F) {
	ctlFuzz[ctlTopics](f, nil, nil, append(ctlSeeds(f, "replies/get_topics.json"), ctlEnc(ctlTopics{ctlSampleTopic()}))...)
}

func FuzzDecodeGetTopicRequest(f *testing.F) {
	ctlFuzz[wire.GetTopicRequest](f, nil, nil, ctlSeeds(f, "get_topic__by_id.json", "get_topic__by_name.json")...)
}

func FuzzDecodeGetTopicsRequest(f *testing.F) {
	ctlFuzz[wire.GetTopicsRequest](f, nil, nil, ctlSeeds(f, "get_topics.json")...)
}

func FuzzDecodeCreateTopicRequest(f *testing.F) {
	ctlFuzz[wire.CreateTopicRequest](f, nil, nil, ctlSeeds(f, "create_topic__all_options.json", "create_topic__defaults.json",
		"create_topic__none_compression_never_expire_unlimited.json")...)
}

func FuzzDecodeUpdateTopicRequest(f *testing.F) {
	ctlFuzz[wire.UpdateTopicRequest](f, nil, nil, ctlSeeds(f, "update_topic__all_settings.json", "update_topic__rename_only.json")...)
}

func FuzzDecodeDeleteTopicRequest(f *testing.F) {
	ctlFuzz[wire.DeleteTopicRequest](f, nil, nil, ctlSeeds(f, "delete_topic.json")...)
}

func FuzzDecodePurgeTopicRequest(f *testing.F) {
	ctlFuzz[wire.PurgeTopicRequest](f, nil, nil, ctlSeeds(f, "purge_topic__raw.json")...)
}

// Partitions and segments.

func FuzzDecodeCreatePartitionsRequest(f *testing.F) {
	ctlFuzz[wire.CreatePartitionsRequest](f, nil, nil, ctlSeeds(f, "create_partitions.json")...)
}

func FuzzDecodeDeletePartitionsRequest(f *testing.F) {
	ctlFuzz[wire.DeletePartitionsRequest](f, nil, nil, ctlSeeds(f, "delete_partitions.json")...)
}

func FuzzDecodeDeleteSegmentsRequest(f *testing.F) {
	ctlFuzz[wire.DeleteSegmentsRequest](f, nil, nil, ctlSeeds(f, "delete_segments.json")...)
}

// Consumer groups.

func ctlSampleGroup() wire.GroupDetails {
	return wire.GroupDetails{Group: wire.Group{ID: 3, PartitionsCount: 3, Name: "billing"},
		Members: []wire.Member{{ID: 1, Partitions: []uint32{0, 2}}, {ID: 2, Partitions: []uint32{1}}, {ID: 9}}}
}

func FuzzDecodeGroup(f *testing.F) {
	ctlFuzz[wire.Group](f, nil, nil, ctlEnc(ctlSampleGroup().Group))
}

func FuzzDecodeGroupDetails(f *testing.F) {
	ctlFuzz[wire.GroupDetails](f, nil, nil, append(ctlSeeds(f, "replies/create_consumer_group.json"), ctlEnc(ctlSampleGroup()))...)
}

func FuzzDecodeMember(f *testing.F) {
	ctlFuzz[wire.Member](f, nil, nil, ctlEnc(ctlSampleGroup().Members[0]))
}

func FuzzDecodeGroups(f *testing.F) {
	ctlFuzz[ctlGroups](f, nil, ctlConcat[ctlGroups], ctlSeeds(f, "replies/get_consumer_groups.json")...)
}

func FuzzDecodeAssignment(f *testing.F) {
	ctlFuzz[wire.Assignment](f, nil, nil, ctlSeeds(f, "replies/sync_consumer_group__golden.json",
		"replies/sync_consumer_group__empty_assignment_fixture.json", "replies/sync_consumer_group__two_partitions.json")...)
}

func FuzzDecodeGetConsumerGroupsRequest(f *testing.F) {
	ctlFuzz[wire.GetConsumerGroupsRequest](f, nil, nil, ctlSeeds(f, "get_consumer_groups.json")...)
}

func FuzzDecodeCreateConsumerGroupRequest(f *testing.F) {
	ctlFuzz[wire.CreateConsumerGroupRequest](f, nil, nil, ctlSeeds(f, "create_consumer_group.json")...)
}

var ctlGroupRequestSeeds = []string{"get_consumer_group__by_id.json", "get_consumer_group__by_name.json"}

func FuzzDecodeGetConsumerGroupRequest(f *testing.F) {
	ctlFuzz[wire.GetConsumerGroupRequest](f, nil, nil, ctlSeeds(f, ctlGroupRequestSeeds...)...)
}

func FuzzDecodeDeleteConsumerGroupRequest(f *testing.F) {
	ctlFuzz[wire.DeleteConsumerGroupRequest](f, nil, nil, ctlSeeds(f, "delete_consumer_group.json")...)
}

func FuzzDecodeJoinConsumerGroupRequest(f *testing.F) {
	ctlFuzz[wire.JoinConsumerGroupRequest](f, nil, nil, ctlSeeds(f, "join_consumer_group.json")...)
}

func FuzzDecodeLeaveConsumerGroupRequest(f *testing.F) {
	ctlFuzz[wire.LeaveConsumerGroupRequest](f, nil, nil, ctlSeeds(f, "leave_consumer_group.json")...)
}

func FuzzDecodeSyncConsumerGroupRequest(f *testing.F) {
	ctlFuzz[wire.SyncConsumerGroupRequest](f, nil, nil, append(ctlSeeds(f, "sync_consumer_group.json"),
		ctlSeeds(f, ctlGroupRequestSeeds...)...)...)
}
