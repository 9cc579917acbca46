package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/shoalstream/shoal/client"
)

// Options are how a run reports and what it calls around its measured
// phase.
type Options struct {
	// Progress receives the progress line (nil: none).
	Progress io.Writer
	// Terminal says Progress is a terminal: the line is redrawn in place;
	// otherwise one line is written per ProgressInterval.
	Terminal bool
	// ProgressInterval defaults to 250 ms on a terminal and 5 s otherwise.
	ProgressInterval time.Duration
	// BeforeMeasure, if set, runs once every actor is connected and the
	// data a read-only workload needs is written, just before the actors
	// start (warmup included); AfterMeasure once they have all finished.
	// An error fails the run.
	BeforeMeasure func(ctx context.Context) error
	AfterMeasure  func(ctx context.Context) error
	// Logger receives the steps of the run (default: discarded).
	Logger *slog.Logger
}

// runner is one run: the resolved parameters, the plan, and the ids of what
// it created.
type runner struct {
	p    *Params
	plan *plan
	opts Options
	log  *slog.Logger

	// Indexed by the 1-based stream and group numbers.
	streamIDs, topicIDs []client.Identifier
	groupIDs            []uint32

	verify   *verifier
	progress progress
	t0       time.Time
	actors   []*actor
}

func (r *runner) since() time.Duration { return time.Since(r.t0) }

// fraction is how much of the run's budgets is spent.
func (r *runner) fraction() float64 {
	if len(r.plan.budgets) == 0 {
		return 0
	}
	var sum float64
	for _, b := range r.plan.budgets {
		sum += b.fraction()
	}
	return sum / float64(len(r.plan.budgets))
}

// unfinished names the actors whose budgets are not spent.
func (r *runner) unfinished() string {
	var names []string
	for _, a := range r.plan.actors {
		if (a.send != nil && !a.send.budget.done()) || (a.poll != nil && !a.poll.budget.done()) {
			names = append(names, fmt.Sprintf("%s %d", a.role, a.id))
		}
	}
	if len(names) > 8 {
		names = append(names[:8], fmt.Sprintf("and %d more", len(names)-8))
	}
	return strings.Join(names, ", ")
}

