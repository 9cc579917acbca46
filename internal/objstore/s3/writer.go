package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/shoalstream/shoal/internal/objstore"
)

// abortTimeout bounds the AbortMultipartUpload sent after a failure or a
// cancellation (the caller's context may be over by then).
const abortTimeout = 30 * time.Second

// writer is the buffered multipart writer. Writes of any size are gathered
// into parts of exactly PartSize (the last may be smaller); full parts are
// uploaded in the background, at most UploadConcurrency at once, so memory
// stays within (UploadConcurrency+1) × PartSize. The multipart upload is
// created only when the first part is full: an object smaller than one
// part is a single PutObject at Commit. The write condition goes on the
// PutObject or the CompleteMultipartUpload. Any failure, a cancelled
// context or Close before Commit aborts the upload.
type writer struct {
	b      *Backend
	key    string
	cond   objstore.Condition
	stop   func() bool // stops the caller's context watch
	wctx   context.Context
	cancel context.CancelCauseFunc
	sem    chan struct{}  // a slot per part uploading
	free   chan []byte    // part buffers to reuse
	wg     sync.WaitGroup // part uploads under way

	buf     []byte // the part being filled; only the caller's goroutine touches it
	partNum int32
	sent    int64 // bytes handed to part uploads

	mu struct {
		sync.Mutex
		uploadID string
		parts    []types.CompletedPart
		state    writerState
		err      error // the first failure
	}
}

type writerState int

const (
	writing writerState = iota
	committing
	finished // committed, or failed and cleaned up
	aborted
)

// NewWriter implements objstore.Backend.
func (b *Backend) NewWriter(ctx context.Context, key string, opts objstore.WriterOptions) (objstore.BackendWriter, error) {
	wctx, cancel := context.WithCancelCause(context.Background())
	w := &writer{
		b: b, key: key, cond: opts.Condition, wctx: wctx, cancel: cancel,
		sem:  make(chan struct{}, b.opts.UploadConcurrency),
		free: make(chan []byte, b.opts.UploadConcurrency+1),
		buf:  make([]byte, 0, b.opts.PartSize),
	}
	w.stop = objstore.AbortOnCancel(ctx, w.abort)
	return w, nil
}

// check returns why the writer cannot go on, if it cannot.
func (w *writer) check() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.mu.err != nil:
		return w.mu.err
	case w.mu.state == aborted:
		return objstore.ErrWriterClosed
	case w.mu.state != writing:
		return objstore.ErrClosed
	}
	return nil
}

func (w *writer) fail(err error) {
	w.mu.Lock()
	if w.mu.err == nil {
		w.mu.err = err
	}
	w.mu.Unlock()
	w.cancel(err)
}

