package wire_test

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/shoalstream/shoal/internal/wire"
)

// Malformed inputs each documented rule rejects, and the lenient inputs the
// spec says must be accepted.

// ctlB builds a body from parts: []byte, string (raw bytes), uint8, uint32
// (little-endian), uint64, or a ctlCodec / wire.Options (encoded).
func ctlB(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, v...)
		case uint8:
			b = append(b, v)
		case int:
			b = append(b, byte(v))
		case uint32:
			b = wire.AppendU32(b, v)
		case uint64:
			b = wire.AppendU64(b, v)
		case interface{ AppendTo([]byte) []byte }:
			b = v.AppendTo(b)
		default:
			panic(fmt.Sprintf("ctlB: %T", p))
		}
	}
	return b
}

// ctlField is one TLV field: [kind u8][len u32][data].
func ctlField(kind uint8, data string) []byte {
	return ctlB(kind, uint32(len(data)), data)
}

// ctlEntry is a key/value entry with a String key.
func ctlEntry(key string, kind uint8, value string) []byte {
	return ctlB(ctlField(wire.KindString, key), ctlField(kind, value))
}

// ctlOptField is a reply's options field: [len u32][block].
func ctlOptField(block []byte) []byte { return ctlB(uint32(len(block)), block) }

// ctlManyEntries returns n distinct entries whose values are size bytes.
func ctlManyEntries(n, size int) []byte {
	var b []byte
	for i := range n {
		b = append(b, ctlEntry(fmt.Sprintf("k%d", i), wire.KindRaw, strings.Repeat("v", size))...)
	}
	return b
}

var (
	ctlNum1    = wire.NumericID(1)
	ctlStats   = wire.Stats{Hostname: "h", CacheMetrics: []wire.CacheMetric{{Hits: 1}}}
	ctlUser    = wire.User{ID: 1, Status: wire.UserActive, Username: "al"}
	ctlTopic   = wire.TopicHeader{ID: 1, PartitionsCount: 1, Name: "t"}
	ctlGlobal0 = strings.Repeat("\x00", 10)
)

