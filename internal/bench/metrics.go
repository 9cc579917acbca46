package bench

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to an hour, with three
// significant digits.
const (
	histMinMicros = 1
	histMaxMicros = int64(time.Hour / time.Microsecond)
	histSigFigs   = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs)
}

// legacyHeaderBytes is the per-message header counted in "total bytes" by
// the reference benchmark: an accounting constant, not the wire size.
const legacyHeaderBytes = 64

// bucket is one sampling interval of a side's time series.
type bucket struct {
	payload, messages float64 // spread over the intervals a batch spans
	latSum            float64 // µs, of the batches completed in it
	latN              int64
}

// recorder collects what one side (send or receive) of one actor did in the
// measured phase: totals, a latency histogram, and per-interval buckets.
// It is owned by its actor's goroutine until the actor ends.
type recorder struct {
	sampling time.Duration
	start    time.Duration // when the side's measured phase began, since t0
	last     time.Duration // when its last batch completed, since t0
	buckets  []bucket
	hist     *hdrhistogram.Histogram

	messages, batches, payload uint64
}

func newRecorder(sampling time.Duration) *recorder {
	return &recorder{sampling: sampling, hist: newHistogram()}
}

// begin marks the start of the measured phase, at since-t0 time at.
func (r *recorder) begin(at time.Duration) { r.start, r.last = at, at }

// record adds a batch that completed at since-t0 time at, with its
// latency, message count and payload bytes. Its volume is spread evenly
// over the time since the previous batch, as the reference does.
func (r *recorder) record(at, latency time.Duration, messages, payload uint64) {
	r.messages += messages
	r.payload += payload
	r.batches++
	us := latency.Microseconds()
	_ = r.hist.RecordValue(min(max(us, histMinMicros), histMaxMicros))
	from, to := r.last, max(at, r.last)
	r.last = to
	r.grow(to)
	idx := int(to / r.sampling)
	r.buckets[idx].latSum += float64(us)
	r.buckets[idx].latN++
	span := to - from
	if span <= 0 {
		r.buckets[idx].payload += float64(payload)
		r.buckets[idx].messages += float64(messages)
		return
	}
	for t := from; t < to; {
		i := int(t / r.sampling)
		end := min(time.Duration(i+1)*r.sampling, to)
		share := float64(end-t) / float64(span)
		r.buckets[i].payload += share * float64(payload)
		r.buckets[i].messages += share * float64(messages)
		t = end
	}
}

func (r *recorder) grow(at time.Duration) {
	n := int(at/r.sampling) + 1
	for len(r.buckets) < n {
		r.buckets = append(r.buckets, bucket{})
	}
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Samples int64   `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P90     float64 `json:"p90_ms"`
	P95     float64 `json:"p95_ms"`
	P99     float64 `json:"p99_ms"`
	P999    float64 `json:"p999_ms"`
	P9999   float64 `json:"p9999_ms"`
	Min     float64 `json:"min_ms"`
	Max     float64 `json:"max_ms"`
	Mean    float64 `json:"mean_ms"`
	StdDev  float64 `json:"std_dev_ms"`
}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	v := h.ValueAtPercentiles([]float64{50, 90, 95, 99, 99.9, 99.99})
	return Latency{
		Samples: h.TotalCount(),
		P50:     ms(v[50]), P90: ms(v[90]), P95: ms(v[95]), P99: ms(v[99]),
		P999: ms(v[99.9]), P9999: ms(v[99.99]),
		Min: ms(h.Min()), Max: ms(h.Max()), Mean: h.Mean() / 1000, StdDev: h.StdDev() / 1000,
	}
}

// Summary is what one side of one actor, or a group of them, did.
type Summary struct {
	Messages     uint64 `json:"messages"`
	Batches      uint64 `json:"batches"`
	PayloadBytes uint64 `json:"payload_bytes"`
	// TotalBytes adds the reference's 64-byte legacy header per message.
	TotalBytes      uint64  `json:"total_bytes"`
	DurationSeconds float64 `json:"duration_s"`
	// ThroughputMBps and ThroughputMsgps are the reference's figures: per
	// sampling interval, smoothed by a moving average, then the mean over
	// the intervals that saw data (1 MB = 10^6 bytes). For a group, the sum
	// over its actors.
	ThroughputMBps  float64 `json:"throughput_mb_s"`
	ThroughputMsgps float64 `json:"throughput_msg_s"`
	// AggregateMBps and AggregateMsgps are totals over the wall time of
	// the measured phase (a group's: from its first start to its last
	// batch).
	AggregateMBps  float64 `json:"aggregate_mb_s"`
	AggregateMsgps float64 `json:"aggregate_msg_s"`
	Latency        Latency `json:"latency"`
}

// Series is a side's time series: one point per sampling interval that saw
// data, throughput smoothed by the moving average, latency the mean of
// the batches completed in the interval.
type Series struct {
	TimeSeconds    []float64 `json:"time_s"`
	ThroughputMBps []float64 `json:"throughput_mb_s"`
	ThroughputMsgs []float64 `json:"throughput_msg_s"`
	LatencyMs      []float64 `json:"latency_ms"`
}

// sma is the trailing simple moving average over window points.
func sma(v []float64, window int) []float64 {
	out := make([]float64, len(v))
	var sum float64
	for i, x := range v {
		sum += x
		if i >= window {
			sum -= v[i-window]
		}
		out[i] = sum / float64(min(i+1, window))
	}
	return out
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// seriesOf turns buckets into the points of the intervals that saw data.
func seriesOf(bs []bucket, sampling time.Duration, window int) Series {
	var s Series
	var mb, msgs []float64
	secs := sampling.Seconds()
	for i, b := range bs {
		if b.payload <= 0 && b.messages <= 0 {
			continue
		}
		s.TimeSeconds = append(s.TimeSeconds, round3(float64(i)*secs))
		mb = append(mb, b.payload/1e6/secs)
		msgs = append(msgs, b.messages/secs)
		lat := math.NaN()
		if b.latN > 0 {
			lat = b.latSum / float64(b.latN) / 1000
		}
		s.LatencyMs = append(s.LatencyMs, lat)
	}
	s.ThroughputMBps = roundAll(sma(mb, window))
	s.ThroughputMsgs = roundAll(sma(msgs, window))
	// Intervals a batch only passed through have no latency: carry the
	// previous one, so the series has a value per point.
	prev := 0.0
	for i, l := range s.LatencyMs {
		if math.IsNaN(l) {
			l = prev
		}
		s.LatencyMs[i], prev = round3(l), l
	}
	return s
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func roundAll(v []float64) []float64 {
	for i := range v {
		v[i] = round3(v[i])
	}
	return v
}

// summarize computes a side's summary and series.
func (r *recorder) summarize(window int) (Summary, Series) {
	s := Summary{
		Messages: r.messages, Batches: r.batches, PayloadBytes: r.payload,
		TotalBytes: r.payload + legacyHeaderBytes*r.messages,
		Latency:    latencyOf(r.hist),
	}
	d := (r.last - r.start).Seconds()
	s.DurationSeconds = round3(d)
	if d > 0 {
		s.AggregateMBps = float64(r.payload) / 1e6 / d
		s.AggregateMsgps = float64(r.messages) / d
	}
	ser := seriesOf(r.buckets, r.sampling, window)
	if len(ser.ThroughputMBps) > 0 {
		s.ThroughputMBps = mean(ser.ThroughputMBps)
		s.ThroughputMsgps = mean(ser.ThroughputMsgs)
	} else {
		s.ThroughputMBps, s.ThroughputMsgps = s.AggregateMBps, s.AggregateMsgps
	}
	return s, ser
}
