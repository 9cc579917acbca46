package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/server"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startServer runs a shoal server on memory storage in this process, on a
// free port, and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	store := objstore.New(mem.New(), objstore.Options{Name: "memory"})
	b, err := broker.Open(context.Background(), store, broker.Options{
		PasswordParams: auth.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		Storage:        "memory", Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(b, server.Options{Address: "127.0.0.1:0", Version: "shoal test", Logger: quietLogger()})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-served
		if err := b.Close(); err != nil {
			t.Errorf("broker close: %v", err)
		}
		_ = store.Close()
	})
	return srv.Addr().String()
}

// smallParams are quick parameters for kind: 3 producers and 3 consumers,
// batches of 10 messages of 100 bytes, 20 batches.
func smallParams(kind Kind, addr string) Params {
	p := DefaultParams(kind)
	p.Address = addr
	p.Producers, p.Consumers = 3, 3
	p.MessageSize = Fixed(100)
	p.MessagesPerBatch = Fixed(10)
	p.MessageBatches = 20
	p.Verify = true
	p.StallTimeout = 20 * time.Second
	switch kind {
	case BalancedProducer, BalancedConsumerGroup, BalancedProducerAndConsumerGroup, EndToEndProducingConsumerGroup:
		p.Partitions = 4
	}
	return p
}

// sums adds up a report's messages per group.
func groupMessages(rep *Report, name string) uint64 {
	if g := rep.Group(name); g != nil {
		return g.Messages
	}
	return 0
}

func checkVerified(t *testing.T, rep *Report) {
	t.Helper()
	v := rep.Verification
	if v == nil {
		t.Fatal("no verification in the report")
	}
	if !v.OK {
		t.Fatalf("verification failed: %q", v.Problems)
	}
	for _, s := range v.Streams {
		if s.Sent != s.Stored || s.Sent.Count == 0 {
			t.Errorf("%s: sent %+v, stored %+v", s.Stream, s.Sent, s.Stored)
		}
	}
}

