package itest

import (
	"bytes"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/broker"
)

// TestRetention checks that a topic's message expiry and max size delete
// its oldest sealed segments, and nothing of other topics.
func TestRetention(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{broker: func(o *broker.Options) { o.RetentionInterval = 50 * time.Millisecond }})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "expiring", 1, client.TopicSettings{MessageExpiry: 200_000})) // 200 ms
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "bounded", 2, client.TopicSettings{MaxTopicSize: 1 << 20,
			Extra: []client.KV{client.Uint64KV("segment_size", 1<<20)}}))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "kept", 1, client.TopicSettings{}))

		first := func(topic string, part uint32) uint64 {
			pm := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name(topic),
				Partition: client.InPartition(part), Strategy: client.FirstStrategy(), Count: 1})
			if len(pm.Messages) == 0 {
				return ^uint64(0)
			}
			return pm.Messages[0].Offset
		}

		// Expiry: a sealed segment goes once its newest message is older
		// than the expiry; the unsealed tail stays.
		sendN(t, c, name("s"), name("expiring"), 0, 5, "old")
		sendN(t, c, name("s"), name("kept"), 0, 5, "kept")
		ok(t, n.b.Log().Seal(ctx))
		sendN(t, c, name("s"), name("expiring"), 0, 2, "new")
		eventually(t, "expired segment deleted", func() bool { return first("expiring", 0) == 5 })
		if got := first("kept", 0); got != 0 {
			t.Fatalf("a topic without expiry lost messages: first offset %d", got)
		}

		// Size: 2 MB over two partitions, each batch sealed on its own; the
		// oldest go until the topic holds at most 1 MiB.
		big := bytes.Repeat([]byte("x"), 200_000)
		for i := range 10 {
			msgs := []client.Message{{Payload: big}, {Payload: big}}
			must[[]client.SendConfirmation](t)(c.SendMessages(ctx, name("s"), name("bounded"), client.PartitionID(uint32(i%2)), msgs))
			ok(t, n.b.Log().Seal(ctx))
		}
		eventually(t, "topic cut to its max size", func() bool {
			td := must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("bounded")))
			return td.SizeBytes <= 1<<20 && first("bounded", 0) > 0 && first("bounded", 1) > 0
		})
		td := must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("bounded")))
		if td.MessagesCount == 0 || td.Partitions[0].CurrentOffset != 9 || td.Partitions[1].CurrentOffset != 9 {
			t.Fatalf("bounded topic after retention %+v", td)
		}
		if got := first("kept", 0); got != 0 {
			t.Fatalf("a topic without a size limit lost messages: first offset %d", got)
		}
	})
}
