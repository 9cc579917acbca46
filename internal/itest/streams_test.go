package itest

import (
	"slices"
	"testing"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/wire"
)

// TestStreams covers stream commands and their errors.
func TestStreams(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()

		s0 := must[*client.StreamDetails](t)(c.CreateStream(ctx, "alpha"))
		s1 := must[*client.StreamDetails](t)(c.CreateStream(ctx, "beta"))
		if s0.ID != 0 || s1.ID != 1 || s0.Name != "alpha" || s0.TopicsCount != 0 || s0.CreatedAt == 0 {
			t.Fatalf("created streams %+v %+v", s0, s1)
		}
		_, err := c.CreateStream(ctx, "alpha")
		isErr(t, "duplicate stream", err, client.ErrStreamNameAlreadyExists)
		_, err = c.CreateStream(ctx, "opts", client.Uint32KV("anything", 1))
		isErr(t, "stream with an option", err, client.ErrUnsupportedOptionKey)

		for _, sid := range []client.Identifier{id(1), name("beta")} {
			got := must[*client.StreamDetails](t)(c.GetStream(ctx, sid))
			if got.ID != 1 || got.Name != "beta" {
				t.Fatalf("get stream %v: %+v", sid, got)
			}
		}
		_, err = c.GetStream(ctx, id(77))
		isErr(t, "get missing stream by id", err, client.ErrStreamNotFound)
		_, err = c.GetStream(ctx, name("nope"))
		isErr(t, "get missing stream by name", err, client.ErrStreamNotFound)

		ok(t, c.UpdateStream(ctx, name("beta"), "gamma"))
		if got := must[*client.StreamDetails](t)(c.GetStream(ctx, id(1))); got.Name != "gamma" {
			t.Fatalf("renamed stream: %+v", got)
		}
		isErr(t, "rename onto another stream", c.UpdateStream(ctx, id(1), "alpha"), client.ErrStreamNameAlreadyExists)
		isErr(t, "rename a missing stream", c.UpdateStream(ctx, id(9), "x"), client.ErrStreamNotFound)
		isErr(t, "update with an option", c.UpdateStream(ctx, id(1), "gamma", client.BoolKV("x", true)), client.ErrUnsupportedOptionKey)
		ok(t, c.UpdateStream(ctx, id(1), "gamma")) // the same name again

		// Sizes and counts follow the messages; purge keeps the topics.
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("alpha"), "t", 2, client.TopicSettings{}))
		sendN(t, c, name("alpha"), name("t"), 0, 3, "a")
		sendN(t, c, name("alpha"), name("t"), 1, 4, "b")
		got := must[*client.StreamDetails](t)(c.GetStream(ctx, name("alpha")))
		if got.TopicsCount != 1 || len(got.Topics) != 1 || got.MessagesCount != 7 || got.SizeBytes == 0 ||
			got.Topics[0].MessagesCount != 7 || got.Topics[0].PartitionsCount != 2 {
			t.Fatalf("stream with messages: %+v", got)
		}
		ok(t, c.PurgeStream(ctx, name("alpha")))
		got = must[*client.StreamDetails](t)(c.GetStream(ctx, name("alpha")))
		if got.TopicsCount != 1 || got.MessagesCount != 0 || got.SizeBytes != 0 {
			t.Fatalf("purged stream: %+v", got)
		}
		if pm := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("alpha"), Topic: name("t"),
			Partition: client.InPartition(1), Strategy: client.FirstStrategy(), Count: 10}); len(pm.Messages) != 0 {
			t.Fatalf("purged partition polled %d messages", len(pm.Messages))
		}
		// Offsets restart at 0 after a purge.
		if base := sendN(t, c, name("alpha"), name("t"), 1, 1, "c"); base != 0 {
			t.Fatalf("first offset after purge: %d", base)
		}
		isErr(t, "purge a missing stream", c.PurgeStream(ctx, name("nope")), client.ErrStreamNotFound)
		// Raw purge, as the SDK suites send it.
		must[[]byte](t)(c.Do(ctx, wire.CmdPurgeStream, wire.PurgeStreamRequest{Stream: id(0)}.AppendTo(nil)))

		list := must[[]client.Stream](t)(c.GetStreams(ctx))
		if len(list) != 2 || list[0].Name != "alpha" || list[1].Name != "gamma" {
			t.Fatalf("streams %+v", list)
		}
		ok(t, c.DeleteStream(ctx, name("alpha")))
		isErr(t, "delete a deleted stream", c.DeleteStream(ctx, name("alpha")), client.ErrStreamNotFound)
		isErr(t, "delete a missing stream", c.DeleteStream(ctx, id(5)), client.ErrStreamNotFound)
		_, err = c.GetTopic(ctx, name("alpha"), name("t"))
		isErr(t, "topic of a deleted stream", err, client.ErrTopicNotFound)
		// Ids are reused from the lowest free one.
		if s := must[*client.StreamDetails](t)(c.CreateStream(ctx, "delta")); s.ID != 0 {
			t.Fatalf("new stream after a delete got id %d", s.ID)
		}
		if s := must[*client.StreamDetails](t)(c.CreateStream(ctx, "epsilon")); s.ID != 2 {
			t.Fatalf("third stream got id %d", s.ID)
		}
	})
}

