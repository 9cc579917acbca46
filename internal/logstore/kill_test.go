package logstore

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

// The kill test runs this test binary again as a child process that
// appends with AckDurable and prints every acknowledged offset; the parent
// kills it with SIGKILL at a random moment, many times, and checks after
// each kill that every acknowledged message is there, byte-exact, in
// order, with no gaps.
const childEnv = "SHOAL_LOGSTORE_KILL_CHILD"

// TestMain lets the test binary play the child.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(killChild())
	}
	os.Exit(m.Run())
}

// killPayload is the payload of the message at offset off of partition p:
// derived from both, so a recovered message can be checked byte for byte.
func killPayload(p uint32, off uint64) []byte {
	return []byte(fmt.Sprintf("partition %d offset %d %s", p, off, strings.Repeat("x", int(off%97))))
}

// killChild appends batches of one message to 4 partitions from 4
// goroutines until killed, printing "ack <partition> <offset>" for each.
func killChild() int {
	ctx := context.Background()
	store, err := openKillStore(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open store:", err)
		return 2
	}
	// Linked segments on every backend (LinkMinBatch 1), copied out of the
	// journal objects soon after (LinkedMaxAge, S3), so kills also land
	// in the middle of those.
	l, err := Open(ctx, store, Options{
		SegmentBytes: 64 << 10, SealCheckInterval: 50 * time.Millisecond, CheckpointInterval: 200 * time.Millisecond,
		LinkMinBatch: 1, LinkedMaxAge: time.Second, JournalFileBytes: 256 << 10, Logger: discardLogger(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open log:", err)
		return 2
	}
	out := make(chan string, 1024)
	for p := range uint32(4) {
		go func() {
			k := PartitionKey{1, 1, p}
			_, next, _ := l.Bounds(k)
			for {
				b, err := batch.Build(nil, []batch.NewMessage{{Payload: killPayload(p, next)}})
				if err != nil {
					panic(err)
				}
				h, err := l.Append(ctx, k, b)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child: append:", err)
					os.Exit(3)
				}
				if h.BaseOffset != next {
					fmt.Fprintf(os.Stderr, "child: partition %d: appended at %d, expected %d\n", p, h.BaseOffset, next)
					os.Exit(3)
				}
				out <- fmt.Sprintf("ack %d %d", p, h.BaseOffset)
				next++
			}
		}()
	}
	w := bufio.NewWriter(os.Stdout)
	for line := range out {
		fmt.Fprintln(w, line)
		if len(out) == 0 {
			w.Flush()
		}
	}
	return 0
}

// openKillStore opens the store the parent named in the environment.
func openKillStore(ctx context.Context) (*objstore.Store, error) {
	switch os.Getenv(childEnv) {
	case "fs":
		return fs.Open(os.Getenv("SHOAL_KILL_ROOT"), fs.Options{Logger: discardLogger()})
	case "s3":
		opts := s3.Options{
			Endpoint: os.Getenv("SHOAL_KILL_S3_ENDPOINT"), Bucket: os.Getenv("SHOAL_KILL_S3_BUCKET"),
			Prefix: os.Getenv("SHOAL_KILL_S3_PREFIX"), PathStyle: true, Region: "us-east-1",
			Credentials: s3.Credentials{AccessKeyID: os.Getenv("SHOAL_KILL_S3_ACCESS_KEY"), SecretAccessKey: os.Getenv("SHOAL_KILL_S3_SECRET_KEY")},
			Logger:      discardLogger(),
		}
		return s3.Open(ctx, opts)
	}
	return nil, fmt.Errorf("unknown store kind %q", os.Getenv(childEnv))
}

// runKillTest kills the child rounds times and checks what survives.
func runKillTest(t *testing.T, env []string, open func() *objstore.Store, rounds int) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	acked := map[uint32]uint64{} // partition → highest acknowledged offset + 1
	linked, copied := 0, 0       // segments seen after each recovery
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), env...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it acknowledge a random number of messages, then kill it.
		want := 20 + rng.IntN(400)
		sc := bufio.NewScanner(stdout)
		seen := 0
		for seen < want && sc.Scan() {
			var p uint32
			var off uint64
			if _, err := fmt.Sscanf(sc.Text(), "ack %d %d", &p, &off); err != nil {
				t.Fatalf("round %d: child said %q", round, sc.Text())
			}
			acked[p] = max(acked[p], off+1)
			seen++
		}
		_ = cmd.Process.Kill()
		// Acks printed before the kill landed count too.
		for sc.Scan() {
			var p uint32
			var off uint64
			if _, err := fmt.Sscanf(sc.Text(), "ack %d %d", &p, &off); err == nil {
				acked[p] = max(acked[p], off+1)
			}
		}
		_ = cmd.Wait()
		if seen < want {
			t.Fatalf("round %d: child stopped after %d acks: %s", round, seen, stderr.String())
		}
		// Recover and check every acknowledged message.
		s := open()
		l, err := Open(context.Background(), s, Options{Logger: discardLogger()})
		if err != nil {
			t.Fatalf("round %d: recovery: %v", round, err)
		}
		for p, n := range acked {
			k := PartitionKey{1, 1, p}
			bs, err := l.Read(context.Background(), k, 0, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			next := uint64(0)
			for _, b := range bs {
				for m := range batch.Messages(b) {
					if m.Offset != next || string(m.Payload) != string(killPayload(p, m.Offset)) {
						t.Fatalf("round %d: partition %d: message at %d (expected %d) is %q", round, p, m.Offset, next, m.Payload)
					}
					next++
				}
			}
			if next < n {
				t.Fatalf("round %d: partition %d: %d messages recovered, %d were acknowledged", round, p, next, n)
			}
		}
		for p := range acked {
			for _, seg := range l.Segments(PartitionKey{1, 1, p}) {
				if strings.HasSuffix(seg.Key, ".links") {
					linked++
				} else {
					copied++
				}
			}
		}
		// Close without writing anything new, so the next child starts
		// from what was there.
		crash(l)
		_ = s.Close()
	}
	t.Logf("%d kills; acknowledged per partition: %v; segments seen after the restarts: %d linked, %d copied", rounds, acked, linked, copied)
	if linked == 0 {
		t.Fatal("no linked segment was sealed: the kills did not reach sealing")
	}
}

func TestKill9FS(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test: not in -short")
	}
	root := t.TempDir()
	runKillTest(t, []string{childEnv + "=fs", "SHOAL_KILL_ROOT=" + root}, func() *objstore.Store {
		s, err := fs.Open(root, fs.Options{Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, 12)
}

func TestKill9S3(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test: not in -short")
	}
	o := s3test.Options(t)
	o.Logger = discardLogger()
	env := []string{childEnv + "=s3",
		"SHOAL_KILL_S3_ENDPOINT=" + o.Endpoint, "SHOAL_KILL_S3_BUCKET=" + o.Bucket, "SHOAL_KILL_S3_PREFIX=" + o.Prefix,
		"SHOAL_KILL_S3_ACCESS_KEY=" + o.Credentials.AccessKeyID, "SHOAL_KILL_S3_SECRET_KEY=" + o.Credentials.SecretAccessKey}
	runKillTest(t, env, func() *objstore.Store {
		s, err := s3.Open(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, 8)
}
