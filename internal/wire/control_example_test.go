package wire_test

import (
	"fmt"

	"github.com/shoalstream/shoal/internal/wire"
)

// A client builds a CreateTopic body with typed options; the server
// decodes it and reads the options back.
func ExampleCreateTopicRequest() {
	body := wire.CreateTopicRequest{
		Stream:          wire.NamedID("orders"),
		PartitionsCount: 3,
		Name:            "events",
		Options: wire.Options{
			wire.StringKV("compression_algorithm", "gzip"),
			wire.Uint64KV("message_expiry", 3_600_000_000),
		},
	}.AppendTo(nil)

	var q wire.CreateTopicRequest
	if err := q.Decode(body); err != nil {
		fmt.Println(err)
		return
	}
	kv, _ := q.Options.Get("message_expiry")
	expiry, ok := kv.AsUint64()
	fmt.Println(q.Stream, q.PartitionsCount, q.Name, len(q.Options), expiry, ok)
	// Output: orders 3 events 2 3600000000 true
}

// A duplicate option key is a malformed body: InvalidCommand (3).
func ExampleOptions_Decode() {
	block := wire.Options{wire.BoolKV("enforce_fsync", true), wire.BoolKV("enforce_fsync", false)}.AppendTo(nil)
	var o wire.Options
	err := o.Decode(block)
	fmt.Println(wire.CodeOf(err), err)
	// Output: 3 invalid_command (3): duplicate option key "enforce_fsync"
}
