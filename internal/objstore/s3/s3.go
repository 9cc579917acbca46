// Package s3 is the objstore backend for any S3-compatible object store,
// through aws-sdk-go-v2: the only persistence a server needs when it runs
// with storage.kind = "s3".
//
// It maps the objstore contract onto S3: Get and GetRange to GetObject
// (with a Range; a range starting past the end, which S3 answers 416, is no
// bytes), Head to HeadObject, List to ListObjectsV2 with StartAfter, Put to
// PutObject with If-None-Match: * (IfAbsent) or If-Match (IfMatch), Delete
// to DeleteObject, and NewWriter to a buffered multipart writer (see
// writer.go). Errors are classified once, here: 404 → ErrNotFound, 412 →
// ErrPreconditionFailed (also If-Match on a missing key, which S3 answers
// 404), 409 ConditionalRequestConflict → retried for PutObject (its body is
// in memory) and ErrConflict where it persists or on a multipart complete.
//
// Requests are retried by the SDK's standard retryer — exponential backoff
// with jitter, bounded by Options.MaxAttempts and MaxBackoff — on 5xx,
// 503 SlowDown, throttling and timeouts; every call honours its context.
// Credentials come from Options or the chain in credentials.go.
package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/shoalstream/shoal/internal/objstore"
)

// Credentials are static keys from the configuration.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// MinPartSize is S3's smallest part but the last.
const MinPartSize = 5 << 20

// Options configure the backend. Zero values take the defaults named.
type Options struct {
	// Endpoint is the S3 URL, e.g. "http://127.0.0.1:9000"; empty means
	// AWS's endpoint for Region.
	Endpoint string
	// Region defaults to "us-east-1".
	Region string
	// Bucket is required.
	Bucket string
	// Prefix, if set, is put before every key, with a '/' between.
	Prefix string
	// PathStyle addresses buckets in the path (MinIO, most S3-compatible
	// servers) instead of the host name.
	PathStyle bool
	// Credentials are static keys; empty means the credential chain.
	Credentials Credentials
	// PartSize is the multipart part size (default 8 MiB, at least 5 MiB).
	PartSize int64
	// UploadConcurrency bounds the parts of one writer uploading at once
	// (default 4).
	UploadConcurrency int
	// MaxAttempts bounds the tries of one request (default 10).
	MaxAttempts int
	// MaxBackoff caps the pause between tries (default 20s).
	MaxBackoff time.Duration
	// RequestTimeout bounds the wait for a response's headers (default 30s).
	RequestTimeout time.Duration
	Logger         *slog.Logger
	// Getenv reads the environment for the credential chain (default
	// os.Getenv).
	Getenv func(string) string
	// HTTPClient replaces the default client (tests).
	HTTPClient *http.Client

	// minPartSize lets this package's tests use parts below 5 MiB.
	minPartSize int64
}

func (o *Options) setDefaults() error {
	if o.Bucket == "" {
		return errors.New("s3: a bucket is required")
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.minPartSize == 0 {
		o.minPartSize = MinPartSize
	}
	if o.PartSize == 0 {
		o.PartSize = 8 << 20
	}
	if o.PartSize < o.minPartSize {
		return fmt.Errorf("s3: part size %d is below the minimum of %d bytes", o.PartSize, o.minPartSize)
	}
	if o.UploadConcurrency <= 0 {
		o.UploadConcurrency = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 20 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Prefix = strings.Trim(o.Prefix, "/")
	return nil
}

// Backend is the S3 objstore.Backend.
type Backend struct {
	client   *s3.Client
	opts     Options
	log      *slog.Logger
	requests *requestCounts
}

// New checks the options, resolves credentials, and checks that the
// bucket is reachable.
func New(ctx context.Context, opts Options) (*Backend, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	hc := opts.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = opts.RequestTimeout
		tr.MaxIdleConnsPerHost = 64
		tr.DialContext = newBodyDialer((&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext).DialContext
		hc = &http.Client{Transport: tr}
	}
	counts := new(requestCounts)
	src, err := resolveCredentials(ctx, opts, hc)
	if err != nil {
		return nil, err
	}
	opts.Logger.Info("s3 credentials", "source", src.name)
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opts.MaxAttempts
			o.MaxBackoff = opts.MaxBackoff
			o.Retryables = append(o.Retryables, retryConflict{})
			// Never give up on a shared token bucket: every request gets
			// its attempts.
			o.RateLimiter = noRateLimit{}
		})
	}
	client := s3.New(s3.Options{
		Region:                     opts.Region,
		Credentials:                src.provider,
		HTTPClient:                 countRequests(hc, counts),
		UsePathStyle:               opts.PathStyle,
		Retryer:                    retryer(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	b := &Backend{client: client, opts: opts, log: opts.Logger, requests: counts}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(opts.Bucket)}); err != nil {
		return nil, fmt.Errorf("s3: bucket %q at %s is not reachable: %w", opts.Bucket, b.endpointName(), err)
	}
	return b, nil
}

