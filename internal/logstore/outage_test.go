package logstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

// minio is an S3 server of this test's own, which it can stop and start.
type minio struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
}

func (m *minio) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "server", "--quiet", "--address", m.addr, "--console-address", "127.0.0.1:0", m.dir)
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=outagetest", "MINIO_ROOT_PASSWORD=outagetest-secret", "MINIO_BROWSER=off")
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	// Wait for the port: the server is an outside process, so this polls,
	// bounded.
	for range 200 {
		if c, err := net.DialTimeout("tcp", m.addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.t.Fatalf("minio did not start on %s", m.addr)
}

func (m *minio) stop() {
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The S3 server goes away under load and comes back: sends wait and then
// fail with ErrTimeout, reads of what is cached go on, writes resume by
// themselves, and nothing acknowledged is lost.
func TestOutageRealS3(t *testing.T) {
	bin := os.Getenv("SHOAL_TEST_MINIO_BIN")
	if bin == "" {
		if os.Getenv("SHOAL_TEST_S3_REQUIRED") == "1" {
			t.Fatal("SHOAL_TEST_MINIO_BIN is not set; scripts/test sets it")
		}
		t.Skip("the outage test needs SHOAL_TEST_MINIO_BIN (a MinIO binary); scripts/test sets it")
	}
	m := &minio{t: t, bin: bin, dir: filepath.Join(t.TempDir(), "minio"), addr: freeAddr(t)}
	m.start()
	t.Cleanup(m.stop)
	o := s3.Options{
		Endpoint: "http://" + m.addr, Bucket: "outage", PathStyle: true, Region: "us-east-1",
		Credentials: s3.Credentials{AccessKeyID: "outagetest", SecretAccessKey: "outagetest-secret"},
		MaxAttempts: 2, MaxBackoff: 50 * time.Millisecond, RequestTimeout: time.Second, Logger: discardLogger(),
	}
	// MinIO answers 503 (server not initialized) for a moment after it
	// starts listening.
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, err := s3test.Client(o).CreateBucket(t.Context(), &s3sdk.CreateBucketInput{Bucket: aws.String(o.Bucket)})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	open := func() *objstore.Store {
		s, err := s3.Open(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	l := openLog(t, open(), Options{SendTimeout: 500 * time.Millisecond, RetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond})

	var mu sync.Mutex
	acked := map[uint32][]string{}
	timeouts := 0
	phase := make(chan struct{}) // closed when the writers should stop
	progress := make(chan struct{}, 1000)
	timedOut := make(chan struct{}, 1000)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			k := PartitionKey{1, 1, uint32(w)}
			for i := 0; ; i++ {
				select {
				case <-phase:
					return
				default:
				}
				tag := fmt.Sprintf("w%d-%d", w, i)
				_, err := l.Append(context.Background(), k, makeBatch(t, 1, tag))
				mu.Lock()
				switch {
				case err == nil:
					acked[uint32(w)] = append(acked[uint32(w)], tag+"-0")
				case errors.Is(err, ErrTimeout):
					timeouts++
					select {
					case timedOut <- struct{}{}:
					default:
					}
				default:
					t.Errorf("append: %v", err)
				}
				mu.Unlock()
				if err == nil {
					select {
					case progress <- struct{}{}:
					default:
					}
				}
			}
		})
	}
	waitAcks := func(n int) {
		for range n {
			<-progress
		}
	}
	waitAcks(50)
	m.stop() // the outage
	mu.Lock()
	ackedBefore := len(acked[0])
	mu.Unlock()
	// Reads of what is in memory go on.
	if got := payloads(t, l, PartitionKey{1, 1, 0}, 0); len(got) < ackedBefore {
		t.Fatalf("during the outage reads see %d of %d acknowledged messages", len(got), ackedBefore)
	}
	// Sends time out rather than hang.
	for range 4 {
		select {
		case <-timedOut:
		case <-time.After(30 * time.Second):
			t.Fatal("no send timed out during the outage")
		}
	}
	// Drain acks that landed just before the outage, then the server is back.
	for len(progress) > 0 {
		<-progress
	}
	m.start()
	waitAcks(50) // writes resumed by themselves
	close(phase)
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("acknowledged %d/%d/%d/%d, %d sends timed out during the outage", len(acked[0]), len(acked[1]), len(acked[2]), len(acked[3]), timeouts)

	// A new server on the bucket has every acknowledged message, in order.
	l2 := openLog(t, open(), Options{})
	defer l2.Close()
	for w, tags := range acked {
		got := payloads(t, l2, PartitionKey{1, 1, w}, 0)
		i := 0
		for _, p := range got {
			if i < len(tags) && p == tags[i] {
				i++
			}
		}
		if i != len(tags) {
			t.Fatalf("partition %d: acknowledged message %q missing or out of order (recovered %d messages)", w, tags[i], len(got))
		}
	}
}