// TestTopics covers topic and partition commands, topic options and
// their errors.
func TestTopics(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))

		// Defaults: resolved values in the header, every key derived.
		def := must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "plain", 3, client.TopicSettings{}))
		if def.ID != 0 || def.PartitionsCount != 3 || len(def.Partitions) != 3 || def.MessageExpiry != client.ExpiryNever ||
			def.MaxTopicSize != client.MaxTopicSizeUnlimited || def.Compression != 1 || len(def.Options) != 0 {
			t.Fatalf("default topic %+v", def)
		}
		for i, pt := range def.Partitions {
			if pt.ID != uint32(i) || pt.CurrentOffset != 0 || pt.MessagesCount != 0 || pt.SegmentsCount < 1 {
				t.Fatalf("partition %d of a new topic: %+v", i, pt)
			}
		}
		if keys := optionKeys(def.DerivedOptions); !slices.Equal(keys, []string{"compression_algorithm", "enforce_fsync", "max_topic_size",
			"message_expiry", "messages_required_to_save", "preallocate_segments", "segment_size", "size_of_messages_required_to_save"}) {
			t.Fatalf("derived options of a default topic: %q", keys)
		}

		// Options round trip: typed keys, a String value stored in its
		// canonical kind, a 0 sentinel that stays derived.
		set := client.TopicSettings{
			Compression: client.CompressionGzip, MessageExpiry: 3_600_000_000, MaxTopicSize: 4 << 30,
			Extra: []client.KV{
				client.Uint64KV("segment_size", 0),
				client.StringKV("enforce_fsync", "true"),
				client.Uint32KV("messages_required_to_save", 500),
				client.StringKV("size_of_messages_required_to_save", "2 MiB"),
			},
		}
		td := must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "tuned", 2, set))
		if td.ID != 1 || td.Compression != 2 || td.MessageExpiry != 3_600_000_000 || td.MaxTopicSize != 4<<30 {
			t.Fatalf("tuned topic header %+v", td.TopicHeader)
		}
		wantExplicit := map[string]client.KV{
			"compression_algorithm":             client.StringKV("compression_algorithm", "gzip"),
			"enforce_fsync":                     client.BoolKV("enforce_fsync", true),
			"max_topic_size":                    client.Uint64KV("max_topic_size", 4<<30),
			"message_expiry":                    client.Uint64KV("message_expiry", 3_600_000_000),
			"messages_required_to_save":         client.Uint32KV("messages_required_to_save", 500),
			"size_of_messages_required_to_save": client.Uint64KV("size_of_messages_required_to_save", 2<<20),
		}
		checkOptions := func(what string, td *client.TopicDetails) {
			t.Helper()
			if len(td.Options) != len(wantExplicit) {
				t.Fatalf("%s: explicit options %q", what, optionKeys(td.Options))
			}
			for _, kv := range td.Options {
				w, found := wantExplicit[string(kv.Key)]
				if !found || kv.ValueKind != w.ValueKind || string(kv.Value) != string(w.Value) {
					t.Fatalf("%s: option %s = kind %d %x, want %+v", what, kv.Key, kv.ValueKind, kv.Value, w)
				}
			}
			if keys := optionKeys(td.DerivedOptions); !slices.Equal(keys, []string{"preallocate_segments", "segment_size"}) {
				t.Fatalf("%s: derived options %q", what, keys)
			}
			seg, _ := td.DerivedOptions.Get("segment_size")
			if v, _ := seg.AsUint64(); v != 1<<30 {
				t.Fatalf("%s: derived segment_size %d", what, v)
			}
		}
		checkOptions("create reply", td)
		checkOptions("get", must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("tuned"))))
		hs := must[[]client.TopicHeader](t)(c.GetTopics(ctx, name("s")))
		if len(hs) != 2 || hs[0].Name != "plain" || hs[1].Name != "tuned" || len(hs[1].Options) != len(wantExplicit) {
			t.Fatalf("topics %+v", hs)
		}
		if hs := must[[]client.TopicHeader](t)(c.GetTopics(ctx, name("nope"))); len(hs) != 0 {
			t.Fatalf("topics of a missing stream: %+v", hs)
		}

		// Updates patch the updatable keys and rename.
		ok(t, c.UpdateTopic(ctx, name("s"), name("tuned"), "tuned2", client.TopicSettings{MessageExpiry: 7_000_000}))
		up := must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), id(1)))
		if up.Name != "tuned2" || up.MessageExpiry != 7_000_000 || up.Compression != 2 || up.MaxTopicSize != 4<<30 {
			t.Fatalf("updated topic %+v", up.TopicHeader)
		}
		wantExplicit["message_expiry"] = client.Uint64KV("message_expiry", 7_000_000)
		checkOptions("after an update", up)
		isErr(t, "update a non-updatable key", c.UpdateTopic(ctx, name("s"), id(1), "tuned2",
			client.TopicSettings{Extra: []client.KV{client.Uint64KV("segment_size", 1<<20)}}), client.ErrUnsupportedOptionKey)
		isErr(t, "update an unknown key", c.UpdateTopic(ctx, name("s"), id(1), "tuned2",
			client.TopicSettings{Extra: []client.KV{client.Uint64KV("colour", 1)}}), client.ErrUnsupportedOptionKey)
		isErr(t, "update below the segment size", c.UpdateTopic(ctx, name("s"), id(1), "tuned2",
			client.TopicSettings{MaxTopicSize: 1 << 20}), client.ErrInvalidTopicSize)
		isErr(t, "update with a bad value", c.UpdateTopic(ctx, name("s"), id(1), "tuned2",
			client.TopicSettings{Extra: []client.KV{client.StringKV("compression_algorithm", "zip")}}), client.ErrInvalidOptionValue)
		isErr(t, "rename onto another topic", c.UpdateTopic(ctx, name("s"), id(1), "plain", client.TopicSettings{}), client.ErrTopicNameAlreadyExists)
		isErr(t, "update a missing topic", c.UpdateTopic(ctx, name("s"), id(9), "x", client.TopicSettings{}), client.ErrTopicNotFound)
		isErr(t, "update in a missing stream", c.UpdateTopic(ctx, name("nope"), id(0), "x", client.TopicSettings{}), client.ErrStreamNotFound)

		// Create errors.
		_, err := c.CreateTopic(ctx, name("s"), "plain", 1, client.TopicSettings{})
		isErr(t, "duplicate topic", err, client.ErrTopicNameAlreadyExists)
		_, err = c.CreateTopic(ctx, name("nope"), "x", 1, client.TopicSettings{})
		isErr(t, "topic in a missing stream", err, client.ErrStreamNotFound)
		_, err = c.CreateTopic(ctx, name("s"), "x", 1001, client.TopicSettings{})
		isErr(t, "1001 partitions", err, client.ErrTooManyPartitions)
		raw := wire.CreateTopicRequest{Stream: name("s"), PartitionsCount: 1001, Name: "x"}
		_, err = c.Do(ctx, wire.CmdCreateTopic, raw.AppendTo(nil))
		isErr(t, "1001 partitions, raw", err, client.ErrTooManyPartitions)
		_, err = c.CreateTopic(ctx, name("s"), "x", 1, client.TopicSettings{MaxTopicSize: 1 << 20})
		isErr(t, "max topic size below the segment size", err, client.ErrInvalidTopicSize)
		_, err = c.CreateTopic(ctx, name("s"), "x", 1, client.TopicSettings{Extra: []client.KV{client.Uint64KV("colour", 1)}})
		isErr(t, "unknown option", err, client.ErrUnsupportedOptionKey)
		_, err = c.CreateTopic(ctx, name("s"), "x", 1, client.TopicSettings{Extra: []client.KV{client.Uint32KV("messages_required_to_save", 0)}})
		isErr(t, "invalid option value", err, client.ErrInvalidOptionValue)
		_, err = c.CreateTopic(ctx, name("s"), "x", 1, client.TopicSettings{Extra: []client.KV{client.Uint64KV("segment_size", 1000)}})
		isErr(t, "segment size not a multiple of 512", err, client.ErrInvalidOptionValue)
		// Zero partitions is accepted.
		if z := must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "empty", 0, client.TopicSettings{})); z.PartitionsCount != 0 || len(z.Partitions) != 0 {
			t.Fatalf("topic with no partitions %+v", z)
		}

		// Reads of missing things.
		_, err = c.GetTopic(ctx, name("s"), name("nope"))
		isErr(t, "missing topic", err, client.ErrTopicNotFound)
		_, err = c.GetTopic(ctx, name("nope"), id(0))
		isErr(t, "topic of a missing stream", err, client.ErrTopicNotFound)

		// Partitions: appended and removed at the end.
		ok(t, c.CreatePartitions(ctx, name("s"), name("plain"), 2))
		pl := must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("plain")))
		if pl.PartitionsCount != 5 || len(pl.Partitions) != 5 || pl.Partitions[4].ID != 4 {
			t.Fatalf("after adding partitions %+v", pl)
		}
		sendN(t, c, name("s"), name("plain"), 4, 2, "p4")
		ok(t, c.DeletePartitions(ctx, name("s"), name("plain"), 2))
		pl = must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("plain")))
		if pl.PartitionsCount != 3 || len(pl.Partitions) != 3 || pl.MessagesCount != 0 {
			t.Fatalf("after deleting partitions %+v", pl)
		}
		// A re-created partition 4 starts empty.
		ok(t, c.CreatePartitions(ctx, name("s"), name("plain"), 2))
		if pm := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name("plain"),
			Partition: client.InPartition(4), Strategy: client.FirstStrategy(), Count: 10}); len(pm.Messages) != 0 || pm.CurrentOffset != 0 {
			t.Fatalf("re-created partition: %+v", pm)
		}
		isErr(t, "delete more partitions than exist", c.DeletePartitions(ctx, name("s"), name("plain"), 6), client.ErrInvalidPartitionsCount)
		isErr(t, "create 0 partitions", c.CreatePartitions(ctx, name("s"), name("plain"), 0), client.ErrTooManyPartitions)
		isErr(t, "delete 0 partitions", c.DeletePartitions(ctx, name("s"), name("plain"), 0), client.ErrTooManyPartitions)
		isErr(t, "create 1001 partitions", c.CreatePartitions(ctx, name("s"), name("plain"), 1001), client.ErrTooManyPartitions)
		isErr(t, "partitions of a missing topic", c.CreatePartitions(ctx, name("s"), name("nope"), 1), client.ErrTopicNotFound)
		isErr(t, "partitions in a missing stream", c.DeletePartitions(ctx, name("nope"), name("plain"), 1), client.ErrStreamNotFound)

		// Purge and delete.
		sendN(t, c, name("s"), name("plain"), 0, 3, "x")
		ok(t, c.PurgeTopic(ctx, name("s"), name("plain")))
		if pl := must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("plain"))); pl.MessagesCount != 0 || pl.PartitionsCount != 5 {
			t.Fatalf("purged topic %+v", pl.TopicHeader)
		}
		must[[]byte](t)(c.Do(ctx, wire.CmdPurgeTopic, wire.PurgeTopicRequest{Stream: name("s"), Topic: name("plain")}.AppendTo(nil)))
		isErr(t, "purge a missing topic", c.PurgeTopic(ctx, name("s"), name("nope")), client.ErrTopicNotFound)
		isErr(t, "purge in a missing stream", c.PurgeTopic(ctx, name("nope"), name("plain")), client.ErrStreamNotFound)
		ok(t, c.DeleteTopic(ctx, name("s"), name("plain")))
		isErr(t, "delete a deleted topic", c.DeleteTopic(ctx, name("s"), name("plain")), client.ErrTopicNotFound)
		isErr(t, "delete in a missing stream", c.DeleteTopic(ctx, name("nope"), id(0)), client.ErrStreamNotFound)
		// The lowest free id is reused.
		if r := must[*client.TopicDetails](t)(c.CreateTopic(ctx, id(0), "again", 1, client.TopicSettings{})); r.ID != 0 {
			t.Fatalf("re-created topic got id %d", r.ID)
		}
	})
}