// Open returns a Store over a new Backend.
func Open(ctx context.Context, opts Options) (*objstore.Store, error) {
	b, err := New(ctx, opts)
	if err != nil {
		return nil, err
	}
	name := "s3://" + b.opts.Bucket
	if b.opts.Prefix != "" {
		name += "/" + b.opts.Prefix
	}
	return objstore.New(b, objstore.Options{Name: name + " (" + b.endpointName() + ")", Logger: b.opts.Logger}), nil
}

func (b *Backend) endpointName() string {
	if b.opts.Endpoint != "" {
		return b.opts.Endpoint
	}
	return "AWS " + b.opts.Region
}

// objectKey maps a store key into the bucket.
func (b *Backend) objectKey(key string) string {
	if b.opts.Prefix == "" {
		return key
	}
	return b.opts.Prefix + "/" + key
}

func (b *Backend) storeKey(objKey string) string {
	if b.opts.Prefix == "" {
		return objKey
	}
	return strings.TrimPrefix(objKey, b.opts.Prefix+"/")
}

// retryConflict makes the SDK retry 409 ConditionalRequestConflict, which
// AWS documents as safe to retry for PutObject. Complete multipart is not
// retried (its parts may be gone); it surfaces as ErrConflict.
type retryConflict struct{}

func (retryConflict) IsErrorRetryable(err error) aws.Ternary {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ConditionalRequestConflict" {
		var oe *smithy.OperationError
		if errors.As(err, &oe) && oe.Operation() == "CompleteMultipartUpload" {
			return aws.FalseTernary
		}
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// noRateLimit gives every request all its attempts.
type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }

// status is the HTTP status of a failed request, or 0.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// classify maps an SDK error to the objstore error kinds.
func classify(err error) error {
	if err == nil {
		return nil
	}
	c := code(err)
	switch {
	case status(err) == http.StatusPreconditionFailed || c == "PreconditionFailed":
		return fmt.Errorf("%w: %w", objstore.ErrPreconditionFailed, err)
	case c == "ConditionalRequestConflict" || status(err) == http.StatusConflict:
		return fmt.Errorf("%w: %w", objstore.ErrConflict, err)
	case status(err) == http.StatusNotFound || c == "NoSuchKey" || c == "NotFound":
		return fmt.Errorf("%w: %w", objstore.ErrNotFound, err)
	}
	return err
}

// Get implements objstore.Backend.
func (b *Backend) Get(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(b.opts.Bucket), Key: aws.String(b.objectKey(key))}
	if offset > 0 || length >= 0 {
		if length >= 0 {
			in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
		} else {
			in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
		}
	}
	out, err := b.client.GetObject(ctx, in)
	if err != nil {
		if status(err) == http.StatusRequestedRangeNotSatisfiable || code(err) == "InvalidRange" {
			return []byte{}, nil // the object exists; the range starts past its end
		}
		return nil, classify(err)
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n >= 0 && out.ContentLength != nil {
		buf := make([]byte, n)
		if _, err := io.ReadFull(out.Body, buf); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return buf, nil
	}
	buf, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return buf, nil
}

// Head implements objstore.Backend.
func (b *Backend) Head(ctx context.Context, key string) (objstore.Info, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.opts.Bucket), Key: aws.String(b.objectKey(key))})
	if err != nil {
		return objstore.Info{}, classify(err)
	}
	return objstore.Info{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag), LastModified: aws.ToTime(out.LastModified)}, nil
}

