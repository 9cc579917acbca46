package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// The client commands run as the real binary against a real server
// (memory storage, a free port): one server for every subtest, each
// subtest with streams of its own, so that they can run in parallel.

// cliHarness runs the client commands of one binary against one server.
type cliHarness struct {
	bin  string
	addr string
	// cfg is the configuration directory of runs that do not name one:
	// it holds no contexts.
	cfg string
	// token is the root user's personal access token, the credentials of
	// runs that name none: a password login costs a slow password hash
	// on a server built with -race.
	token string
}

// newCLIHarness starts a server and makes the root user's token.
func newCLIHarness(t *testing.T, bin string, serverEnv ...string) *cliHarness {
	t.Helper()
	h := &cliHarness{bin: bin, addr: startCLIServer(t, bin, serverEnv...), cfg: t.TempDir()}
	h.token = strings.TrimSpace(h.okWith(t, runOpts{noCreds: true, env: []string{"SHOAL_USERNAME=iggy", "SHOAL_PASSWORD=iggy"}},
		"pat", "create", "cli-tests", "--expiry", "never"))
	return h
}

// runOpts vary one run.
type runOpts struct {
	stdin string
	// env is added after the defaults (later values win).
	env []string
	// noCreds runs without SHOAL_USERNAME / SHOAL_PASSWORD, noAddr
	// without SHOAL_ADDRESS.
	noCreds, noAddr bool
	// cfg, if set, is the configuration directory (XDG_CONFIG_HOME).
	cfg string
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "stderr:\n" + r.stderr
}

