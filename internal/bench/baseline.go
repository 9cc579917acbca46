package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
)

// Baseline is what the storage did with no server in the way: the
// physical limit a run is compared with.
type Baseline struct {
	Storage string `json:"storage"` // fs or s3
	Target  string `json:"target"`  // the directory, or s3://bucket/prefix
	Method  string `json:"method"`
	Op      string `json:"op"` // "append" or "PUT"
	// WriteBytes is the size of one append or object; PayloadPerWrite the
	// message payload it stands for.
	WriteBytes      int64   `json:"write_bytes"`
	PayloadPerWrite float64 `json:"payload_bytes_per_write"`
	Concurrency     int     `json:"concurrency"`
	Ops             int64   `json:"ops"`
	DurationSeconds float64 `json:"duration_s"`
	OpsPerSecond    float64 `json:"ops_per_s"`
	MBps            float64 `json:"mb_s"`
	PayloadMBps     float64 `json:"payload_mb_s"`
	Latency         Latency `json:"latency"`
	// WarmupSeconds is how long the storage was written, unmeasured,
	// before the measured writes, and WarmupMBps how fast it went then.
	WarmupSeconds float64 `json:"warmup_s,omitempty"`
	WarmupMBps    float64 `json:"warmup_mb_s,omitempty"`
	// S3 only: GETs of the objects written, objects written, and the
	// request cost at list prices.
	Gets           int64    `json:"gets,omitempty"`
	GetsPerSecond  float64  `json:"gets_per_s,omitempty"`
	GetMBps        float64  `json:"get_mb_s,omitempty"`
	GetLatency     *Latency `json:"get_latency,omitempty"`
	ObjectsWritten int64    `json:"objects_written,omitempty"`
	Cost           *Cost    `json:"cost,omitempty"`
}

// Prices are request prices in US dollars per 1,000 requests.
type Prices struct {
	PutPer1000 float64 `json:"put_usd_per_1000"`
	GetPer1000 float64 `json:"get_usd_per_1000"`
}

// ListPrices are S3 Standard's request prices in us-east-1 (PUT, COPY,
// POST, LIST: $0.005 per 1,000; GET: $0.0004 per 1,000). Storage and
// transfer are not counted.
var ListPrices = Prices{PutPer1000: 0.005, GetPer1000: 0.0004}

// Cost is the request cost of moving a GiB of payload.
type Cost struct {
	Prices
	PutsPerGiB    float64 `json:"puts_per_gib_payload"`
	PutCostPerGiB float64 `json:"put_usd_per_gib_payload"`
	GetsPerGiB    float64 `json:"gets_per_gib_payload"`
	GetCostPerGiB float64 `json:"get_usd_per_gib_payload"`
}

// Text is the cost in a line.
func (c *Cost) Text() string {
	return fmt.Sprintf("writing 1 GiB of payload takes %.0f PUTs = $%.5f, reading it back %.0f GETs = $%.5f (PUT $%g, GET $%g per 1,000)",
		c.PutsPerGiB, c.PutCostPerGiB, c.GetsPerGiB, c.GetCostPerGiB, c.PutPer1000, c.GetPer1000)
}

func costOf(payloadPerObject float64, p Prices) *Cost {
	if payloadPerObject <= 0 {
		return nil
	}
	n := float64(1<<30) / payloadPerObject
	return &Cost{Prices: p, PutsPerGiB: n, PutCostPerGiB: n * p.PutPer1000 / 1000,
		GetsPerGiB: n, GetCostPerGiB: n * p.GetPer1000 / 1000}
}

// BatchBytes is the stored size of a batch of n messages of size bytes
// each (messages.md: a 256-byte batch header, a 48-byte header per
// message): what the server's journal writes for it.
func BatchBytes(n, size float64) float64 { return 256 + n*(48+size) }

// FSBaselineOptions configure FSBaseline.
type FSBaselineOptions struct {
	// Dir is the server's data directory; the test file is created in it
	// under a name the fs backend keeps for its temp files, and removed.
	Dir string
	// WriteBytes is one append (a batch as stored); PayloadPerWrite the
	// payload it carries.
	WriteBytes      int
	PayloadPerWrite float64
	Duration        time.Duration
	// Warmup is how long to write, unmeasured, before the measured
	// Duration: see S3BaselineOptions.Warmup.
	Warmup time.Duration
	// MaxFileBytes starts a new file when one reaches it (default 1 GiB),
	// as the journal does.
	MaxFileBytes int64
}

