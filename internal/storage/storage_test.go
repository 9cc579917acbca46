package storage

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/config"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

// roundTrip writes and reads one object through st.
func roundTrip(t *testing.T, st *objstore.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Put(ctx, "a/b", []byte("hello"), objstore.IfAbsent()); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := st.Get(ctx, "a/b")
	if err != nil || string(got) != "hello" {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

func TestOpenMemory(t *testing.T) {
	cfg := config.Default()
	cfg.Storage.Kind = config.StorageMemory
	st, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name() != "memory" {
		t.Errorf("Name = %q", st.Name())
	}
	roundTrip(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFS(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	st, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(cfg.DataDir); err != nil || !fi.IsDir() {
		t.Errorf("data directory not created: %v", err)
	}
	if !strings.Contains(st.Name(), "data") {
		t.Errorf("Name = %q does not say where", st.Name())
	}
}

func TestOpenS3(t *testing.T) {
	o := s3test.Options(t)
	cfg := config.Default()
	cfg.Storage.Kind = config.StorageS3
	cfg.DataDir = ""
	s := &cfg.Storage.S3
	s.Endpoint, s.Bucket, s.Prefix = o.Endpoint, o.Bucket, o.Prefix
	s.AccessKeyID, s.SecretAccessKey = o.Credentials.AccessKeyID, o.Credentials.SecretAccessKey
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "s3://" + o.Bucket + "/" + o.Prefix; !strings.HasPrefix(st.Name(), want) {
		t.Errorf("Name = %q, want it to start with %q", st.Name(), want)
	}
	roundTrip(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenUnknownKind(t *testing.T) {
	cfg := config.Default()
	cfg.Storage.Kind = "ftp"
	if _, err := Open(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), `"ftp"`) {
		t.Errorf("Open = %v", err)
	}
}

func TestS3Options(t *testing.T) {
	c := config.Default().Storage.S3
	c.Endpoint = "http://127.0.0.1:9000"
	c.Bucket = "bucket"
	c.Prefix = "p/"
	c.Region = "eu-west-1"
	c.AccessKeyID, c.SecretAccessKey, c.SessionToken = "AK", "SK", "T"
	c.PartSize = 16 * config.MiB
	c.UploadConcurrency = 3
	c.MaxAttempts = 7
	c.MaxBackoff = config.Duration(3 * time.Second)
	c.RequestTimeout = config.Duration(4 * time.Second)
	got := S3Options(c, nil)
	want := s3.Options{
		Endpoint: "http://127.0.0.1:9000", Region: "eu-west-1", Bucket: "bucket", Prefix: "p/",
		PathStyle:         true,
		Credentials:       s3.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "T"},
		PartSize:          16 << 20,
		UploadConcurrency: 3, MaxAttempts: 7,
		MaxBackoff: 3 * time.Second, RequestTimeout: 4 * time.Second,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("S3Options =\n%+v\nwant\n%+v", got, want)
	}
	c.Addressing = config.AddressingVirtualHost
	if S3Options(c, nil).PathStyle {
		t.Error("virtual-host addressing gave PathStyle")
	}
}

// The lazy flush interval of the configuration reaches the log; its "0s"
// (write at once) is the log's negative, not its default.
func TestLogOptionsLazyFlushInterval(t *testing.T) {
	cfg := config.Default()
	if got := LogOptions(cfg, nil).LazyFlushInterval; got != time.Second {
		t.Errorf("default: %v", got)
	}
	cfg.Journal.LazyFlushInterval = config.Duration(250 * time.Millisecond)
	if got := LogOptions(cfg, nil).LazyFlushInterval; got != 250*time.Millisecond {
		t.Errorf("250ms: %v", got)
	}
	cfg.Journal.LazyFlushInterval = 0
	if got := LogOptions(cfg, nil).LazyFlushInterval; got >= 0 {
		t.Errorf("0s: %v, want negative (no wait)", got)
	}
}

// The tail cache reaches the log as its size and, for tails a seal links,
// a start at a quarter of it.
func TestLogOptionsTailCache(t *testing.T) {
	cfg := config.Default()
	cfg.Segment.TailCache = config.Size(512 << 20)
	o := LogOptions(cfg, nil)
	if o.TailCacheBytes != 512<<20 || o.TailCacheStart != 128<<20 {
		t.Errorf("tail cache %d, start %d; want %d and %d", o.TailCacheBytes, o.TailCacheStart, 512<<20, 128<<20)
	}
}
