package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/config"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

// waitTimeout bounds every wait for the child process.
const waitTimeout = 60 * time.Second

// buildShoal builds the real binary into a temporary directory.
func buildShoal(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shoal")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// childEnv is the test process's environment without SHOAL_* variables,
// with the listener on a free port, plus extra.
func childEnv(extra ...string) []string {
	env := []string{"SHOAL_TCP_ADDRESS=127.0.0.1:0"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPrefix) && !strings.HasPrefix(kv, "GOMEMLIMIT=") && !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// server is a running shoal process whose log the test reads line by line.
type server struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string // stderr, one line each; closed at EOF

	mu  sync.Mutex
	log strings.Builder // every line read so far, for failure messages
}

// startServer runs `shoal server args...` in dir with env.
func startServer(t *testing.T, bin, dir string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"server"}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, lines: make(chan string, 1024)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		// Only if a test failed before the process exited.
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			for range s.lines {
			}
			_ = cmd.Wait()
		}
	})
	return s
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// waitLine returns the first line still unread that contains substr.
func (s *server) waitLine(substr string) string {
	s.t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("shoal exited without logging %q; its log:\n%s", substr, s.output())
			}
			if strings.Contains(line, substr) {
				return line
			}
		case <-timer.C:
			s.t.Fatalf("no log line with %q after %v; log so far:\n%s", substr, waitTimeout, s.output())
		}
	}
}

// startLine waits for the JSON start line (SHOAL_LOG_FORMAT=json) and
// decodes it into v.
func (s *server) startLine(v any) {
	s.t.Helper()
	line := s.waitLine(`"msg":"starting shoal"`)
	if err := json.Unmarshal([]byte(line), v); err != nil {
		s.t.Fatalf("start line: %v: %s", err, line)
	}
}

// stop ends the server with SIGTERM and checks that it exits with 0.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	if code := s.wait(); code != 0 {
		s.t.Errorf("exit code %d, want 0; log:\n%s", code, s.output())
	}
}

// wait reads the rest of the log and returns the process's exit code.
func (s *server) wait() int {
	s.t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for done := false; !done; {
		select {
		case _, ok := <-s.lines:
			done = !ok
		case <-timer.C:
			s.t.Fatalf("shoal did not exit within %v; log so far:\n%s", waitTimeout, s.output())
		}
	}
	err := s.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		s.t.Fatalf("wait: %v", err)
	}
	return s.cmd.ProcessState.ExitCode()
}

