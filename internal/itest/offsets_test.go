package itest

import (
	"testing"

	"github.com/shoalstream/shoal/client"
)

// TestConsumerOffsets covers storing, reading and deleting consumer
// offsets with both ack levels, and every error of those commands.
func TestConsumerOffsets(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "t", 3, client.TopicSettings{}))
		must[*client.ConsumerGroupDetails](t)(c.CreateConsumerGroup(ctx, name("s"), name("t"), "g"))
		sendN(t, c, name("s"), name("t"), 0, 10, "m")
		sendN(t, c, name("s"), name("t"), 1, 2, "m")
		s, tp := name("s"), name("t")
		p0, p1 := client.InPartition(0), client.InPartition(1)

		get := func(cons client.Consumer, part client.OptionalPartition) *client.ConsumerOffsetInfo {
			t.Helper()
			o, err := c.GetConsumerOffset(ctx, cons, s, tp, part)
			if err != nil {
				t.Fatalf("get offset: %v", err)
			}
			return o
		}
		for _, tc := range []struct {
			cons client.Consumer
			ack  client.AckLevel
		}{
			{client.SingleConsumer(id(1)), client.AckQuorum},
			{client.SingleConsumer(id(2)), client.AckNone},
			{client.SingleConsumer(name("named-consumer")), client.AckQuorum},
		} {
			if o := get(tc.cons, p0); o != nil {
				t.Fatalf("offset before any store: %+v", o)
			}
			ok(t, c.StoreConsumerOffset(ctx, tc.cons, s, tp, p0, 4, tc.ack))
			if o := get(tc.cons, p0); o == nil || *o != (client.ConsumerOffsetInfo{PartitionID: 0, CurrentOffset: 9, StoredOffset: 4}) {
				t.Fatalf("%v: stored offset %+v", tc.cons.ID, o)
			}
			// A plain overwrite: it may move back.
			ok(t, c.StoreConsumerOffset(ctx, tc.cons, s, tp, p0, 2, tc.ack))
			if o := get(tc.cons, p0); o == nil || o.StoredOffset != 2 {
				t.Fatalf("%v: offset moved back %+v", tc.cons.ID, o)
			}
			// Next resumes after it.
			pm := poll(t, c, client.PollRequest{Consumer: tc.cons, Stream: s, Topic: tp, Partition: p0, Strategy: client.NextStrategy(), Count: 2})
			if got := offsets(pm.Messages); len(got) != 2 || got[0] != 3 {
				t.Fatalf("%v: next after offset 2: %v", tc.cons.ID, got)
			}
			// Offsets are per partition.
			if o := get(tc.cons, p1); o != nil {
				t.Fatalf("%v: offset on partition 1: %+v", tc.cons.ID, o)
			}
			ok(t, c.DeleteConsumerOffset(ctx, tc.cons, s, tp, p0, tc.ack))
			if o := get(tc.cons, p0); o != nil {
				t.Fatalf("%v: offset after delete: %+v", tc.cons.ID, o)
			}
			isErr(t, "delete a deleted offset", c.DeleteConsumerOffset(ctx, tc.cons, s, tp, p0, tc.ack), client.ErrConsumerOffsetNotFound)
		}
		// Without a partition, a read is of partition 0.
		one := client.SingleConsumer(id(1))
		ok(t, c.StoreConsumerOffset(ctx, one, s, tp, p0, 9, client.AckQuorum))
		if o := get(one, client.AnyPartition()); o == nil || o.PartitionID != 0 || o.StoredOffset != 9 {
			t.Fatalf("offset without a partition: %+v", o)
		}

		// Reads of unknown things are "nothing stored", except a missing
		// partition of an existing topic.
		for what, req := range map[string][3]client.Identifier{
			"unknown stream": {name("nope"), tp, name("g")},
			"unknown topic":  {s, name("nope"), name("g")},
			"unknown group":  {s, tp, name("nope")},
		} {
			o, err := c.GetConsumerOffset(ctx, client.GroupConsumer(req[2]), req[0], req[1], p0)
			if err != nil || o != nil {
				t.Fatalf("get offset, %s: %+v %v", what, o, err)
			}
			o, err = c.GetConsumerOffset(ctx, one, req[0], req[1], p0)
			if what != "unknown group" && (err != nil || o != nil) {
				t.Fatalf("get single offset, %s: %+v %v", what, o, err)
			}
		}
		_, err := c.GetConsumerOffset(ctx, one, s, tp, client.InPartition(3))
		isErr(t, "get offset of a missing partition", err, client.ErrPartitionNotFound)

		// Stores: within the partition, to a partition that exists.
		isErr(t, "store past the end", c.StoreConsumerOffset(ctx, one, s, tp, p0, 10, client.AckQuorum), client.ErrInvalidOffset)
		isErr(t, "store on an empty partition", c.StoreConsumerOffset(ctx, one, s, tp, client.InPartition(2), 0, client.AckQuorum), client.ErrInvalidOffset)
		isErr(t, "store without a partition", c.StoreConsumerOffset(ctx, one, s, tp, client.AnyPartition(), 0, client.AckQuorum), client.ErrResourceNotFound)
		isErr(t, "store to a missing partition", c.StoreConsumerOffset(ctx, one, s, tp, client.InPartition(3), 0, client.AckQuorum), client.ErrResourceNotFound)
		isErr(t, "store to a missing topic", c.StoreConsumerOffset(ctx, one, s, name("nope"), p0, 0, client.AckQuorum), client.ErrResourceNotFound)
		isErr(t, "store to a missing stream", c.StoreConsumerOffset(ctx, one, name("nope"), tp, p0, 0, client.AckQuorum), client.ErrResourceNotFound)
		isErr(t, "store for an unknown group", c.StoreConsumerOffset(ctx, client.GroupConsumer(name("nope")), s, tp, p0, 0, client.AckQuorum), client.ErrResourceNotFound)
		// A group offset needs the partition assigned to the caller.
		isErr(t, "store for a group the caller is not in", c.StoreConsumerOffset(ctx, client.GroupConsumer(name("g")), s, tp, p0, 1, client.AckQuorum), client.ErrResourceNotFound)
		// Deletes.
		isErr(t, "delete nothing stored", c.DeleteConsumerOffset(ctx, one, s, tp, p1, client.AckQuorum), client.ErrConsumerOffsetNotFound)
		isErr(t, "delete for an unknown group", c.DeleteConsumerOffset(ctx, client.GroupConsumer(name("nope")), s, tp, p0, client.AckQuorum), client.ErrResourceNotFound)
		isErr(t, "delete in an unknown stream", c.DeleteConsumerOffset(ctx, one, name("nope"), tp, p0, client.AckQuorum), client.ErrResourceNotFound)
		isErr(t, "delete in an unknown topic", c.DeleteConsumerOffset(ctx, one, s, name("nope"), p0, client.AckNone), client.ErrResourceNotFound)
		isErr(t, "delete on a missing partition", c.DeleteConsumerOffset(ctx, one, s, tp, client.InPartition(3), client.AckQuorum), client.ErrResourceNotFound)
		isErr(t, "delete without a partition", c.DeleteConsumerOffset(ctx, one, s, tp, client.AnyPartition(), client.AckQuorum), client.ErrResourceNotFound)

		// Group offsets: a member stores, reads and deletes them; anyone
		// may read them.
		member := n.root()
		ok(t, member.JoinConsumerGroup(ctx, s, tp, name("g")))
		g := client.GroupConsumer(name("g"))
		ok(t, member.StoreConsumerOffset(ctx, g, s, tp, p0, 5, client.AckQuorum))
		if o := get(g, p0); o == nil || o.StoredOffset != 5 {
			t.Fatalf("group offset read by a non-member: %+v", o)
		}
		if o := get(client.GroupConsumer(id(0)), p0); o == nil || o.StoredOffset != 5 {
			t.Fatalf("group offset by group id: %+v", o)
		}
		pm := poll(t, member, client.PollRequest{Consumer: g, Stream: s, Topic: tp, Partition: p0, Strategy: client.NextStrategy(), Count: 100, AutoCommit: true})
		if got := offsets(pm.Messages); len(got) != 4 || got[0] != 6 {
			t.Fatalf("group next after 5: %v", got)
		}
		eventually(t, "group auto-commit", func() bool { o := get(g, p0); return o != nil && o.StoredOffset == 9 })
		isErr(t, "a non-member deletes a group offset", c.DeleteConsumerOffset(ctx, g, s, tp, p0, client.AckQuorum), client.ErrResourceNotFound)
		ok(t, member.DeleteConsumerOffset(ctx, g, s, tp, p0, client.AckNone))
		isErr(t, "delete a deleted group offset", member.DeleteConsumerOffset(ctx, g, s, tp, p0, client.AckQuorum), client.ErrConsumerOffsetNotFound)
		// A single consumer's offsets and the group's are apart.
		if o := get(client.SingleConsumer(id(0)), p0); o != nil {
			t.Fatalf("consumer 0 sees the group's offset: %+v", o)
		}
	})
}