// TestSmokeEveryWorkload runs every workload briefly against an in-process
// server and checks the counts: every message sent is stored and received,
// byte for byte (XXH3 digests of the payloads).
func TestSmokeEveryWorkload(t *testing.T) {
	addr := startServer(t)
	const P, C, B, M = 3, 3, 20, 10
	// Messages each workload must send in its measured phase, and receive.
	want := map[Kind]struct{ send, recv uint64 }{
		PinnedProducer:                   {P * B * M, 0},
		BalancedProducer:                 {P * B * M, 0},
		PinnedConsumer:                   {0, C * B * M},
		BalancedConsumerGroup:            {0, C * B * M},
		PinnedProducerAndConsumer:        {2 * B * P * M, 2 * B * C * M}, // b·(P+C)/P batches each
		BalancedProducerAndConsumerGroup: {P * B * M, P * B * M},
		EndToEndProducingConsumer:        {P * B * M, P * B * M},
		EndToEndProducingConsumerGroup:   {P * B * M, P * B * M},
	}
	for _, kind := range Kinds() {
		t.Run(kind.Alias(), func(t *testing.T) {
			var progress bytes.Buffer
			rep, err := Run(context.Background(), smallParams(kind, addr), Options{Progress: &progress, ProgressInterval: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			checkVerified(t, rep)
			if !rep.Verification.ReadsAll && kind.hasConsumers() {
				t.Errorf("reads_all_expected is false for %s with these parameters", kind)
			}
			var sent, recv uint64
			for _, g := range rep.Groups {
				switch g.Name {
				case GroupProducers, GroupProducingSend:
					sent += g.Messages
				case GroupConsumers, GroupProducingReceive:
					recv += g.Messages
				}
			}
			w := want[kind]
			if sent != w.send || recv != w.recv {
				t.Errorf("sent %d, received %d messages; want %d and %d", sent, recv, w.send, w.recv)
			}
			if kind.hasConsumers() && kind.hasProducers() && sent != recv {
				t.Errorf("sent %d messages but received %d", sent, recv)
			}
			for _, g := range rep.Groups {
				if g.Latency.Samples == 0 || g.Latency.P50 <= 0 || g.Latency.Max < g.Latency.P99 || g.ThroughputMBps <= 0 {
					t.Errorf("group %s: implausible figures %+v", g.Name, g.Summary)
				}
			}
			if len(rep.Actors) == 0 {
				t.Error("no actors in the report")
			}
			if rep.Server.Storage != "memory" {
				t.Errorf("server storage %q, want memory (from %q)", rep.Server.Storage, rep.Server.Version)
			}
		})
	}
}

// TestSmokeVariants: ranges of sizes, a byte budget, warmup, a rate limit
// and several groups still deliver every message intact.
func TestSmokeVariants(t *testing.T) {
	addr := startServer(t)
	for _, tc := range []struct {
		name string
		edit func(*Params)
	}{
		{"ranges-ppc", func(p *Params) {
			p.Kind = PinnedProducerAndConsumer
			p.MessageSize, p.MessagesPerBatch = Range{8, 300}, Range{1, 25}
		}},
		{"ranges-bcg", func(p *Params) {
			p.Kind = BalancedConsumerGroup
			p.MessageSize, p.MessagesPerBatch = Range{3, 50}, Range{5, 15}
		}},
		{"total-bytes-pp", func(p *Params) {
			p.Kind = PinnedProducer
			p.MessageBatches, p.TotalBytes = 0, 100_000
		}},
		{"warmup-e2e", func(p *Params) {
			p.Kind = EndToEndProducingConsumer
			p.Warmup = 200 * time.Millisecond
		}},
		{"rate-limit-bp", func(p *Params) {
			p.Kind = BalancedProducer
			p.RateLimit = 200_000 // 60 kB in all: about 0.3 s
		}},
		{"two-groups-bpcg", func(p *Params) {
			p.Kind = BalancedProducerAndConsumerGroup
			p.Streams, p.ConsumerGroups, p.Consumers = 2, 2, 4
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := smallParams(PinnedProducer, addr)
			tc.edit(&p)
			start := time.Now()
			rep, err := Run(context.Background(), p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkVerified(t, rep)
			switch tc.name {
			case "total-bytes-pp":
				if got := rep.Group(GroupProducers).PayloadBytes; got < 100_000 || got > 100_000+3*1000 {
					t.Errorf("payload %d bytes, want 100,000 plus at most a batch per producer", got)
				}
			case "rate-limit-bp":
				if d := time.Since(start); d < 250*time.Millisecond {
					t.Errorf("60 kB at 200 kB/s took %v", d)
				}
			case "two-groups-bpcg":
				if s, r := groupMessages(rep, GroupProducers), groupMessages(rep, GroupConsumers); s != r || s != 3*20*10 {
					t.Errorf("sent %d, received %d", s, r)
				}
			}
		})
	}
}

func TestRunRejectsBadParams(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Params)
		want string
	}{
		{func(p *Params) { p.Kind = PinnedProducer; p.Streams = 2 }, "as many streams as producers"},
		{func(p *Params) { p.Kind = PinnedProducerAndConsumer; p.Consumers = 1 }, "at least as many consumers"},
		{func(p *Params) { p.Kind = BalancedConsumerGroup; p.ConsumerGroups = 9 }, "consumer groups ≤ consumers"},
		{func(p *Params) { p.Kind = BalancedConsumerGroup; p.Streams = 2 }, "streams ≤ consumer groups"},
		{func(p *Params) { p.TotalBytes = 5 }, "exactly one of"},
		{func(p *Params) { p.Kind = BalancedProducer; p.Partitions = 1001 }, "at most 1,000 partitions"},
		{func(p *Params) { p.Kind = EndToEndProducingConsumer; p.Streams = 9 }, "one stream per actor"},
		{func(p *Params) { p.Kind = "nope" }, "unknown workload"},
	} {
		p := DefaultParams(PinnedProducer)
		tc.edit(&p)
		_, err := Run(context.Background(), p, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", p, err, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Range{"1000": {1000, 1000}, "10..20": {10, 20}, " 5 .. 5 ": {5, 5}} {
		if got, err := ParseRange(in); err != nil || got != want {
			t.Errorf("ParseRange(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "5..4", "a", "1..b"} {
		if _, err := ParseRange(in); err == nil {
			t.Errorf("ParseRange(%q) accepted", in)
		}
	}
	for in, want := range map[string]uint64{"1000": 1000, "10MB": 10e6, "1.5GiB": 3 << 29, "50MB/s": 50e6, "2 kB": 2000} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "x", "10XB", "-1"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) accepted", in)
		}
	}
	for _, k := range Kinds() {
		for _, s := range []string{string(k), k.Alias()} {
			if got, err := ParseKind(s); err != nil || got != k {
				t.Errorf("ParseKind(%q) = %v, %v", s, got, err)
			}
		}
	}
	if StorageOf("shoal v1 abc go1.26 (storage: s3)") != "s3" || StorageOf("iggy 0.9") != "" {
		t.Error("StorageOf")
	}
}

// TestRecorder: a batch's volume is spread over the intervals it spans,
// the throughput is the mean of the smoothed intervals, and the
// percentiles come from the histogram.
func TestRecorder(t *testing.T) {
	r := newRecorder(10 * time.Millisecond)
	r.begin(0)
	// 1 MB every 10 ms for 100 ms: 100 MB/s.
	for i := 1; i <= 10; i++ {
		r.record(time.Duration(i)*10*time.Millisecond, time.Duration(i)*time.Millisecond, 1000, 1e6)
	}
	s, ser := r.summarize(3)
	if s.Messages != 10_000 || s.PayloadBytes != 1e7 || s.Batches != 10 || s.TotalBytes != 1e7+64*10_000 {
		t.Errorf("totals %+v", s)
	}
	if d := s.ThroughputMBps - 100; d < -0.01 || d > 0.01 {
		t.Errorf("throughput %.3f MB/s, want 100", s.ThroughputMBps)
	}
	if d := s.AggregateMBps - 100; d < -0.01 || d > 0.01 {
		t.Errorf("aggregate %.3f MB/s, want 100", s.AggregateMBps)
	}
	if len(ser.TimeSeconds) != 10 || ser.ThroughputMsgs[5] != 100_000 {
		t.Errorf("series %+v", ser)
	}
	l := s.Latency
	if l.Min != 1 || l.Max < 9.99 || l.Max > 10.01 || l.P50 < 4.99 || l.P50 > 5.01 || l.Samples != 10 {
		t.Errorf("latency %+v", l)
	}
	// A batch spanning two and a half intervals.
	r = newRecorder(10 * time.Millisecond)
	r.begin(5 * time.Millisecond)
	r.record(30*time.Millisecond, time.Millisecond, 25, 2500)
	if got := []float64{r.buckets[0].payload, r.buckets[1].payload, r.buckets[2].payload}; got[0] != 500 || got[1] != 1000 || got[2] != 1000 {
		t.Errorf("spread %v", got)
	}
}

func TestSMA(t *testing.T) {
	got := sma([]float64{2, 4, 6, 8}, 2)
	want := []float64{2, 3, 5, 7}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sma = %v, want %v", got, want)
		}
	}
}

