package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Report is everything a run measured; it is what --output-json writes.
type Report struct {
	Tool      string     `json:"tool"`
	Version   string     `json:"version,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	Params    Params     `json:"params"`
	Server    ServerInfo `json:"server"`
	Hardware  Hardware   `json:"hardware"`
	Setup     SetupInfo  `json:"setup"`
	// DurationSeconds is the measured phase, warmup included, until the
	// last batch.
	DurationSeconds float64       `json:"duration_s"`
	Groups          []GroupReport `json:"groups"`
	Actors          []ActorReport `json:"actors"`
	Verification    *Verification `json:"verification,omitempty"`
	Baseline        *Baseline     `json:"baseline,omitempty"`
	// BaselineRatio is the workload's throughput over the baseline's
	// (see BaselineBasis for which throughputs).
	BaselineRatio *float64 `json:"baseline_ratio,omitempty"`
	BaselineBasis string   `json:"baseline_ratio_basis,omitempty"`
	S3            *S3Usage `json:"s3_usage,omitempty"`
	// Store is the server's own account of its storage during the run
	// (with --server-pprof).
	Store *StoreUsage `json:"server_store,omitempty"`
	Notes []string    `json:"notes,omitempty"`

	// groupHists are the pooled histograms of the groups, by name, for
	// the charts.
	groupHists map[string]*hdrhistogram.Histogram
}

// ServerInfo is what the server said of itself.
type ServerInfo struct {
	Version string `json:"version"`
	// Storage is the kind in the version string (fs, s3, memory), "" if
	// the server does not say.
	Storage     string `json:"storage"`
	Hostname    string `json:"hostname,omitempty"`
	OS          string `json:"os,omitempty"`
	Kernel      string `json:"kernel,omitempty"`
	Threads     uint32 `json:"threads,omitempty"`
	TotalMemory uint64 `json:"total_memory,omitempty"`
	// MessagesAfter and BytesAfter are the server's totals after the run.
	MessagesAfter uint64 `json:"messages_after"`
	BytesAfter    uint64 `json:"bytes_after"`
}

// Hardware is the machine the benchmark ran on.
type Hardware struct {
	CPUs      int    `json:"cpus"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	GoVersion string `json:"go_version"`
}

// SetupInfo is the unmeasured work before the run.
type SetupInfo struct {
	DurationSeconds float64 `json:"duration_s"`
	// SeededMessages were written for the read-only workloads to read.
	SeededMessages int64 `json:"seeded_messages,omitempty"`
}

// ActorReport is one actor: what it sent and what it received.
type ActorReport struct {
	Role    Role        `json:"role"`
	ID      int         `json:"id"`
	Stream  string      `json:"stream"`
	Group   string      `json:"consumer_group,omitempty"`
	Send    *SideReport `json:"send,omitempty"`
	Receive *SideReport `json:"receive,omitempty"`
}

// SideReport is one side of an actor.
type SideReport struct {
	Summary
	Series Series `json:"series"`
}

// GroupReport is the figures of a group of actor sides (messages.md §7.5):
// throughput summed over the actors, latency from the pooled histogram.
type GroupReport struct {
	Name   string `json:"name"`
	Actors int    `json:"actors"`
	Summary
	AvgThroughputMBps  float64 `json:"avg_throughput_mb_s"`
	AvgThroughputMsgps float64 `json:"avg_throughput_msg_s"`
	// LatencyMeanOfActors is the reference's group latency: each figure
	// the mean of the actors' figures.
	LatencyMeanOfActors Latency           `json:"latency_mean_of_actors"`
	Percentiles         []PercentilePoint `json:"latency_percentiles"`
	Histogram           []HistogramBin    `json:"latency_histogram"`
	// Series sums the actors' intervals.
	Series Series `json:"series"`
}

// PercentilePoint is the latency at a percentile.
type PercentilePoint struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

// HistogramBin counts the batches whose latency fell in [FromMs, ToMs).
type HistogramBin struct {
	FromMs float64 `json:"from_ms"`
	ToMs   float64 `json:"to_ms"`
	Count  int64   `json:"count"`
}

