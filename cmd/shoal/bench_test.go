package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
	shoalserver "github.com/shoalstream/shoal/internal/server"
)

// startInProcess runs a broker and server over store in this process and
// returns the server's address.
func startInProcess(t *testing.T, store *objstore.Store, kind, dataDir string) string {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := broker.Open(context.Background(), store, broker.Options{
		PasswordParams: auth.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		Storage:        kind, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := shoalserver.New(b, shoalserver.Options{Address: "127.0.0.1:0", Version: "shoal " + version(), DataDir: dataDir, Logger: log})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-served
		if err := b.Close(); err != nil {
			t.Errorf("closing the broker: %v", err)
		}
		_ = store.Close()
	})
	return srv.Addr().String()
}

// runBenchCmd runs `shoal bench args...` in this process with the
// environment vars (NAME=value).
func runBenchCmd(t *testing.T, vars []string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	envMap := map[string]string{}
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		envMap[k] = v
	}
	env := environment{
		lookupEnv: func(k string) (string, bool) { v, ok := envMap[k]; return v, ok },
		environ:   vars,
		stdout:    &stdout,
		stderr:    &stderr,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, append([]string{"bench"}, args...), env)
	return code, stdout.String(), stderr.String()
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// small are quick workload flags.
var small = []string{"-p", "2", "-c", "2", "-b", "10", "-m", "100", "-P", "20", "--partitions", "3"}

