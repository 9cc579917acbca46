package logstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/batch"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

// benchBatch is a producer batch of n messages of size bytes.
func benchBatch(b *testing.B, n, size int) []byte {
	msgs := make([]batch.NewMessage, n)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	for i := range msgs {
		msgs[i] = batch.NewMessage{Payload: payload}
	}
	out, err := batch.Build(nil, msgs)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// benchAppend runs writers goroutines appending the same batch with
// AckDurable to their own partitions and reports MB/s and ack latency
// percentiles.
func benchAppend(b *testing.B, s *objstore.Store, opts Options, writers, partitions int, data []byte) {
	opts.Logger = discardLogger()
	l, err := Open(context.Background(), s, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			local := make([]time.Duration, 0, b.N/writers+1)
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				k := PartitionKey{1, 1, uint32((int(i)*writers + w) % partitions)}
				start := time.Now()
				if _, err := l.Append(context.Background(), k, data); err != nil {
					b.Error(err)
					return
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	b.StopTimer()
	reportLatency(b, lat)
	st := s.Stats()
	b.ReportMetric(float64(st.Calls[objstore.OpPut])/b.Elapsed().Seconds(), "puts/s")
	if st.Calls[objstore.OpPut] > 0 {
		b.ReportMetric(float64(st.BytesWritten)/float64(st.Calls[objstore.OpPut])/1024, "KiB/put")
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkAppend measures durable appends: 8 writers, batches of 1,000
// messages of 1 KB, next to the raw limit of the same storage.
func BenchmarkAppend(b *testing.B) {
	const writers, msgs, size = 8, 1000, 1000
	b.Run("mem", func(b *testing.B) {
		benchAppend(b, mem.NewStore(), Options{}, writers, writers, benchBatch(b, msgs, size))
	})
	b.Run("fs", func(b *testing.B) {
		s, err := fs.Open(b.TempDir(), fs.Options{Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchAppend(b, s, Options{}, writers, writers, benchBatch(b, msgs, size))
	})
	b.Run("fs-raw", func(b *testing.B) {
		// The physical limit: sequential write + fsync of the same bytes.
		data := benchBatch(b, msgs, size)
		f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(len(data)))
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			if _, err := f.Write(data); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		reportLatency(b, lat)
	})
	for _, fb := range []int{2 << 20, 8 << 20} { // the default, and a larger one
		for _, parts := range []int{1, 1000} {
			b.Run(fmt.Sprintf("s3/flush=%dMiB/partitions=%d", fb>>20, parts), func(b *testing.B) {
				o := s3test.Options(b)
				o.Logger = discardLogger()
				s, err := s3.Open(context.Background(), o)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				benchAppend(b, s, Options{FlushBytes: fb}, writers, parts, benchBatch(b, msgs, size))
			})
		}
	}
	for _, size := range []int{2 << 20, 8 << 20} {
		b.Run(fmt.Sprintf("s3-raw/object=%dMiB", size>>20), func(b *testing.B) {
			// The physical limit: PUTs of objects of the journal's flush
			// size, as many at once as the journal has in flight.
			o := s3test.Options(b)
			o.Logger = discardLogger()
			s, err := s3.Open(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := make([]byte, size)
			b.SetBytes(int64(len(data)))
			var next atomic.Int64
			var mu sync.Mutex
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			var wg sync.WaitGroup
			for range 4 { // Options.MaxInflightFlushes' default
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						start := time.Now()
						if _, err := s.Put(context.Background(), fmt.Sprintf("raw/%d", i), data, objstore.IfAbsent()); err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						lat = append(lat, time.Since(start))
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			reportLatency(b, lat)
		})
	}
}

// BenchmarkRecovery measures Open of a store holding 1,000 partitions and
// about 2 GiB of messages (fs), after a crash: the newest checkpoint plus
// the journal after it. The store is built once.
func BenchmarkRecovery(b *testing.B) {
	const partitions, perPartition = 1000, 2 << 20 // 2 MiB each: ~2 GiB
	root := b.TempDir()
	s, err := fs.Open(root, fs.Options{Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Logger: discardLogger(), SegmentBytes: 1 << 20, CheckpointInterval: time.Hour}
	l, err := Open(context.Background(), s, opts)
	if err != nil {
		b.Fatal(err)
	}
	data := benchBatch(b, 100, 1000) // ~100 KB
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for p := w; p < partitions; p += 8 {
				for range perPartition / len(data) {
					if _, err := l.Append(context.Background(), PartitionKey{1, 1, uint32(p)}, data); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := l.Checkpoint(context.Background()); err != nil {
		b.Fatal(err)
	}
	// Some traffic after the checkpoint, then a crash.
	for p := range partitions {
		if _, err := l.Append(context.Background(), PartitionKey{1, 1, uint32(p)}, data[:0:0]); err == nil {
			b.Fatal("an empty batch was accepted")
		}
		if _, err := l.Append(context.Background(), PartitionKey{1, 1, uint32(p)}, benchBatch(b, 1, 100)); err != nil {
			b.Fatal(err)
		}
	}
	crash(l)
	b.ResetTimer()
	for range b.N {
		l, err := Open(context.Background(), s, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, next, ok := l.Bounds(PartitionKey{1, 1, 999}); !ok || next == 0 {
			b.Fatalf("partition 999 recovered empty")
		}
		crash(l)
		b.StartTimer()
	}
}