// runToExit runs `shoal server args...` expecting it to exit by itself, and
// returns its exit code and output.
func runToExit(t *testing.T, bin, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"server"}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("shoal did not exit within %v; output:\n%s", waitTimeout, out)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running shoal: %v", err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// dirEntries names what is in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestServer(t *testing.T) {
	bin := buildShoal(t)

	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT} {
		t.Run("DefaultsStopOn"+name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := startServer(t, bin, dir, childEnv(
				"SHOAL_STORAGE_S3_ACCESS_KEY_ID=AKIAVISIBLE",
				"SHOAL_STORAGE_S3_SECRET_ACCESS_KEY=hidden-secret",
			))
			cfgLine := s.waitLine(`msg="starting shoal"`)
			for _, want := range []string{
				"config_file=(none)", "config.data_dir=./data", "config.storage.kind=fs",
				"config.tcp.address=127.0.0.1:0", "config.storage.s3.access_key_id=AKIAVISIBLE",
				"config.storage.s3.secret_access_key=REDACTED",
			} {
				if !strings.Contains(cfgLine, want) {
					t.Errorf("config log line lacks %s:\n%s", want, cfgLine)
				}
			}
			if line := s.waitLine(`msg="storage opened"`); !strings.Contains(line, "kind=fs") {
				t.Errorf("storage line: %s", line)
			}
			s.waitLine("running")
			if fi, err := os.Stat(filepath.Join(dir, "data")); err != nil || !fi.IsDir() {
				t.Errorf("./data not created: %v", err)
			}
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			s.waitLine("msg=stopped")
			if code := s.wait(); code != 0 {
				t.Errorf("exit code %d after %v, want 0; log:\n%s", code, sig, s.output())
			}
			if strings.Contains(s.output(), "hidden-secret") {
				t.Errorf("the secret was logged:\n%s", s.output())
			}
		})
	}

	t.Run("SecondServerOnOneDataDirRefused", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		first := startServer(t, bin, dir, childEnv())
		first.waitLine("log opened")
		code, out := runToExit(t, bin, dir, childEnv())
		if code == 0 || !strings.Contains(out, "in use by another process") {
			t.Fatalf("second server on the same data directory: exit %d, output:\n%s", code, out)
		}
		if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := first.wait(); code != 0 {
			t.Fatalf("first server exit %d; log:\n%s", code, first.output())
		}
		// Once the first is gone, a new one starts and recovers.
		again := startServer(t, bin, dir, childEnv())
		again.waitLine("log opened")
		if err := again.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := again.wait(); code != 0 {
			t.Fatalf("restarted server exit %d; log:\n%s", code, again.output())
		}
	})

	t.Run("InvalidKindFromEnv", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		code, out := runToExit(t, bin, dir, childEnv("SHOAL_STORAGE_KIND=ftp"))
		if code == 0 {
			t.Errorf("exit code 0 with storage.kind ftp; output:\n%s", out)
		}
		if want := `storage.kind (SHOAL_STORAGE_KIND): "ftp" is not one of fs, s3, memory`; !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("an invalid configuration created %q", names)
		}
	})

	t.Run("UnknownKeyInFile", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		file := filepath.Join(t.TempDir(), "shoal.toml")
		if err := os.WriteFile(file, []byte("[storage]\nkind = \"fs\"\nbukcet = \"b\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, run := range []struct {
			args []string
			env  []string
		}{
			{[]string{"--config", file}, childEnv()},
			{nil, childEnv("SHOAL_CONFIG=" + file)},
		} {
			code, out := runToExit(t, bin, dir, run.env, run.args...)
			if code == 0 {
				t.Errorf("exit code 0 with an unknown key; output:\n%s", out)
			}
			if !strings.Contains(out, "unknown key storage.bukcet") || !strings.Contains(out, file) {
				t.Errorf("output does not name the key and the file:\n%s", out)
			}
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("an invalid configuration created %q", names)
		}
	})

	t.Run("MissingConfigFile", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		code, out := runToExit(t, bin, dir, childEnv(), "--config", "nope.toml")
		if code == 0 || !strings.Contains(out, "nope.toml") {
			t.Errorf("exit code %d, output:\n%s", code, out)
		}
	})

	t.Run("S3", func(t *testing.T) {
		t.Parallel()
		o := s3test.Options(t)
		dir := t.TempDir()
		s := startServer(t, bin, dir, childEnv(
			"SHOAL_STORAGE_KIND=s3",
			"SHOAL_STORAGE_S3_ENDPOINT="+o.Endpoint,
			"SHOAL_STORAGE_S3_BUCKET="+o.Bucket,
			"SHOAL_STORAGE_S3_PREFIX="+o.Prefix,
			"SHOAL_STORAGE_S3_ACCESS_KEY_ID="+o.Credentials.AccessKeyID,
			"SHOAL_STORAGE_S3_SECRET_ACCESS_KEY="+o.Credentials.SecretAccessKey,
		))
		if line := s.waitLine(`msg="storage opened"`); !strings.Contains(line, "s3://"+o.Bucket+"/"+o.Prefix) {
			t.Errorf("storage line: %s", line)
		}
		s.waitLine(`msg="log opened"`)
		s.stop()
		if strings.Contains(s.output(), o.Credentials.SecretAccessKey) {
			t.Errorf("the secret was logged:\n%s", s.output())
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("s3 storage created local files: %q", names)
		}
	})

	t.Run("S3Unreachable", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		code, out := runToExit(t, bin, dir, childEnv(
			"SHOAL_STORAGE_KIND=s3",
			"SHOAL_STORAGE_S3_ENDPOINT=http://127.0.0.1:1",
			"SHOAL_STORAGE_S3_BUCKET=nowhere",
			"SHOAL_STORAGE_S3_ACCESS_KEY_ID=AK",
			"SHOAL_STORAGE_S3_SECRET_ACCESS_KEY=SK",
			"SHOAL_STORAGE_S3_MAX_ATTEMPTS=1",
			"SHOAL_STORAGE_S3_REQUEST_TIMEOUT=5s",
		))
		if code == 0 || !strings.Contains(out, "opening storage") || !strings.Contains(out, "nowhere") {
			t.Errorf("exit code %d, output:\n%s", code, out)
		}
	})

	t.Run("MemorySettings", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			env  []string
			want string
		}{
			// The caches (100 MiB + 64 MiB) plus the headroom.
			{[]string{"SHOAL_SEGMENTS_TAIL_CACHE=100MiB"}, `"memory_limit":"676MiB"`},
			{[]string{"SHOAL_SEGMENTS_TAIL_CACHE=100MiB", "SHOAL_SEGMENTS_BLOCK_CACHE=1GiB"}, `"memory_limit":"1636MiB"`},
			// GOMEMLIMIT wins.
			{[]string{"SHOAL_SEGMENTS_TAIL_CACHE=100MiB", "GOMEMLIMIT=300MiB"}, `"memory_limit":"300MiB"`},
			{[]string{"GOMEMLIMIT=off"}, `"memory_limit":"none"`},
			// All the memory backend stores is on the heap.
			{[]string{"SHOAL_STORAGE_KIND=memory"}, `"memory_limit":"none"`},
			// The server's collector target, unless GOGC says otherwise.
			{nil, `"gc_percent":"25"`},
			{[]string{"GOGC=150"}, `"gc_percent":"150"`},
			{[]string{"GOGC="}, `"gc_percent":"25"`},
			{[]string{"GOGC=off"}, `"gc_percent":"off"`},
		} {
			dir := t.TempDir()
			env := append(childEnv(c.env...), "SHOAL_DATA_DIR="+filepath.Join(dir, "data"), "SHOAL_LOG_FORMAT=json")
			s := startServer(t, bin, dir, env)
			if line := s.waitLine(`"msg":"starting shoal"`); !strings.Contains(line, c.want) {
				t.Errorf("with %q the start line does not say %s: %s", c.env, c.want, line)
			}
			s.waitLine("running")
			s.stop()
		}
	})

	t.Run("HugePages", func(t *testing.T) {
		t.Parallel()
		testServerHugePages(t, bin)
	})

	t.Run("Memory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		file := filepath.Join(dir, "shoal.toml")
		if err := os.WriteFile(file, []byte("[storage]\nkind = \"memory\"\n[log]\nformat = \"json\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, bin, dir, childEnv("SHOAL_BOGUS=1", "SHOAL_LOG_LEVEL=debug"), "--config", file)
		s.waitLine("SHOAL_BOGUS is not a configuration key")
		if line := s.waitLine(`"msg":"storage opened"`); !strings.Contains(line, `"store":"memory"`) {
			t.Errorf("storage line: %s", line)
		}
		s.waitLine("running")
		s.stop()
		if !strings.Contains(s.output(), `"msg":"stopped"`) {
			t.Errorf("no stopped line:\n%s", s.output())
		}
		if names := dirEntries(t, dir); len(names) != 1 {
			t.Errorf("memory storage left files: %q", names)
		}
	})
}

