package main

import (
	"context"
	"fmt"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

var addrRE = regexp.MustCompile(`tcp\.address=(\S+)`)

// address waits for the server to listen and returns where.
func (s *server) address() string {
	s.t.Helper()
	line := s.waitLine(`msg="running; stop with SIGINT or SIGTERM"`)
	m := addrRE.FindStringSubmatch(line)
	if m == nil {
		s.t.Fatalf("no address in %q", line)
	}
	return m[1]
}

func dialShoal(t *testing.T, addr string, opts client.Options) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts.Address = addr
	c, err := client.Dial(ctx, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestKillNine kills a loaded server with SIGKILL and starts a new one on
// the same storage (for S3, in a new empty directory: the machine is
// gone): every acknowledged message, and the stream, topic, user, token
// and consumer offset, must be back.
func TestKillNine(t *testing.T) {
	bin := buildShoal(t)
	t.Run("fs", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		killNine(t, bin, func() (string, []string) { return dir, childEnv() })
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		o := s3test.Options(t)
		env := childEnv(
			"SHOAL_STORAGE_KIND=s3",
			"SHOAL_STORAGE_S3_ENDPOINT="+o.Endpoint,
			"SHOAL_STORAGE_S3_BUCKET="+o.Bucket,
			"SHOAL_STORAGE_S3_PREFIX="+o.Prefix,
			"SHOAL_STORAGE_S3_ACCESS_KEY_ID="+o.Credentials.AccessKeyID,
			"SHOAL_STORAGE_S3_SECRET_ACCESS_KEY="+o.Credentials.SecretAccessKey,
		)
		killNine(t, bin, func() (string, []string) { return t.TempDir(), env })
	})
}

func killNine(t *testing.T, bin string, machine func() (dir string, env []string)) {
	ctx := t.Context()
	dir, env := machine()
	s := startServer(t, bin, dir, env)
	addr := s.address()
	c := dialShoal(t, addr, client.Options{Username: "iggy", Password: "iggy"})
	stream, topic := client.NamedID("orders"), client.NamedID("events")
	if _, err := c.CreateStream(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTopic(ctx, stream, "events", 2, client.TopicSettings{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUser(ctx, "alice", "alice-pass", client.UserActive, nil); err != nil {
		t.Fatal(err)
	}
	token, err := c.CreatePersonalAccessToken(ctx, "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Producers send until the kill; every acknowledged batch is recorded.
	acked := []chan []string{make(chan []string, 1), make(chan []string, 1)}
	stop := make(chan struct{})
	for p := range uint32(2) {
		pc := dialShoal(t, addr, client.Options{Username: "iggy", Password: "iggy"})
		go func() {
			var got []string
			defer func() { acked[p] <- got }()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var msgs []client.Message
				for j := range 10 {
					msgs = append(msgs, client.NewMessage(fmt.Appendf(nil, "p%d-%d-%d", p, i, j)))
				}
				if _, err := pc.SendMessages(context.Background(), stream, topic, client.PartitionID(p), msgs); err != nil {
					return // the server is gone
				}
				for _, m := range msgs {
					got = append(got, string(m.Payload))
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // let some batches through
	if err := c.StoreConsumerOffset(ctx, client.SingleConsumer(client.NumericID(3)), stream, topic, client.InPartition(0), 5, client.AckQuorum); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.wait()
	close(stop)
	want := [][]string{<-acked[0], <-acked[1]}
	if len(want[0])+len(want[1]) == 0 {
		t.Fatal("no batch was acknowledged before the kill")
	}

	dir, env = machine()
	s2 := startServer(t, bin, dir, env)
	addr = s2.address()
	c2 := dialShoal(t, addr, client.Options{Username: "iggy", Password: "iggy"})
	if u, err := c2.GetUser(ctx, client.NamedID("alice")); err != nil || u.Username != "alice" {
		t.Fatalf("user after the kill: %+v %v", u, err)
	}
	dialShoal(t, addr, client.Options{Token: token}) // the token still logs in
	if o, err := c2.GetConsumerOffset(ctx, client.SingleConsumer(client.NumericID(3)), stream, topic, client.InPartition(0)); err != nil || o == nil || o.StoredOffset != 5 {
		t.Fatalf("offset after the kill: %+v %v", o, err)
	}
	for p := range uint32(2) {
		var got []string
		for {
			res, err := c2.PollMessages(ctx, client.PollRequest{
				Consumer: client.SingleConsumer(client.NumericID(1)), Stream: stream, Topic: topic,
				Partition: client.InPartition(p), Strategy: client.OffsetStrategy(uint64(len(got))), Count: 1000,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Messages) == 0 {
				break
			}
			for _, m := range res.Messages {
				got = append(got, string(m.Payload))
			}
		}
		// Every acknowledged message is there, in order; messages sent but
		// not acknowledged may be there too, after them.
		if len(got) < len(want[p]) {
			t.Fatalf("partition %d: %d messages after the kill, %d were acknowledged", p, len(got), len(want[p]))
		}
		for i, w := range want[p] {
			if got[i] != w {
				t.Fatalf("partition %d message %d: %q, acknowledged %q", p, i, got[i], w)
			}
		}
	}
	if err := s2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := s2.wait(); code != 0 {
		t.Fatalf("exit %d; log:\n%s", code, s2.output())
	}
}
