package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The subtests of TestCLI about messages, consumers, users, tokens and
// contexts.

func testCLISend(t *testing.T, h *cliHarness) {
	h.ok(t, "stream", "create", "se-s")
	h.ok(t, "topic", "create", "se-s", "t", "-p", "3")

	has(t, h.ok(t, "message", "send", "se-s", "t", "--partition", "1", "a", "b"),
		"Sent 2 messages to topic 't' in stream 'se-s' (partition 1 offsets 0-1)")
	var res sendResult
	decode(t, h.ok(t, "message", "send", "se-s", "t", "-p", "2", "c", "-o", "json"), &res)
	if res.Messages != 1 || len(res.Batches) != 1 || res.Batches[0].Partition != 2 || res.Batches[0].BaseOffset != 0 || res.Batches[0].Count != 1 {
		t.Errorf("message send -o json: %+v", res)
	}
	// Lines of stdin, empty ones skipped, the last without a newline.
	decode(t, h.okWith(t, runOpts{stdin: "l1\nl2\n\nl3"}, "message", "send", "se-s", "t", "-p", "0", "-o", "json"), &res)
	if res.Messages != 3 {
		t.Errorf("3 lines of stdin sent %d messages", res.Messages)
	}
	// The password first, then the messages.
	has(t, h.okWith(t, runOpts{noCreds: true, stdin: "iggy\nm1\nm2\n"}, "message", "send", "se-s", "t", "-p", "0", "--username", "iggy", "--password-stdin"),
		"Sent 2 messages", "partition 0 offsets 3-4")
	// A file, line by line and whole.
	file := filepath.Join(t.TempDir(), "msgs.txt")
	if err := os.WriteFile(file, []byte("f1\r\nf2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	has(t, h.ok(t, "message", "send", "se-s", "t", "-p", "0", "--file", file), "Sent 2 messages", "offsets 5-6")
	has(t, h.ok(t, "message", "send", "se-s", "t", "-p", "0", "--file", file, "--whole"), "Sent 1 message", "offset 7")
	// Hex and base64 payloads, headers of every kind.
	h.okWith(t, runOpts{stdin: "68690a\n"}, "message", "send", "se-s", "t", "-p", "0", "--format", "hex")
	h.ok(t, "message", "send", "se-s", "t", "-p", "0", "--format", "base64", "AAH/",
		"--header", "s:string:web", "--header", "b:bool:true", "--header", "i:int8:-5", "--header", "u:uint64:18446744073709551615",
		"--header", "f:float32:1.5", "--header", "r:raw:beef", "--header", "big:int128:-170141183460469231731687303715884105728",
		"--header", "ubig:uint128:340282366920938463463374607431768211455", "--header", "x:int32:0x10")
	msgs := jsonLines(t, h.ok(t, "message", "poll", "se-s", "t", "-p", "0", "--offset", "7", "-n", "3", "-o", "json"))
	if len(msgs) != 3 {
		t.Fatalf("polled %d messages, want 3", len(msgs))
	}
	if msgs[0]["payload"] != "f1\r\nf2\n" || msgs[1]["payload"] != "hi\n" {
		t.Errorf("payloads: %q, %q", msgs[0]["payload"], msgs[1]["payload"])
	}
	hs := fmt.Sprint(msgs[2]["headers"])
	for _, want := range []string{"key:s kind:string value:web", "key:b kind:bool value:true", "key:i kind:int8 value:-5",
		"kind:uint64 value:1.8446744073709552e+19", "key:f kind:float32 value:1.5", "key:r kind:raw value:beef",
		"key:big kind:int128 value:-170141183460469231731687303715884105728",
		"key:ubig kind:uint128 value:340282366920938463463374607431768211455", "key:x kind:int32 value:16"} {
		if !strings.Contains(hs, want) {
			t.Errorf("headers lack %q: %s", want, hs)
		}
	}
	out := h.ok(t, "message", "poll", "se-s", "t", "-p", "0", "--offset", "8", "-n", "2", "--format", "base64")
	has(t, out, "HEADERS", "s=web", "b=true", "r=0xbeef", "AAH/", "aGkK")

	// The same key goes to the same partition.
	var k1, k2 sendResult
	decode(t, h.ok(t, "message", "send", "se-s", "t", "--key", "customer-42", "x", "-o", "json"), &k1)
	decode(t, h.ok(t, "message", "send", "se-s", "t", "--key", "customer-42", "y", "-o", "json"), &k2)
	if k1.Batches[0].Partition != k2.Batches[0].Partition {
		t.Errorf("one key, two partitions: %+v %+v", k1, k2)
	}
	// Without a partition or key, partitions take turns.
	decode(t, h.ok(t, "message", "send", "se-s", "t", "--batch-size", "1", "r1", "r2", "r3", "-o", "json"), &res)
	seen := map[uint32]bool{}
	for _, b := range res.Batches {
		seen[b.Partition] = true
	}
	if len(res.Batches) != 3 || len(seen) != 3 {
		t.Errorf("three balanced sends of one message: %+v", res)
	}

	h.fails(t, "stream 'none' not found", "message", "send", "none", "t", "x")
	h.fails(t, "topic 'none' in stream 'se-s' not found", "message", "send", "se-s", "none", "x")
	h.fails(t, "partition 7 of topic 't' in stream 'se-s' not found (it has 3 partitions)", "message", "send", "se-s", "t", "-p", "7", "x")
	h.fails(t, "give --partition or --key, not both", "message", "send", "se-s", "t", "-p", "1", "--key", "k", "x")
	h.fails(t, "no messages to send: give them as arguments, on standard input or with --file", "message", "send", "se-s", "t")
	h.fails(t, "give messages as arguments or with --file/--whole, not both", "message", "send", "se-s", "t", "--file", file, "x")
	h.fails(t, `header "k:int8:300": "300" is not a valid int8`, "message", "send", "se-s", "t", "--header", "k:int8:300", "x")
	h.fails(t, `header "k:str:v": unknown type "str"`, "message", "send", "se-s", "t", "--header", "k:str:v", "x")
	h.fails(t, `header "kv": want KEY:TYPE:VALUE (types: string, bool, int8…int128, uint8…uint128, float32, float64, raw as hex)`,
		"message", "send", "se-s", "t", "--header", "kv", "x")
	h.fails(t, "message 1: not hex: encoding/hex: invalid byte: U+007A 'z'", "message", "send", "se-s", "t", "--format", "hex", "zz")
	h.fails(t, `unknown payload format "yaml": use text, hex or base64`, "message", "send", "se-s", "t", "--format", "yaml", "x")
	h.fails(t, "invalid message payload length: message 0 has an empty payload", "message", "send", "se-s", "t", "")
}

func testCLIPoll(t *testing.T, h *cliHarness) {
	h.ok(t, "stream", "create", "po-s")
	h.ok(t, "topic", "create", "po-s", "t")
	before := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	h.ok(t, "message", "send", "po-s", "t", "m0", "m1", "m2", "m3", "m4")

	payloads := func(out string) string {
		var ps []string
		for _, m := range jsonLines(t, out) {
			ps = append(ps, fmt.Sprintf("%v@%v", m["payload"], m["offset"]))
		}
		return strings.Join(ps, " ")
	}
	out := h.ok(t, "message", "poll", "po-s", "t", "-n", "2")
	has(t, out, "OFFSET", "TIMESTAMP", "PAYLOAD", "m0", "m1")
	if strings.Contains(out, "m2") || strings.Contains(out, "HEADERS") {
		t.Errorf("poll -n 2 (first):\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--first", "-n", "2"}, "m0@0 m1@1"},
		{[]string{"--offset", "3"}, "m3@3 m4@4"},
		{[]string{"--last", "-n", "2"}, "m3@3 m4@4"},
		{[]string{"--timestamp", before, "-n", "1"}, "m0@0"},
		{[]string{"--timestamp", "1h", "-n", "1"}, "m0@0"},
		{[]string{"--timestamp", "4102444800000000"}, ""},
		{[]string{"--offset", "9"}, ""},
		{[]string{"--consumer", "c1", "--next", "--auto-commit", "-n", "2"}, "m0@0 m1@1"},
		{[]string{"--consumer", "c1", "--next", "--auto-commit", "-n", "2"}, "m2@2 m3@3"},
		{[]string{"--consumer", "c1", "--next", "-n", "2"}, "m4@4"},
		{[]string{"--consumer", "c1", "--next", "-n", "2"}, "m4@4"},
	} {
		if got := payloads(h.ok(t, append([]string{"message", "poll", "po-s", "t", "-p", "0", "-o", "json"}, c.args...)...)); got != c.want {
			t.Errorf("poll %v: %q, want %q", c.args, got, c.want)
		}
	}
	has(t, h.ok(t, "message", "poll", "po-s", "t", "--offset", "9"), "No messages.")
	has(t, h.ok(t, "message", "poll", "po-s", "t", "--offset", "0", "-n", "1", "--format", "hex"), "6d30")
	has(t, h.ok(t, "message", "poll", "po-s", "t", "--offset", "0", "-n", "1", "--format", "base64"), "bTA=")
	var off offsetView
	decode(t, h.ok(t, "consumer-offset", "get", "po-s", "t", "--consumer", "c1", "-o", "json"), &off)
	if off.StoredOffset != 3 || off.CurrentOffset != 4 {
		t.Errorf("after two auto-committed polls: %+v", off)
	}

	// A consumer group: it joins, and polls its partitions.
	h.ok(t, "consumer-group", "create", "po-s", "t", "g")
	out = h.ok(t, "message", "poll", "po-s", "t", "--group", "g", "-n", "3", "--auto-commit")
	has(t, out, "PARTITION", "m0", "m2")
	if got := payloads(h.ok(t, "message", "poll", "po-s", "t", "--group", "g", "-n", "3", "--auto-commit", "-o", "json")); got != "m3@3 m4@4" {
		t.Errorf("second group poll: %q", got)
	}
	if got := payloads(h.ok(t, "message", "poll", "po-s", "t", "--group", "g", "-p", "0", "--first", "-n", "1", "-o", "json")); got != "m0@0" {
		t.Errorf("group poll of partition 0: %q", got)
	}

	h.fails(t, "give only one of --offset, --first, --last, --next and --timestamp", "message", "poll", "po-s", "t", "--first", "--last")
	h.fails(t, "give --consumer or --group, not both", "message", "poll", "po-s", "t", "--consumer", "1", "--group", "g")
	h.fails(t, "--count must be at least 1", "message", "poll", "po-s", "t", "-n", "0")
	h.fails(t, `--timestamp "soon": want RFC 3339 (2026-01-02T15:04:05Z), microseconds since the epoch, or a duration ago (15m)`,
		"message", "poll", "po-s", "t", "--timestamp", "soon")
	h.fails(t, "--follow with --group and no --partition needs --next and --auto-commit (the group's offsets say where each partition goes on)",
		"message", "poll", "po-s", "t", "--group", "g", "--follow")
	h.fails(t, "partition 5 of topic 't' in stream 'po-s' not found (it has 1 partition)", "message", "poll", "po-s", "t", "-p", "5")
	h.fails(t, "stream 'none' not found", "message", "poll", "none", "t")
	h.fails(t, "topic 'none' in stream 'po-s' not found", "message", "poll", "po-s", "none")
	h.fails(t, "consumer group 'nog' of topic 't' in stream 'po-s' not found", "message", "poll", "po-s", "t", "--group", "nog")
}

func testCLIFollow(t *testing.T, h *cliHarness) {
	h.ok(t, "stream", "create", "fo-s")
	h.ok(t, "topic", "create", "fo-s", "t", "-p", "2")
	h.ok(t, "message", "send", "fo-s", "t", "-p", "0", "old")

	// A single consumer on partition 0, from the first message.
	b := h.start(t, runOpts{}, "message", "poll", "fo-s", "t", "--follow", "-o", "json", "--interval", "20ms")
	b.waitLine(t, `"payload":"old"`)
	h.ok(t, "message", "send", "fo-s", "t", "-p", "0", "new1")
	b.waitLine(t, `"payload":"new1"`)
	h.ok(t, "message", "send", "fo-s", "t", "-p", "0", "new2", "new3")
	b.waitLine(t, `"payload":"new2"`)
	b.waitLine(t, `"payload":"new3"`)
	if code, rest := b.interrupt(t); code != 0 || rest != "" {
		t.Errorf("after SIGINT: exit %d, more output %q; stderr %s", code, rest, b.err.String())
	}

	// A group member following every partition, committing as it goes.
	h.ok(t, "consumer-group", "create", "fo-s", "t", "g")
	b = h.start(t, runOpts{}, "message", "poll", "fo-s", "t", "--group", "g", "--next", "--auto-commit", "--follow", "--interval", "20ms")
	if l := b.waitLine(t, "OFFSET"); !strings.HasPrefix(l, "PARTITION  OFFSET") {
		t.Errorf("follow table header: %q", l)
	}
	b.waitLine(t, "old")
	h.ok(t, "message", "send", "fo-s", "t", "-p", "1", "--header", "k:string:v", "p1-msg")
	if l := b.waitLine(t, "p1-msg"); !strings.HasPrefix(l, "1          0            ") || !strings.HasSuffix(l, " {k=v} p1-msg") {
		t.Errorf("followed row: %q", l)
	}
	if code, rest := b.interrupt(t); code != 0 || strings.Contains(rest, "OFFSET") {
		t.Errorf("group follow after SIGINT: exit %d, more output %q; stderr %s", code, rest, b.err.String())
	}
	var off offsetView
	decode(t, h.ok(t, "consumer-offset", "get", "fo-s", "t", "--group", "g", "-p", "1", "-o", "json"), &off)
	if off.StoredOffset != 0 {
		t.Errorf("the group's offset on partition 1: %+v", off)
	}
}

func testCLIOffsets(t *testing.T, h *cliHarness) {
	h.ok(t, "stream", "create", "of-s")
	h.ok(t, "topic", "create", "of-s", "t", "-p", "2")
	h.ok(t, "message", "send", "of-s", "t", "-p", "1", "a", "b", "c", "d", "e")

	has(t, h.ok(t, "consumer-offset", "set", "of-s", "t", "3", "--consumer", "5", "-p", "1"),
		"Stored offset 3 for consumer 5 on partition 1 of topic 't' in stream 'of-s'")
	has(t, h.ok(t, "consumer-offset", "get", "of-s", "t", "--consumer", "5", "-p", "1"), "Stored offset:   3", "Current offset:  4", "Lag:             1")
	var off offsetView
	decode(t, h.ok(t, "consumer-offset", "get", "of-s", "t", "--consumer", "5", "-p", "1", "-o", "json"), &off)
	if off.StoredOffset != 3 || off.CurrentOffset != 4 || off.Consumer != "5" || off.Partition != 1 {
		t.Errorf("consumer-offset get -o json: %+v", off)
	}
	h.fails(t, "no offset stored for consumer 6 on partition 0 of topic 't' in stream 'of-s'", "consumer-offset", "get", "of-s", "t", "--consumer", "6")
	h.fails(t, "stream 'none' not found", "consumer-offset", "get", "none", "t")
	h.fails(t, "topic 'none' in stream 'of-s' not found", "consumer-offset", "get", "of-s", "none")
	h.fails(t, "consumer group 'nog' of topic 't' in stream 'of-s' not found", "consumer-offset", "get", "of-s", "t", "--group", "nog")
	h.fails(t, "partition 9 of topic 't' in stream 'of-s' not found (it has 2 partitions)", "consumer-offset", "set", "of-s", "t", "1", "-p", "9")
	h.fails(t, `offset "x" is not a number from 0 to 18446744073709551615`, "consumer-offset", "set", "of-s", "t", "x")

	h.ok(t, "consumer-group", "create", "of-s", "t", "g")
	var done map[string]any
	decode(t, h.ok(t, "consumer-offset", "set", "of-s", "t", "2", "--group", "g", "-p", "1", "-o", "json"), &done)
	if done["ok"] != true || done["offset"] != float64(2) {
		t.Errorf("consumer-offset set -o json: %v", done)
	}
	decode(t, h.ok(t, "consumer-offset", "get", "of-s", "t", "--group", "g", "-p", "1", "-o", "json"), &off)
	if off.StoredOffset != 2 || off.Group != "g" {
		t.Errorf("group offset: %+v", off)
	}

	has(t, h.ok(t, "consumer-offset", "delete", "of-s", "t", "--consumer", "5", "-p", "1"), "Deleted the offset of consumer 5 on partition 1")
	h.fails(t, "no offset stored for consumer 5 on partition 1 of topic 't' in stream 'of-s'", "consumer-offset", "delete", "of-s", "t", "--consumer", "5", "-p", "1")
	decode(t, h.ok(t, "consumer-offset", "delete", "of-s", "t", "--group", "g", "-p", "1", "-o", "json"), &done)
	if done["ok"] != true {
		t.Errorf("consumer-offset delete -o json: %v", done)
	}
	h.fails(t, "consumer group 'nog' of topic 't' in stream 'of-s' not found", "consumer-offset", "delete", "of-s", "t", "--group", "nog")
}

func testCLIGroups(t *testing.T, h *cliHarness) {
	h.ok(t, "stream", "create", "gr-s")
	h.ok(t, "topic", "create", "gr-s", "t", "-p", "2")
	has(t, h.ok(t, "consumer-group", "create", "gr-s", "t", "g1"), "Created consumer group 'g1' (id 0) on topic 't' in stream 'gr-s'")
	var g groupView
	decode(t, h.ok(t, "consumer-group", "create", "gr-s", "t", "g2", "-o", "json"), &g)
	if g.Name != "g2" || g.ID != 1 || g.PartitionsCount != 2 {
		t.Errorf("consumer-group create -o json: %+v", g)
	}
	h.fails(t, "consumer group 'g1' already exists in topic 't' in stream 'gr-s'", "consumer-group", "create", "gr-s", "t", "g1")
	h.fails(t, "topic 'none' in stream 'gr-s' not found", "consumer-group", "create", "gr-s", "none", "g")

	has(t, h.ok(t, "consumer-group", "list", "gr-s", "t"), "g1", "g2", "MEMBERS")
	var gs []groupView
	decode(t, h.ok(t, "consumer-group", "list", "gr-s", "t", "-o", "json"), &gs)
	if len(gs) != 2 || gs[0].Name != "g1" {
		t.Errorf("consumer-group list -o json: %+v", gs)
	}
	h.fails(t, "stream 'none' not found", "consumer-group", "list", "none", "t")

	has(t, h.ok(t, "consumer-group", "get", "gr-s", "t", "g1"), "Name:", "g1", "Members:     0")
	h.fails(t, "consumer group 'nog' of topic 't' in stream 'gr-s' not found", "consumer-group", "get", "gr-s", "t", "nog")

	has(t, h.ok(t, "consumer-group", "join", "gr-s", "t", "g1"), "Joined consumer group 'g1' of topic 't' in stream 'gr-s': partitions 0,1")
	var a assignmentView
	decode(t, h.ok(t, "consumer-group", "join", "gr-s", "t", "g1", "-o", "json"), &a)
	if a.Group != "g1" || fmt.Sprint(a.Partitions) != "[0 1]" {
		t.Errorf("consumer-group join -o json: %+v", a)
	}
	h.fails(t, "consumer group 'nog' of topic 't' in stream 'gr-s' not found", "consumer-group", "join", "gr-s", "t", "nog")

	// Held membership shows in the group, and ends with a leave.
	b := h.start(t, runOpts{}, "consumer-group", "join", "gr-s", "t", "g1", "--hold")
	b.waitLine(t, "holding until interrupted")
	decode(t, h.ok(t, "consumer-group", "get", "gr-s", "t", "g1", "-o", "json"), &g)
	if g.MembersCount != 1 || len(g.Members) != 1 || fmt.Sprint(g.Members[0].Partitions) != "[0 1]" {
		t.Errorf("a held member: %+v", g)
	}
	if code, rest := b.interrupt(t); code != 0 || !strings.Contains(rest, "Left consumer group 'g1'") {
		t.Errorf("join --hold after SIGINT: exit %d, output %q, stderr %s", code, rest, b.err.String())
	}
	decode(t, h.ok(t, "consumer-group", "get", "gr-s", "t", "g1", "-o", "json"), &g)
	if g.MembersCount != 0 {
		t.Errorf("after leaving: %+v", g)
	}

	has(t, h.ok(t, "consumer-group", "delete", "gr-s", "t", "g1"), "Deleted consumer group 'g1' of topic 't' in stream 'gr-s'")
	h.fails(t, "consumer group 'g1' of topic 't' in stream 'gr-s' not found", "consumer-group", "delete", "gr-s", "t", "g1")
	h.fails(t, "stream 'none' not found", "consumer-group", "delete", "none", "t", "g1")
}

func testCLIUsers(t *testing.T, h *cliHarness) {
	h.ok(t, "stream", "create", "us-s")
	h.ok(t, "topic", "create", "us-s", "t")
	has(t, h.okWith(t, runOpts{stdin: "alice-pw-1\n"}, "user", "create", "us-alice", "--new-password-stdin",
		"--global", "read_streams,read_topics", "--stream", "us-s=poll_messages", "--topic", "us-s/t=all"), "Created user 'us-alice' (id ")
	var u userView
	decode(t, h.ok(t, "user", "get", "us-alice", "-o", "json"), &u)
	if u.Username != "us-alice" || u.Status != "active" || u.Permissions == nil ||
		fmt.Sprint(u.Permissions.Global) != "[read_streams read_topics]" || len(u.Permissions.Streams) != 1 ||
		fmt.Sprint(u.Permissions.Streams[0].Permissions) != "[poll_messages]" || len(u.Permissions.Streams[0].Topics) != 1 ||
		len(u.Permissions.Streams[0].Topics[0].Permissions) != 4 {
		t.Errorf("user get -o json: %+v", u)
	}
	has(t, h.ok(t, "user", "get", "us-alice"), "Username:", "us-alice", "read_streams, read_topics", "poll_messages",
		"manage_topic, read_topic, poll_messages, send_messages")
	var created userView
	decode(t, h.okWith(t, runOpts{stdin: "bob-pw\n"}, "user", "create", "us-bob", "--new-password-stdin", "--status", "inactive", "-o", "json"), &created)
	if created.Username != "us-bob" || created.Status != "inactive" || created.Permissions != nil {
		t.Errorf("user create -o json: %+v", created)
	}
	has(t, h.ok(t, "user", "list"), "USERNAME", "iggy", "us-alice", "us-bob")
	var us []userView
	decode(t, h.ok(t, "user", "list", "-o", "json"), &us)
	if len(us) < 3 || us[0].Username != "iggy" {
		t.Errorf("user list -o json: %+v", us)
	}

	h.failsWith(t, runOpts{stdin: "pw1234\n"}, "user 'us-alice' already exists", "user", "create", "us-alice", "--new-password-stdin")
	h.failsWith(t, runOpts{stdin: "pw1234\n"}, "invalid username 'ab': it must be 3 to 50 bytes", "user", "create", "ab", "--new-password-stdin")
	h.failsWith(t, runOpts{stdin: "pw\n"}, "invalid password: it must be 3 to 100 bytes", "user", "create", "us-carol", "--new-password-stdin")
	h.fails(t, "the new user's password is needed: use --new-password-stdin, or run on a terminal to be asked", "user", "create", "us-carol")
	h.failsWith(t, runOpts{stdin: "pw\n"}, `unknown permission "fly" (one of: all, manage_servers, read_servers, manage_users, read_users, manage_streams, read_streams, manage_topics, read_topics, poll_messages, send_messages)`,
		"user", "create", "us-carol", "--new-password-stdin", "--global", "fly")
	h.failsWith(t, runOpts{stdin: "pw\n"}, "stream 'none' not found", "user", "create", "us-carol", "--new-password-stdin", "--stream", "none=all")
	h.fails(t, "user 'nobody' not found", "user", "get", "nobody")
	h.fails(t, "user 'nobody' not found", "user", "delete", "nobody")
	h.fails(t, "the root user cannot be deleted", "user", "delete", "iggy")
	h.fails(t, "the root user's permissions cannot be changed", "user", "permissions", "0", "--global", "all")

	// Logging in as alice; her permissions hold.
	alice := runOpts{env: []string{"SHOAL_USERNAME=us-alice", "SHOAL_PASSWORD=alice-pw-1"}}
	has(t, h.okWith(t, alice, "stream", "list"), "us-s")
	h.failsWith(t, alice, "permission denied: the logged-in user may not do this", "stream", "create", "us-x")
	// An inactive user cannot log in; an active one can.
	h.failsWith(t, runOpts{env: []string{"SHOAL_USERNAME=us-bob", "SHOAL_PASSWORD=bob-pw"}},
		"login as 'us-bob' refused: invalid username or password, or the user is inactive (credentials from SHOAL_USERNAME)", "stream", "list")
	has(t, h.ok(t, "user", "update", "us-bob", "--status", "active"), "Updated user 'us-bob'")
	h.okWith(t, runOpts{env: []string{"SHOAL_USERNAME=us-bob", "SHOAL_PASSWORD=bob-pw"}}, "me")
	var done map[string]any
	decode(t, h.ok(t, "user", "update", "us-bob", "--new-username", "us-bobby", "-o", "json"), &done)
	if done["ok"] != true {
		t.Errorf("user update -o json: %v", done)
	}
	h.fails(t, "user 'us-alice' already exists", "user", "update", "us-bobby", "--new-username", "us-alice")
	h.fails(t, "nothing to change: give --new-username or --status", "user", "update", "us-bobby")
	h.fails(t, "user 'us-bob' not found", "user", "update", "us-bob", "--status", "inactive")

	// Passwords: current then new, from stdin.
	has(t, h.okWith(t, runOpts{stdin: "alice-pw-1\nalice-pw-2\n"}, "user", "password", "us-alice", "--current-password-stdin", "--new-password-stdin"),
		"Changed the password of user 'us-alice'")
	h.failsWith(t, runOpts{stdin: "wrong\nxyz123\n"}, "invalid credentials: the current password is wrong", "user", "password", "us-alice", "--current-password-stdin", "--new-password-stdin")
	h.fails(t, "no current password: use --current-password-stdin, or run on a terminal to be asked", "user", "password", "us-alice")
	alice.env[1] = "SHOAL_PASSWORD=alice-pw-2"
	h.okWith(t, alice, "me")

	// Permissions replaced, then removed.
	has(t, h.ok(t, "user", "permissions", "us-alice", "--global", "manage_streams"), "Updated the permissions of user 'us-alice'")
	h.okWith(t, alice, "stream", "create", "us-by-alice")
	decode(t, h.ok(t, "user", "permissions", "us-alice", "--none", "-o", "json"), &done)
	if done["ok"] != true {
		t.Errorf("user permissions -o json: %v", done)
	}
	decode(t, h.ok(t, "user", "get", "us-alice", "-o", "json"), &u)
	if u.Permissions != nil {
		t.Errorf("after --none: %+v", u.Permissions)
	}
	h.failsWith(t, alice, "permission denied: the logged-in user may not do this", "stream", "create", "us-y")
	h.fails(t, "give the permissions (--global, --stream, --topic), or --none to remove them all", "user", "permissions", "us-alice")
	h.fails(t, "user 'nobody' not found", "user", "permissions", "nobody", "--none")

	has(t, h.ok(t, "user", "delete", "us-alice"), "Deleted user 'us-alice'")
	decode(t, h.ok(t, "user", "delete", "us-bobby", "-o", "json"), &done)
	if done["ok"] != true {
		t.Errorf("user delete -o json: %v", done)
	}
}

func testCLIPATs(t *testing.T, h *cliHarness) {
	// Tokens of a user of its own, so that other subtests' tokens do not
	// show.
	h.okWith(t, runOpts{stdin: "pat-pw\n"}, "user", "create", "pat-user", "--new-password-stdin", "--global", "read_streams")
	as := runOpts{env: []string{"SHOAL_USERNAME=pat-user", "SHOAL_PASSWORD=pat-pw"}}

	r := h.run(t, as, "pat", "create", "p1", "--expiry", "1d")
	token := strings.TrimSpace(r.stdout)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || len(token) < 20 || !strings.Contains(r.stderr, "shown only this once") {
		t.Fatalf("pat create: %s", r)
	}
	var p patView
	decode(t, h.okWith(t, as, "pat", "create", "p2", "--expiry", "never", "-o", "json"), &p)
	if p.Name != "p2" || p.Token == "" || p.ExpiresAt != nil {
		t.Errorf("pat create -o json: %+v", p)
	}
	h.failsWith(t, as, "personal access token 'p1' already exists", "pat", "create", "p1")
	h.failsWith(t, as, `--expiry: "soon" is not a duration like 90m, 7d or 1d12h, nor 'never'`, "pat", "create", "p3", "--expiry", "soon")

	out := h.okWith(t, as, "pat", "list")
	has(t, out, "NAME", "p1", "p2", "never")
	var ps []patView
	decode(t, h.okWith(t, as, "pat", "list", "-o", "json"), &ps)
	if len(ps) != 2 || ps[0].Name != "p1" || ps[0].ExpiresAt == nil || ps[1].ExpiresAt != nil {
		t.Errorf("pat list -o json: %+v", ps)
	}
	exp, err := time.Parse(time.RFC3339, *ps[0].ExpiresAt)
	if err != nil || exp.Before(time.Now().Add(23*time.Hour)) || exp.After(time.Now().Add(25*time.Hour)) {
		t.Errorf("p1 expires at %v (%v), want in a day", exp, err)
	}

	// The token logs in, from the flag and from the environment.
	var me clientView
	decode(t, h.okWith(t, runOpts{noCreds: true}, "me", "--token", token, "-o", "json"), &me)
	if me.UserID == nil || *me.UserID == 0 {
		t.Errorf("me with the token: %+v", me)
	}
	h.okWith(t, runOpts{noCreds: true, env: []string{"SHOAL_TOKEN=" + token}}, "stream", "list")

	has(t, h.okWith(t, as, "pat", "delete", "p1"), "Deleted personal access token 'p1'")
	h.failsWith(t, as, "personal access token 'p1' not found", "pat", "delete", "p1")
	h.failsWith(t, runOpts{noCreds: true, env: []string{"SHOAL_TOKEN=" + token}},
		"login refused: the personal access token from SHOAL_TOKEN is invalid or expired; run 'shoal login' again", "stream", "list")
}

func testCLIContexts(t *testing.T, h *cliHarness) {
	cfg := t.TempDir()
	h.okWith(t, runOpts{stdin: "ctx-secret-pw\n"}, "user", "create", "ctx-user", "--new-password-stdin", "--global", "read_streams")
	o := runOpts{cfg: cfg, noCreds: true, noAddr: true}
	file := filepath.Join(cfg, "shoal", contextsFileName)

	h.failsWith(t, o, "who logs in? give --username (or set SHOAL_USERNAME)", "login", "--address", h.addr)
	h.failsWith(t, runOpts{cfg: cfg, noCreds: true, noAddr: true, stdin: "wrong\n"},
		"login as 'ctx-user' refused: invalid username or password, or the user is inactive (credentials from --username)",
		"login", "--address", h.addr, "--username", "ctx-user", "--password-stdin")
	if _, err := os.Stat(file); err == nil {
		t.Errorf("a failed login wrote %s", file)
	}

	out := h.okWith(t, runOpts{cfg: cfg, noCreds: true, noAddr: true, stdin: "ctx-secret-pw\n"},
		"login", "--address", h.addr, "--username", "ctx-user", "--password-stdin")
	has(t, out, "Logged in to "+h.addr+" as ctx-user; token 'shoal-cli-", "(expires: 30d)", `saved in context "default"`)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "ctx-secret-pw") || !strings.Contains(string(b), "token = ") {
		t.Errorf("contexts file:\n%s", b)
	}
	for path, want := range map[string]os.FileMode{file: 0o600, filepath.Dir(file): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}

	// Commands use the context's address and token.
	var me clientView
	decode(t, h.okWith(t, o, "me", "-o", "json"), &me)
	if me.UserID == nil || *me.UserID == 0 {
		t.Errorf("me through the context: %+v", me)
	}
	has(t, h.okWith(t, o, "context", "list"), "CURRENT", "*", "default", h.addr, "ctx-user", "yes")

	// A second context, pointing nowhere.
	has(t, h.okWith(t, o, "context", "create", "other", "--address", "127.0.0.1:1", "--username", "someone"),
		`Created context "other" in `+file)
	var cxs []contextView
	decode(t, h.okWith(t, o, "context", "list", "-o", "json"), &cxs)
	if len(cxs) != 2 || cxs[0].Name != "default" || !cxs[0].Current || !cxs[0].LoggedIn || cxs[1].Name != "other" || cxs[1].Current || cxs[1].LoggedIn {
		t.Errorf("context list -o json: %+v", cxs)
	}
	h.failsWith(t, o, "cannot connect to 127.0.0.1:1: connection refused", "ping", "--context", "other")
	h.okWith(t, o, "ping")
	has(t, h.okWith(t, o, "context", "use", "other"), `Now using context "other"`)
	h.failsWith(t, o, "cannot connect to 127.0.0.1:1: connection refused", "ping")
	// The environment wins over the context, and flags over both.
	h.okWith(t, runOpts{cfg: cfg, noCreds: true}, "ping")
	h.failsWith(t, runOpts{cfg: cfg, noCreds: true}, "cannot connect to 127.0.0.1:1: connection refused", "ping", "--address", "127.0.0.1:1")
	// The other context's username needs a password.
	h.failsWith(t, runOpts{cfg: cfg, noCreds: true}, "no password for someone: use --password-stdin, set SHOAL_PASSWORD, or run on a terminal to be asked", "stream", "list")
	var done map[string]any
	decode(t, h.okWith(t, o, "context", "use", "default", "-o", "json"), &done)
	if done["ok"] != true || done["context"] != "default" {
		t.Errorf("context use -o json: %v", done)
	}

	h.failsWith(t, o, `context "other" already exists: delete it first, or log in to it with 'shoal login --context other'`, "context", "create", "other")
	h.failsWith(t, o, "a context stores no password or token given on the command line: create it, then run 'shoal login'", "context", "create", "x", "--token", "abc")
	h.failsWith(t, o, `invalid context name "a b": no spaces or control characters`, "context", "create", "a b")
	h.failsWith(t, o, `no context named "nope" (see 'shoal context list')`, "context", "use", "nope")
	h.failsWith(t, o, `no context named "nope" (see 'shoal context list')`, "context", "delete", "nope")
	has(t, h.okWith(t, o, "context", "delete", "other"), `Deleted context "other"`)

	// A new login replaces the token, deleting the old one.
	var login map[string]any
	decode(t, h.okWith(t, runOpts{cfg: cfg, noCreds: true, noAddr: true, stdin: "ctx-secret-pw\n"},
		"login", "--password-stdin", "--token-name", "laptop", "--expiry", "never", "-o", "json"), &login)
	if login["ok"] != true || login["token_name"] != "laptop" || login["context"] != "default" {
		t.Errorf("login -o json: %v", login)
	}
	if !strings.Contains(fmt.Sprint(login["message"]), "deleted the previous token 'shoal-cli-") {
		t.Errorf("the second login did not delete the first token: %v", login["message"])
	}
	var pats []patView
	decode(t, h.okWith(t, o, "pat", "list", "-o", "json"), &pats)
	if len(pats) != 1 || pats[0].Name != "laptop" || pats[0].ExpiresAt != nil {
		t.Errorf("ctx-user's tokens after two logins: %+v", pats)
	}

	// Logout deletes the token on the server and forgets it.
	has(t, h.okWith(t, o, "logout"), `Logged out of context "default"; deleted token 'laptop' on the server`)
	decode(t, h.okWith(t, runOpts{cfg: cfg, noCreds: true, noAddr: true, stdin: "ctx-secret-pw\n"},
		"pat", "list", "--address", h.addr, "--username", "ctx-user", "--password-stdin", "-o", "json"), &pats)
	if len(pats) != 0 {
		t.Errorf("tokens after logout: %+v", pats)
	}
	has(t, h.okWith(t, o, "logout"), `Context "default" holds no login`)
	decode(t, h.okWith(t, o, "context", "list", "-o", "json"), &cxs)
	if len(cxs) != 1 || cxs[0].LoggedIn || cxs[0].Username != "ctx-user" {
		t.Errorf("after logout: %+v", cxs)
	}
	h.failsWith(t, o, "no password for ctx-user: use --password-stdin, set SHOAL_PASSWORD, or run on a terminal to be asked", "stream", "list")

	// Deleting a logged-in context says its token lives on.
	h.okWith(t, runOpts{cfg: cfg, noCreds: true, noAddr: true, stdin: "ctx-secret-pw\n"}, "login", "--password-stdin", "--token-name", "kept")
	has(t, h.okWith(t, o, "context", "delete", "default"), `Deleted context "default"; its personal access token "kept" still exists on the server`)
	h.failsWith(t, o, "no context to log out of: there is no current context and --context names none", "logout")
}