// List implements objstore.Backend.
func (b *Backend) List(ctx context.Context, prefix string, opts objstore.ListOptions) (objstore.ListPage, error) {
	in := &s3.ListObjectsV2Input{
		Bucket:  aws.String(b.opts.Bucket),
		Prefix:  aws.String(b.objectKey(prefix)),
		MaxKeys: aws.Int32(int32(opts.MaxKeys)),
	}
	if opts.StartAfter != "" {
		in.StartAfter = aws.String(b.objectKey(opts.StartAfter))
	}
	out, err := b.client.ListObjectsV2(ctx, in)
	if err != nil {
		return objstore.ListPage{}, classify(err)
	}
	page := objstore.ListPage{More: aws.ToBool(out.IsTruncated)}
	for _, o := range out.Contents {
		page.Objects = append(page.Objects, objstore.Info{Key: b.storeKey(aws.ToString(o.Key)), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)})
	}
	return page, nil
}

// unsignedPayload makes a request sign UNSIGNED-PAYLOAD instead of the
// body's SHA-256. Over TLS the SDK does so by itself when a checksum is
// requested; over plain HTTP its checksum step would hash the body with
// SHA-256 too unless the payload hash is already set, so this sets it
// first.
func unsignedPayload(stack *middleware.Stack) error {
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("shoal:UnsignedPayload",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			return next.HandleFinalize(v4.SetPayloadHash(ctx, "UNSIGNED-PAYLOAD"), in)
		}), "AWSChecksum:ComputeInputPayloadChecksum", middleware.Before)
}

// Put implements objstore.Backend.
func (b *Backend) Put(ctx context.Context, key string, data []byte, cond objstore.Condition) (objstore.Info, error) {
	return b.put(ctx, key, bytes.NewReader(data), int64(len(data)), "", cond)
}

// PutPieces implements objstore.PiecesPutter: the pieces are sent as they
// are, and a CRC-32C the caller has is sent as the body's checksum instead
// of one computed here.
func (b *Backend) PutPieces(ctx context.Context, key string, p objstore.Pieces, cond objstore.Condition) (objstore.Info, error) {
	r := newPiecesReader(p.Bufs)
	var sum string
	if p.HasCRC32C {
		sum = base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, p.CRC32C))
	}
	return b.put(ctx, key, r, r.size, sum, cond)
}

// put stores size bytes from body under key; crc32c is the body's
// checksum as S3 wants it (base64 of the big-endian CRC), or "" to have
// the SDK compute it.
func (b *Backend) put(ctx context.Context, key string, body io.ReadSeeker, size int64, crc32c string, cond objstore.Condition) (objstore.Info, error) {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(b.opts.Bucket),
		Key:           aws.String(b.objectKey(key)),
		Body:          body,
		ContentLength: aws.Int64(size),
	}
	if cond.IsIfAbsent() {
		in.IfNoneMatch = aws.String("*")
	}
	if etag, ok := cond.MatchETag(); ok {
		in.IfMatch = aws.String(`"` + etag + `"`)
	}
	// The body is protected by a CRC-32C the server verifies, not by the
	// signature: SHA-256 of every byte for SigV4 was over a third of the
	// server's CPU on journal writes, CRC-32C is computed in hardware. A
	// checksum already set is sent as it is (the SDK skips its own).
	in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
	if crc32c != "" {
		in.ChecksumCRC32C = aws.String(crc32c)
	}
	out, err := b.client.PutObject(ctx, in, s3.WithAPIOptions(unsignedPayload))
	if err != nil {
		err = classify(err)
		if _, ok := cond.MatchETag(); ok && errors.Is(err, objstore.ErrNotFound) {
			// If-Match on a missing key: the condition failed.
			return objstore.Info{}, fmt.Errorf("%w: no object to match: %w", objstore.ErrPreconditionFailed, err)
		}
		return objstore.Info{}, err
	}
	return objstore.Info{Key: key, Size: size, ETag: aws.ToString(out.ETag), LastModified: time.Now()}, nil
}

// Delete implements objstore.Backend.
func (b *Backend) Delete(ctx context.Context, key string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.opts.Bucket), Key: aws.String(b.objectKey(key))})
	if err = classify(err); errors.Is(err, objstore.ErrNotFound) {
		return nil
	}
	return err
}

// Close implements objstore.Backend.
func (b *Backend) Close() error { return nil }