// quickRaceExit is the GORACE setting of the test's children: a binary
// built with -race sleeps a second at exit by default (atexit_sleep_ms),
// which hundreds of short client runs cannot afford. A race found still
// makes the child exit with status 66.
func quickRaceExit() string {
	return "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

// startCLIServer starts `shoal server` with memory storage and returns
// its address. Its log is drained from then on.
func startCLIServer(t *testing.T, bin string, env ...string) string {
	t.Helper()
	s := startServer(t, bin, t.TempDir(), childEnv(append([]string{"SHOAL_STORAGE_KIND=memory", quickRaceExit()}, env...)...))
	line := s.waitLine("running")
	m := regexp.MustCompile(`tcp\.address=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in %q", line)
	}
	go func() {
		for range s.lines {
		}
	}()
	return m[1]
}

func (h *cliHarness) env(o runOpts) []string {
	cfg := h.cfg
	if o.cfg != "" {
		cfg = o.cfg
	}
	env := childEnv("XDG_CONFIG_HOME="+cfg, "HOME="+cfg, quickRaceExit())
	if !o.noAddr {
		env = append(env, "SHOAL_ADDRESS="+h.addr)
	}
	if !o.noCreds && !setsCreds(o.env) {
		env = append(env, "SHOAL_TOKEN="+h.token)
	}
	return append(env, o.env...)
}

func setsCreds(env []string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, "SHOAL_USERNAME=") || strings.HasPrefix(kv, "SHOAL_TOKEN=") {
			return true
		}
	}
	return false
}

// run runs `shoal args...` to its end.
func (h *cliHarness) run(t *testing.T, o runOpts, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = h.env(o)
	cmd.Stdin = strings.NewReader(o.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("shoal %s did not exit within %v", strings.Join(args, " "), waitTimeout)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running shoal: %v", err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// ok runs a command that must succeed and returns its standard output.
func (h *cliHarness) ok(t *testing.T, args ...string) string {
	t.Helper()
	return h.okWith(t, runOpts{}, args...)
}

func (h *cliHarness) okWith(t *testing.T, o runOpts, args ...string) string {
	t.Helper()
	r := h.run(t, o, args...)
	if r.code != 0 {
		t.Fatalf("shoal %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// fails runs a command that must fail with exactly one line, "shoal:
// reason", on standard error and nothing on standard output, in both
// output formats.
func (h *cliHarness) fails(t *testing.T, reason string, args ...string) {
	t.Helper()
	h.failsWith(t, runOpts{}, reason, args...)
}

func (h *cliHarness) failsWith(t *testing.T, o runOpts, reason string, args ...string) {
	t.Helper()
	for _, format := range []string{"table", "json"} {
		r := h.run(t, o, append(args, "--output", format)...)
		if r.code == 0 || r.stdout != "" || r.stderr != "shoal: "+reason+"\n" {
			t.Errorf("shoal %s --output %s: want exit 1 and %q; got %s", strings.Join(args, " "), format, reason, r)
		}
	}
}

// has fails unless out contains every one of subs.
func has(t *testing.T, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

// decode parses JSON output into v, which it zeroes first (a field the
// output omits must not keep an earlier value).
func decode(t *testing.T, out string, v any) {
	t.Helper()
	reflect.ValueOf(v).Elem().SetZero()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("output is not JSON (%v):\n%s", err, out)
	}
}

// jsonLines parses one JSON object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		decode(t, l, &m)
		objs = append(objs, m)
	}
	return objs
}

// background is a client command left running (poll --follow, join
// --hold), whose standard output the test reads line by line.
type background struct {
	cmd   *exec.Cmd
	lines chan string
	err   bytes.Buffer
}

func (h *cliHarness) start(t *testing.T, o runOpts, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(h.bin, args...), lines: make(chan string, 1024)}
	b.cmd.Env = h.env(o)
	b.cmd.Stderr = &b.err
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(b.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			b.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			_ = b.cmd.Process.Kill()
			for range b.lines {
			}
			_ = b.cmd.Wait()
		}
	})
	return b
}

// waitLine returns the next line of output that contains substr.
func (b *background) waitLine(t *testing.T, substr string) string {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case l, ok := <-b.lines:
			if !ok {
				t.Fatalf("the command ended without printing %q; stderr:\n%s", substr, b.err.String())
			}
			if strings.Contains(l, substr) {
				return l
			}
		case <-timer.C:
			t.Fatalf("no line with %q after %v", substr, waitTimeout)
		}
	}
}

// interrupt sends SIGINT and returns the exit code and the rest of the
// output.
func (b *background) interrupt(t *testing.T) (int, string) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for done := false; !done; {
		select {
		case l, ok := <-b.lines:
			if !ok {
				done = true
				break
			}
			rest.WriteString(l + "\n")
		case <-timer.C:
			t.Fatalf("the command did not end within %v of SIGINT", waitTimeout)
		}
	}
	err := b.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return b.cmd.ProcessState.ExitCode(), rest.String()
}

func TestCLI(t *testing.T) {
	bin := buildShoal(t)
	h := newCLIHarness(t, bin)

	t.Run("group", func(t *testing.T) {
		t.Run("Connection", func(t *testing.T) { t.Parallel(); testCLIConnection(t, h) })
		t.Run("System", func(t *testing.T) { t.Parallel(); testCLISystem(t, h) })
		t.Run("Streams", func(t *testing.T) { t.Parallel(); testCLIStreams(t, h) })
		t.Run("Topics", func(t *testing.T) { t.Parallel(); testCLITopics(t, h) })
		t.Run("PartitionsAndSegments", func(t *testing.T) { t.Parallel(); testCLIPartitions(t, h) })
		t.Run("Send", func(t *testing.T) { t.Parallel(); testCLISend(t, h) })
		t.Run("Poll", func(t *testing.T) { t.Parallel(); testCLIPoll(t, h) })
		t.Run("Follow", func(t *testing.T) { t.Parallel(); testCLIFollow(t, h) })
		t.Run("ConsumerOffsets", func(t *testing.T) { t.Parallel(); testCLIOffsets(t, h) })
		t.Run("ConsumerGroups", func(t *testing.T) { t.Parallel(); testCLIGroups(t, h) })
		t.Run("Users", func(t *testing.T) { t.Parallel(); testCLIUsers(t, h) })
		t.Run("PersonalAccessTokens", func(t *testing.T) { t.Parallel(); testCLIPATs(t, h) })
		t.Run("ContextsAndLogin", func(t *testing.T) { t.Parallel(); testCLIContexts(t, h) })
		t.Run("TLS", func(t *testing.T) { t.Parallel(); testCLITLS(t, bin) })
	})
}

func testCLIConnection(t *testing.T, h *cliHarness) {
	// No credentials anywhere: refused before dialing.
	h.failsWith(t, runOpts{noCreds: true}, string(errNotLoggedIn.Error()), "stream", "list")
	// Flags win over the environment.
	h.fails(t, "cannot connect to 127.0.0.1:1: connection refused", "stream", "list", "--address", "127.0.0.1:1")
	h.failsWith(t, runOpts{env: []string{"SHOAL_ADDRESS=127.0.0.1:1"}}, "cannot connect to 127.0.0.1:1: connection refused", "ping")
	// Wrong password, from the environment and from stdin.
	h.failsWith(t, runOpts{env: []string{"SHOAL_USERNAME=iggy", "SHOAL_PASSWORD=nope"}},
		"login as 'iggy' refused: invalid username or password, or the user is inactive (credentials from SHOAL_USERNAME)", "stream", "list")
	h.failsWith(t, runOpts{noCreds: true, stdin: "nope\n"},
		"login as 'iggy' refused: invalid username or password, or the user is inactive (credentials from --username)",
		"stream", "list", "--username", "iggy", "--password-stdin")
	// The right one from stdin.
	h.okWith(t, runOpts{noCreds: true, stdin: "iggy\n"}, "stream", "list", "--username", "iggy", "--password-stdin")
	// No password anywhere, no terminal.
	h.failsWith(t, runOpts{noCreds: true}, "no password for iggy: use --password-stdin, set SHOAL_PASSWORD, or run on a terminal to be asked",
		"stream", "list", "--username", "iggy")
	h.failsWith(t, runOpts{noCreds: true}, "expected the password on standard input, found none",
		"stream", "list", "--username", "iggy", "--password-stdin")
	h.fails(t, "--password-stdin needs a username (--username or SHOAL_USERNAME)", "stream", "list", "--token", "x", "--password-stdin")
	h.failsWith(t, runOpts{noCreds: true}, "login refused: the personal access token from --token is invalid or expired; run 'shoal login' again",
		"stream", "list", "--token", "not-a-token")
	if r := h.run(t, runOpts{}, "stream", "list", "--output", "yaml"); r.code == 0 || r.stderr != "shoal: unknown output format \"yaml\": use table or json\n" {
		t.Errorf("--output yaml: %s", r)
	}
	h.fails(t, "no context named \"nope\" (see 'shoal context list')", "stream", "list", "--context", "nope")

	// Usage errors are one line too, with a pointer to --help.
	r := h.run(t, runOpts{}, "stream", "get")
	if r.code == 0 || !strings.HasPrefix(r.stderr, "shoal: accepts 1 arg(s), received 0") {
		t.Errorf("stream get without an argument: %s", r)
	}
}

func testCLISystem(t *testing.T, h *cliHarness) {
	// ping needs no login.
	out := h.okWith(t, runOpts{noCreds: true}, "ping", "--count", "2", "--interval", "1ms")
	if n := strings.Count(out, "pong from "+h.addr); n != 2 {
		t.Errorf("ping --count 2 printed %d pongs:\n%s", n, out)
	}
	var ping struct {
		Address string  `json:"address"`
		RTT     []int64 `json:"rtt_us"`
	}
	decode(t, h.okWith(t, runOpts{noCreds: true}, "ping", "-o", "json"), &ping)
	if ping.Address != h.addr || len(ping.RTT) != 1 {
		t.Errorf("ping -o json: %+v", ping)
	}

	has(t, h.ok(t, "me"), "Client ID:", "User ID:          0", "Transport:        tcp")
	var me clientView
	decode(t, h.ok(t, "me", "-o", "json"), &me)
	if me.UserID == nil || *me.UserID != 0 || me.Transport != "tcp" || me.Address == "" {
		t.Errorf("me -o json: %+v", me)
	}

	has(t, h.ok(t, "stats"), "Server version:", "Streams:", "Messages:")
	var st statsView
	decode(t, h.ok(t, "stats", "-o", "json"), &st)
	if st.ProcessID == 0 || !strings.Contains(st.ServerVersion, "shoal") {
		t.Errorf("stats -o json: %+v", st)
	}

	has(t, h.ok(t, "cluster"), "single-node", "leader", "healthy")
	var cl struct {
		Name  string     `json:"name"`
		Nodes []nodeView `json:"nodes"`
	}
	decode(t, h.ok(t, "cluster", "-o", "json"), &cl)
	if len(cl.Nodes) != 1 || cl.Nodes[0].Role != "leader" {
		t.Errorf("cluster -o json: %+v", cl)
	}

	has(t, h.ok(t, "client", "list"), "CLIENT ID", "tcp")
	var cs []clientView
	decode(t, h.ok(t, "client", "list", "-o", "json"), &cs)
	if len(cs) == 0 {
		t.Fatal("client list -o json: no clients, not even itself")
	}
	// A client that is gone, and one that does not exist.
	h.fails(t, "client 4000000000 not found", "client", "get", "4000000000")
	h.fails(t, `client id "x" is not a number from 0 to 4294967295`, "client", "get", "x")

	dir := t.TempDir()
	file := filepath.Join(dir, "snap.zip")
	has(t, h.ok(t, "snapshot", file, "--type", "server_config,test", "--compression", "stored"), "Saved the snapshot", file)
	if b, err := os.ReadFile(file); err != nil || !bytes.HasPrefix(b, []byte("PK")) {
		t.Errorf("snapshot file: %v, starts %q", err, b[:min(len(b), 4)])
	}
	var snap map[string]any
	decode(t, h.ok(t, "snapshot", filepath.Join(dir, "b.zip"), "-o", "json"), &snap)
	if snap["ok"] != true || snap["size_bytes"].(float64) <= 0 {
		t.Errorf("snapshot -o json: %v", snap)
	}
	if out := h.ok(t, "snapshot", "-"); !strings.HasPrefix(out, "PK") {
		t.Errorf("snapshot - wrote %q…", out[:min(len(out), 10)])
	}
	h.fails(t, `unknown snapshot type "nope"`, "snapshot", filepath.Join(dir, "c.zip"), "--type", "nope")

	// Options catalogs.
	has(t, h.ok(t, "topic", "options"), "segment_size", "message_expiry")
	var opts []optionView
	decode(t, h.ok(t, "topic", "options", "-o", "json"), &opts)
	if len(opts) < 8 || opts[0].Key == "" {
		t.Errorf("topic options -o json: %+v", opts)
	}
	has(t, h.ok(t, "stream", "options"), "The server knows no stream options.")
	if out := h.ok(t, "user", "options", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("user options -o json: %q", out)
	}

	// Shell completion is cobra's.
	has(t, h.ok(t, "completion", "bash"), "bash completion")
}

func testCLIStreams(t *testing.T, h *cliHarness) {
	has(t, h.ok(t, "stream", "create", "st-a"), "Created stream 'st-a' (id ")
	var created streamDetailsView
	decode(t, h.ok(t, "stream", "create", "st-b", "-o", "json"), &created)
	if created.Name != "st-b" || created.Topics == nil || created.TopicsCount != 0 {
		t.Errorf("stream create -o json: %+v", created)
	}
	h.fails(t, "stream 'st-a' already exists", "stream", "create", "st-a")

	has(t, h.ok(t, "stream", "list"), "ID", "NAME", "st-a", "st-b")
	var list []streamView
	decode(t, h.ok(t, "stream", "list", "-o", "json"), &list)
	found := 0
	for _, s := range list {
		if s.Name == "st-a" || s.Name == "st-b" {
			found++
		}
	}
	if found != 2 {
		t.Errorf("stream list -o json lacks st-a or st-b: %+v", list)
	}

	h.ok(t, "topic", "create", "st-a", "tp", "--partitions", "2")
	has(t, h.ok(t, "stream", "get", "st-a"), "Name:", "st-a", "Topics:     1", "tp")
	var got streamDetailsView
	decode(t, h.ok(t, "stream", "get", "st-a", "-o", "json"), &got)
	if got.Name != "st-a" || len(got.Topics) != 1 || got.Topics[0].PartitionsCount != 2 {
		t.Errorf("stream get -o json: %+v", got)
	}
	// By numeric id.
	decode(t, h.ok(t, "stream", "get", u32(created.ID), "-o", "json"), &got)
	if got.Name != "st-b" {
		t.Errorf("stream get by id %d: %+v", created.ID, got)
	}
	h.fails(t, "stream 'st-none' not found", "stream", "get", "st-none")
	// Shell completion of stream and topic names, from the server.
	has(t, "\n"+h.ok(t, "__complete", "stream", "get", ""), "\nst-a\n", "\nst-b\n", "\n:4\n")
	has(t, h.ok(t, "__complete", "message", "poll", "st-a", ""), "tp\n:4\n")
	h.fails(t, "stream 4000000 not found", "stream", "get", "4000000")

	has(t, h.ok(t, "stream", "update", "st-b", "st-c"), "Renamed stream 'st-b' to 'st-c'")
	h.fails(t, "stream 'st-a' already exists", "stream", "update", "st-c", "st-a")
	h.fails(t, "stream 'st-b' not found", "stream", "update", "st-b", "st-d")

	h.ok(t, "message", "send", "st-a", "tp", "one", "two")
	has(t, h.ok(t, "stream", "purge", "st-a"), "Purged stream 'st-a'")
	decode(t, h.ok(t, "stream", "get", "st-a", "-o", "json"), &got)
	if got.MessagesCount != 0 || len(got.Topics) != 1 {
		t.Errorf("after purge: %+v", got)
	}
	var done map[string]any
	decode(t, h.ok(t, "stream", "purge", "st-a", "-o", "json"), &done)
	if done["ok"] != true || done["message"] != "Purged stream 'st-a'" {
		t.Errorf("stream purge -o json: %v", done)
	}
	h.fails(t, "stream 'st-none' not found", "stream", "purge", "st-none")

	has(t, h.ok(t, "stream", "delete", "st-a"), "Deleted stream 'st-a'")
	decode(t, h.ok(t, "stream", "delete", "st-c", "-o", "json"), &done)
	if done["ok"] != true {
		t.Errorf("stream delete -o json: %v", done)
	}
	h.fails(t, "stream 'st-a' not found", "stream", "delete", "st-a")
}

func testCLITopics(t *testing.T, h *cliHarness) {
	h.ok(t, "stream", "create", "tp-s")
	has(t, h.ok(t, "topic", "create", "tp-s", "events", "-p", "3", "--message-expiry", "7d", "--max-size", "10GiB", "--compression", "gzip"),
		"Created topic 'events' (id 0) in stream 'tp-s' with 3 partitions")
	var created topicDetailsView
	decode(t, h.ok(t, "topic", "create", "tp-s", "audit", "--option", "segment_size=2MiB", "--option", "enforce_fsync=true", "-o", "json"), &created)
	if created.Name != "audit" || created.PartitionsCount != 1 || len(created.Partitions) != 1 ||
		created.Options["enforce_fsync"] != true || created.Options["segment_size"] != float64(2<<20) || created.MessageExpiryUs != nil {
		t.Errorf("topic create -o json: %+v", created)
	}
	h.fails(t, "topic 'events' already exists in stream 'tp-s'", "topic", "create", "tp-s", "events")
	h.fails(t, "stream 'tp-none' not found", "topic", "create", "tp-none", "events")
	h.fails(t, "unsupported option: the server does not know it, or it cannot be changed (see 'shoal topic options')",
		"topic", "create", "tp-s", "x", "--option", "bogus=1")
	h.fails(t, `--message-expiry: "soon" is not a duration like 90m, 7d or 1d12h, nor 'never'`, "topic", "create", "tp-s", "x", "--message-expiry", "soon")
	h.fails(t, `--max-size: "10XB": unknown unit "XB" (B, KB, KiB, MB, MiB, GB, GiB, TB, TiB)`, "topic", "create", "tp-s", "x", "--max-size", "10XB")
	h.fails(t, "invalid partitions count: from 1 to 1000 at a time", "topic", "create", "tp-s", "x", "-p", "1001")

	has(t, h.ok(t, "topic", "get", "tp-s", "events"), "Name:", "events", "Partitions:      3", "Message expiry:  7d",
		"Max size:        10.0 GiB", "Compression:     gzip", "segment_size", "PARTITION")
	var got topicDetailsView
	decode(t, h.ok(t, "topic", "get", "tp-s", "events", "-o", "json"), &got)
	if got.MessageExpiryUs == nil || *got.MessageExpiryUs != 7*24*3600*1e6 || got.MaxTopicSizeBytes == nil ||
		*got.MaxTopicSizeBytes != 10<<30 || got.Compression != "gzip" || len(got.Partitions) != 3 {
		t.Errorf("topic get -o json: %+v", got)
	}
	h.fails(t, "topic 'nope' in stream 'tp-s' not found", "topic", "get", "tp-s", "nope")
	h.fails(t, "stream 'tp-none' not found", "topic", "get", "tp-none", "nope")

	has(t, h.ok(t, "topic", "list", "tp-s"), "events", "audit", "PARTITIONS")
	var list []topicView
	decode(t, h.ok(t, "topic", "list", "tp-s", "-o", "json"), &list)
	if len(list) != 2 || list[0].Name != "events" || list[1].Name != "audit" {
		t.Errorf("topic list -o json: %+v", list)
	}
	h.fails(t, "stream 'tp-none' not found", "topic", "list", "tp-none")

	has(t, h.ok(t, "topic", "update", "tp-s", "events", "--message-expiry", "never", "--max-size", "unlimited"), "Updated topic 'events' in stream 'tp-s'")
	decode(t, h.ok(t, "topic", "get", "tp-s", "events", "-o", "json"), &got)
	if got.MessageExpiryUs != nil || got.MaxTopicSizeBytes != nil || got.Name != "events" {
		t.Errorf("after update: %+v", got)
	}
	h.ok(t, "topic", "update", "tp-s", "events", "events2")
	h.fails(t, "topic 'audit' already exists in stream 'tp-s'", "topic", "update", "tp-s", "events2", "audit")
	h.fails(t, "nothing to change: give a new name or --compression, --message-expiry or --max-size", "topic", "update", "tp-s", "events2")
	h.fails(t, "topic 'events' in stream 'tp-s' not found", "topic", "update", "tp-s", "events", "--max-size", "1GiB")

	h.ok(t, "message", "send", "tp-s", "events2", "x")
	has(t, h.ok(t, "topic", "purge", "tp-s", "events2"), "Purged topic 'events2' in stream 'tp-s'")
	decode(t, h.ok(t, "topic", "get", "tp-s", "events2", "-o", "json"), &got)
	if got.MessagesCount != 0 {
		t.Errorf("after purge: %+v", got)
	}
	h.fails(t, "topic 'nope' in stream 'tp-s' not found", "topic", "purge", "tp-s", "nope")

	has(t, h.ok(t, "topic", "delete", "tp-s", "events2"), "Deleted topic 'events2' in stream 'tp-s'")
	h.fails(t, "topic 'events2' in stream 'tp-s' not found", "topic", "delete", "tp-s", "events2")
	h.fails(t, "stream 'tp-none' not found", "topic", "delete", "tp-none", "events2")
}

func testCLIPartitions(t *testing.T, h *cliHarness) {
	h.ok(t, "stream", "create", "pa-s")
	h.ok(t, "topic", "create", "pa-s", "t")
	has(t, h.ok(t, "partition", "create", "pa-s", "t", "--count", "2"), "Added 2 partitions to topic 't' in stream 'pa-s'")
	has(t, h.ok(t, "partition", "list", "pa-s", "t"), "PARTITION", "CURRENT OFFSET")
	var ps []partitionView
	decode(t, h.ok(t, "partition", "list", "pa-s", "t", "-o", "json"), &ps)
	if len(ps) != 3 || ps[2].ID != 2 {
		t.Errorf("partition list -o json: %+v", ps)
	}
	h.fails(t, "invalid partitions count: topic 't' in stream 'pa-s' has fewer partitions", "partition", "delete", "pa-s", "t", "--count", "5")
	h.fails(t, "invalid partitions count: from 1 to 1000 at a time", "partition", "create", "pa-s", "t", "--count", "0")
	h.fails(t, "topic 'nope' in stream 'pa-s' not found", "partition", "create", "pa-s", "nope")
	var done map[string]any
	decode(t, h.ok(t, "partition", "delete", "pa-s", "t", "-o", "json"), &done)
	if done["ok"] != true || done["count"] != float64(1) {
		t.Errorf("partition delete -o json: %v", done)
	}
	decode(t, h.ok(t, "partition", "list", "pa-s", "t", "-o", "json"), &ps)
	if len(ps) != 2 {
		t.Errorf("after delete: %+v", ps)
	}

	// Segments: the one being written is never deleted.
	h.ok(t, "message", "send", "pa-s", "t", "--partition", "1", "a")
	has(t, h.ok(t, "segment", "delete", "pa-s", "t", "1"), "Deleted 0 segments of partition 1 of topic 't' in stream 'pa-s' (1 left)")
	decode(t, h.ok(t, "segment", "delete", "pa-s", "t", "1", "--count", "3", "-o", "json"), &done)
	if done["ok"] != true || done["deleted"] != float64(0) || done["segments_left"] != float64(1) {
		t.Errorf("segment delete -o json: %v", done)
	}
	h.fails(t, "partition 9 of topic 't' in stream 'pa-s' not found (it has 2 partitions)", "segment", "delete", "pa-s", "t", "9")
	h.fails(t, "stream 'pa-none' not found", "segment", "delete", "pa-none", "t", "0")
	h.fails(t, `partition "x" is not a number from 0 to 4294967295`, "segment", "delete", "pa-s", "t", "x")

	has(t, h.ok(t, "message", "flush", "pa-s", "t", "1", "--fsync"), "Flushed partition 1 of topic 't' in stream 'pa-s'")
	h.fails(t, "partition 7 of topic 't' in stream 'pa-s' not found (it has 2 partitions)", "message", "flush", "pa-s", "t", "7")
	h.fails(t, "topic 'nope' in stream 'pa-s' not found", "message", "flush", "pa-s", "nope", "0")
}

func testCLITLS(t *testing.T, bin string) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	h := &cliHarness{bin: bin, cfg: t.TempDir(),
		addr: startCLIServer(t, bin, "SHOAL_TCP_TLS_CERT="+certFile, "SHOAL_TCP_TLS_KEY="+keyFile)}
	has(t, h.okWith(t, runOpts{noCreds: true}, "ping", "--tls-ca", certFile), "pong from "+h.addr)
	h.token = strings.TrimSpace(h.okWith(t, runOpts{noCreds: true, env: []string{"SHOAL_USERNAME=iggy", "SHOAL_PASSWORD=iggy"}},
		"pat", "create", "tls", "--tls-ca", certFile))
	has(t, h.ok(t, "stream", "list", "--tls-ca", certFile, "--tls-domain", "localhost"), "NAME")
	has(t, h.okWith(t, runOpts{noCreds: true}, "ping", "--tls-insecure-skip-verify"), "pong")
	h.failsWith(t, runOpts{noCreds: true}, "cannot connect to "+h.addr+": x509: certificate signed by unknown authority", "ping", "--tls")
	h.failsWith(t, runOpts{noCreds: true}, "cannot connect to "+h.addr+": x509: certificate is valid for localhost, not elsewhere.example",
		"ping", "--tls-ca", certFile, "--tls-domain", "elsewhere.example")
	h.fails(t, "the TLS CA file "+keyFile+" holds no PEM certificate", "ping", "--tls-ca", keyFile)
	// Plain TCP against a TLS listener: the server never answers a frame.
	r := h.run(t, runOpts{noCreds: true}, "ping", "--timeout", "2s")
	if r.code == 0 {
		t.Errorf("plain ping of a TLS server: %s", r)
	}
}

// writeSelfSigned writes a self-signed certificate for localhost and
// 127.0.0.1 and its key, and returns their paths.
func writeSelfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestCLIHelp checks, in process, that every client command documents
// itself with examples and carries the connection flags.
func TestCLIHelp(t *testing.T) {
	root := newRootCommand(environment{stdout: io.Discard, stderr: io.Discard})
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			switch sub.Name() {
			case "server", "version", "help", "completion", "bench":
				continue
			}
			if sub.Example == "" {
				t.Errorf("%s has no examples", sub.CommandPath())
			}
			if sub.Short == "" {
				t.Errorf("%s has no short description", sub.CommandPath())
			}
			if sub.PersistentFlags().Lookup("address") == nil && sub.InheritedFlags().Lookup("address") == nil {
				t.Errorf("%s has no --address", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(root)

	code, out, _ := runInProcess(t, "message", "send", "--help")
	if code != 0 {
		t.Fatalf("message send --help: exit %d", code)
	}
	has(t, out, "Examples:", "--header KEY:TYPE:VALUE", "--password-stdin", "--output")
	// The server keeps its own flags only.
	if _, out, _ := runInProcess(t, "server", "--help"); strings.Contains(out, "--address") {
		t.Errorf("server --help shows client flags:\n%s", out)
	}
}
