package itest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/wire"
)

// TestConsumerGroups covers consumer-group commands and their errors.
func TestConsumerGroups(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "t", 3, client.TopicSettings{}))
		s, tp := name("s"), name("t")

		g1 := must[*client.ConsumerGroupDetails](t)(c.CreateConsumerGroup(ctx, s, tp, "g1"))
		g2 := must[*client.ConsumerGroupDetails](t)(c.CreateConsumerGroup(ctx, id(0), id(0), "g2"))
		if g1.ID != 0 || g1.Name != "g1" || g1.PartitionsCount != 3 || g1.MembersCount != 0 || len(g1.Members) != 0 || g2.ID != 1 {
			t.Fatalf("created groups %+v %+v", g1, g2)
		}
		_, err := c.CreateConsumerGroup(ctx, s, tp, "g1")
		isErr(t, "duplicate group", err, client.ErrConsumerGroupNameAlreadyExists)
		_, err = c.CreateConsumerGroup(ctx, s, name("nope"), "x")
		isErr(t, "group on a missing topic", err, client.ErrTopicNotFound)
		_, err = c.CreateConsumerGroup(ctx, name("nope"), tp, "x")
		isErr(t, "group in a missing stream", err, client.ErrStreamNotFound)

		for _, gid := range []client.Identifier{id(0), name("g1")} {
			if g := must[*client.ConsumerGroupDetails](t)(c.GetConsumerGroup(ctx, s, tp, gid)); g.ID != 0 || g.Name != "g1" {
				t.Fatalf("get group %v: %+v", gid, g)
			}
		}
		_, err = c.GetConsumerGroup(ctx, s, tp, name("nope"))
		isErr(t, "missing group", err, client.ErrConsumerGroupNotFound)
		_, err = c.GetConsumerGroup(ctx, s, name("nope"), id(0))
		isErr(t, "group of a missing topic", err, client.ErrTopicNotFound)
		_, err = c.GetConsumerGroup(ctx, name("nope"), tp, id(0))
		isErr(t, "group of a missing stream", err, client.ErrStreamNotFound)
		if gs := must[[]client.ConsumerGroup](t)(c.GetConsumerGroups(ctx, s, tp)); len(gs) != 2 || gs[0].Name != "g1" || gs[1].Name != "g2" {
			t.Fatalf("groups %+v", gs)
		}
		_, err = c.GetConsumerGroups(ctx, s, name("nope"))
		isErr(t, "groups of a missing topic", err, client.ErrTopicNotFound)
		_, err = c.GetConsumerGroups(ctx, name("nope"), tp)
		isErr(t, "groups of a missing stream", err, client.ErrStreamNotFound)

		// One member owns every partition; joining twice changes nothing.
		ok(t, c.JoinConsumerGroup(ctx, s, tp, name("g1")))
		a1 := must[*client.Assignment](t)(c.SyncConsumerGroup(ctx, s, tp, name("g1")))
		ok(t, c.JoinConsumerGroup(ctx, s, tp, name("g1")))
		a2 := must[*client.Assignment](t)(c.SyncConsumerGroup(ctx, s, tp, id(0)))
		if !slices.Equal(a1.Partitions, []uint32{0, 1, 2}) || a2.Generation != a1.Generation || !slices.Equal(a2.Partitions, a1.Partitions) {
			t.Fatalf("assignments %+v then %+v", a1, a2)
		}
		g := must[*client.ConsumerGroupDetails](t)(c.GetConsumerGroup(ctx, s, tp, name("g1")))
		if g.MembersCount != 1 || len(g.Members) != 1 || !slices.Equal(g.Members[0].Partitions, []uint32{0, 1, 2}) {
			t.Fatalf("group with one member %+v", g)
		}
		if me := must[*client.ClientDetails](t)(c.GetMe(ctx)); len(me.Groups) != 1 || me.Groups[0].GroupID != 0 {
			t.Fatalf("me in a group %+v", me)
		}
		// Partitions added later are assigned too.
		ok(t, c.CreatePartitions(ctx, s, tp, 1))
		a3 := must[*client.Assignment](t)(c.SyncConsumerGroup(ctx, s, tp, name("g1")))
		if a3.Generation <= a2.Generation || !slices.Equal(a3.Partitions, []uint32{0, 1, 2, 3}) {
			t.Fatalf("assignment after adding a partition %+v", a3)
		}
		ok(t, c.DeletePartitions(ctx, s, tp, 1))
		if a := must[*client.Assignment](t)(c.SyncConsumerGroup(ctx, s, tp, name("g1"))); !slices.Equal(a.Partitions, []uint32{0, 1, 2}) {
			t.Fatalf("assignment after deleting a partition %+v", a)
		}

		// Group polls: the owner polls; another client gets the resync
		// sentinel, not an error.
		sendN(t, c, s, tp, 1, 3, "m")
		gp := client.PollRequest{Consumer: client.GroupConsumer(name("g1")), Stream: s, Topic: tp, Partition: client.InPartition(1),
			Strategy: client.NextStrategy(), Count: 10, AutoCommit: true}
		if pm := poll(t, c, gp); len(pm.Messages) != 3 || pm.PartitionID != 1 {
			t.Fatalf("owner's group poll %+v", pm)
		}
		other := n.root()
		if pm := poll(t, other, gp); pm.PartitionID != client.PollResyncPartition || len(pm.Messages) != 0 {
			t.Fatalf("non-member's group poll %+v", pm)
		}
		for what, req := range map[string]client.PollRequest{
			"missing group":  {Consumer: client.GroupConsumer(name("nope")), Stream: s, Topic: tp, Partition: client.InPartition(0), Strategy: client.FirstStrategy(), Count: 1},
			"missing topic":  {Consumer: client.GroupConsumer(name("g1")), Stream: s, Topic: name("nope"), Partition: client.InPartition(0), Strategy: client.FirstStrategy(), Count: 1},
			"missing stream": {Consumer: client.GroupConsumer(name("g1")), Stream: name("nope"), Topic: tp, Partition: client.InPartition(0), Strategy: client.FirstStrategy(), Count: 1},
			"missing part":   {Consumer: client.GroupConsumer(name("g1")), Stream: s, Topic: tp, Partition: client.InPartition(9), Strategy: client.FirstStrategy(), Count: 1},
		} {
			if pm := poll(t, c, req); pm.PartitionID != client.PollResyncPartition || len(pm.Messages) != 0 {
				t.Fatalf("group poll of a %s: %+v", what, pm)
			}
		}
		// A group poll without a partition, as the server sees it (the
		// client orchestrates those): prefix only, partition 0.
		raw := wire.PollMessagesRequest{Consumer: client.GroupConsumer(name("g1")), Stream: s, Topic: tp,
			Strategy: client.NextStrategy(), Count: 10}
		var rep wire.PollReply
		if err := rep.Decode(must[[]byte](t)(c.Do(ctx, wire.CmdPollMessages, raw.AppendTo(nil)))); err != nil ||
			rep.PartitionID != 0 || rep.MessagesCount != 0 || len(rep.Batches) != 0 {
			t.Fatalf("raw group poll without a partition: %+v %v", rep, err)
		}
		// The client's group poll of a group it cannot join.
		_, err = other.PollMessages(ctx, client.PollRequest{Consumer: client.GroupConsumer(name("nope")), Stream: s, Topic: tp,
			Strategy: client.NextStrategy(), Count: 1})
		isErr(t, "group poll of a missing group", err, client.ErrConsumerGroupNotFound)

		// Leave.
		ok(t, c.LeaveConsumerGroup(ctx, s, tp, name("g1")))
		isErr(t, "leave twice", c.LeaveConsumerGroup(ctx, s, tp, name("g1")), client.ErrConsumerGroupMemberNotFound)
		_, err = c.SyncConsumerGroup(ctx, s, tp, name("g1"))
		isErr(t, "sync after leaving", err, client.ErrConsumerGroupMemberNotFound)
		if g := must[*client.ConsumerGroupDetails](t)(c.GetConsumerGroup(ctx, s, tp, name("g1"))); g.MembersCount != 0 {
			t.Fatalf("group after the only member left %+v", g)
		}
		// After an explicit leave the client's group poll does not join.
		_, err = c.PollMessages(ctx, client.PollRequest{Consumer: client.GroupConsumer(name("g1")), Stream: s, Topic: tp,
			Strategy: client.NextStrategy(), Count: 1})
		isErr(t, "group poll after leaving", err, client.ErrConsumerGroupMemberNotFound)
		if g := must[*client.ConsumerGroupDetails](t)(c.GetConsumerGroup(ctx, s, tp, name("g1"))); g.MembersCount != 0 {
			t.Fatalf("a group poll after leaving joined again: %+v", g)
		}
		isErr(t, "join a missing group", c.JoinConsumerGroup(ctx, s, tp, name("nope")), client.ErrConsumerGroupNotFound)
		isErr(t, "join on a missing topic", c.JoinConsumerGroup(ctx, s, name("nope"), id(0)), client.ErrTopicNotFound)
		isErr(t, "join in a missing stream", c.JoinConsumerGroup(ctx, name("nope"), tp, id(0)), client.ErrStreamNotFound)
		isErr(t, "leave a missing group", c.LeaveConsumerGroup(ctx, s, tp, name("nope")), client.ErrConsumerGroupNotFound)
		isErr(t, "leave on a missing topic", c.LeaveConsumerGroup(ctx, s, name("nope"), id(0)), client.ErrTopicNotFound)
		isErr(t, "leave in a missing stream", c.LeaveConsumerGroup(ctx, name("nope"), tp, id(0)), client.ErrStreamNotFound)
		_, err = c.SyncConsumerGroup(ctx, s, tp, name("nope"))
		isErr(t, "sync a missing group", err, client.ErrConsumerGroupMemberNotFound)

		// Logging out and disconnecting leave the group.
		ok(t, other.JoinConsumerGroup(ctx, s, tp, name("g1")))
		ok(t, other.Logout(ctx))
		if g := must[*client.ConsumerGroupDetails](t)(c.GetConsumerGroup(ctx, s, tp, name("g1"))); g.MembersCount != 0 {
			t.Fatalf("group after its member logged out %+v", g)
		}
		must[*client.LoginInfo](t)(other.LoginUser(ctx, rootUser, rootPass))
		gone := n.root()
		ok(t, gone.JoinConsumerGroup(ctx, s, tp, name("g1")))
		ok(t, gone.Close())
		eventually(t, "a closed connection leaves its group", func() bool {
			return must[*client.ConsumerGroupDetails](t)(c.GetConsumerGroup(ctx, s, tp, name("g1"))).MembersCount == 0
		})

		// Delete: ids are never reused; the group's offsets go with it.
		ok(t, other.JoinConsumerGroup(ctx, s, tp, name("g2")))
		ok(t, c.DeleteConsumerGroup(ctx, s, tp, name("g2")))
		isErr(t, "delete twice", c.DeleteConsumerGroup(ctx, s, tp, name("g2")), client.ErrConsumerGroupNotFound)
		isErr(t, "delete on a missing topic", c.DeleteConsumerGroup(ctx, s, name("nope"), id(0)), client.ErrTopicNotFound)
		isErr(t, "delete in a missing stream", c.DeleteConsumerGroup(ctx, name("nope"), tp, id(0)), client.ErrStreamNotFound)
		_, err = other.SyncConsumerGroup(ctx, s, tp, id(1))
		isErr(t, "sync a deleted group", err, client.ErrConsumerGroupMemberNotFound)
		if me := must[*client.ClientDetails](t)(other.GetMe(ctx)); len(me.Groups) != 0 {
			t.Fatalf("member of a deleted group: %+v", me.Groups)
		}
		if g3 := must[*client.ConsumerGroupDetails](t)(c.CreateConsumerGroup(ctx, s, tp, "g2")); g3.ID != 2 {
			t.Fatalf("re-created group got id %d", g3.ID)
		}
		if o := must[*client.ConsumerOffsetInfo](t)(c.GetConsumerOffset(ctx, client.GroupConsumer(name("g1")), s, tp, client.InPartition(1))); o == nil || o.StoredOffset != 2 {
			t.Fatalf("g1's offset %+v", o)
		}
		ok(t, c.DeleteConsumerGroup(ctx, s, tp, name("g1")))
		must[*client.ConsumerGroupDetails](t)(c.CreateConsumerGroup(ctx, s, tp, "g1"))
		if o := must[*client.ConsumerOffsetInfo](t)(c.GetConsumerOffset(ctx, client.GroupConsumer(name("g1")), s, tp, client.InPartition(1))); o != nil {
			t.Fatalf("a new group inherits the offset of a deleted one of the same name: %+v", o)
		}
	})
}

