package broker

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
)

var cheap = auth.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func openBroker(t *testing.T, back *mem.Backend) *Broker {
	t.Helper()
	b, err := Open(context.Background(), objstore.New(back, objstore.Options{}), Options{
		PasswordParams: cheap,
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rootSession(t *testing.T, b *Broker) *Session {
	t.Helper()
	s := b.Connect("test", TransportTCP)
	if _, err := b.Login(t.Context(), s, "iggy", "iggy"); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustKind(t *testing.T, err error, want Kind) {
	t.Helper()
	if got := KindOf(err); got != want {
		t.Fatalf("error %v (kind %d), want kind %d", err, got, want)
	}
}

func msgs(t *testing.T, n int) []byte {
	t.Helper()
	var ms []batch.NewMessage
	for i := range n {
		var id [16]byte
		rand.Read(id[:])
		ms = append(ms, batch.NewMessage{ID: id, OriginTimestamp: 1, Payload: fmt.Appendf(nil, "m%d", i)})
	}
	b, err := batch.Build(nil, ms)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setup(t *testing.T, b *Broker, s *Session, partitions uint32) {
	t.Helper()
	ctx := t.Context()
	if _, err := b.CreateStream(ctx, s, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateTopic(ctx, s, ByName("s"), "t", partitions, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRecoveryKeepsEverything(t *testing.T) {
	ctx := t.Context()
	back := mem.New()
	b := openBroker(t, back)
	s := rootSession(t, b)
	setup(t, b, s, 2)
	if _, err := b.CreateTopic(ctx, s, ByName("s"), "t2", 1, []Option{{Key: "message_expiry", Kind: KindString, Value: []byte("7d")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateGroup(ctx, s, ByName("s"), ByName("t"), "g"); err != nil {
		t.Fatal(err)
	}
	perms := &auth.Permissions{Global: auth.Global{ReadStreams: true}}
	if _, err := b.CreateUser(ctx, s, "alice", "secret1", UserActive, perms); err != nil {
		t.Fatal(err)
	}
	tok, err := b.CreatePAT(ctx, s, "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(ctx, s, ByName("s"), ByName("t"), Partitioning{Kind: PartitionByID, ID: 1}, msgs(t, 4), nil, 4); err != nil {
		t.Fatal(err)
	}
	if err := b.StoreOffset(ctx, s, Consumer{Kind: ConsumerSingle, Key: 9}, ByName("s"), ByName("t"), 1, true, 2); err != nil {
		t.Fatal(err)
	}
	// A checkpoint in the middle: recovery is manifest + journal.
	if err := b.Log().Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.ChangePassword(ctx, s, ByName("alice"), "secret1", "secret2"); err != nil {
		t.Fatal(err)
	}
	// Crash: reopen on a copy of what the store holds.
	b2 := openBroker(t, back.Clone())
	defer b2.Close()
	defer b.Close()
	s2 := rootSession(t, b2)
	ti, err := b2.GetTopic(s2, ByName("s"), ByName("t2"))
	if err != nil || ti.Config.MessageExpiry != uint64(7*24*time.Hour/time.Microsecond) {
		t.Fatalf("topic t2 after recovery: %+v %v", ti.Config, err)
	}
	if gs, err := b2.Groups(s2, ByName("s"), ByName("t")); err != nil || len(gs) != 1 || gs[0].Name != "g" {
		t.Fatalf("groups after recovery: %+v %v", gs, err)
	}
	a := b2.Connect("a", TransportTCP)
	if _, err := b2.Login(ctx, a, "alice", "secret2"); err != nil {
		t.Fatalf("alice's new password after recovery: %v", err)
	}
	if _, err := b2.LoginWithToken(ctx, b2.Connect("p", TransportTCP), tok); err != nil {
		t.Fatalf("token after recovery: %v", err)
	}
	info, ok, err := b2.GetOffset(s2, Consumer{Kind: ConsumerSingle, Key: 9}, ByName("s"), ByName("t"), 1)
	if err != nil || !ok || info.Stored != 2 || info.Current != 3 {
		t.Fatalf("offset after recovery: %+v %v %v", info, ok, err)
	}
	// Permissions hold after recovery: alice may read streams, not create.
	if _, err := b2.Streams(a); err != nil {
		t.Fatal(err)
	}
	_, err = b2.CreateStream(ctx, a, "nope")
	mustKind(t, err, KindUnauthorized)
}

func TestDeleteAndPurgeDropData(t *testing.T) {
	ctx := t.Context()
	back := mem.New()
	b := openBroker(t, back)
	defer b.Close()
	s := rootSession(t, b)
	setup(t, b, s, 1)
	send := func() uint64 {
		c, err := b.Send(ctx, s, ByName("s"), ByName("t"), Partitioning{Kind: PartitionByID}, msgs(t, 2), nil, 2)
		if err != nil {
			t.Fatal(err)
		}
		return c.BaseOffset
	}
	send()
	send()
	if err := b.PurgeTopic(ctx, s, ByName("s"), ByName("t")); err != nil {
		t.Fatal(err)
	}
	if off := send(); off != 0 {
		t.Fatalf("after purge the first offset is %d", off)
	}
	if err := b.DeleteStream(ctx, s, ByName("s")); err != nil {
		t.Fatal(err)
	}
	setup(t, b, s, 1) // the same ids again
	res, err := b.Poll(ctx, s, PollRequest{Consumer: Consumer{Kind: ConsumerSingle}, Stream: ByName("s"), Topic: ByName("t"), Strategy: PollFirst, Count: 10})
	if err != nil || len(res.Batches) != 0 {
		t.Fatalf("a re-created topic sees %d old batches (%v)", len(res.Batches), err)
	}
	if err := b.DeletePartitions(ctx, s, ByName("s"), ByName("t"), 2); KindOf(err) != KindPartitionsCount {
		t.Fatalf("deleting more partitions than exist: %v", err)
	}
}

func TestGroupRebalancing(t *testing.T) {
	ctx := t.Context()
	b := openBroker(t, mem.New())
	defer b.Close()
	root := rootSession(t, b)
	setup(t, b, root, 6)
	if _, err := b.CreateGroup(ctx, root, ByName("s"), ByName("t"), "g"); err != nil {
		t.Fatal(err)
	}
	st, tp, g := ByName("s"), ByName("t"), ByName("g")
	var members []*Session
	assigned := func() [][]uint32 {
		var out [][]uint32
		for _, m := range members {
			a, ok, err := b.SyncGroup(m, st, tp, g)
			if err != nil || !ok {
				t.Fatalf("sync: %v %v", ok, err)
			}
			out = append(out, a.Partitions)
		}
		return out
	}
	checkCover := func(as [][]uint32) {
		t.Helper()
		var all []uint32
		for _, a := range as {
			all = append(all, a...)
		}
		slices.Sort(all)
		if !slices.Equal(all, []uint32{0, 1, 2, 3, 4, 5}) {
			t.Fatalf("partitions not covered exactly once: %v", as)
		}
	}
	join := func() *Session {
		s := rootSession(t, b)
		if err := b.JoinGroup(s, st, tp, g); err != nil {
			t.Fatal(err)
		}
		members = append(members, s)
		return s
	}
	first := join()
	if as := assigned(); len(as[0]) != 6 {
		t.Fatalf("a single member owns %v", as)
	}
	if err := b.JoinGroup(first, st, tp, g); err != nil { // idempotent
		t.Fatal(err)
	}
	join()
	join()
	as := assigned()
	checkCover(as)
	for _, a := range as {
		if len(a) != 2 {
			t.Fatalf("three members, six partitions: %v", as)
		}
	}
	// A partition polled past its committed offset moves only once committed.
	if _, err := b.Send(ctx, root, st, tp, Partitioning{Kind: PartitionByID, ID: 0}, msgs(t, 3), nil, 3); err != nil {
		t.Fatal(err)
	}
	if err := b.LeaveGroup(members[2], st, tp, g); err != nil {
		t.Fatal(err)
	}
	members = members[:2]
	as = assigned()
	checkCover(as)
	owner := members[0]
	if !slices.Contains(as[0], 0) {
		owner = members[1]
	}
	if _, err := b.Poll(ctx, owner, PollRequest{Consumer: Consumer{Kind: ConsumerGroup, Group: g}, Stream: st, Topic: tp, Partition: 0, HasPart: true, Strategy: PollNext, Count: 10}); err != nil {
		t.Fatal(err)
	}
	late := join()
	as = assigned()
	a, _, _ := b.SyncGroup(late, st, tp, g)
	if len(a.Partitions) == 0 {
		t.Fatalf("the new member got nothing: %v", as)
	}
	// Partition 0 was polled and not committed: if it is to move, it is
	// pending, so nobody may poll it but it is not lost either.
	if err := b.StoreOffset(ctx, owner, Consumer{Kind: ConsumerGroup, Group: g}, st, tp, 0, true, 2); err != nil {
		t.Fatal(err)
	}
	b.completeRevocations()
	checkCover(assigned())
	// A non-member syncs empty, leaving twice is an error, a disconnect leaves.
	outsider := rootSession(t, b)
	if _, ok, _ := b.SyncGroup(outsider, st, tp, g); ok {
		t.Fatal("a non-member has an assignment")
	}
	mustKind(t, b.LeaveGroup(outsider, st, tp, g), KindMemberNotFound)
	late.Close()
	members = members[:2]
	checkCover(assigned())
	// Partition count changes rebalance too.
	if err := b.CreatePartitions(ctx, root, st, tp, 2); err != nil {
		t.Fatal(err)
	}
	var total int
	for _, a := range assigned() {
		total += len(a)
	}
	if total != 8 {
		t.Fatalf("after adding partitions %d are assigned", total)
	}
	// The group fence: a poll of a partition the member does not own says
	// resync.
	a0, _, _ := b.SyncGroup(members[0], st, tp, g)
	var notMine uint32
	for p := range uint32(8) {
		if !slices.Contains(a0.Partitions, p) {
			notMine = p
			break
		}
	}
	res, err := b.Poll(ctx, members[0], PollRequest{Consumer: Consumer{Kind: ConsumerGroup, Group: g}, Stream: st, Topic: tp, Partition: notMine, HasPart: true, Strategy: PollNext, Count: 1})
	if err != nil || !res.Resync {
		t.Fatalf("poll of a partition not owned: %+v %v", res, err)
	}
}

func TestPermissions(t *testing.T) {
	ctx := t.Context()
	b := openBroker(t, mem.New())
	defer b.Close()
	root := rootSession(t, b)
	setup(t, b, root, 1)
	if _, err := b.CreateStream(ctx, root, "other"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateTopic(ctx, root, ByName("other"), "t", 1, nil); err != nil {
		t.Fatal(err)
	}
	perms := &auth.Permissions{Streams: map[uint32]*auth.StreamPerms{0: {SendMessages: true}}}
	if _, err := b.CreateUser(ctx, root, "bob", "bob-pass", UserActive, perms); err != nil {
		t.Fatal(err)
	}
	bob := b.Connect("bob", TransportTCP)
	if _, err := b.Login(ctx, bob, "bob", "bob-pass"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(ctx, bob, ByName("s"), ByName("t"), Partitioning{Kind: PartitionByID}, msgs(t, 1), nil, 1); err != nil {
		t.Fatalf("bob may send to stream 0: %v", err)
	}
	_, err := b.Send(ctx, bob, ByName("other"), ByName("t"), Partitioning{Kind: PartitionByID}, msgs(t, 1), nil, 1)
	mustKind(t, err, KindUnauthorized)
	_, err = b.Poll(ctx, bob, PollRequest{Consumer: Consumer{Kind: ConsumerSingle}, Stream: ByName("s"), Topic: ByName("t"), Strategy: PollFirst, Count: 1})
	mustKind(t, err, KindUnauthorized)
	_, err = b.CreateUser(ctx, bob, "eve", "eve-pass", UserActive, nil)
	mustKind(t, err, KindUnauthorized)
	mustKind(t, b.DeleteStream(ctx, bob, ByName("s")), KindUnauthorized)
	_, err = b.Users(bob)
	mustKind(t, err, KindUnauthorized)
	if u, err := b.GetUser(bob, ByName("bob")); err != nil || u.Username != "bob" {
		t.Fatalf("bob reads himself: %+v %v", u, err)
	}
	if err := b.ChangePassword(ctx, bob, ByName("bob"), "bob-pass", "bob-pass2"); err != nil {
		t.Fatalf("bob changes his own password: %v", err)
	}
	mustKind(t, b.ChangePassword(ctx, bob, ByName("iggy"), "iggy", "x-y-z"), KindUnauthorized)
	mustKind(t, b.DeleteUser(ctx, root, ByID(0)), KindCannotDeleteUser)
	mustKind(t, b.UpdatePermissions(ctx, root, ByID(0), nil), KindCannotChangePermissions)
	// An inactive user cannot log in; a deleted user's session is logged out.
	st := UserInactive
	if err := b.UpdateUser(ctx, root, ByName("bob"), nil, &st); err != nil {
		t.Fatal(err)
	}
	_, err = b.Login(ctx, b.Connect("x", TransportTCP), "bob", "bob-pass2")
	mustKind(t, err, KindCredentials)
	if err := b.DeleteUser(ctx, root, ByName("bob")); err != nil {
		t.Fatal(err)
	}
	if _, ok := bob.User(); ok {
		t.Fatal("a deleted user's session is still logged in")
	}
}

func TestTopicOptions(t *testing.T) {
	cases := []struct {
		opts []Option
		kind Kind
	}{
		{[]Option{{Key: "nope", Kind: KindString, Value: []byte("1")}}, KindOptionKey},
		{[]Option{{Key: "segment_size", Kind: KindUint64, Value: u64(1000)}}, KindOptionValue},
		{[]Option{{Key: "messages_required_to_save", Kind: KindUint32, Value: u32(0)}}, KindOptionValue},
		{[]Option{{Key: "max_topic_size", Kind: KindString, Value: []byte("1 MiB")}, {Key: "segment_size", Kind: KindString, Value: []byte("2 MiB")}}, KindTopicSize},
		{[]Option{{Key: "message_expiry", Kind: KindString, Value: []byte("soon")}}, KindOptionValue},
	}
	for _, c := range cases {
		_, err := newTopicConfig(c.opts, 1)
		mustKind(t, err, c.kind)
	}
	cfg, err := newTopicConfig([]Option{
		{Key: "enforce_fsync", Kind: KindString, Value: []byte("true")},
		{Key: "size_of_messages_required_to_save", Kind: KindUint64, Value: u64(0)},
		{Key: "segment_size", Kind: KindString, Value: []byte("64 MiB")},
		{Key: "max_topic_size", Kind: KindString, Value: []byte("128 MiB")},
		{Key: "message_expiry", Kind: KindString, Value: []byte("1h 30m")},
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxTopicSize != 128<<20 || cfg.MessageExpiry != uint64(90*time.Minute/time.Microsecond) || !cfg.EnforceFsync {
		t.Fatalf("resolved %+v", cfg)
	}
	var explicit, derived []string
	for _, o := range cfg.Explicit {
		explicit = append(explicit, o.Key)
	}
	for _, o := range cfg.Derived() {
		derived = append(derived, o.Key)
	}
	if fmt.Sprint(explicit) != "[enforce_fsync max_topic_size message_expiry segment_size]" || !slices.Contains(derived, "size_of_messages_required_to_save") || slices.Contains(derived, "enforce_fsync") {
		t.Fatalf("explicit %v derived %v", explicit, derived)
	}
	if _, err := cfg.update([]Option{{Key: "segment_size", Kind: KindUint64, Value: u64(1 << 20)}}); KindOf(err) != KindOptionKey {
		t.Fatalf("updating segment_size: %v", err)
	}
}

// Stored batches carry the partition id clients see, not the storage id
// the log keys the partition by.
func TestBatchPartitionID(t *testing.T) {
	ctx := t.Context()
	b := openBroker(t, mem.New())
	defer b.Close()
	s := rootSession(t, b)
	setup(t, b, s, 2) // partitions with storage ids 0 and 1
	if _, err := b.CreateTopic(ctx, s, ByName("s"), "later", 1, nil); err != nil {
		t.Fatal(err) // its partition 0 has storage id 2
	}
	if _, err := b.Send(ctx, s, ByName("s"), ByName("later"), Partitioning{Kind: PartitionByID}, msgs(t, 1), nil, 1); err != nil {
		t.Fatal(err)
	}
	res, err := b.Poll(ctx, s, PollRequest{Consumer: Consumer{Kind: ConsumerSingle}, Stream: ByName("s"), Topic: ByName("later"), Strategy: PollFirst, Count: 1})
	if err != nil || len(res.Batches) != 1 {
		t.Fatalf("poll: %d batches, %v", len(res.Batches), err)
	}
	if h, err := batch.Validate(res.Batches[0]); err != nil || h.PartitionID != 0 {
		t.Fatalf("stored batch: partition id %d, %v", h.PartitionID, err)
	}
}