func TestControlMalformed(t *testing.T) {
	newOptions := func() ctlCodec { return new(wire.Options) }
	newKVs := func() ctlCodec { return new(ctlKVs) }
	newPerms := func() ctlCodec { return new(wire.Permissions) }
	newCreateUser := func() ctlCodec { return new(wire.CreateUserRequest) }
	newUserDetails := func() ctlCodec { return new(wire.UserDetails) }
	stats := ctlEnc(ctlStats)
	cases := []struct {
		name string
		new  func() ctlCodec
		in   []byte
	}{
		// Key/value blocks: the structural rules.
		{"kv: key kind 0", newKVs, ctlB(ctlField(0, "k"), ctlField(wire.KindString, "v"))},
		{"kv: value kind 0", newKVs, ctlB(ctlField(wire.KindString, "k"), ctlField(0, "v"))},
		{"kv: key length 0", newKVs, ctlB(ctlField(wire.KindString, ""), ctlField(wire.KindString, "v"))},
		{"kv: value length 0", newKVs, ctlB(ctlField(wire.KindString, "k"), ctlField(wire.KindString, ""))},
		{"kv: value length 256", newKVs, ctlEntry("k", wire.KindRaw, strings.Repeat("x", 256))},
		{"kv: field overruns the block", newKVs, ctlB(wire.KindString, uint32(5), "ab")},
		{"kv: truncated field header", newKVs, ctlB(wire.KindString, uint8(1), uint8(0))},
		{"kv: key without a value", newKVs, ctlField(wire.KindString, "k")},
		{"kv: length 2^32-1", newKVs, ctlB(wire.KindString, uint32(0xffffffff), "k")},

		// Options: the options rules, in a bare block and in a request.
		{"options: key kind Raw", newOptions, ctlB(ctlField(wire.KindRaw, "k"), ctlField(wire.KindString, "v"))},
		{"options: key kind Int32", newOptions, ctlB(ctlField(wire.KindInt32, "\x01\x00\x00\x00"), ctlField(wire.KindString, "v"))},
		{"options: key not UTF-8", newOptions, ctlEntry("\xff\xfe", wire.KindString, "v")},
		{"options: duplicate key", newOptions, ctlB(ctlEntry("k", wire.KindString, "a"), ctlEntry("k", wire.KindBool, "\x01"))},
		{"options: 1025 entries", newOptions, ctlManyEntries(1025, 1)},
		{"options: more than 100000 bytes", newOptions, ctlManyEntries(400, 255)},
		{"options: value kind 0", newOptions, ctlB(ctlField(wire.KindString, "k"), ctlField(0, "v"))},
		{"create stream: bad trailing options", func() ctlCodec { return new(wire.CreateStreamRequest) },
			ctlB(uint8(1), "s", ctlField(wire.KindString, "k"))},
		{"create topic: duplicate option", func() ctlCodec { return new(wire.CreateTopicRequest) },
			ctlB(ctlNum1, uint32(1), uint8(1), "t", ctlEntry("k", wire.KindString, "a"), ctlEntry("k", wire.KindString, "a"))},

		// Options fields of replies: length-prefixed, fixed widths checked.
		{"stream: options length overruns", func() ctlCodec { return new(wire.Stream) },
			ctlB(uint32(1), uint64(0), uint32(0), uint64(0), uint64(0), uint8(1), "s", uint32(13), ctlEntry("k", wire.KindBool, "\x01")[:12])},
		{"stream: Uint64 option of 4 bytes", func() ctlCodec { return new(wire.Stream) },
			ctlB(uint32(1), uint64(0), uint32(0), uint64(0), uint64(0), uint8(1), "s", ctlOptField(ctlEntry("k", wire.KindUint64, "abcd")))},
		{"topic: derived Bool option of 2 bytes", func() ctlCodec { return new(wire.TopicHeader) },
			ctlB(ctlEnc(ctlTopic)[:51], uint32(0), ctlOptField(ctlEntry("k", wire.KindBool, "\x01\x01")))},

		// Permissions.
		{"perms: empty", newPerms, nil},
		{"perms: has_streams 2", newPerms, ctlB(ctlGlobal0, uint8(2))},
		{"perms: has_topics 2", newPerms, ctlB(ctlGlobal0, uint8(1), uint32(1), "\x00\x00\x00\x00\x00\x00", uint8(2), uint8(0))},
		{"perms: has_next_stream 2", newPerms, ctlB(ctlGlobal0, uint8(1), uint32(1), "\x00\x00\x00\x00\x00\x00", uint8(0), uint8(2))},
		{"perms: has_next_topic 2", newPerms, ctlB(ctlGlobal0, uint8(1), uint32(1), "\x00\x00\x00\x00\x00\x00", uint8(1),
			uint32(4), "\x00\x00\x00\x00", uint8(2), uint8(0))},
		{"perms: stream listed twice", newPerms, ctlB(ctlGlobal0, uint8(1),
			uint32(1), "\x00\x00\x00\x00\x00\x00", uint8(0), uint8(1),
			uint32(1), "\x01\x00\x00\x00\x00\x00", uint8(0), uint8(0))},
		{"perms: topic listed twice", newPerms, ctlB(ctlGlobal0, uint8(1), uint32(1), "\x00\x00\x00\x00\x00\x00", uint8(1),
			uint32(4), "\x00\x00\x00\x00", uint8(1), uint32(4), "\x01\x00\x00\x00", uint8(0), uint8(0))},
		{"perms: truncated in a stream", newPerms, ctlB(ctlGlobal0, uint8(1), uint32(1), "\x00\x00")},
		{"perms: trailing byte", newPerms, ctlB(ctlGlobal0, uint8(0), uint8(0))},
		{"create user: perms_len one more than the blob", newCreateUser,
			ctlB(uint8(2), "al", uint8(0), wire.UserActive, uint8(1), uint32(12), ctlGlobal0, uint8(0), uint8(0))},
		{"create user: perms_len one less than the blob", newCreateUser,
			ctlB(uint8(2), "al", uint8(0), wire.UserActive, uint8(1), uint32(10), ctlGlobal0, uint8(0))},
		{"create user: perms_len overruns the body", newCreateUser,
			ctlB(uint8(2), "al", uint8(0), wire.UserActive, uint8(1), uint32(1000), ctlGlobal0, uint8(0))},
		{"create user: has_permissions 2", newCreateUser, ctlB(uint8(2), "al", uint8(0), wire.UserActive, uint8(2))},
		{"create user: empty username", newCreateUser, ctlB(uint8(0), uint8(0), wire.UserActive, uint8(0))},
		{"create user: username not UTF-8", newCreateUser, ctlB(uint8(1), "\xff", uint8(0), wire.UserActive, uint8(0))},
		{"create user: truncated", newCreateUser, ctlB(uint8(2), "al", uint8(3), "pw")},
		{"update permissions: has_permissions 2", func() ctlCodec { return new(wire.UpdatePermissionsRequest) }, ctlB(ctlNum1, uint8(2))},

		// Users.
		{"user: status 0", func() ctlCodec { return new(wire.User) }, ctlB(uint32(1), uint64(0), uint8(0), uint8(1), "a", uint32(0))},
		{"user: status 3", func() ctlCodec { return new(wire.User) }, ctlB(uint32(1), uint64(0), uint8(3), uint8(1), "a", uint32(0))},
		{"user: empty username", func() ctlCodec { return new(wire.User) }, ctlB(uint32(1), uint64(0), uint8(1), uint8(0), uint32(0))},
		{"user details: has_permissions 2", newUserDetails, ctlB(ctlUser, uint8(2))},
		{"user details: no flag", newUserDetails, ctlB(ctlUser)},
		{"user details: 2-byte no-permissions form", newUserDetails, ctlB(ctlUser, uint8(0), uint8(0))},
		{"user details: 5-byte no-permissions form", newUserDetails, ctlB(ctlUser, uint32(0), uint8(0))},
		{"user details: non-zero after the 0 flag", newUserDetails, ctlB(ctlUser, uint8(0), uint8(1), uint8(0), uint8(0))},
		{"users: trailing garbage", func() ctlCodec { return new(ctlUsers) }, ctlB(ctlUser, uint8(1))},
		{"update user: has_username 2", func() ctlCodec { return new(wire.UpdateUserRequest) }, ctlB(ctlNum1, uint8(2), uint8(0))},
		{"update user: has_status 2", func() ctlCodec { return new(wire.UpdateUserRequest) }, ctlB(ctlNum1, uint8(0), uint8(2), uint8(1))},
		{"update user: has_username with an empty name", func() ctlCodec { return new(wire.UpdateUserRequest) },
			ctlB(ctlNum1, uint8(1), uint8(0), uint8(0))},
		{"update user: has_status without a status", func() ctlCodec { return new(wire.UpdateUserRequest) }, ctlB(ctlNum1, uint8(0), uint8(1))},
		{"change password: no new password", func() ctlCodec { return new(wire.ChangePasswordRequest) }, ctlB(ctlNum1, uint8(1), "a")},

		// Identifiers (wire.md §4.1) in identifier-only bodies.
		{"identifier: numeric of length 3", func() ctlCodec { return new(wire.GetStreamRequest) }, ctlB(wire.IDNumeric, uint8(3), "\x01\x00\x00")},
		{"identifier: kind 3", func() ctlCodec { return new(wire.GetStreamRequest) }, ctlB(uint8(3), uint8(1), "a")},
		{"identifier: kind 0", func() ctlCodec { return new(wire.DeleteStreamRequest) }, ctlB(uint8(0), uint8(4), uint32(1))},
		{"identifier: empty name", func() ctlCodec { return new(wire.GetUserRequest) }, ctlB(wire.IDString, uint8(0))},
		{"identifier: name not UTF-8", func() ctlCodec { return new(wire.DeleteUserRequest) }, ctlB(wire.IDString, uint8(1), "\xff")},
		{"identifier: truncated", func() ctlCodec { return new(wire.GetTopicRequest) }, ctlB(ctlNum1, wire.IDNumeric, uint8(4), "\x01")},
		{"identifier: trailing byte", func() ctlCodec { return new(wire.PurgeStreamRequest) }, ctlB(ctlNum1, uint8(0))},
		{"group request: two identifiers", func() ctlCodec { return new(wire.JoinConsumerGroupRequest) }, ctlB(ctlNum1, ctlNum1)},
		{"group request: four identifiers", func() ctlCodec { return new(wire.SyncConsumerGroupRequest) }, ctlB(ctlNum1, ctlNum1, ctlNum1, ctlNum1)},
		{"empty body", func() ctlCodec { return new(wire.LeaveConsumerGroupRequest) }, nil},

		// System.
		{"describe options: empty", func() ctlCodec { return new(wire.DescribeOptionsRequest) }, nil},
		{"describe options: scope 0", func() ctlCodec { return new(wire.DescribeOptionsRequest) }, ctlB(uint8(0))},
		{"describe options: scope 4", func() ctlCodec { return new(wire.DescribeOptionsRequest) }, ctlB(uint8(4))},
		{"describe options: two bytes", func() ctlCodec { return new(wire.DescribeOptionsRequest) }, ctlB(uint8(1), uint8(1))},
		{"snapshot: compression 0", func() ctlCodec { return new(wire.GetSnapshotRequest) }, ctlB(uint8(0), uint8(1), uint8(1))},
		{"snapshot: compression 7", func() ctlCodec { return new(wire.GetSnapshotRequest) }, ctlB(uint8(7), uint8(1), uint8(1))},
		{"snapshot: type 0", func() ctlCodec { return new(wire.GetSnapshotRequest) }, ctlB(uint8(1), uint8(1), uint8(0))},
		{"snapshot: type 7", func() ctlCodec { return new(wire.GetSnapshotRequest) }, ctlB(uint8(1), uint8(2), uint8(1), uint8(7))},
		{"snapshot: type 99", func() ctlCodec { return new(wire.GetSnapshotRequest) }, ctlB(uint8(1), uint8(1), uint8(99))},
		{"snapshot: fewer types than counted", func() ctlCodec { return new(wire.GetSnapshotRequest) }, ctlB(uint8(1), uint8(3), uint8(1), uint8(2))},
		{"snapshot: more types than counted", func() ctlCodec { return new(wire.GetSnapshotRequest) }, ctlB(uint8(1), uint8(1), uint8(1), uint8(2))},
		{"get client: 3 bytes", func() ctlCodec { return new(wire.GetClientRequest) }, ctlB(uint8(1), uint8(0), uint8(0))},
		{"stats: 107 bytes", func() ctlCodec { return new(wire.Stats) }, make([]byte, 107)},
		{"stats: one byte short", func() ctlCodec { return new(wire.Stats) }, stats[:len(stats)-1]},
		{"stats: trailing byte", func() ctlCodec { return new(wire.Stats) }, ctlB(stats, uint8(0))},
		{"stats: cache metrics count overruns", func() ctlCodec { return new(wire.Stats) },
			ctlB(make([]byte, 108), make([]byte, 24), uint32(0xffffffff), make([]byte, 64))},
		{"stats: hostname not UTF-8", func() ctlCodec { return new(wire.Stats) },
			ctlB(make([]byte, 108), uint32(1), "\xff", uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint64(0), uint64(0))},
		{"stats: hostname length overruns", func() ctlCodec { return new(wire.Stats) }, ctlB(make([]byte, 108), uint32(1000))},
		{"cluster: role 2", func() ctlCodec { return new(wire.ClusterMetadata) },
			ctlB(uint32(1), "c", uint32(1), uint32(1), "n", uint32(1), "i", uint32(8090), uint32(0), uint8(2), uint8(0))},
		{"cluster: status 5", func() ctlCodec { return new(wire.ClusterMetadata) },
			ctlB(uint32(1), "c", uint32(1), uint32(1), "n", uint32(1), "i", uint32(8090), uint32(0), uint8(0), uint8(5))},
		{"cluster: 65 nodes", func() ctlCodec { return new(wire.ClusterMetadata) },
			ctlB(uint32(1), "c", uint32(65), bytes.Repeat(ctlB(uint32(0), uint32(0), uint64(0), uint8(0), uint8(0)), 65))},
		{"cluster: nodes count overruns", func() ctlCodec { return new(wire.ClusterMetadata) }, ctlB(uint32(1), "c", uint32(0xffffffff))},
		{"cluster: no nodes count", func() ctlCodec { return new(wire.ClusterMetadata) }, ctlB(uint32(1), "c")},
		{"option descriptions: under 4 bytes", func() ctlCodec { return new(ctlOptDescs) }, nil},
		{"option descriptions: count overruns", func() ctlCodec { return new(ctlOptDescs) }, ctlB(uint32(1_000_000_000), make([]byte, 100))},
		{"option description: empty key", func() ctlCodec { return new(wire.OptionDescription) },
			ctlB(uint8(0), wire.KindBool, uint32(1), uint8(0), uint32(0))},
		{"option description: default overruns", func() ctlCodec { return new(wire.OptionDescription) },
			ctlB(uint8(1), "k", wire.KindBool, uint32(5), uint8(0), uint32(0))},
		{"client details: groups count overruns", func() ctlCodec { return new(wire.ClientDetails) },
			ctlB(uint32(1), uint32(2), wire.TransportTCP, uint32(1), "a", uint32(5), uint32(1), uint32(2), uint32(3))},
		{"client details: trailing byte", func() ctlCodec { return new(wire.ClientDetails) },
			ctlB(uint32(1), uint32(2), wire.TransportTCP, uint32(1), "a", uint32(0), uint8(0))},
		{"clients: partial record", func() ctlCodec { return new(ctlClients) }, ctlB(uint32(1), uint32(2), wire.TransportTCP)},

		// Tokens.
		{"create PAT: empty name", func() ctlCodec { return new(wire.CreatePATRequest) }, ctlB(uint8(0), uint64(0))},
		{"create PAT: 4-byte expiry", func() ctlCodec { return new(wire.CreatePATRequest) }, ctlB(uint8(1), "a", uint32(0))},
		{"raw PAT: empty token", func() ctlCodec { return new(wire.RawPAT) }, ctlB(uint8(0))},
		{"PATs: entry without its expiry", func() ctlCodec { return new(ctlPATs) }, ctlB(uint8(1), "a", uint64(0), uint8(1), "b")},

		// Streams and topics.
		{"stream: empty name", func() ctlCodec { return new(wire.Stream) },
			ctlB(uint32(1), uint64(0), uint32(0), uint64(0), uint64(0), uint8(0), uint32(0))},
		{"stream details: fewer topics than counted", func() ctlCodec { return new(wire.StreamDetails) },
			ctlB(uint32(1), uint64(0), uint32(2), uint64(0), uint64(0), uint8(1), "s", uint32(0), ctlTopic)},
		{"stream details: more topics than counted", func() ctlCodec { return new(wire.StreamDetails) },
			ctlB(uint32(1), uint64(0), uint32(0), uint64(0), uint64(0), uint8(1), "s", uint32(0), ctlTopic)},
		{"stream details: topics count 2^32-1", func() ctlCodec { return new(wire.StreamDetails) },
			ctlB(uint32(1), uint64(0), uint32(0xffffffff), uint64(0), uint64(0), uint8(1), "s", uint32(0), ctlTopic)},
		{"topic details: 39 bytes of partitions", func() ctlCodec { return new(wire.TopicDetails) }, ctlB(ctlTopic, make([]byte, 39))},
		{"topic details: 41 bytes of partitions", func() ctlCodec { return new(wire.TopicDetails) }, ctlB(ctlTopic, make([]byte, 41))},
		{"topic: no derived block", func() ctlCodec { return new(wire.TopicHeader) }, ctlEnc(ctlTopic)[:len(ctlEnc(ctlTopic))-4]},
		{"topics: no count", func() ctlCodec { return new(ctlTopics) }, nil},
		{"topics: fewer than counted", func() ctlCodec { return new(ctlTopics) }, ctlB(uint32(2), ctlTopic)},
		{"topics: count 2^32-1", func() ctlCodec { return new(ctlTopics) }, ctlB(uint32(0xffffffff), ctlTopic)},
		{"partition: 39 bytes", func() ctlCodec { return new(wire.Partition) }, make([]byte, 39)},
		{"create topic: empty name", func() ctlCodec { return new(wire.CreateTopicRequest) }, ctlB(ctlNum1, uint32(1), uint8(0))},
		{"update topic: no name", func() ctlCodec { return new(wire.UpdateTopicRequest) }, ctlB(ctlNum1, ctlNum1)},
		{"create partitions: no count", func() ctlCodec { return new(wire.CreatePartitionsRequest) }, ctlB(ctlNum1, ctlNum1)},
		{"delete partitions: trailing byte", func() ctlCodec { return new(wire.DeletePartitionsRequest) }, ctlB(ctlNum1, ctlNum1, uint32(1), uint8(0))},
		{"delete segments: no segments count", func() ctlCodec { return new(wire.DeleteSegmentsRequest) }, ctlB(ctlNum1, ctlNum1, uint32(1))},

		// Consumer groups.
		{"group: empty name", func() ctlCodec { return new(wire.Group) }, ctlB(uint32(1), uint32(1), uint32(0), uint8(0))},
		{"group details: fewer members than counted", func() ctlCodec { return new(wire.GroupDetails) },
			ctlB(uint32(1), uint32(1), uint32(1), uint8(1), "g")},
		{"group details: more members than counted", func() ctlCodec { return new(wire.GroupDetails) },
			ctlB(uint32(1), uint32(1), uint32(0), uint8(1), "g", uint32(1), uint32(0))},
		{"group details: member partitions overrun", func() ctlCodec { return new(wire.GroupDetails) },
			ctlB(uint32(1), uint32(1), uint32(1), uint8(1), "g", uint32(1), uint32(3), uint32(0))},
		{"groups: partial record", func() ctlCodec { return new(ctlGroups) }, ctlB(uint32(1), uint32(1), uint32(0))},
		{"assignment: 11 bytes", func() ctlCodec { return new(wire.Assignment) }, make([]byte, 11)},
		{"assignment: trailing byte", func() ctlCodec { return new(wire.Assignment) }, ctlB(uint64(1), uint32(1), uint32(0), uint8(0))},
		{"assignment: fewer partitions than counted", func() ctlCodec { return new(wire.Assignment) }, ctlB(uint64(1), uint32(2), uint32(0))},
		{"assignment: count 2^32-1", func() ctlCodec { return new(wire.Assignment) }, ctlB(uint64(1), uint32(0xffffffff))},
		{"create group: empty name", func() ctlCodec { return new(wire.CreateConsumerGroupRequest) }, ctlB(ctlNum1, ctlNum1, uint8(0))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.new()
			before := reflect.ValueOf(v).Elem().Interface()
			err := v.Decode(c.in)
			if err == nil {
				t.Fatalf("decoded %x into %+v", c.in, v)
			}
			t.Log(err)
			if wire.CodeOf(err) != wire.CodeInvalidCommand {
				t.Fatalf("error %v has code %d, want %d", err, wire.CodeOf(err), wire.CodeInvalidCommand)
			}
			if after := reflect.ValueOf(v).Elem().Interface(); !reflect.DeepEqual(before, after) {
				t.Fatalf("a failed decode changed its target to %+v", after)
			}
		})
	}
}