func (r *runner) dial(ctx context.Context) (*client.Client, error) {
	cl, err := client.Dial(ctx, client.Options{
		Address: r.p.Address, Username: r.p.Username, Password: r.p.Password,
		Heartbeat: 5 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", r.p.Address, err)
	}
	return cl, nil
}

// Run runs the workload params describes against the server at
// params.Address and reports it.
func Run(ctx context.Context, params Params, opts Options) (*Report, error) {
	p, err := params.resolve()
	if err != nil {
		return nil, err
	}
	r := &runner{p: &p, opts: opts, log: opts.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.plan = makePlan(r.p)
	if p.Verify {
		r.verify = newVerifier()
	}
	rep := &Report{Tool: "shoal bench", StartedAt: time.Now().UTC(), Params: p, Hardware: hardware()}

	admin, err := r.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if st, err := admin.GetStats(ctx); err == nil {
		rep.Server = serverInfo(st)
	} else {
		r.log.Warn("reading the server's stats failed", "err", err)
	}

	setupStart := time.Now()
	if err := r.setup(ctx, admin); err != nil {
		return nil, err
	}
	defer r.closeActors()
	if err := r.connect(ctx); err != nil {
		return nil, err
	}
	seeded, err := r.seed(ctx)
	if err != nil {
		return nil, err
	}
	rep.Setup = SetupInfo{DurationSeconds: round3(time.Since(setupStart).Seconds()), SeededMessages: seeded}

	if opts.BeforeMeasure != nil {
		if err := opts.BeforeMeasure(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.measure(ctx); err != nil {
		return nil, err
	}
	rep.DurationSeconds = round3(r.measuredEnd().Seconds())
	if opts.AfterMeasure != nil {
		if err := opts.AfterMeasure(ctx); err != nil {
			return nil, err
		}
	}
	if r.verify != nil {
		v, err := r.verify.verify(ctx, admin, r)
		if err != nil {
			return nil, err
		}
		rep.Verification = v
	}
	if st, err := admin.GetStats(ctx); err == nil {
		after := serverInfo(st)
		rep.Server.MessagesAfter, rep.Server.BytesAfter = after.MessagesAfter, after.BytesAfter
	}
	r.fill(rep)
	return rep, nil
}

// setup deletes the streams of earlier runs and creates this run's streams,
// topics and consumer groups (messages.md §7.3).
func (r *runner) setup(ctx context.Context, cl *client.Client) error {
	p := r.p
	streams, err := cl.GetStreams(ctx)
	if err != nil {
		return fmt.Errorf("listing streams: %w", err)
	}
	for _, s := range streams {
		if strings.HasPrefix(s.Name, streamPrefix) {
			r.log.Info("deleting a stream of an earlier run", "stream", s.Name)
			if err := cl.DeleteStream(ctx, client.NumericID(s.ID)); err != nil {
				return fmt.Errorf("deleting stream %s: %w", s.Name, err)
			}
		}
	}
	r.streamIDs = make([]client.Identifier, p.Streams+1)
	r.topicIDs = make([]client.Identifier, p.Streams+1)
	settings := client.TopicSettings{MaxTopicSize: p.MaxTopicSize}
	if p.MessageExpiry > 0 {
		settings.MessageExpiry = uint64(p.MessageExpiry.Microseconds())
	}
	for s := 1; s <= p.Streams; s++ {
		sd, err := cl.CreateStream(ctx, streamName(s))
		if err != nil {
			return fmt.Errorf("creating stream %s: %w", streamName(s), err)
		}
		r.streamIDs[s] = client.NumericID(sd.ID)
		td, err := cl.CreateTopic(ctx, r.streamIDs[s], topicName, uint32(p.Partitions), settings)
		if err != nil {
			return fmt.Errorf("creating topic %s of %s: %w", topicName, streamName(s), err)
		}
		r.topicIDs[s] = client.NumericID(td.ID)
	}
	r.groupIDs = make([]uint32, p.ConsumerGroups+1)
	for g := 1; g <= p.ConsumerGroups; g++ {
		s := groupStream(p, g)
		gd, err := cl.CreateConsumerGroup(ctx, r.streamIDs[s], r.topicIDs[s], fmt.Sprintf("%s%d", groupPrefix, g))
		if err != nil {
			return fmt.Errorf("creating consumer group %s%d: %w", groupPrefix, g, err)
		}
		r.groupIDs[g] = gd.ID
	}
	r.log.Info("created", "streams", p.Streams, "partitions", p.Partitions, "groups", p.ConsumerGroups)
	return nil
}

// connect gives every actor its connection and makes group consumers
// members of their groups, so the groups have settled before t0.
func (r *runner) connect(ctx context.Context) error {
	for _, ap := range r.plan.actors {
		a := newActor(r, ap)
		cl, err := r.dial(ctx)
		if err != nil {
			return err
		}
		a.cl = cl
		r.actors = append(r.actors, a)
		if ap.poll != nil && ap.poll.group != 0 {
			a.groupID = r.groupIDs[ap.poll.group]
			s := ap.poll.stream
			if err := cl.JoinConsumerGroup(ctx, r.streamIDs[s], r.topicIDs[s], client.NumericID(a.groupID)); err != nil {
				return fmt.Errorf("%s %d: joining group %s%d: %w", ap.role, ap.id, groupPrefix, ap.poll.group, err)
			}
		}
	}
	return nil
}

func (r *runner) closeActors() {
	for _, a := range r.actors {
		if a.cl != nil {
			_ = a.cl.Close()
		}
	}
}

// seed writes the data the read-only workloads consume, one producer per
// stream, unmeasured; it returns the messages written.
func (r *runner) seed(ctx context.Context) (int64, error) {
	if len(r.plan.seeds) == 0 {
		return 0, nil
	}
	r.log.Info("writing the data the consumers will read", "streams", len(r.plan.seeds))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	for i, sd := range r.plan.seeds {
		wg.Go(func() {
			n, err := r.seedStream(ctx, sd, uint64(1<<20+i))
			if err != nil {
				cancel(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return 0, fmt.Errorf("seeding: %w", err)
	}
	return total, nil
}

func (r *runner) seedStream(ctx context.Context, sd seedPlan, stamp uint64) (int64, error) {
	ap := &actorPlan{role: RoleProducer, id: int(stamp), stamp: stamp,
		send: &sendPlan{stream: sd.stream, balanced: sd.balanced, key: sd.key}}
	a := newActor(r, ap)
	cl, err := r.dial(ctx)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	a.cl = cl
	var msgs, bytes int64
	for i := sd.first; ; i += sd.step {
		if (sd.batches > 0 && i >= sd.batches) || (sd.batches == 0 && bytes >= sd.bytes) {
			return msgs, nil
		}
		batch, n := a.batch(r.p.batchLen(sd.key, i))
		if _, err := a.send(ctx, sd.stream, sd.balanced, batch); err != nil {
			return msgs, err
		}
		msgs += int64(len(batch))
		bytes += n
	}
}

// measure runs every actor, the warmup first, until all budgets are spent;
// the first error stops them all.
func (r *runner) measure(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.t0 = time.Now()
	r.progress.t0 = r.t0
	r.progress.changed.Store(0)
	every := r.opts.ProgressInterval
	if every <= 0 {
		every = 5 * time.Second
		if r.opts.Terminal {
			every = 250 * time.Millisecond
		}
	}
	rp := &reporter{r: r, w: r.opts.Progress, terminal: r.opts.Terminal, every: every, stall: cancel}
	rp.start()
	warmupEnd := r.t0.Add(r.p.Warmup)
	var wg sync.WaitGroup
	for _, a := range r.actors {
		wg.Go(func() {
			err := a.warmup(ctx, warmupEnd)
			if err == nil {
				err = a.run(ctx)
			}
			if err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	rp.stop()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// measuredEnd is when the last actor's last batch completed, since t0.
func (r *runner) measuredEnd() time.Duration {
	var end time.Duration
	for _, a := range r.actors {
		for _, rec := range []*recorder{a.sendRec, a.pollRec} {
			if rec != nil {
				end = max(end, rec.last)
			}
		}
	}
	return end
}

func hardware() Hardware {
	return Hardware{CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}
}

// serverInfo reads what a report says of the server from its stats.
func serverInfo(st *client.Stats) ServerInfo {
	si := ServerInfo{
		Version: st.ServerVersion, Hostname: st.Hostname, OS: st.OSName, Kernel: st.KernelVersion,
		Threads: st.ThreadsCount, TotalMemory: st.TotalMemory,
		MessagesAfter: st.MessagesCount, BytesAfter: st.MessagesSizeBytes,
	}
	si.Storage = StorageOf(st.ServerVersion)
	return si
}

// StorageOf reads the storage kind from a server version string that ends
// in "(storage: KIND)", as shoal's does; "" when it does not.
func StorageOf(version string) string {
	_, rest, ok := strings.Cut(version, "(storage: ")
	if !ok {
		return ""
	}
	kind, _, ok := strings.Cut(rest, ")")
	if !ok {
		return ""
	}
	return strings.TrimSpace(kind)
}