func (w *writer) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if err := w.check(); err != nil {
			return n, err
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, n = p[k:], n+k
		if len(w.buf) == cap(w.buf) {
			if err := w.sendPart(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// sendPart starts the upload of the full buffer as the next part.
func (w *writer) sendPart() error {
	w.mu.Lock()
	uploadID := w.mu.uploadID
	w.mu.Unlock()
	if uploadID == "" {
		out, err := w.b.client.CreateMultipartUpload(w.wctx, &s3.CreateMultipartUploadInput{
			Bucket: aws.String(w.b.opts.Bucket), Key: aws.String(w.b.objectKey(w.key)),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, // each part's body is checked, see Put
		})
		if err != nil {
			err = fmt.Errorf("create multipart upload: %w", classify(err))
			w.fail(err)
			return err
		}
		uploadID = aws.ToString(out.UploadId)
		w.mu.Lock()
		w.mu.uploadID = uploadID
		state := w.mu.state
		w.mu.Unlock()
		if state == aborted {
			// Aborted while creating: the abort did not know the id.
			w.abortUpload(uploadID)
			return objstore.ErrWriterClosed
		}
	}
	select {
	case w.sem <- struct{}{}:
	case <-w.wctx.Done():
		return context.Cause(w.wctx)
	}
	w.mu.Lock()
	if w.mu.state == aborted || w.mu.err != nil {
		w.mu.Unlock()
		<-w.sem
		return w.check()
	}
	w.wg.Add(1)
	w.mu.Unlock()
	w.partNum++
	w.sent += int64(len(w.buf))
	num, data := w.partNum, w.buf
	select {
	case w.buf = <-w.free:
	default:
		w.buf = make([]byte, 0, w.b.opts.PartSize)
	}
	go w.upload(uploadID, num, data)
	return nil
}

func (w *writer) upload(uploadID string, num int32, data []byte) {
	defer w.wg.Done()
	defer func() {
		<-w.sem
		select {
		case w.free <- data[:0]:
		default:
		}
	}()
	out, err := w.b.client.UploadPart(w.wctx, &s3.UploadPartInput{
		Bucket: aws.String(w.b.opts.Bucket), Key: aws.String(w.b.objectKey(w.key)),
		UploadId: aws.String(uploadID), PartNumber: aws.Int32(num),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	}, s3.WithAPIOptions(unsignedPayload))
	if err != nil {
		w.fail(fmt.Errorf("upload part %d: %w", num, classify(err)))
		return
	}
	w.mu.Lock()
	// The quotes S3 puts around ETags are stripped before
	// CompleteMultipartUpload: some S3-compatible servers want them bare.
	w.mu.parts = append(w.mu.parts, types.CompletedPart{ETag: aws.String(objstore.NormalizeETag(aws.ToString(out.ETag))), PartNumber: aws.Int32(num), ChecksumCRC32C: out.ChecksumCRC32C})
	w.mu.Unlock()
}

func (w *writer) Commit(ctx context.Context) (objstore.Info, error) {
	w.stop()
	w.mu.Lock()
	if w.mu.state == aborted || w.mu.err != nil {
		err := w.mu.err
		w.mu.Unlock()
		if err == nil {
			err = objstore.ErrWriterClosed
		}
		w.cleanup()
		return objstore.Info{}, err
	}
	if w.mu.state != writing {
		w.mu.Unlock()
		return objstore.Info{}, objstore.ErrClosed
	}
	w.mu.state = committing
	uploadID := w.mu.uploadID
	w.mu.Unlock()

	info, err := w.commit(ctx, uploadID)
	w.mu.Lock()
	w.mu.state = finished
	w.mu.Unlock()
	if err != nil {
		w.cancel(err)
		w.wg.Wait()
		w.abortUpload(w.uploadID())
	}
	return info, err
}

func (w *writer) uploadID() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mu.uploadID
}

func (w *writer) commit(ctx context.Context, uploadID string) (objstore.Info, error) {
	if uploadID == "" {
		// Smaller than one part: one PutObject.
		return w.b.Put(ctx, w.key, w.buf, w.cond)
	}
	if len(w.buf) > 0 {
		// The last part, which may be smaller than the others.
		if err := w.sendPart(); err != nil {
			return objstore.Info{}, err
		}
	}
	w.wg.Wait()
	w.mu.Lock()
	err, parts := w.mu.err, slices.Clone(w.mu.parts)
	w.mu.Unlock()
	if err != nil {
		return objstore.Info{}, err
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber)) })
	in := &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(w.b.opts.Bucket), Key: aws.String(w.b.objectKey(w.key)),
		UploadId: aws.String(uploadID), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}
	if w.cond.IsIfAbsent() {
		in.IfNoneMatch = aws.String("*")
	}
	if etag, ok := w.cond.MatchETag(); ok {
		in.IfMatch = aws.String(`"` + etag + `"`)
	}
	out, err := w.b.client.CompleteMultipartUpload(ctx, in)
	if err != nil {
		err = classify(err)
		if _, ok := w.cond.MatchETag(); ok && errors.Is(err, objstore.ErrNotFound) {
			err = fmt.Errorf("%w: no object to match: %w", objstore.ErrPreconditionFailed, err)
		}
		return objstore.Info{}, fmt.Errorf("complete multipart upload: %w", err)
	}
	return objstore.Info{Key: w.key, Size: w.sent, ETag: aws.ToString(out.ETag), LastModified: time.Now()}, nil
}

func (w *writer) Close() error {
	w.abort(objstore.ErrWriterClosed)
	return nil
}

// abort stops a writer that is not committed: uploads stop, and the
// multipart upload, if any, is aborted.
func (w *writer) abort(why error) {
	w.mu.Lock()
	state := w.mu.state
	if state == writing {
		w.mu.state = aborted
	}
	w.mu.Unlock()
	switch state {
	case writing:
		w.cancel(why)
		w.cleanup()
	case committing:
		// Commit either completes or fails and cleans up after itself.
		w.cancel(why)
	}
}

// cleanup waits for uploads and aborts the multipart upload.
func (w *writer) cleanup() {
	w.wg.Wait()
	w.abortUpload(w.uploadID())
}

func (w *writer) abortUpload(uploadID string) {
	if uploadID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
	defer cancel()
	_, err := w.b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(w.b.opts.Bucket), Key: aws.String(w.b.objectKey(w.key)), UploadId: aws.String(uploadID),
	})
	if err != nil && !errors.Is(classify(err), objstore.ErrNotFound) {
		w.b.log.Warn("aborting a multipart upload failed; the bucket's lifecycle rules must clean it up", "key", w.key, "upload_id", uploadID, "err", err)
	}
}
