package s3_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/objstoretest"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

func open(t *testing.T, o s3.Options) *objstore.Store {
	t.Helper()
	s, err := s3.Open(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// The conformance suite, with the smallest part size S3 allows (so the
// suite's multi-part object has four parts) and with one upload at a time.
func TestConformance(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) *objstore.Store {
		o := s3test.Options(t)
		o.PartSize = s3.MinPartSize
		return open(t, o)
	})
}

func TestConformanceSerialUploads(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) *objstore.Store {
		o := s3test.Options(t)
		o.PartSize = s3.MinPartSize
		o.UploadConcurrency = 1
		return open(t, o)
	})
}

// pendingUploads lists the multipart uploads under the options' prefix.
func pendingUploads(t *testing.T, o s3.Options) int {
	t.Helper()
	out, err := s3test.Client(o).ListMultipartUploads(t.Context(), &s3sdk.ListMultipartUploadsInput{Bucket: aws.String(o.Bucket), Prefix: aws.String(o.Prefix + "/")})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func TestNoDanglingUploads(t *testing.T) {
	o := s3test.Options(t)
	o.PartSize = s3.MinPartSize
	s := open(t, o)
	big := bytes.Repeat([]byte("x"), 2*s3.MinPartSize+100)

	// Cancelled mid-write, after parts went up.
	ctx, cancel := context.WithCancel(t.Context())
	w, err := s.NewWriter(ctx, "cancelled", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := w.Commit(t.Context()); err == nil {
		t.Fatal("Commit after cancel succeeded")
	}
	_ = w.Close()

	// Closed without Commit.
	w, err = s.NewWriter(t.Context(), "abandoned", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// IfAbsent on the complete, over an existing key.
	if _, err := s.Put(t.Context(), "exists", []byte("old"), objstore.Condition{}); err != nil {
		t.Fatal(err)
	}
	w, err = s.NewWriter(t.Context(), "exists", objstore.WriterOptions{Condition: objstore.IfAbsent()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(t.Context()); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("multipart Commit(IfAbsent) over an existing key = %v", err)
	}
	if got, _ := s.Get(t.Context(), "exists"); string(got) != "old" {
		t.Fatalf("the old object became %d bytes", len(got))
	}
	if n := pendingUploads(t, o); n != 0 {
		t.Fatalf("%d multipart uploads left behind", n)
	}
}

// recorder is a reverse proxy in front of the real server that records
// requests and can answer some itself.
type recorder struct {
	mu       sync.Mutex
	requests []string // "METHOD path?query"
	bodies   map[string][]byte
	// intercept, if it returns true, has answered the request itself.
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

func newRecorder(t *testing.T, target string) (*recorder, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{bodies: map[string][]byte{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		line := r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery
		rec.mu.Lock()
		rec.requests = append(rec.requests, line)
		if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
			rec.bodies["complete"] = body
		}
		intercept := rec.intercept
		rec.mu.Unlock()
		if intercept != nil && intercept(w, r) {
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

func (r *recorder) count(method, contains string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range r.requests {
		if strings.HasPrefix(l, method+" ") && strings.Contains(l, contains) {
			n++
		}
	}
	return n
}

func TestWriterRequests(t *testing.T) {
	o := s3test.Options(t)
	rec, proxyURL := newRecorder(t, o.Endpoint)
	o.Endpoint = proxyURL
	o.PartSize = s3.MinPartSize
	s := open(t, o)

	// Below one part: one PUT, no multipart upload.
	w, err := s.NewWriter(t.Context(), "small", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if _, err := w.Write([]byte("tiny write ")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if puts, uploads := rec.count("PUT", "/small"), rec.count("POST", "uploads"); puts != 1 || uploads != 0 {
		t.Fatalf("a small object took %d PUTs and %d multipart uploads", puts, uploads)
	}

	// Three parts: part ETags go to CompleteMultipartUpload without quotes.
	data := bytes.Repeat([]byte("0123456789"), (3*s3.MinPartSize)/10)
	w, err = s.NewWriter(t.Context(), "big", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if parts := rec.count("PUT", "partNumber="); parts != 3 {
		t.Fatalf("%d parts uploaded, want 3", parts)
	}
	rec.mu.Lock()
	complete := string(rec.bodies["complete"])
	rec.mu.Unlock()
	if !strings.Contains(complete, "<ETag>") || strings.Contains(complete, "<ETag>\"") || strings.Contains(complete, "&#34;") || strings.Contains(complete, "&quot;") {
		t.Fatalf("CompleteMultipartUpload body carries quoted ETags: %s", complete)
	}
	got, err := s.Get(t.Context(), "big")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("multipart object read back: %d bytes, %v", len(got), err)
	}
}

func TestRetriesSlowDownAndConflict(t *testing.T) {
	o := s3test.Options(t)
	rec, proxyURL := newRecorder(t, o.Endpoint)
	o.Endpoint = proxyURL
	o.MaxBackoff = 10 * time.Millisecond
	s := open(t, o)
	var slowDowns, conflicts atomic.Int32
	slowDowns.Store(2)
	conflicts.Store(1)
	rec.mu.Lock()
	rec.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		if strings.HasSuffix(r.URL.Path, "/slow") && slowDowns.Add(-1) >= 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return true
		}
		if strings.HasSuffix(r.URL.Path, "/conflict") && conflicts.Add(-1) >= 0 {
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ConditionalRequestConflict</Code><Message>A conflicting conditional operation is in progress.</Message></Error>`)
			return true
		}
		return false
	}
	rec.mu.Unlock()
	if _, err := s.Put(t.Context(), "slow", []byte("after two SlowDowns"), objstore.Condition{}); err != nil {
		t.Fatalf("Put through two 503 SlowDown: %v", err)
	}
	if n := rec.count("PUT", "/slow"); n != 3 {
		t.Fatalf("%d PUTs for two SlowDowns and a success", n)
	}
	if _, err := s.Put(t.Context(), "conflict", []byte("after a 409"), objstore.IfAbsent()); err != nil {
		t.Fatalf("Put through a 409 ConditionalRequestConflict: %v", err)
	}
	if got, _ := s.Get(t.Context(), "conflict"); string(got) != "after a 409" {
		t.Fatalf("read %q", got)
	}
	// A cancelled context stops the retries.
	slowDowns.Store(1000)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Put(ctx, "slow", []byte("x"), objstore.Condition{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v", err)
	}
}

// Virtual-host addressing puts the bucket in the host name.
func TestVirtualHostAddressing(t *testing.T) {
	var hosts sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts.Store(r.Host+" "+r.URL.Path, true)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	// Resolve every host name to the test server.
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, u.Host)
	}}
	_, err := s3.New(t.Context(), s3.Options{
		Endpoint: "http://s3.example.test:9000", Bucket: "my-bucket", Region: "us-east-1",
		Credentials: s3.Credentials{AccessKeyID: "k", SecretAccessKey: "s"},
		HTTPClient:  &http.Client{Transport: tr}, MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := hosts.Load("my-bucket.s3.example.test:9000 /"); !ok {
		var seen []string
		hosts.Range(func(k, _ any) bool { seen = append(seen, k.(string)); return true })
		t.Fatalf("no request to the bucket's host; saw %q", seen)
	}
}

// The real server accepts requests signed with credentials served by a
// container credentials endpoint, and refuses a wrong secret (SigV4 really
// is checked).
func TestContainerCredentialsAgainstRealServer(t *testing.T) {
	o := s3test.Options(t)
	id, secret := o.Credentials.AccessKeyID, o.Credentials.SecretAccessKey
	o.Credentials = s3.Credentials{}
	endpoint := func(secret string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = fmt.Fprintf(w, `{"AccessKeyId":%q,"SecretAccessKey":%q,"Expiration":%q}`, id, secret, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	good := endpoint(secret)
	o.Getenv = func(k string) string {
		return map[string]string{"HOME": t.TempDir(), "AWS_CONTAINER_CREDENTIALS_FULL_URI": good}[k]
	}
	s := open(t, o)
	if _, err := s.Put(t.Context(), "signed", []byte("ok"), objstore.Condition{}); err != nil {
		t.Fatalf("put with container credentials: %v", err)
	}
	bad := endpoint("wrong-secret")
	o.MaxAttempts = 1
	o.Getenv = func(k string) string {
		return map[string]string{"HOME": t.TempDir(), "AWS_CONTAINER_CREDENTIALS_FULL_URI": bad}[k]
	}
	if _, err := s3.Open(t.Context(), o); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
}

// A Put's body is covered by a CRC-32C the server checks, not by the
// signature (UNSIGNED-PAYLOAD): a body changed on the way is refused, not
// stored.
func TestPutBodyChecksum(t *testing.T) {
	o := s3test.Options(t)
	rec, proxyURL := newRecorder(t, o.Endpoint)
	o.Endpoint = proxyURL
	s := open(t, o)
	var sawUnsigned, sawCRC bool
	corrupt := false
	rec.mu.Lock()
	rec.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		rec.mu.Lock()
		sawUnsigned = r.Header.Get("X-Amz-Content-Sha256") == "UNSIGNED-PAYLOAD"
		sawCRC = r.Header.Get("X-Amz-Checksum-Crc32c") != ""
		flip := corrupt
		rec.mu.Unlock()
		if flip {
			body, _ := io.ReadAll(r.Body)
			body[len(body)/2] ^= 0xff
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		return false
	}
	rec.mu.Unlock()
	data := bytes.Repeat([]byte("journal frame "), 1000)
	if _, err := s.Put(t.Context(), "ok", data, objstore.Condition{}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	if !sawUnsigned || !sawCRC {
		t.Errorf("PUT headers: unsigned payload %v, CRC-32C %v", sawUnsigned, sawCRC)
	}
	corrupt = true
	rec.mu.Unlock()
	if _, err := s.Put(t.Context(), "bad", data, objstore.Condition{}); err == nil {
		t.Fatal("a body changed on the way was stored")
	}
	if _, err := s.Head(t.Context(), "bad"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("the corrupted object exists: %v", err)
	}
	got, err := s.Get(t.Context(), "ok")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
}

// The store counts the backend's requests by kind, every attempt: the
// counts match what a proxy in front of the server saw.
func TestRequestCounts(t *testing.T) {
	o := s3test.Options(t)
	rec, proxyURL := newRecorder(t, o.Endpoint)
	o.Endpoint = proxyURL
	o.PartSize = s3.MinPartSize
	o.MaxBackoff = 10 * time.Millisecond
	s := open(t, o)
	before := s.Stats().Requests
	if before == nil {
		t.Fatal("the s3 backend reports no request counts")
	}
	rec.mu.Lock()
	rec.requests = nil
	slowDowns := 1
	rec.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/a") && slowDowns > 0 {
			slowDowns--
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return true
		}
		return false
	}
	rec.mu.Unlock()
	ctx := t.Context()
	for _, k := range []string{"a", "b"} {
		if _, err := s.Put(ctx, k, []byte("value of "+k), objstore.IfAbsent()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Get(ctx, "a"); err != nil { // a SlowDown, then the read
		t.Fatal(err)
	}
	if _, err := s.GetRange(ctx, "b", 2, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for _, err := range s.All(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
	}
	w, err := s.NewWriter(ctx, "big", objstore.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("x"), 2*s3.MinPartSize)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "big"} {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Stats().Requests.Sub(*before)
	rec.mu.Lock()
	var want objstore.Requests
	for _, l := range rec.requests {
		switch method, rest, _ := strings.Cut(l, " "); {
		case method == "GET" && (strings.Contains(rest, "list-type") || strings.Contains(rest, "uploads") || strings.Contains(rest, "uploadId")):
			want.List++
		case method == "GET":
			want.Get++
		case method == "HEAD":
			want.Head++
		case method == "PUT":
			want.Put++
		case method == "POST":
			want.Post++
		case method == "DELETE":
			want.Delete++
		}
	}
	rec.mu.Unlock()
	if got != want {
		t.Fatalf("counted %+v, the server saw %+v", got, want)
	}
	// 2 PUTs and 2 parts; a SlowDown and 2 reads; create and complete.
	if got.Put != 4 || got.Get != 3 || got.Post != 2 || got.Head != 1 || got.List < 1 || got.Delete != 3 {
		t.Fatalf("counted %+v", got)
	}
}

// PutPieces sends the pieces as one body with the caller's CRC-32C as its
// checksum: the server stores the joined bytes, refuses them if the
// checksum is wrong, and a retried attempt sends the whole body again.
func TestPutPieces(t *testing.T) {
	o := s3test.Options(t)
	rec, proxyURL := newRecorder(t, o.Endpoint)
	o.Endpoint = proxyURL
	o.MaxBackoff = 10 * time.Millisecond
	s := open(t, o)
	pieces := [][]byte{[]byte("head"), bytes.Repeat([]byte("big batch "), 50000), nil, []byte("tail")}
	joined := slices.Concat(pieces...)
	sum := crc32.Checksum(joined, crc32.MakeTable(crc32.Castagnoli))
	var sent []string
	failFirst := true
	rec.mu.Lock()
	rec.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		sent = append(sent, r.Header.Get("X-Amz-Checksum-Crc32c"))
		if failFirst {
			// The first attempt fails after the body was read: the retry
			// must rewind the pieces.
			failFirst = false
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `<Error><Code>SlowDown</Code><Message>retry</Message></Error>`)
			return true
		}
		return false
	}
	rec.mu.Unlock()
	ctx := t.Context()
	if _, err := s.PutPieces(ctx, "ok", objstore.Pieces{Bufs: pieces, CRC32C: sum, HasCRC32C: true}, objstore.IfAbsent()); err != nil {
		t.Fatal(err)
	}
	want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
	rec.mu.Lock()
	if len(sent) != 2 || sent[0] != want || sent[1] != want {
		t.Errorf("checksums sent %q, want %q twice", sent, want)
	}
	rec.mu.Unlock()
	if got, err := s.Get(ctx, "ok"); err != nil || !bytes.Equal(got, joined) {
		t.Fatalf("get: %d bytes (want %d), %v", len(got), len(joined), err)
	}
	// A wrong checksum: refused, nothing stored.
	if _, err := s.PutPieces(ctx, "bad", objstore.Pieces{Bufs: pieces, CRC32C: sum ^ 1, HasCRC32C: true}, objstore.Condition{}); err == nil {
		t.Fatal("a body with a wrong checksum was stored")
	}
	if _, err := s.Head(ctx, "bad"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("the refused object exists: %v", err)
	}
	// No checksum given: the SDK computes it.
	if _, err := s.PutPieces(ctx, "computed", objstore.Pieces{Bufs: pieces}, objstore.Condition{}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	if last := sent[len(sent)-1]; last != want {
		t.Errorf("computed checksum %q, want %q", last, want)
	}
	rec.mu.Unlock()
	if got, err := s.Get(ctx, "computed"); err != nil || !bytes.Equal(got, joined) {
		t.Fatalf("get: %d bytes (want %d), %v", len(got), len(joined), err)
	}
}