// MarshalJSON writes durations as text and names the finish condition.
func (p Params) MarshalJSON() ([]byte, error) {
	type plain Params
	finish := fmt.Sprintf("%d batches (messages.md §7.4)", p.MessageBatches)
	if p.TotalBytes > 0 {
		finish = fmt.Sprintf("%d payload bytes (messages.md §7.4)", p.TotalBytes)
	}
	return json.Marshal(struct {
		plain
		Alias         string `json:"kind_alias"`
		Finish        string `json:"finish_condition"`
		Warmup        string `json:"warmup"`
		SamplingTime  string `json:"sampling_time"`
		MessageExpiry string `json:"message_expiry,omitempty"`
		StallTimeout  string `json:"stall_timeout"`
	}{
		plain: plain(p), Alias: p.Kind.Alias(), Finish: finish,
		Warmup: p.Warmup.String(), SamplingTime: p.SamplingTime.String(),
		MessageExpiry: durationOrEmpty(p.MessageExpiry), StallTimeout: p.StallTimeout.String(),
	})
}

func durationOrEmpty(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// The groups of a report.
const (
	GroupProducers         = "producers"
	GroupConsumers         = "consumers"
	GroupProducingSend     = "producing consumers (send)"
	GroupProducingReceive  = "producing consumers (receive)"
	GroupAll               = "all actors"
	percentilesForGraphing = "0,10,20,30,40,50,60,70,75,80,85,90,95,97.5,99,99.5,99.9,99.95,99.99,99.999,100"
)

// side is one recorder with the actor it belongs to.
type side struct {
	a    *actor
	rec  *recorder
	send bool
}

// fill computes the actors' and groups' figures.
func (r *runner) fill(rep *Report) {
	w := r.p.MovingAverageWindow
	groups := map[string][]side{}
	var order []string
	addTo := func(name string, s side) {
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], s)
	}
	for _, a := range r.actors {
		ar := ActorReport{Role: a.plan.role, ID: a.plan.id}
		if a.plan.send != nil {
			ar.Stream = streamName(a.plan.send.stream)
			sum, ser := a.sendRec.summarize(w)
			ar.Send = &SideReport{Summary: sum, Series: ser}
			name := GroupProducers
			if a.plan.role == RoleProducingConsumer {
				name = GroupProducingSend
			}
			addTo(name, side{a, a.sendRec, true})
		}
		if a.plan.poll != nil {
			if ar.Stream == "" {
				ar.Stream = streamName(a.plan.poll.stream)
			}
			if g := a.plan.poll.group; g != 0 {
				ar.Group = fmt.Sprintf("%s%d", groupPrefix, g)
			}
			sum, ser := a.pollRec.summarize(w)
			ar.Receive = &SideReport{Summary: sum, Series: ser}
			name := GroupConsumers
			if a.plan.role == RoleProducingConsumer {
				name = GroupProducingReceive
			}
			addTo(name, side{a, a.pollRec, false})
		}
		rep.Actors = append(rep.Actors, ar)
	}
	rep.groupHists = map[string]*hdrhistogram.Histogram{}
	var all []side
	for _, name := range order {
		all = append(all, groups[name]...)
	}
	if len(order) > 1 {
		order = append(order, GroupAll)
		groups[GroupAll] = all
	}
	for _, name := range order {
		g, h := groupReport(name, groups[name], w, r.p.SamplingTime)
		rep.Groups = append(rep.Groups, g)
		rep.groupHists[name] = h
	}
}