// TestOutputs: the JSON has every section and the ratio; the HTML is one
// self-contained page with its charts.
func TestOutputs(t *testing.T) {
	addr := startServer(t)
	p := smallParams(PinnedProducerAndConsumer, addr)
	rep, err := Run(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep.SetBaseline(&Baseline{Storage: "fs", Target: "/x", Method: "m", Op: "append", PayloadMBps: 1, MBps: 1.1})
	if rep.BaselineRatio == nil || *rep.BaselineRatio <= 0 {
		t.Fatalf("baseline ratio %v", rep.BaselineRatio)
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"params", "server", "hardware", "groups", "actors", "verification", "baseline", "baseline_ratio"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	params := m["params"].(map[string]any)
	for _, k := range []string{"kind", "message_size", "messages_per_batch", "message_batches", "producers", "consumers", "streams", "partitions", "warmup", "sampling_time", "finish_condition"} {
		if _, ok := params[k]; !ok {
			t.Errorf("JSON params lack %q", k)
		}
	}
	if _, ok := params["Password"]; ok {
		t.Error("the password is in the JSON")
	}
	g := m["groups"].([]any)[0].(map[string]any)
	for _, k := range []string{"throughput_mb_s", "throughput_msg_s", "latency", "latency_percentiles", "latency_histogram", "series"} {
		if _, ok := g[k]; !ok {
			t.Errorf("JSON group lacks %q", k)
		}
	}
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	h := page.String()
	if strings.Count(h, "<svg") < 4 || strings.Contains(h, "<script") || strings.Contains(h, "http://") && !strings.Contains(h, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("HTML: %d charts, script %v", strings.Count(h, "<svg"), strings.Contains(h, "<script"))
	}
	for _, want := range []string{"Throughput", "Latency by percentile", "Latency histogram", "baseline_ratio", "producer 1"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	var sum bytes.Buffer
	rep.WriteSummary(&sum)
	for _, want := range []string{"Producers (3)", "Consumers (3)", "p99.99", "baseline_ratio", "Verification OK"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

func TestFSBaseline(t *testing.T) {
	dir := t.TempDir()
	b, err := FSBaseline(context.Background(), FSBaselineOptions{
		Dir: dir, WriteBytes: int(BatchBytes(10, 1000)), PayloadPerWrite: 10_000,
		Duration: 200 * time.Millisecond, Warmup: 100 * time.Millisecond, MaxFileBytes: 100_000,
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.Ops == 0 || b.MBps <= 0 || b.PayloadMBps >= b.MBps || b.Latency.Samples != b.Ops || b.WarmupSeconds != 0.1 || b.WarmupMBps <= 0 {
		t.Errorf("baseline %+v", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the baseline left %d files", len(entries))
	}
	if _, err := FSBaseline(context.Background(), FSBaselineOptions{Dir: dir + "/missing", WriteBytes: 1, Duration: time.Millisecond}); err == nil {
		t.Error("no error for a missing directory")
	}
}

func TestS3UsageBetween(t *testing.T) {
	before := &BucketSnapshot{at: time.Unix(0, 0), maxJournal: 10, hasJournal: true,
		segments: map[string]int64{"segments/a": 1}, manifests: map[string]bool{"manifest/1": true}}
	after := &BucketSnapshot{at: time.Unix(10, 0), maxJournal: 110, hasJournal: true,
		segments:  map[string]int64{"segments/a": 1, "segments/b": 100, "segments/c": 20 << 20},
		manifests: map[string]bool{"manifest/1": true, "manifest/2": true}}
	u := S3UsageBetween(before, after, 8<<20, 1<<30, ListPrices)
	// 100 journal + 1 (small segment) + 3 parts + 2 (multipart) + 1 manifest.
	if u.JournalObjects != 100 || u.SegmentObjects != 2 || u.SegmentRequests != 6 || u.Manifests != 1 || u.Puts != 107 {
		t.Errorf("usage %+v", u)
	}
	if u.PutsPerSecond != 10.7 || u.PutCostPerGiB != 107*0.005/1000 {
		t.Errorf("rates %+v", u)
	}
	c := costOf(2<<20, ListPrices)
	if c.PutsPerGiB != 512 || c.PutCostPerGiB != 512*0.005/1000 {
		t.Errorf("cost %+v", c)
	}
}

// TestVerifyCatchesAStrayMessage: a message nobody in the run sent makes
// verification fail, naming the stream.
func TestVerifyCatchesAStrayMessage(t *testing.T) {
	addr := startServer(t)
	p := smallParams(PinnedProducer, addr)
	rep, err := Run(context.Background(), p, Options{AfterMeasure: func(ctx context.Context) error {
		cl, err := client.Dial(ctx, client.Options{Address: addr, Username: "iggy", Password: "iggy"})
		if err != nil {
			return err
		}
		defer cl.Close()
		_, err = cl.SendMessages(ctx, client.NamedID("bench-stream-2"), client.NamedID("topic-1"), client.PartitionID(0),
			[]client.Message{client.NewMessage([]byte("stray"))})
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Verification
	if v.OK || len(v.Problems) != 1 || !strings.Contains(v.Problems[0], "bench-stream-2: sent 200 messages") {
		t.Errorf("verification OK=%v, problems %q", v.OK, v.Problems)
	}
}

func TestVerifierOffsets(t *testing.T) {
	v := newVerifier()
	v.addRead("consumer 1", 1, 0, []client.Message{{Offset: 0}, {Offset: 1}})
	v.addRead("consumer 1", 1, 0, []client.Message{{Offset: 3}})
	v.addRead("consumer 1", 1, 0, []client.Message{{Offset: 3}})
	st := v.readers[readerKey{"consumer 1", 1, 0}]
	if len(st.errs) != 2 || st.errs[0] != "got offset 3, expected 2" || st.errs[1] != "got offset 3, expected 4" {
		t.Errorf("errors %q", st.errs)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct{ lo, hi float64 }{{0, 249}, {0, 1}, {0, 0.03}, {3.2, 41.7}, {0, 1e6}} {
		ts := niceTicks(tc.lo, tc.hi, 6)
		if len(ts) < 2 || ts[0] > tc.lo || ts[len(ts)-1] < tc.hi || len(ts) > 13 {
			t.Errorf("niceTicks(%v, %v) = %v", tc.lo, tc.hi, ts)
		}
	}
}

// The storage use between two readings of a server's counters: the
// differences, the S3 price classes, their rates and cost.
func TestStoreUsageBetween(t *testing.T) {
	before := StoreCounters{
		Store: "s3://b", Calls: map[string]uint64{"put": 10, "get": 4}, Errors: map[string]uint64{"put": 1},
		BytesRead: 100, BytesWritten: 1000,
		Requests: &objstore.Requests{Get: 4, Head: 1, List: 2, Put: 10, Post: 0, Delete: 3},
	}
	after := StoreCounters{
		Store: "s3://b", Calls: map[string]uint64{"put": 1010, "get": 504}, Errors: map[string]uint64{"put": 1},
		BytesRead: 600, BytesWritten: 5000,
		Requests: &objstore.Requests{Get: 504, Head: 1, List: 4, Put: 1008, Post: 2, Delete: 3},
	}
	u := StoreUsageBetween(before, after, 10, 1<<30, Prices{PutPer1000: 5, GetPer1000: 0.4})
	if u.Calls["put"] != 1000 || u.Calls["get"] != 500 || u.Errors["put"] != 0 || u.BytesRead != 500 || u.BytesWritten != 4000 {
		t.Errorf("calls %v, errors %v, bytes %d/%d", u.Calls, u.Errors, u.BytesRead, u.BytesWritten)
	}
	if u.PutClass != 1002 || u.GetClass != 500 || u.PutsPerSecond != 100.2 || u.GetsPerSecond != 50 {
		t.Errorf("classes %d/%d, rates %v/%v", u.PutClass, u.GetClass, u.PutsPerSecond, u.GetsPerSecond)
	}
	if want := 1002*5/1000.0 + 500*0.4/1000; math.Abs(u.CostPerGiB-want) > 1e-9 {
		t.Errorf("cost per GiB %v, want %v", u.CostPerGiB, want)
	}
	if got := u.RequestsText(); !strings.Contains(got, "1002 PUT-class requests, 100.2/s (998 PUT, 2 POST, 2 LIST)") ||
		!strings.Contains(got, "500 GET-class, 50.0/s (500 GET, 0 HEAD); 0 DELETE") {
		t.Errorf("requests text %q", got)
	}
	// A local store has no requests.
	before.Requests, after.Requests = nil, nil
	if u := StoreUsageBetween(before, after, 10, 1<<30, ListPrices); u.Requests != nil || u.RequestsText() != "" || u.CostPerGiB != 0 {
		t.Errorf("local store usage %+v", u)
	}
}