// runInProcess runs the command line in this process, for commands that
// neither block nor read signals.
func runInProcess(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := environment{
		lookupEnv: func(string) (string, bool) { return "", false },
		stdout:    &stdout,
		stderr:    &stderr,
	}
	code := run(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}

func TestServerHelpListsEveryKey(t *testing.T) {
	code, out, errOut := runInProcess(t, "server", "--help")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	for _, k := range config.Keys() {
		if !strings.Contains(out, k.Name+"  ("+k.Env+")") {
			t.Errorf("server --help does not list %s (%s)", k.Name, k.Env)
		}
	}
	if !strings.Contains(out, "--config FILE") {
		t.Errorf("no --config flag in help:\n%s", out)
	}
}

func TestVersionAndUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, _ := runInProcess(t, args...)
		if code != 0 || !strings.HasPrefix(out, "shoal ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: exit code %d, output %q", args, code, out)
		}
	}
	for _, args := range [][]string{{"server", "--bogus"}, {"server", "extra"}, {"nosuchcommand"}} {
		code, _, errOut := runInProcess(t, args...)
		if code == 0 || !strings.HasPrefix(errOut, "shoal: ") {
			t.Errorf("%v: exit code %d, stderr %q", args, code, errOut)
		}
	}
	code, out, _ := runInProcess(t, "--help")
	if code != 0 || !strings.Contains(out, "server") {
		t.Errorf("--help: exit code %d, output:\n%s", code, out)
	}
}

func TestWrap(t *testing.T) {
	got := wrap("aaa bbb ccc "+strings.Repeat("x", 30), 2, 12)
	want := "  aaa bbb\n  ccc\n  " + strings.Repeat("x", 30) + "\n"
	if got != want {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}