func TestBenchFS(t *testing.T) {
	dir := t.TempDir()
	st, err := fs.Open(dir, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := startInProcess(t, st, "fs", dir)
	out := t.TempDir()
	jsonPath, htmlPath := filepath.Join(out, "r.json"), filepath.Join(out, "r.html")
	args := append([]string{"pp", "--address", addr, "--baseline", "--baseline-duration", "300ms", "--baseline-warmup", "200ms", "--data-dir", dir,
		"--verify", "--output-json", jsonPath, "--output-html", htmlPath}, small...)
	code, stdout, stderr := runBenchCmd(t, nil, args[:len(args)-2]...) // pinned: no --partitions
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Producers (2)", "Baseline: sequential appends", "measured after 0.2 s of unmeasured writes", "baseline_ratio = ", "Verification OK"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "pp [") {
		t.Errorf("no progress line on stderr:\n%s", stderr)
	}
	m := readJSON(t, jsonPath)
	if r, ok := m["baseline_ratio"].(float64); !ok || r <= 0 {
		t.Errorf("baseline_ratio %v", m["baseline_ratio"])
	}
	if b := m["baseline"].(map[string]any); b["storage"] != "fs" || b["ops"].(float64) < 1 || b["warmup_mb_s"].(float64) <= 0 {
		t.Errorf("baseline %v", b)
	}
	if p := m["params"].(map[string]any); p["producers"].(float64) != 2 || p["message_size"] != "100" || p["address"] != addr {
		t.Errorf("params %v", p)
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil || !bytes.Contains(page, []byte("<svg")) {
		t.Errorf("HTML report: %v, %d bytes", err, len(page))
	}
	// The baseline's file is gone; the server's data is all that is left.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "bench") {
			t.Errorf("the baseline left %s in the data directory", e.Name())
		}
	}
	// The data directory can come from the server's configuration too.
	code, stdout, stderr = runBenchCmd(t, []string{"SHOAL_DATA_DIR=" + dir},
		"bcg", "--address", addr, "--baseline", "--baseline-duration", "100ms", "--baseline-warmup", "0s", "-q", "-c", "2", "-b", "5", "-m", "10", "-P", "5", "--partitions", "2")
	if code != 0 || !strings.Contains(stdout, "Baseline: sequential appends") || !strings.Contains(stdout, "no baseline_ratio") {
		t.Errorf("bcg with the data directory from the environment: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestBenchMemoryServer(t *testing.T) {
	addr := startInProcess(t, objstore.New(mem.New(), objstore.Options{Name: "memory"}), "memory", "")
	code, stdout, stderr := runBenchCmd(t, []string{"SHOAL_ADDRESS=" + addr}, append([]string{"e2ecg", "--baseline", "-q", "--verify"}, small...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "in memory: no storage baseline applies") || strings.Contains(stdout, "baseline_ratio =") {
		t.Errorf("output:\n%s", stdout)
	}
	if !strings.Contains(stdout, "Producing consumers (receive) (2)") || !strings.Contains(stdout, "Verification OK") {
		t.Errorf("output:\n%s", stdout)
	}
}

func TestBenchS3(t *testing.T) {
	o := s3test.Options(t)
	st, err := s3.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	addr := startInProcess(t, st, "s3", "")
	out := t.TempDir()
	jsonPath := filepath.Join(out, "r.json")
	vars := []string{
		"SHOAL_STORAGE_KIND=s3", "SHOAL_STORAGE_S3_ENDPOINT=" + o.Endpoint, "SHOAL_STORAGE_S3_BUCKET=" + o.Bucket,
		"SHOAL_STORAGE_S3_ACCESS_KEY_ID=" + o.Credentials.AccessKeyID,
		"SHOAL_STORAGE_S3_SECRET_ACCESS_KEY=" + o.Credentials.SecretAccessKey,
	}
	ps, err := startPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer ps.stop()
	ps.store.Store(st)
	code, stdout, stderr := runBenchCmd(t, vars, append([]string{"bp", "--address", addr, "--baseline", "--baseline-duration", "500ms", "--baseline-warmup", "300ms",
		"--s3-prefix", o.Prefix, "--s3-object-size", "256KiB", "-q", "--verify", "--output-json", jsonPath,
		"--server-pprof", ps.addr.String(), "--server-pprof-seconds", "1", "--server-pprof-out", filepath.Join(out, "cpu.pprof")}, small...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Baseline: PUTs", "GET:", "list prices", "baseline_ratio = ", "S3 requests of the server",
		"GETs: see the server's counters below", "Storage of the server during the run", "PUT-class requests", "Verification OK"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	m := readJSON(t, jsonPath)
	b := m["baseline"].(map[string]any)
	if b["storage"] != "s3" || b["objects_written"].(float64) <= b["ops"].(float64) || b["gets"].(float64) < 1 || b["cost"] == nil ||
		b["warmup_mb_s"].(float64) <= 0 {
		t.Errorf("baseline %v", b)
	}
	u := m["s3_usage"].(map[string]any)
	// 20 sends: the journal took at least one PUT and at most one per send
	// (plus a checkpoint's).
	j := u["journal_puts"].(float64)
	if j < 1 || j > 22 {
		t.Errorf("s3 usage %v", u)
	}
	// The server's own count of its PUTs covers the journal objects the
	// bucket gained.
	ss := m["server_store"].(map[string]any)
	req := ss["requests"].(map[string]any)
	if p := req["put"].(float64); p < j || ss["put_class_requests"].(float64) < p || ss["bytes_written"].(float64) <= 0 {
		t.Errorf("server_store %v, journal PUTs %v", ss, j)
	}
	// The baseline's objects are gone.
	for info, err := range st.All(context.Background(), "bench-baseline/") {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("baseline object left: %s", info.Key)
		break
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, "unknown workload"},
		{[]string{"pp", "-b", "5", "-T", "1MB"}, "exclude each other"},
		{[]string{"pp", "-m", "5..1"}, "--message-size"},
		{[]string{"pp", "--storage", "ftp"}, "--storage"},
		{[]string{"pp", "--streams", "3"}, "as many streams as producers"},
		{[]string{}, "accepts 1 arg"},
		{[]string{"pp", "--address", "127.0.0.1:1", "--stall-timeout", "1s"}, "connecting to 127.0.0.1:1"},
	} {
		code, _, stderr := runBenchCmd(t, nil, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to contain %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestPprofListener(t *testing.T) {
	ps, err := startPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer ps.stop()
	out := filepath.Join(t.TempDir(), "cpu.pprof")
	if err := fetchProfile(ps.addr.String(), 1, out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Errorf("profile: %v", err)
	}
	// The storage counters: none before the storage is open.
	if _, err := fetchStoreCounters(t.Context(), ps.addr.String()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("counters before the storage is open: %v", err)
	}
	st := objstore.New(mem.New(), objstore.Options{Name: "memory"})
	ps.store.Store(st)
	for i := range 3 {
		if _, err := st.Put(t.Context(), fmt.Sprint("k", i), []byte("abc"), objstore.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := fetchStoreCounters(t.Context(), ps.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != "memory" || c.Calls["put"] != 3 || c.Calls["get"] != 0 || c.BytesWritten != 9 || c.Requests != nil {
		t.Errorf("counters %+v", c)
	}
}