func groupReport(name string, sides []side, window int, sampling time.Duration) (GroupReport, *hdrhistogram.Histogram) {
	g := GroupReport{Name: name, Actors: len(sides)}
	pooled := newHistogram()
	var buckets []bucket
	var lats []Latency
	start, end := time.Duration(math.MaxInt64), time.Duration(0)
	for _, s := range sides {
		sum, _ := s.rec.summarize(window)
		g.Messages += sum.Messages
		g.Batches += sum.Batches
		g.PayloadBytes += sum.PayloadBytes
		g.TotalBytes += sum.TotalBytes
		g.ThroughputMBps += sum.ThroughputMBps
		g.ThroughputMsgps += sum.ThroughputMsgps
		lats = append(lats, sum.Latency)
		pooled.Merge(s.rec.hist)
		start, end = min(start, s.rec.start), max(end, s.rec.last)
		for len(buckets) < len(s.rec.buckets) {
			buckets = append(buckets, bucket{})
		}
		for i, b := range s.rec.buckets {
			buckets[i].payload += b.payload
			buckets[i].messages += b.messages
			buckets[i].latSum += b.latSum
			buckets[i].latN += b.latN
		}
	}
	if n := float64(len(sides)); n > 0 {
		g.AvgThroughputMBps = g.ThroughputMBps / n
		g.AvgThroughputMsgps = g.ThroughputMsgps / n
	}
	if d := (end - start).Seconds(); d > 0 {
		g.DurationSeconds = round3(d)
		g.AggregateMBps = float64(g.PayloadBytes) / 1e6 / d
		g.AggregateMsgps = float64(g.Messages) / d
	}
	g.Latency = latencyOf(pooled)
	g.LatencyMeanOfActors = meanLatency(lats)
	g.Series = seriesOf(buckets, sampling, window)
	g.Percentiles = percentilePoints(pooled)
	g.Histogram = histogramBins(pooled, 40)
	return g, pooled
}

func meanLatency(ls []Latency) Latency {
	var m Latency
	if len(ls) == 0 {
		return m
	}
	for _, l := range ls {
		m.Samples += l.Samples
		m.P50 += l.P50
		m.P90 += l.P90
		m.P95 += l.P95
		m.P99 += l.P99
		m.P999 += l.P999
		m.P9999 += l.P9999
		m.Min += l.Min
		m.Max += l.Max
		m.Mean += l.Mean
		m.StdDev += l.StdDev
	}
	n := float64(len(ls))
	m.P50, m.P90, m.P95, m.P99 = m.P50/n, m.P90/n, m.P95/n, m.P99/n
	m.P999, m.P9999, m.Min, m.Max = m.P999/n, m.P9999/n, m.Min/n, m.Max/n
	m.Mean, m.StdDev = m.Mean/n, m.StdDev/n
	return m
}

func percentilePoints(h *hdrhistogram.Histogram) []PercentilePoint {
	if h.TotalCount() == 0 {
		return nil
	}
	var pts []PercentilePoint
	for _, f := range strings.Split(percentilesForGraphing, ",") {
		var p float64
		fmt.Sscan(f, &p)
		pts = append(pts, PercentilePoint{Percentile: p, Ms: float64(h.ValueAtPercentile(p)) / 1000})
	}
	return pts
}

// histogramBins folds the histogram into n bins spaced evenly on a log
// scale between its minimum and maximum.
func histogramBins(h *hdrhistogram.Histogram, n int) []HistogramBin {
	if h.TotalCount() == 0 {
		return nil
	}
	lo, hi := math.Log(float64(max(h.Min(), 1))), math.Log(float64(h.Max()+1))
	if hi-lo < 1e-9 {
		hi = lo + 1e-3
	}
	bins := make([]HistogramBin, n)
	for i := range bins {
		bins[i].FromMs = math.Exp(lo+(hi-lo)*float64(i)/float64(n)) / 1000
		bins[i].ToMs = math.Exp(lo+(hi-lo)*float64(i+1)/float64(n)) / 1000
	}
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		mid := math.Log(max(float64(bar.From+bar.To)/2, 1))
		i := int((mid - lo) / (hi - lo) * float64(n))
		bins[min(max(i, 0), n-1)].Count += bar.Count
	}
	return bins
}

// Group returns the named group, or nil.
func (rep *Report) Group(name string) *GroupReport {
	for i := range rep.Groups {
		if rep.Groups[i].Name == name {
			return &rep.Groups[i]
		}
	}
	return nil
}