// FSBaseline appends WriteBytes at a time to a file in Dir, each append
// followed by fdatasync (what the journal does on fs), for Warmup
// unmeasured and then for Duration.
func FSBaseline(ctx context.Context, o FSBaselineOptions) (*Baseline, error) {
	if o.WriteBytes <= 0 || o.Duration <= 0 {
		return nil, errors.New("fs baseline: write size and duration must be positive")
	}
	if fi, err := os.Stat(o.Dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("fs baseline: the data directory %q does not exist (give the server's with --data-dir): %v", o.Dir, err)
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = 1 << 30
	}
	data := make([]byte, o.WriteBytes)
	_, _ = rand.Read(data)
	var f *os.File
	var size int64
	open := func() error {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		name := filepath.Join(o.Dir, "%tmp.bench-"+hex.EncodeToString(rnd[:]))
		var err error
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		size = 0
		return err
	}
	drop := func() {
		if f != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			f = nil
		}
	}
	defer drop()
	if err := open(); err != nil {
		return nil, fmt.Errorf("fs baseline: %w", err)
	}
	// write appends and syncs for d, recording each into hist if it is
	// not nil; it returns the appends and the time they took.
	write := func(d time.Duration, hist *hdrhistogram.Histogram) (int64, time.Duration, error) {
		var ops int64
		var busy time.Duration
		for deadline := time.Now().Add(d); time.Now().Before(deadline) && ctx.Err() == nil; {
			if size >= o.MaxFileBytes {
				drop()
				if err := open(); err != nil {
					return ops, busy, err
				}
			}
			start := time.Now()
			if _, err := f.Write(data); err != nil {
				return ops, busy, fmt.Errorf("write: %w", err)
			}
			if err := fs.SyncData(f); err != nil {
				return ops, busy, err
			}
			lat := time.Since(start)
			busy += lat
			if hist != nil {
				_ = hist.RecordValue(max(lat.Microseconds(), 1))
			}
			ops++
			size += int64(len(data))
		}
		return ops, busy, ctx.Err()
	}
	warmOps, warmBusy, err := write(o.Warmup, nil)
	if err != nil {
		return nil, fmt.Errorf("fs baseline: %w", err)
	}
	hist := newHistogram()
	ops, busy, err := write(o.Duration, hist)
	if err != nil {
		return nil, fmt.Errorf("fs baseline: %w", err)
	}
	secs := busy.Seconds()
	b := &Baseline{
		Storage: "fs", Target: o.Dir, Op: "append",
		Method: fmt.Sprintf("sequential appends of %s (one stored batch) each followed by fdatasync, one writer, into a file in the data directory",
			bytesText(float64(o.WriteBytes))),
		WriteBytes: int64(o.WriteBytes), PayloadPerWrite: o.PayloadPerWrite, Concurrency: 1,
		Ops: ops, DurationSeconds: round3(secs), Latency: latencyOf(hist),
	}
	if secs > 0 {
		b.OpsPerSecond = float64(ops) / secs
		b.MBps = float64(ops) * float64(o.WriteBytes) / 1e6 / secs
		b.PayloadMBps = float64(ops) * o.PayloadPerWrite / 1e6 / secs
	}
	if ws := warmBusy.Seconds(); ws > 0 {
		b.WarmupSeconds = round3(o.Warmup.Seconds())
		b.WarmupMBps = float64(warmOps) * float64(o.WriteBytes) / 1e6 / ws
	}
	return b, nil
}

// S3BaselineOptions configure S3Baseline.
type S3BaselineOptions struct {
	// Store is the server's bucket and prefix; objects are written under
	// "bench-baseline/<random>/", which the server never reads, and
	// deleted at the end.
	Store  *objstore.Store
	Target string // s3://bucket/prefix, for the report
	// ObjectBytes is the size of one PUT: the journal's flush size.
	ObjectBytes int
	// Concurrency is how many PUTs are in flight: the journal's
	// max_inflight_flushes.
	Concurrency int
	Duration    time.Duration
	// Warmup is how long to write, unmeasured, before the measured
	// Duration. A store that has just started writes faster than it goes
	// on writing (caches below it fill up): on the machine shoal is
	// developed on, a fresh MinIO took the first 5 s of PUTs at 210-290
	// MB/s and the next 5 s at 170-210, and a workload run after the
	// baseline only ever sees the second.
	Warmup time.Duration
	// PayloadFraction is the share of message payload in journal bytes.
	PayloadFraction float64
	Prices          Prices
}