// TestControlLenient: inputs the spec says a server must accept.
func TestControlLenient(t *testing.T) {
	perm := func(b []byte) *wire.Permissions {
		var p wire.Permissions
		if err := p.Decode(b); err != nil {
			t.Fatal(err)
		}
		return &p
	}
	t.Run("user details: the one-byte no-permissions form", func(t *testing.T) {
		var u wire.UserDetails
		if err := u.Decode(ctlB(ctlUser, uint8(0))); err != nil {
			t.Fatal(err)
		}
		if u.Permissions != nil || u.Username != "al" {
			t.Fatalf("%+v", u)
		}
		if got, want := ctlEnc(u), ctlB(ctlUser, uint32(0)); !bytes.Equal(got, want) {
			t.Fatalf("re-encoded %x, want the 4-byte form %x", got, want)
		}
	})
	t.Run("permissions: any non-zero flag byte is true", func(t *testing.T) {
		p := perm(ctlB("\x02\x00\x00\x00\x00\x00\x00\x00\x00\xff", uint8(1), uint32(9), "\x00\x07\x00\x00\x00\x00", uint8(0), uint8(0)))
		if !p.Global.ManageServers || !p.Global.SendMessages || p.Global.ReadServers || !p.Streams[9].ReadStream {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("permissions: ids in any order, encoded ascending", func(t *testing.T) {
		stream := func(id uint32, next uint8) []byte {
			return ctlB(id, "\x01\x00\x00\x00\x00\x00", uint8(1), uint32(20), "\x01\x00\x00\x00", uint8(1),
				uint32(10), "\x00\x01\x00\x00", uint8(0), next)
		}
		p := perm(ctlB(ctlGlobal0, uint8(1), stream(5, 1), stream(2, 0)))
		want := ctlB(ctlGlobal0, uint8(1), stream(2, 1), stream(5, 0))
		// Topics come out ascending too.
		want = bytes.ReplaceAll(want, ctlB(uint32(20), "\x01\x00\x00\x00", uint8(1), uint32(10), "\x00\x01\x00\x00", uint8(0)),
			ctlB(uint32(10), "\x00\x01\x00\x00", uint8(1), uint32(20), "\x01\x00\x00\x00", uint8(0)))
		if got := ctlEnc(p); !bytes.Equal(got, want) {
			t.Fatalf("got  %x\nwant %x", got, want)
		}
	})
	t.Run("key/value blocks: any key kind, any non-zero value kind, any size", func(t *testing.T) {
		in := ctlB(ctlField(wire.KindInt32, "\x01\x00\x00\x00"), ctlField(200, "?"),
			ctlField(wire.KindRaw, "k"), ctlField(wire.KindUint64, "abc"))
		kvs, err := wire.DecodeKVs(in)
		if err != nil || len(kvs) != 2 || kvs[0].ValueKind != 200 {
			t.Fatalf("%+v %v", kvs, err)
		}
		if err := wire.CheckKindSizes(kvs); err == nil {
			t.Fatal("CheckKindSizes accepts a 3-byte Uint64")
		}
	})
	t.Run("request options: unknown value kind and a wrong-size value reach the caller", func(t *testing.T) {
		// Their meaning is the option layer's (4041/4042), not a malformed body.
		var q wire.CreateTopicRequest
		in := ctlB(ctlNum1, uint32(0), uint8(1), "t", ctlEntry("future", 99, "x"), ctlEntry("max_topic_size", wire.KindUint64, "abcd"))
		if err := q.Decode(in); err != nil {
			t.Fatal(err)
		}
		if q.PartitionsCount != 0 || len(q.Options) != 2 {
			t.Fatalf("%+v", q)
		}
		kv, _ := q.Options.Get("max_topic_size")
		if _, ok := kv.AsUint64(); ok {
			t.Fatal("AsUint64 accepts 4 bytes")
		}
	})
	t.Run("options: 1024 entries", func(t *testing.T) {
		var o wire.Options
		if err := o.Decode(ctlManyEntries(1024, 1)); err != nil || len(o) != 1024 {
			t.Fatalf("%d entries, %v", len(o), err)
		}
	})
	t.Run("create user: any status, empty or binary password", func(t *testing.T) {
		var q wire.CreateUserRequest
		if err := q.Decode(ctlB(uint8(2), "al", uint8(0), uint8(0), uint8(0))); err != nil || q.Status != 0 || q.Password != "" {
			t.Fatalf("%+v %v", q, err)
		}
		if err := q.Decode(ctlB(uint8(2), "al", uint8(2), "\xff\x00", uint8(7), uint8(0))); err != nil || q.Password != "\xff\x00" {
			t.Fatalf("%+v %v", q, err)
		}
	})
	t.Run("snapshot: no types, and type All", func(t *testing.T) {
		var q wire.GetSnapshotRequest
		if err := q.Decode(ctlB(wire.SnapshotXz, uint8(0))); err != nil || q.Types != nil {
			t.Fatalf("%+v %v", q, err)
		}
		if err := q.Decode(ctlB(wire.SnapshotStored, uint8(1), wire.SnapshotAll)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("topic: compression 0 (decoder fixtures carry it)", func(t *testing.T) {
		var h wire.TopicHeader
		if err := h.Decode(ctlEnc(ctlTopic)); err != nil || h.Compression != 0 {
			t.Fatalf("%+v %v", h, err)
		}
	})
}

// TestControlCountsBoundAllocation: a count near 2^32 is refused before
// anything is allocated for it.
func TestControlCountsBoundAllocation(t *testing.T) {
	huge := []struct {
		name string
		dec  func() error
	}{
		{"topics", func() error { _, err := wire.DecodeTopics(ctlB(uint32(0xffffffff), make([]byte, 64))); return err }},
		{"option descriptions", func() error {
			_, err := wire.DecodeOptionDescriptions(ctlB(uint32(0xffffffff), make([]byte, 64)))
			return err
		}},
		{"assignment", func() error {
			return new(wire.Assignment).Decode(ctlB(uint64(0), uint32(0xffffffff), make([]byte, 64)))
		}},
		{"stats cache metrics", func() error {
			return new(wire.Stats).Decode(ctlB(make([]byte, 108), make([]byte, 24), uint32(0xffffffff), make([]byte, 64)))
		}},
		{"client groups", func() error {
			return new(wire.ClientDetails).Decode(ctlB(uint32(1), uint32(2), uint8(1), uint32(0), uint32(0xffffffff), make([]byte, 64)))
		}},
		{"group members", func() error {
			return new(wire.GroupDetails).Decode(ctlB(uint32(1), uint32(1), uint32(0xffffffff), uint8(1), "g", make([]byte, 64)))
		}},
	}
	for _, c := range huge {
		if err := c.dec(); err == nil {
			t.Fatalf("%s: accepted", c.name)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 20 {
			_ = c.dec()
		}
		runtime.ReadMemStats(&after)
		if n := (after.TotalAlloc - before.TotalAlloc) / 20; n > 4096 {
			t.Errorf("%s: %d bytes allocated to refuse a huge count", c.name, n)
		}
	}
}
