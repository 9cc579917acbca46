package main

// `shoal bench`: the Iggy benchmark's workloads against a running server
// (internal/bench), with the storage baseline, the outputs and the
// profiles. This file holds the command, its flags and what it needs of
// the server's configuration (the data directory or the bucket).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/bench"
	"github.com/shoalstream/shoal/internal/config"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/storage"
)

// benchFlags are the values of `shoal bench`'s flags that are not
// bench.Params fields.
type benchFlags struct {
	messageSize, messagesPerBatch string
	totalBytes, rateLimit         string
	maxTopicSize                  string

	outputJSON, outputHTML string
	quiet                  bool

	baseline         bool
	baselineDuration time.Duration
	baselineWarmup   time.Duration
	storageKind      string
	configFile       string
	dataDir          string
	s3Endpoint       string
	s3Bucket         string
	s3Prefix         string
	s3Region         string
	s3ObjectSize     string
	s3Concurrency    int
	putPrice         float64
	getPrice         float64

	serverPprof        string
	serverPprofSeconds int
	serverPprofOut     string
	cpuProfile         string
}

func newBenchCommand(env environment) *cobra.Command {
	p := bench.DefaultParams(bench.PinnedProducer)
	f := benchFlags{}
	var kinds []string
	for _, k := range bench.Kinds() {
		kinds = append(kinds, fmt.Sprintf("  %-38s (%s)", k, k.Alias()))
	}
	cmd := &cobra.Command{
		Use:   "bench WORKLOAD [flags]",
		Short: "Benchmark a server with the Iggy benchmark's workloads",
		Long: `Run one of the Iggy benchmark's workloads against a server speaking the
protocol (shoal or Iggy) and report throughput and latency per actor and per
group, with the reference's definitions (messages.md §7), so results compare
with published Iggy numbers.

Workloads:
` + strings.Join(kinds, "\n") + `

The defaults are the reference's: 8 producers and consumers, batches of 1,000
messages of 1,000 bytes, 1,000 batches per actor. Streams bench-stream-1…N of
an earlier run are deleted first.

--baseline first measures what the server's storage can do with no server in
the way, and reports baseline_ratio = workload throughput / baseline
throughput. The storage kind is read from the server's stats (shoal says
"(storage: fs|s3|memory)"); the data directory or bucket comes from the flags,
else from the server's configuration (--config or $` + config.EnvConfigFile + ` and SHOAL_*
variables, as for shoal server):
  fs  appends of one stored batch each followed by fdatasync, into a
      temporary file in the data directory;
  s3  PUTs of journal-sized objects (journal.flush_bytes), as many at once
      as journal.max_inflight_flushes, then GETs of them; also the request
      cost per GiB at list prices, and the server's own PUTs counted from
      listings of its bucket before and after the run.
Both write unmeasured for --baseline-warmup first: a store that has just
started writes faster than it goes on writing, and the workload, which comes
after, never sees that.
--server-pprof ADDR (the server's --pprof listener) also fetches a CPU
profile of the server and reads its storage counters (/debug/store) before
and after the run: its store calls and bytes, and on S3 its requests by kind
(GETs included) per second and their cost per GiB at list prices.`,
		Example: `  shoal bench pinned-producer --baseline --data-dir ./data
  shoal bench pp -p 8 -b 200 --output-json run.json --output-html run.html
  shoal bench bpcg --partitions 1000 --message-batches 100 --verify
  shoal bench pc --consumers 4 --total-bytes 1GB --rate-limit 200MB`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := bench.ParseKind(args[0])
			if err != nil {
				return err
			}
			p.Kind = kind
			if err := f.apply(cmd, &p, env); err != nil {
				return err
			}
			return runBench(cmd.Context(), p, f, env)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVarP(&f.messageSize, "message-size", "m", "1000", "payload bytes per message: N or a range A..B")
	fl.StringVarP(&f.messagesPerBatch, "messages-per-batch", "P", "1000", "messages per batch: N or a range A..B")
	fl.Uint64VarP(&p.MessageBatches, "message-batches", "b", p.MessageBatches, "batches per actor (the finish condition; see messages.md §7.4)")
	fl.StringVarP(&f.totalBytes, "total-bytes", "T", "", "payload volume as the finish condition instead of batches (e.g. 10GB)")
	fl.IntVarP(&p.Producers, "producers", "p", p.Producers, "producers")
	fl.IntVarP(&p.Consumers, "consumers", "c", p.Consumers, "consumers")
	fl.IntVar(&p.Streams, "streams", 0, "streams (default: the workload's: producers, consumers, 1 or 8)")
	fl.IntVar(&p.Partitions, "partitions", 0, "partitions per topic (default: 1 pinned, 24 balanced)")
	fl.IntVarP(&p.ConsumerGroups, "consumer-groups", "g", p.ConsumerGroups, "consumer groups")
	fl.StringVarP(&f.rateLimit, "rate-limit", "r", "", "payload bytes per second of all actors together (e.g. 100MB), split evenly")
	fl.DurationVarP(&p.Warmup, "warmup", "w", 0, "run unmeasured this long first")
	fl.DurationVarP(&p.SamplingTime, "sampling-time", "t", p.SamplingTime, "interval of the time series")
	fl.IntVarP(&p.MovingAverageWindow, "moving-average-window", "W", p.MovingAverageWindow, "samples of the throughput's moving average")
	fl.StringVar(&f.maxTopicSize, "max-topic-size", "", "topics' max_topic_size (default: the server's)")
	fl.DurationVar(&p.MessageExpiry, "message-expiry", 0, "topics' message expiry (default: the server's)")
	fl.StringVar(&p.Address, "address", "", "server host:port (default: $"+envAddress+", else "+client.DefaultAddress+")")
	fl.StringVar(&p.Username, "username", "", "username (default: $"+envUsername+", else iggy)")
	fl.StringVar(&p.Password, "password", "", "password (default: $"+envPassword+", else iggy)")
	fl.BoolVar(&p.Verify, "verify", false, "check every message: what was sent is stored and received byte for byte (costs a hash of every payload and a read-back)")
	fl.Uint64Var(&p.Seed, "seed", p.Seed, "seed of the sizes drawn from ranges")
	fl.DurationVar(&p.StallTimeout, "stall-timeout", p.StallTimeout, "fail when nothing moved for this long")
	fl.StringVar(&f.outputJSON, "output-json", "", "write every parameter and figure as JSON to `FILE`")
	fl.StringVar(&f.outputHTML, "output-html", "", "write a self-contained HTML report with charts to `FILE`")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress line")
	fl.BoolVar(&f.baseline, "baseline", false, "measure the storage's own limit first and report baseline_ratio")
	fl.DurationVar(&f.baselineDuration, "baseline-duration", 5*time.Second, "how long the baseline writes")
	fl.DurationVar(&f.baselineWarmup, "baseline-warmup", 5*time.Second, "how long the baseline writes, unmeasured, before that (a store just started writes faster than it goes on writing)")
	fl.StringVar(&f.storageKind, "storage", "", "storage of the server for --baseline: fs or s3 (default: what the server reports)")
	fl.StringVar(&f.configFile, "config", "", "the server's configuration `FILE`, for its data directory or bucket (default: $"+config.EnvConfigFile+")")
	fl.StringVar(&f.dataDir, "data-dir", "", "the server's data directory (default: data_dir of its configuration)")
	fl.StringVar(&f.s3Endpoint, "s3-endpoint", "", "the server's S3 endpoint (default: its configuration's)")
	fl.StringVar(&f.s3Bucket, "s3-bucket", "", "the server's bucket (default: its configuration's)")
	fl.StringVar(&f.s3Prefix, "s3-prefix", "", "the server's key prefix (default: its configuration's)")
	fl.StringVar(&f.s3Region, "s3-region", "", "the bucket's region (default: its configuration's)")
	fl.StringVar(&f.s3ObjectSize, "s3-object-size", "", "size of the baseline's PUTs (default: journal.flush_bytes, 2MiB)")
	fl.IntVar(&f.s3Concurrency, "s3-concurrency", 0, "PUTs in flight in the baseline (default: journal.max_inflight_flushes, 4)")
	fl.Float64Var(&f.putPrice, "put-price", bench.ListPrices.PutPer1000, "US dollars per 1,000 PUTs (S3 Standard list price)")
	fl.Float64Var(&f.getPrice, "get-price", bench.ListPrices.GetPer1000, "US dollars per 1,000 GETs (S3 Standard list price)")
	fl.StringVar(&f.serverPprof, "server-pprof", "", "fetch a CPU profile of the server during the run, and its storage counters before and after, from its pprof listener at `ADDR` (shoal server --pprof ADDR)")
	fl.IntVar(&f.serverPprofSeconds, "server-pprof-seconds", 10, "length of that profile, from the start of the run")
	fl.StringVar(&f.serverPprofOut, "server-pprof-out", "server.cpu.pprof", "where that profile is written")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the benchmark itself to `FILE`")
	return cmd
}

// apply turns the text flags and the environment into parameters.
func (f *benchFlags) apply(cmd *cobra.Command, p *bench.Params, env environment) error {
	var errs []error
	var err error
	if p.MessageSize, err = bench.ParseRange(f.messageSize); err != nil {
		errs = append(errs, fmt.Errorf("--message-size: %w", err))
	}
	if p.MessagesPerBatch, err = bench.ParseRange(f.messagesPerBatch); err != nil {
		errs = append(errs, fmt.Errorf("--messages-per-batch: %w", err))
	}
	if f.totalBytes != "" {
		if cmd.Flags().Changed("message-batches") {
			errs = append(errs, errors.New("--total-bytes and --message-batches exclude each other"))
		}
		p.MessageBatches = 0
		if p.TotalBytes, err = bench.ParseBytes(f.totalBytes); err != nil || p.TotalBytes == 0 {
			errs = append(errs, fmt.Errorf("--total-bytes: %v", orPositive(err)))
		}
	}
	if f.rateLimit != "" {
		if p.RateLimit, err = bench.ParseBytes(f.rateLimit); err != nil {
			errs = append(errs, fmt.Errorf("--rate-limit: %w", err))
		}
	}
	if f.maxTopicSize != "" {
		if p.MaxTopicSize, err = bench.ParseBytes(f.maxTopicSize); err != nil {
			errs = append(errs, fmt.Errorf("--max-topic-size: %w", err))
		}
	}
	lookup := func(name string) string {
		if env.lookupEnv == nil {
			return ""
		}
		v, _ := env.lookupEnv(name)
		return v
	}
	for _, d := range []struct {
		v        *string
		env, def string
	}{
		{&p.Address, envAddress, client.DefaultAddress},
		{&p.Username, envUsername, "iggy"},
		{&p.Password, envPassword, "iggy"},
	} {
		if *d.v == "" {
			*d.v = lookup(d.env)
		}
		if *d.v == "" {
			*d.v = d.def
		}
	}
	switch f.storageKind {
	case "", config.StorageFS, config.StorageS3:
	default:
		errs = append(errs, fmt.Errorf("--storage %q: fs or s3", f.storageKind))
	}
	return errors.Join(errs...)
}

func orPositive(err error) error {
	if err == nil {
		return errors.New("must be positive")
	}
	return err
}

// runBench runs the baseline if asked, the workload, and writes the
// outputs.
func runBench(ctx context.Context, p bench.Params, f benchFlags, env environment) error {
	if f.cpuProfile != "" {
		out, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	var base *bench.Baseline
	var usage *s3Observer
	if f.baseline {
		b, obs, err := runBaseline(ctx, p, f, env, log)
		if err != nil {
			return err
		}
		base, usage = b, obs
		if usage != nil {
			defer usage.store.Close()
		}
	}

	opts := bench.Options{Logger: log}
	if !f.quiet {
		opts.Progress = env.stderr
		if fl, ok := env.stderr.(*os.File); ok && term.IsTerminal(int(fl.Fd())) {
			opts.Terminal = true
		}
	}
	var profile *serverProfile
	var counters *storeObserver
	if f.serverPprof != "" {
		counters = &storeObserver{addr: f.serverPprof}
	}
	opts.BeforeMeasure = func(ctx context.Context) error {
		if usage != nil {
			if err := usage.before(ctx); err != nil {
				return err
			}
		}
		if counters != nil {
			counters.read(ctx, &counters.first, env)
			profile = startServerProfile(f.serverPprof, f.serverPprofSeconds, f.serverPprofOut)
		}
		return nil
	}
	opts.AfterMeasure = func(ctx context.Context) error {
		if counters != nil {
			counters.read(ctx, &counters.last, env)
		}
		if usage != nil {
			return usage.after(ctx)
		}
		return nil
	}
	if !f.quiet {
		fmt.Fprintf(env.stderr, "shoal bench %s against %s\n", p.Kind, p.Address)
	}
	rep, err := bench.Run(ctx, p, opts)
	if profile != nil {
		if !f.quiet {
			fmt.Fprintf(env.stderr, "waiting for the server's CPU profile (%d s from the start of the run)…\n", f.serverPprofSeconds)
		}
		if perr := profile.wait(); perr != nil {
			fmt.Fprintf(env.stderr, "shoal: warning: server profile: %v\n", perr)
		} else if !f.quiet {
			fmt.Fprintf(env.stderr, "server CPU profile written to %s (go tool pprof -top %s)\n", f.serverPprofOut, f.serverPprofOut)
		}
	}
	if err != nil {
		return err
	}
	rep.Version = version()
	if base != nil {
		rep.SetBaseline(base)
	}
	if usage != nil && usage.first != nil && usage.last != nil {
		var payload uint64
		for _, g := range rep.SendGroups() {
			payload += g.PayloadBytes
		}
		rep.S3 = bench.S3UsageBetween(usage.first, usage.last, usage.partSize, payload, usage.prices)
	}
	if counters != nil && counters.first != nil && counters.last != nil {
		var payload uint64
		for _, g := range rep.SendGroups() {
			payload += g.PayloadBytes
		}
		prices := bench.Prices{PutPer1000: f.putPrice, GetPer1000: f.getPrice}
		rep.Store = bench.StoreUsageBetween(counters.first.c, counters.last.c, counters.last.at.Sub(counters.first.at).Seconds(), payload, prices)
	}
	if f.baseline && rep.Server.Storage == config.StorageMemory {
		rep.Notes = append(rep.Notes, "the server keeps its data in memory: no storage baseline applies")
	}
	rep.WriteSummary(env.stdout)
	if f.outputJSON != "" {
		if err := writeFile(f.outputJSON, rep.WriteJSON); err != nil {
			return err
		}
	}
	if f.outputHTML != "" {
		if err := writeFile(f.outputHTML, rep.WriteHTML); err != nil {
			return err
		}
	}
	if v := rep.Verification; v != nil && !v.OK {
		return fmt.Errorf("verification failed: %s", strings.Join(v.Problems, "; "))
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(out); err != nil {
		_ = out.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return out.Close()
}

// runBaseline measures the storage the server reports (or --storage says)
// with no server in the way. For S3 it also returns the observer that
// counts the server's PUTs from bucket listings.
func runBaseline(ctx context.Context, p bench.Params, f benchFlags, env environment, log *slog.Logger) (*bench.Baseline, *s3Observer, error) {
	kind := f.storageKind
	if kind == "" {
		cl, err := client.Dial(ctx, client.Options{Address: p.Address, Username: p.Username, Password: p.Password})
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to %s: %w", p.Address, err)
		}
		st, err := cl.GetStats(ctx)
		_ = cl.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("reading the server's stats: %w", err)
		}
		if kind = bench.StorageOf(st.ServerVersion); kind == "" {
			return nil, nil, fmt.Errorf("the server (%q) does not say what storage it uses; give --storage fs or s3", st.ServerVersion)
		}
	}
	if kind == config.StorageMemory {
		fmt.Fprintln(env.stderr, "shoal bench: the server keeps its data in memory; no baseline applies")
		return nil, nil, nil
	}
	cfg, err := loadServerConfig(f, env)
	if err != nil {
		return nil, nil, err
	}
	mean := func(r bench.Range) float64 { return (float64(r.Min) + float64(r.Max)) / 2 }
	msgs, size := mean(p.MessagesPerBatch), mean(p.MessageSize)
	batchBytes := bench.BatchBytes(msgs, size)
	payloadPerBatch := msgs * size
	switch kind {
	case config.StorageFS:
		dir := f.dataDir
		if dir == "" {
			dir = cfg.DataDir
		}
		if !f.quiet {
			fmt.Fprintf(env.stderr, "baseline: appends of %.0f bytes + fdatasync in %s for %v after %v of warm-up\n", batchBytes, dir, f.baselineDuration, f.baselineWarmup)
		}
		b, err := bench.FSBaseline(ctx, bench.FSBaselineOptions{
			Dir: dir, WriteBytes: int(batchBytes), PayloadPerWrite: payloadPerBatch, Duration: f.baselineDuration, Warmup: f.baselineWarmup,
		})
		return b, nil, err
	case config.StorageS3:
		s := cfg.Storage.S3
		for _, o := range []struct {
			flag string
			dst  *string
		}{{f.s3Endpoint, &s.Endpoint}, {f.s3Bucket, &s.Bucket}, {f.s3Prefix, &s.Prefix}, {f.s3Region, &s.Region}} {
			if o.flag != "" {
				*o.dst = o.flag
			}
		}
		if s.Bucket == "" {
			return nil, nil, errors.New("--baseline on S3 needs the server's bucket: --s3-bucket (and --s3-endpoint), or its configuration with --config")
		}
		objSize := cfg.Journal.FlushBytes.Bytes()
		if f.s3ObjectSize != "" {
			v, err := bench.ParseBytes(f.s3ObjectSize)
			if err != nil || v == 0 {
				return nil, nil, fmt.Errorf("--s3-object-size: %v", orPositive(err))
			}
			objSize = int64(v)
		}
		conc := cfg.Journal.MaxInflightFlushes
		if f.s3Concurrency > 0 {
			conc = f.s3Concurrency
		}
		st, err := s3.Open(ctx, storage.S3Options(s, log))
		if err != nil {
			return nil, nil, fmt.Errorf("opening the bucket: %w", err)
		}
		prices := bench.Prices{PutPer1000: f.putPrice, GetPer1000: f.getPrice}
		target := "s3://" + s.Bucket + "/" + s.Prefix
		if s.Endpoint != "" {
			target += " at " + s.Endpoint
		}
		if !f.quiet {
			fmt.Fprintf(env.stderr, "baseline: PUTs of %d-byte objects, %d at once, to %s for %v after %v of warm-up\n", objSize, conc, target, f.baselineDuration, f.baselineWarmup)
		}
		b, err := bench.S3Baseline(ctx, bench.S3BaselineOptions{
			Store: st, Target: target, ObjectBytes: int(objSize), Concurrency: conc,
			Duration: f.baselineDuration, Warmup: f.baselineWarmup, PayloadFraction: payloadPerBatch / batchBytes, Prices: prices,
		})
		if err != nil {
			_ = st.Close()
			return nil, nil, err
		}
		return b, &s3Observer{store: st, partSize: s.PartSize.Bytes(), prices: prices}, nil
	}
	return nil, nil, fmt.Errorf("no baseline for storage %q", kind)
}

// loadServerConfig reads the server's configuration as shoal server does:
// defaults, the file (--config or $SHOAL_CONFIG), then SHOAL_* variables.
func loadServerConfig(f benchFlags, env environment) (config.Config, error) {
	path := f.configFile
	if path == "" && env.lookupEnv != nil {
		path, _ = env.lookupEnv(config.EnvConfigFile)
	}
	lookup := env.lookupEnv
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	cfg, _, err := config.Load(path, lookup, nil)
	if err != nil {
		return cfg, configError{err}
	}
	return cfg, nil
}

// s3Observer lists the server's bucket before and after the measured
// phase, to count the server's PUTs.
type s3Observer struct {
	store       *objstore.Store
	partSize    int64
	prices      bench.Prices
	first, last *bench.BucketSnapshot
}

func (o *s3Observer) before(ctx context.Context) error {
	s, err := bench.SnapshotBucket(ctx, o.store)
	if err != nil {
		return fmt.Errorf("listing the bucket before the run: %w", err)
	}
	o.first = s
	return nil
}

func (o *s3Observer) after(ctx context.Context) error {
	s, err := bench.SnapshotBucket(ctx, o.store)
	if err != nil {
		return fmt.Errorf("listing the bucket after the run: %w", err)
	}
	o.last = s
	return nil
}

// storeObserver reads the server's storage counters (/debug/store on its
// pprof listener) before and after the measured phase.
type storeObserver struct {
	addr        string
	first, last *storeReading
}

type storeReading struct {
	c  bench.StoreCounters
	at time.Time
}

// read takes a reading into *dst; a failure is a warning (a server
// without the endpoint still gets its profile).
func (o *storeObserver) read(ctx context.Context, dst **storeReading, env environment) {
	c, err := fetchStoreCounters(ctx, o.addr)
	if err != nil {
		fmt.Fprintf(env.stderr, "shoal: warning: the server's storage counters: %v\n", err)
		return
	}
	*dst = &storeReading{c: c, at: time.Now()}
}

func fetchStoreCounters(ctx context.Context, addr string) (bench.StoreCounters, error) {
	var c bench.StoreCounters
	url := fmt.Sprintf("http://%s/debug/store", addr)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return c, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return c, fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", url, err)
	}
	return c, nil
}

// serverProfile fetches a CPU profile from a server's pprof listener.
type serverProfile struct{ done chan error }

func startServerProfile(addr string, seconds int, out string) *serverProfile {
	sp := &serverProfile{done: make(chan error, 1)}
	go func() {
		sp.done <- fetchProfile(addr, seconds, out)
	}()
	return sp
}

func (sp *serverProfile) wait() error { return <-sp.done }

func fetchProfile(addr string, seconds int, out string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds)
	hc := &http.Client{Timeout: time.Duration(seconds)*time.Second + 30*time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return writeFile(out, func(w io.Writer) error {
		_, err := io.Copy(w, resp.Body)
		return err
	})
}