// SendGroups are the groups of sending sides (producers, producing
// consumers' sends).
func (rep *Report) SendGroups() []*GroupReport {
	var gs []*GroupReport
	for _, n := range []string{GroupProducers, GroupProducingSend} {
		if g := rep.Group(n); g != nil {
			gs = append(gs, g)
		}
	}
	return gs
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteSummary writes the human summary.
func (rep *Report) WriteSummary(w io.Writer) {
	p := rep.Params
	fmt.Fprintf(w, "\nshoal bench %s (%s) against %s", p.Kind, p.Kind.Alias(), p.Address)
	if rep.Server.Version != "" {
		fmt.Fprintf(w, " — %s", rep.Server.Version)
	}
	fmt.Fprintln(w)
	var actors []string
	if p.Producers > 0 {
		actors = append(actors, plural(p.Producers, "producer"))
	}
	if p.Consumers > 0 {
		actors = append(actors, plural(p.Consumers, "consumer"))
	}
	if p.ConsumerGroups > 0 {
		actors = append(actors, plural(p.ConsumerGroups, "consumer group"))
	}
	finish := fmt.Sprintf("finish: %s batches (messages.md §7.4)", count(int64(p.MessageBatches)))
	if p.TotalBytes > 0 {
		finish = fmt.Sprintf("finish: %s of payload", bytesText(float64(p.TotalBytes)))
	}
	fmt.Fprintf(w, "  %s; %s × %s; %s messages of %s B per batch; %s\n",
		strings.Join(actors, ", "), plural(p.Streams, "stream"), plural(p.Partitions, "partition"),
		p.MessagesPerBatch, p.MessageSize, finish)
	fmt.Fprintf(w, "  measured %.2f s", rep.DurationSeconds)
	if p.Warmup > 0 {
		fmt.Fprintf(w, " (warmup %v included)", p.Warmup)
	}
	fmt.Fprintf(w, "; setup %.2f s", rep.Setup.DurationSeconds)
	if rep.Setup.SeededMessages > 0 {
		fmt.Fprintf(w, ", %s messages written first for the consumers to read", count(rep.Setup.SeededMessages))
	}
	fmt.Fprintln(w)

	byGroup := map[string][]*SideReport{}
	names := map[string][]string{}
	for _, a := range rep.Actors {
		if a.Send != nil {
			n := GroupProducers
			if a.Role == RoleProducingConsumer {
				n = GroupProducingSend
			}
			byGroup[n] = append(byGroup[n], a.Send)
			names[n] = append(names[n], fmt.Sprintf("%s %d", a.Role, a.ID))
		}
		if a.Receive != nil {
			n := GroupConsumers
			if a.Role == RoleProducingConsumer {
				n = GroupProducingReceive
			}
			byGroup[n] = append(byGroup[n], a.Receive)
			names[n] = append(names[n], fmt.Sprintf("%s %d", a.Role, a.ID))
		}
	}
	for _, g := range rep.Groups {
		fmt.Fprintf(w, "\n%s (%d)\n", capitalize(g.Name), g.Actors)
		fmt.Fprintf(w, "  throughput  %.2f MB/s, %s msg/s (per actor %.2f MB/s); aggregate %.2f MB/s over %.2f s\n",
			g.ThroughputMBps, count(int64(g.ThroughputMsgps)), g.AvgThroughputMBps, g.AggregateMBps, g.DurationSeconds)
		fmt.Fprintf(w, "  totals      %s messages, %s batches, %s payload\n",
			count(int64(g.Messages)), count(int64(g.Batches)), bytesText(float64(g.PayloadBytes)))
		fmt.Fprintf(w, "  latency ms  %s\n", latencyLine(g.Latency))
		sides := byGroup[g.Name]
		if len(sides) < 2 {
			continue
		}
		fmt.Fprintf(w, "  %-24s %9s %11s %8s %8s %8s %8s %8s %8s\n", "", "MB/s", "msg/s", "p50", "p90", "p99", "p99.9", "max", "mean")
		for i, s := range sides {
			l := s.Latency
			fmt.Fprintf(w, "  %-24s %9.2f %11s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", names[g.Name][i],
				s.ThroughputMBps, count(int64(s.ThroughputMsgps)), l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
		}
	}
	if b := rep.Baseline; b != nil {
		fmt.Fprintf(w, "\nBaseline: %s\n", b.Method)
		fmt.Fprintf(w, "  %s: %.2f MB/s written (%.2f MB/s of payload), %.1f %s/s; latency ms %s\n",
			b.Target, b.MBps, b.PayloadMBps, b.OpsPerSecond, b.Op, latencyLine(b.Latency))
		if b.WarmupSeconds > 0 {
			fmt.Fprintf(w, "  measured after %.1f s of unmeasured writes (warm-up), which went at %.2f MB/s\n", b.WarmupSeconds, b.WarmupMBps)
		}
		if b.Gets > 0 {
			fmt.Fprintf(w, "  GET: %.2f MB/s, %.1f GET/s; latency ms %s\n", b.GetMBps, b.GetsPerSecond, latencyLine(*b.GetLatency))
		}
		if b.Cost != nil {
			fmt.Fprintf(w, "  list prices: %s\n", b.Cost.Text())
		}
	}
	if rep.BaselineRatio != nil {
		fmt.Fprintf(w, "baseline_ratio = %.3f  (%s)\n", *rep.BaselineRatio, rep.BaselineBasis)
	}
	if u := rep.S3; u != nil {
		fmt.Fprintf(w, "\nS3 requests of the server during the run (%s)\n", u.Source)
		fmt.Fprintf(w, "  %d PUTs (%d journal objects, %d segments ≈ %d requests, %d manifests) in %.2f s: %.1f PUT/s; %s\n",
			u.Puts, u.JournalObjects, u.SegmentObjects, u.SegmentRequests, u.Manifests, u.Seconds, u.PutsPerSecond, rep.getsText())
		if u.PutCostPerGiB > 0 {
			fmt.Fprintf(w, "  PUT cost at list prices: $%.5f per GiB of payload written\n", u.PutCostPerGiB)
		}
	}
	if u := rep.Store; u != nil {
		fmt.Fprintf(w, "\nStorage of the server during the run (%s, %.2f s): %s\n", u.Store, u.Seconds, u.Source)
		if t := u.RequestsText(); t != "" {
			fmt.Fprintf(w, "  %s\n", t)
			fmt.Fprintf(w, "  request cost at list prices: $%.5f per GiB of payload sent\n", u.CostPerGiB)
		}
		fmt.Fprintf(w, "  %s\n", u.CallsText())
	}
	if v := rep.Verification; v != nil {
		var sent, stored uint64
		for _, s := range v.Streams {
			sent += s.Sent.Count
			stored += s.Stored.Count
		}
		var complete int
		var received uint64
		for _, rc := range v.Readers {
			received += rc.Received.Count
			if rc.Complete {
				complete++
			}
		}
		status := "OK"
		if !v.OK {
			status = "FAILED"
		}
		fmt.Fprintf(w, "\nVerification %s: %s messages sent, %s stored and read back; %s received by %d readers of partitions (%d read to the end), byte-exact by XXH3 digests\n",
			status, count(int64(sent)), count(int64(stored)), count(int64(received)), len(v.Readers), complete)
		for _, pr := range v.Problems {
			fmt.Fprintf(w, "  problem: %s\n", pr)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func latencyLine(l Latency) string {
	return fmt.Sprintf("p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  p99.99 %.2f  min %.2f  max %.2f  mean %.2f",
		l.P50, l.P90, l.P95, l.P99, l.P999, l.P9999, l.Min, l.Max, l.Mean)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// bytesText formats a byte count with a decimal unit.
func bytesText(b float64) string {
	switch {
	case b >= 1e12:
		return fmt.Sprintf("%.2f TB", b/1e12)
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.2f MB", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.2f kB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}

// SetBaseline attaches a baseline and computes the ratio: the aggregate
// payload throughput of every sending side over the baseline's payload
// throughput. Workloads that only read have no ratio (the baselines
// measure writes).
func (rep *Report) SetBaseline(b *Baseline) {
	rep.Baseline = b
	var payload uint64
	var secs float64
	for _, g := range rep.SendGroups() {
		payload += g.PayloadBytes
		secs = max(secs, g.DurationSeconds)
	}
	if payload == 0 || secs == 0 || b.PayloadMBps <= 0 {
		rep.Notes = append(rep.Notes, "no baseline_ratio: the workload sends nothing in its measured phase, and the baseline measures writes")
		return
	}
	ratio := round3(float64(payload) / 1e6 / secs / b.PayloadMBps)
	rep.BaselineRatio = &ratio
	rep.BaselineBasis = "payload MB/s of all sends, total over wall time / payload MB/s of the baseline"
}

// getsText says where the server's GETs are counted.
func (rep *Report) getsText() string {
	if rep.Store != nil && rep.Store.Requests != nil {
		return "GETs: see the server's counters below"
	}
	return "GETs are not in the bucket: give --server-pprof (the server's --pprof listener) for its request counters"
}