// S3Baseline PUTs objects of ObjectBytes, Concurrency at a time and each
// IfAbsent as the journal writes them, for Warmup unmeasured and then for
// Duration; then GETs them back for at most half as long, and deletes
// them.
func S3Baseline(ctx context.Context, o S3BaselineOptions) (*Baseline, error) {
	if o.ObjectBytes <= 0 || o.Duration <= 0 || o.Concurrency <= 0 {
		return nil, errors.New("s3 baseline: object size, concurrency and duration must be positive")
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	prefix := "bench-baseline/" + hex.EncodeToString(rnd[:]) + "/"
	data := make([]byte, o.ObjectBytes)
	_, _ = rand.Read(data)

	var next atomic.Int64
	var mu sync.Mutex
	putHist := newHistogram()
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	// put PUTs for d, Concurrency at a time, recording each into hist if
	// it is not nil; it returns how many it wrote and how long it took.
	put := func(d time.Duration, hist *hdrhistogram.Histogram) (int64, float64) {
		start := time.Now()
		deadline := start.Add(d)
		var n atomic.Int64
		var wg sync.WaitGroup
		for range o.Concurrency {
			wg.Go(func() {
				for time.Now().Before(deadline) && ctx.Err() == nil {
					i := next.Add(1)
					start := time.Now()
					if _, err := o.Store.Put(ctx, prefix+strconv.FormatInt(i, 10), data, objstore.IfAbsent()); err != nil {
						fail(err)
						return
					}
					lat := time.Since(start)
					n.Add(1)
					if hist != nil {
						mu.Lock()
						_ = hist.RecordValue(max(lat.Microseconds(), 1))
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		return n.Load(), time.Since(start).Seconds()
	}
	warmed, warmSecs := put(o.Warmup, nil)
	var written int64
	var putSecs float64
	if firstErr == nil { // the warm-up's workers are done: no lock needed
		written, putSecs = put(o.Duration, putHist)
	}
	var wg sync.WaitGroup
	defer func() {
		// Delete what was written, whatever happened.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		var dn atomic.Int64
		var dwg sync.WaitGroup
		for range max(o.Concurrency, 8) {
			dwg.Go(func() {
				for i := dn.Add(1); i <= next.Load(); i = dn.Add(1) {
					_ = o.Store.Delete(dctx, prefix+strconv.FormatInt(i, 10))
				}
			})
		}
		dwg.Wait()
	}()
	if firstErr != nil {
		return nil, fmt.Errorf("s3 baseline: %w", firstErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	getHist := newHistogram()
	var gn atomic.Int64
	getStart := time.Now()
	getDeadline := getStart.Add(o.Duration / 2)
	for range o.Concurrency {
		wg.Go(func() {
			for time.Now().Before(getDeadline) && ctx.Err() == nil {
				i := gn.Add(1)
				if i > warmed+written {
					return
				}
				start := time.Now()
				if _, err := o.Store.Get(ctx, prefix+strconv.FormatInt(i, 10)); err != nil {
					fail(err)
					return
				}
				lat := time.Since(start)
				mu.Lock()
				_ = getHist.RecordValue(max(lat.Microseconds(), 1))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	getSecs := time.Since(getStart).Seconds()
	if firstErr != nil {
		return nil, fmt.Errorf("s3 baseline: %w", firstErr)
	}
	payload := float64(o.ObjectBytes) * o.PayloadFraction
	b := &Baseline{
		Storage: "s3", Target: o.Target, Op: "PUT",
		Method: fmt.Sprintf("PUTs (IfAbsent, as the journal writes) of %s objects (the journal's flush size), %d in flight, then GETs of them",
			bytesText(float64(o.ObjectBytes)), o.Concurrency),
		WriteBytes: int64(o.ObjectBytes), PayloadPerWrite: payload, Concurrency: o.Concurrency,
		Ops: written, DurationSeconds: round3(putSecs), Latency: latencyOf(putHist),
		ObjectsWritten: warmed + written, Cost: costOf(payload, o.Prices),
	}
	if o.Warmup > 0 && warmSecs > 0 {
		b.WarmupSeconds = round3(warmSecs)
		b.WarmupMBps = float64(warmed) * float64(o.ObjectBytes) / 1e6 / warmSecs
	}
	if putSecs > 0 {
		b.OpsPerSecond = float64(written) / putSecs
		b.MBps = float64(written) * float64(o.ObjectBytes) / 1e6 / putSecs
		b.PayloadMBps = float64(written) * payload / 1e6 / putSecs
	}
	if gets := getHist.TotalCount(); gets > 0 && getSecs > 0 {
		l := latencyOf(getHist)
		b.Gets, b.GetsPerSecond = gets, float64(gets)/getSecs
		b.GetMBps = float64(gets) * float64(o.ObjectBytes) / 1e6 / getSecs
		b.GetLatency = &l
	}
	return b, nil
}

// BucketSnapshot is what a server's bucket holds at one moment, as far as
// counting its writes goes.
type BucketSnapshot struct {
	at         time.Time
	maxJournal uint64
	hasJournal bool
	segments   map[string]int64 // key → size
	manifests  map[string]bool
}

// SnapshotBucket lists the server's journal, segments and manifests.
func SnapshotBucket(ctx context.Context, st *objstore.Store) (*BucketSnapshot, error) {
	s := &BucketSnapshot{at: time.Now(), segments: map[string]int64{}, manifests: map[string]bool{}}
	for info, err := range st.All(ctx, "journal/") {
		if err != nil {
			return nil, err
		}
		if n, err := strconv.ParseUint(strings.TrimPrefix(info.Key, "journal/"), 10, 64); err == nil {
			s.maxJournal, s.hasJournal = max(s.maxJournal, n), true
		}
	}
	for info, err := range st.All(ctx, "segments/") {
		if err != nil {
			return nil, err
		}
		s.segments[info.Key] = info.Size
	}
	for info, err := range st.All(ctx, "manifest/") {
		if err != nil {
			return nil, err
		}
		s.manifests[info.Key] = true
	}
	return s, nil
}

// S3Usage is what the server wrote to its bucket during a run, read off
// the bucket: journal objects are numbered densely, so the difference of
// the highest numbers is the journal PUTs; new segments and manifests are
// new keys. The server's GETs leave no trace in the bucket.
type S3Usage struct {
	Source         string  `json:"source"`
	Seconds        float64 `json:"duration_s"`
	JournalObjects int64   `json:"journal_puts"`
	SegmentObjects int64   `json:"segments_written"`
	SegmentBytes   int64   `json:"segment_bytes"`
	// SegmentRequests estimates the requests of the segments: one PUT
	// below the part size, else a multipart upload (create, parts,
	// complete).
	SegmentRequests int64   `json:"segment_requests_estimate"`
	Manifests       int64   `json:"manifests_written"`
	Puts            int64   `json:"puts"`
	PutsPerSecond   float64 `json:"puts_per_s"`
	// PayloadBytes is the payload the run sent.
	PayloadBytes  uint64  `json:"payload_bytes"`
	PutCostPerGiB float64 `json:"put_usd_per_gib_payload"`
	Prices        Prices  `json:"prices"`
}

// S3UsageBetween computes the server's writes between two snapshots.
func S3UsageBetween(before, after *BucketSnapshot, partSize int64, payload uint64, prices Prices) *S3Usage {
	u := &S3Usage{
		Source:       "bucket listings before and after the measured phase",
		Seconds:      round3(after.at.Sub(before.at).Seconds()),
		PayloadBytes: payload, Prices: prices,
	}
	if after.hasJournal {
		u.JournalObjects = int64(after.maxJournal)
		if before.hasJournal {
			u.JournalObjects -= int64(before.maxJournal)
		}
	}
	for k, size := range after.segments {
		if _, ok := before.segments[k]; ok {
			continue
		}
		u.SegmentObjects++
		u.SegmentBytes += size
		if partSize <= 0 || size < partSize {
			u.SegmentRequests++
		} else {
			u.SegmentRequests += (size+partSize-1)/partSize + 2
		}
	}
	for k := range after.manifests {
		if !before.manifests[k] {
			u.Manifests++
		}
	}
	u.Puts = u.JournalObjects + u.SegmentRequests + u.Manifests
	if u.Seconds > 0 {
		u.PutsPerSecond = float64(u.Puts) / u.Seconds
	}
	if payload > 0 {
		u.PutCostPerGiB = float64(u.Puts) / (float64(payload) / (1 << 30)) * prices.PutPer1000 / 1000
	}
	return u
}