// TestSegments covers DeleteSegments on sealed data.
func TestSegments(t *testing.T) {
	eachBackend(t, func(t *testing.T, p *place) {
		ctx := t.Context()
		n := start(t, p, config{})
		c := n.root()
		must[*client.StreamDetails](t)(c.CreateStream(ctx, "s"))
		must[*client.TopicDetails](t)(c.CreateTopic(ctx, name("s"), "t", 2, client.TopicSettings{}))

		// Three sealed segments of 10 messages each, and a tail of 5.
		for i := range 3 {
			sendN(t, c, name("s"), name("t"), 0, 10, "seg"+string(rune('a'+i)))
			ok(t, n.b.Log().Seal(ctx))
		}
		sendN(t, c, name("s"), name("t"), 0, 5, "tail")
		part := must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("t"))).Partitions[0]
		if part.SegmentsCount != 4 || part.MessagesCount != 35 || part.CurrentOffset != 34 {
			t.Fatalf("partition before deleting segments %+v", part)
		}
		ok(t, c.DeleteSegments(ctx, name("s"), name("t"), 0, 0)) // nothing
		ok(t, c.DeleteSegments(ctx, name("s"), name("t"), 0, 2))
		part = must[*client.TopicDetails](t)(c.GetTopic(ctx, name("s"), name("t"))).Partitions[0]
		if part.SegmentsCount != 2 || part.MessagesCount != 15 || part.CurrentOffset != 34 {
			t.Fatalf("partition after deleting 2 segments %+v", part)
		}
		pm := poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name("t"),
			Partition: client.InPartition(0), Strategy: client.OffsetStrategy(0), Count: 100})
		if len(pm.Messages) != 15 || pm.Messages[0].Offset != 20 || string(pm.Messages[0].Payload) != "segc-0" {
			t.Fatalf("poll after deleting segments: %d messages, first %+v", len(pm.Messages), pm.Messages[0])
		}
		// More than there are: every sealed segment goes, the tail stays.
		ok(t, c.DeleteSegments(ctx, name("s"), name("t"), 0, 100))
		pm = poll(t, c, client.PollRequest{Consumer: client.DefaultConsumer(), Stream: name("s"), Topic: name("t"),
			Partition: client.InPartition(0), Strategy: client.FirstStrategy(), Count: 100})
		if got := payloads(pm.Messages); len(got) != 5 || got[0] != "tail-0" {
			t.Fatalf("after deleting every sealed segment: %q", got)
		}
		// An empty partition has nothing to delete.
		ok(t, c.DeleteSegments(ctx, name("s"), name("t"), 1, 3))

		isErr(t, "segments of a missing partition", c.DeleteSegments(ctx, name("s"), name("t"), 7, 1), client.ErrPartitionNotFound)
		isErr(t, "segments of a missing topic", c.DeleteSegments(ctx, name("s"), name("x"), 0, 0), client.ErrTopicNotFound)
		isErr(t, "segments in a missing stream", c.DeleteSegments(ctx, name("x"), name("t"), 0, 0), client.ErrStreamNotFound)
	})
}

func optionKeys(o client.OptionsBlock) []string {
	var keys []string
	for _, kv := range o {
		keys = append(keys, string(kv.Key))
	}
	slices.Sort(keys)
	return keys
}