// TestGroupRebalance runs a group of three members over six partitions:
// the assignment is even and covers every partition once, members leave
// and disconnect while consuming, and the client's group polls consume
// every message exactly once with auto-commit.
func TestGroupRebalance(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		admin := n.root()
		const partitions = 6
		s, tp, g := name("s"), name("t"), name("g")
		must[*client.StreamDetails](t)(admin.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(admin.CreateTopic(ctx, s, "t", partitions, client.TopicSettings{}))
		must[*client.ConsumerGroupDetails](t)(admin.CreateConsumerGroup(ctx, s, tp, "g"))

		members := []*client.Client{n.root(), n.root(), n.root()}
		for _, m := range members {
			ok(t, m.JoinConsumerGroup(ctx, s, tp, g))
		}
		checkSpread := func(want int) map[uint32][]uint32 {
			t.Helper()
			gd := must[*client.ConsumerGroupDetails](t)(admin.GetConsumerGroup(ctx, s, tp, g))
			if len(gd.Members) != want {
				t.Fatalf("%d members, want %d: %+v", len(gd.Members), want, gd)
			}
			owner := map[uint32]uint32{}
			byMember := map[uint32][]uint32{}
			for _, m := range gd.Members {
				if len(m.Partitions) != partitions/want {
					t.Fatalf("uneven assignment %+v", gd.Members)
				}
				for _, pt := range m.Partitions {
					if prev, dup := owner[pt]; dup {
						t.Fatalf("partition %d owned by members %d and %d", pt, prev, m.ID)
					}
					owner[pt] = m.ID
				}
				byMember[m.ID] = m.Partitions
			}
			if len(owner) != partitions {
				t.Fatalf("partitions owned: %v", owner)
			}
			return byMember
		}
		byMember := checkSpread(3)
		// Each member's sync agrees with the group's view.
		var synced [][]uint32
		for _, m := range members {
			a := must[*client.Assignment](t)(m.SyncConsumerGroup(ctx, s, tp, g))
			synced = append(synced, a.Partitions)
		}
		for _, parts := range byMember {
			if !slices.ContainsFunc(synced, func(sp []uint32) bool { return slices.Equal(sp, parts) }) {
				t.Fatalf("members synced %v, group says %v", synced, byMember)
			}
		}

		// 600 messages over the partitions, in batches of 10.
		const total = 600
		for i := range total / 10 {
			msgs := make([]client.Message, 10)
			for j := range msgs {
				msgs[j] = client.NewMessage(fmt.Appendf(nil, "m%d", i*10+j))
			}
			must[[]client.SendConfirmation](t)(admin.SendMessages(ctx, s, tp, client.Balanced(), msgs))
		}

		// Consume with the client's group polls from three goroutines;
		// member 2 leaves after some polls, member 1 disconnects after some
		// more, member 0 consumes the rest.
		var mu sync.Mutex
		seen := map[string]int{}
		count := 0
		done := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, len(members))
		consume := func(i int, m *client.Client, stopAfter int, stop func()) {
			defer wg.Done()
			polls := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				pm, err := m.PollMessages(ctx, client.PollRequest{Consumer: client.GroupConsumer(g), Stream: s, Topic: tp,
					Strategy: client.NextStrategy(), Count: 7, AutoCommit: true})
				if err != nil {
					errs <- fmt.Errorf("member %d: %w", i, err)
					return
				}
				mu.Lock()
				for _, msg := range pm.Messages {
					seen[fmt.Sprintf("%d/%d", pm.PartitionID, msg.Offset)]++
					count++
				}
				if count >= total {
					select {
					case <-done:
					default:
						close(done)
					}
				}
				mu.Unlock()
				polls++
				if stopAfter > 0 && polls == stopAfter {
					stop()
					return
				}
				if len(pm.Messages) == 0 {
					time.Sleep(5 * time.Millisecond) // nothing to do yet: do not spin
				}
			}
		}
		wg.Add(3)
		go consume(0, members[0], 0, nil)
		go consume(1, members[1], 12, func() { _ = members[1].Close() })
		go consume(2, members[2], 6, func() {
			if err := members[2].LeaveConsumerGroup(context.Background(), s, tp, g); err != nil {
				errs <- fmt.Errorf("leave: %w", err)
			}
		})
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			mu.Lock()
			t.Errorf("consumed %d of %d messages in 60s", count, total)
			mu.Unlock()
			close(done)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if count != total || len(seen) != total {
			t.Fatalf("consumed %d messages, %d distinct; want %d once each", count, len(seen), total)
		}
		for k, v := range seen {
			if v != 1 {
				t.Fatalf("message %s consumed %d times", k, v)
			}
		}
		// One member left, owning everything; its offsets are at the end.
		eventually(t, "disconnected member removed", func() bool {
			gd := must[*client.ConsumerGroupDetails](t)(admin.GetConsumerGroup(ctx, s, tp, g))
			return len(gd.Members) == 1
		})
		checkSpread(1)
		for pt := range uint32(partitions) {
			o := must[*client.ConsumerOffsetInfo](t)(admin.GetConsumerOffset(ctx, client.GroupConsumer(g), s, tp, client.InPartition(pt)))
			if o == nil || o.StoredOffset != o.CurrentOffset || o.CurrentOffset != total/partitions-1 {
				t.Fatalf("partition %d: group offset %+v", pt, o)
			}
		}
		// A new member gets half; the group keeps consuming nothing twice.
		late := n.root()
		ok(t, late.JoinConsumerGroup(ctx, s, tp, g))
		checkSpread(2)
		pm := poll(t, late, client.PollRequest{Consumer: client.GroupConsumer(g), Stream: s, Topic: tp,
			Strategy: client.NextStrategy(), Count: 100, AutoCommit: true})
		if len(pm.Messages) != 0 || pm.PartitionID >= partitions {
			t.Fatalf("late member polled %d messages from partition %d", len(pm.Messages), pm.PartitionID)
		}
	})
}
