package bench

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is a workload (messages.md §7.1).
type Kind string

// The workloads.
const (
	PinnedProducer                   Kind = "pinned-producer"
	PinnedConsumer                   Kind = "pinned-consumer"
	PinnedProducerAndConsumer        Kind = "pinned-producer-and-consumer"
	BalancedProducer                 Kind = "balanced-producer"
	BalancedConsumerGroup            Kind = "balanced-consumer-group"
	BalancedProducerAndConsumerGroup Kind = "balanced-producer-and-consumer-group"
	EndToEndProducingConsumer        Kind = "end-to-end-producing-consumer"
	EndToEndProducingConsumerGroup   Kind = "end-to-end-producing-consumer-group"
)

var kindAliases = []struct {
	alias string
	kind  Kind
}{
	{"pp", PinnedProducer},
	{"pc", PinnedConsumer},
	{"ppc", PinnedProducerAndConsumer},
	{"bp", BalancedProducer},
	{"bcg", BalancedConsumerGroup},
	{"bpcg", BalancedProducerAndConsumerGroup},
	{"e2e", EndToEndProducingConsumer},
	{"e2ecg", EndToEndProducingConsumerGroup},
}

// Kinds returns every workload, in the order of messages.md §7.1.
func Kinds() []Kind {
	ks := make([]Kind, len(kindAliases))
	for i, a := range kindAliases {
		ks[i] = a.kind
	}
	return ks
}

// Alias is the workload's short name (pp, pc, …).
func (k Kind) Alias() string {
	for _, a := range kindAliases {
		if a.kind == k {
			return a.alias
		}
	}
	return string(k)
}

// ParseKind accepts a workload's name or its alias.
func ParseKind(s string) (Kind, error) {
	for _, a := range kindAliases {
		if s == a.alias || s == string(a.kind) {
			return a.kind, nil
		}
	}
	names := make([]string, len(kindAliases))
	for i, a := range kindAliases {
		names[i] = string(a.kind) + " (" + a.alias + ")"
	}
	return "", fmt.Errorf("unknown workload %q; one of: %s", s, strings.Join(names, ", "))
}

// hasProducers reports whether the workload sends in its measured phase.
func (k Kind) hasProducers() bool {
	return k != PinnedConsumer && k != BalancedConsumerGroup
}

// hasConsumers reports whether the workload polls.
func (k Kind) hasConsumers() bool { return k != PinnedProducer && k != BalancedProducer }

// grouped reports whether consumers poll as consumer groups.
func (k Kind) grouped() bool {
	return k == BalancedConsumerGroup || k == BalancedProducerAndConsumerGroup || k == EndToEndProducingConsumerGroup
}

// balanced reports whether producers spread over partitions.
func (k Kind) balanced() bool {
	return k == BalancedProducer || k == BalancedConsumerGroup || k == BalancedProducerAndConsumerGroup ||
		k == EndToEndProducingConsumerGroup
}

// Range is a value or an inclusive range of values ("1000" or "500..1500").
type Range struct{ Min, Max uint32 }

// Fixed returns the range of one value.
func Fixed(v uint32) Range { return Range{v, v} }

// ParseRange parses "N" or "A..B" (A ≤ B, both > 0).
func ParseRange(s string) (Range, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "..")
	a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 32)
	if err != nil {
		return Range{}, fmt.Errorf("%q is not a number or a range A..B", s)
	}
	b := a
	if isRange {
		if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 32); err != nil {
			return Range{}, fmt.Errorf("%q is not a number or a range A..B", s)
		}
	}
	if a == 0 || b < a {
		return Range{}, fmt.Errorf("%q: values must be positive and A ≤ B", s)
	}
	return Range{uint32(a), uint32(b)}, nil
}

func (r Range) String() string {
	if r.Min == r.Max {
		return strconv.FormatUint(uint64(r.Min), 10)
	}
	return fmt.Sprintf("%d..%d", r.Min, r.Max)
}

// MarshalText writes the range as ParseRange reads it.
func (r Range) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// mean is the range's middle.
func (r Range) mean() float64 { return (float64(r.Min) + float64(r.Max)) / 2 }

// pick returns the value of the range for a 64-bit hash or random number.
func (r Range) pick(h uint64) uint32 {
	if r.Min == r.Max {
		return r.Min
	}
	return r.Min + uint32(h%uint64(r.Max-r.Min+1))
}

// ParseBytes parses a byte count: a number with an optional unit, decimal
// (kB, MB, GB, TB: powers of 1000) or binary (KiB, MiB, GiB, TiB), with
// an optional "/s" suffix ("100MB", "1.5GiB", "50MB/s").
func ParseBytes(s string) (uint64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a byte count (e.g. 1000, 100MB, 8GiB)", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[strings.ToLower(unit)]
	if mult == 0 {
		return 0, fmt.Errorf("%q: unknown unit %q (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)", s, unit)
	}
	if v*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return uint64(v * mult), nil
}

// Params are the parameters of a run. DefaultParams gives those of
// messages.md §7.2; zero Streams and Partitions mean the workload's default.
type Params struct {
	Kind             Kind  `json:"kind"`
	MessageSize      Range `json:"message_size"`
	MessagesPerBatch Range `json:"messages_per_batch"`
	// MessageBatches is the batch count of the finish condition (§7.4);
	// zero when TotalBytes is set instead.
	MessageBatches uint64 `json:"message_batches,omitempty"`
	// TotalBytes is the payload volume of the finish condition.
	TotalBytes     uint64 `json:"total_bytes,omitempty"`
	Producers      int    `json:"producers"`
	Consumers      int    `json:"consumers"`
	Streams        int    `json:"streams"`
	Partitions     int    `json:"partitions"`
	ConsumerGroups int    `json:"consumer_groups"`
	// RateLimit is the payload bytes per second of all actors together
	// (0: none), split evenly per actor; consumers of pinned-producer-and-
	// consumer and balanced-producer-and-consumer-group get 5% more.
	RateLimit uint64 `json:"rate_limit_bytes_per_second,omitempty"`
	// Warmup runs the workload unmeasured for this long first.
	Warmup              time.Duration `json:"-"`
	SamplingTime        time.Duration `json:"-"`
	MovingAverageWindow int           `json:"moving_average_window"`
	// MaxTopicSize and MessageExpiry set the topics' options (0: the
	// server's default).
	MaxTopicSize  uint64        `json:"max_topic_size,omitempty"`
	MessageExpiry time.Duration `json:"-"`
	Address       string        `json:"address"`
	Username      string        `json:"username"`
	Password      string        `json:"-"`
	// Verify checks every message: producers and consumers hash what they
	// send and receive, and every partition is read back at the end.
	Verify bool `json:"verify"`
	// StallTimeout fails the run when no actor made progress for this
	// long (0: one minute).
	StallTimeout time.Duration `json:"-"`
	// Seed makes batch and message sizes of ranges reproducible.
	Seed uint64 `json:"seed"`
}

// DefaultParams returns the defaults of messages.md §7.2 for kind.
func DefaultParams(kind Kind) Params {
	return Params{
		Kind:                kind,
		MessageSize:         Fixed(1000),
		MessagesPerBatch:    Fixed(1000),
		MessageBatches:      1000,
		Producers:           8,
		Consumers:           8,
		ConsumerGroups:      1,
		SamplingTime:        10 * time.Millisecond,
		MovingAverageWindow: 20,
		Address:             "127.0.0.1:8090",
		Username:            "iggy",
		Password:            "iggy",
		StallTimeout:        time.Minute,
		Seed:                1,
	}
}

// resolve checks p and fills the workload's defaults: the stream and
// partition counts, and zero actor counts of the sides the workload does
// not have.
func (p Params) resolve() (Params, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	kind, err := ParseKind(string(p.Kind))
	if err != nil {
		return p, err
	}
	p.Kind = kind
	if (p.MessageBatches == 0) == (p.TotalBytes == 0) {
		bad("give exactly one of message batches and total bytes")
	}
	if p.MessageSize.Min == 0 || p.MessageSize.Max < p.MessageSize.Min || p.MessageSize.Max > 10_000_000 {
		bad("message size %s: 1 to 10,000,000 bytes", p.MessageSize)
	}
	if p.MessagesPerBatch.Min == 0 || p.MessagesPerBatch.Max < p.MessagesPerBatch.Min || p.MessagesPerBatch.Max > 1_000_000 {
		bad("messages per batch %s: 1 to 1,000,000", p.MessagesPerBatch)
	}
	if uint64(p.MessageSize.Max)*uint64(p.MessagesPerBatch.Max) > 60<<20 {
		bad("a batch of %s messages of %s bytes may exceed 60 MiB, more than a frame holds", p.MessagesPerBatch, p.MessageSize)
	}
	if p.SamplingTime <= 0 {
		p.SamplingTime = 10 * time.Millisecond
	}
	if p.MovingAverageWindow <= 0 {
		p.MovingAverageWindow = 1
	}
	if p.StallTimeout <= 0 {
		p.StallTimeout = time.Minute
	}
	if p.Warmup < 0 {
		bad("warmup %v is negative", p.Warmup)
	}
	k := p.Kind
	if !k.hasProducers() {
		p.Producers = 0
	} else if p.Producers < 1 {
		bad("%s needs at least one producer", k)
	}
	if !k.hasConsumers() || k == EndToEndProducingConsumer {
		p.Consumers = 0
	} else if p.Consumers < 1 {
		bad("%s needs at least one consumer", k)
	}
	if !k.grouped() {
		p.ConsumerGroups = 0
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	switch k {
	case PinnedProducer, PinnedProducerAndConsumer:
		def(&p.Streams, p.Producers)
		def(&p.Partitions, 1)
		if p.Streams != p.Producers {
			bad("%s needs as many streams as producers (%d), not %d", k, p.Producers, p.Streams)
		}
		if k == PinnedProducerAndConsumer && p.Consumers < p.Producers {
			// A consumer reads b·(P+C)/C batches of its stream, whose one
			// producer sends b·(P+C)/P: fewer consumers would wait forever.
			bad("%s needs at least as many consumers as producers (%d < %d)", k, p.Consumers, p.Producers)
		}
	case PinnedConsumer:
		def(&p.Streams, p.Consumers)
		def(&p.Partitions, 1)
		if p.Streams > p.Consumers {
			bad("%s needs at most one stream per consumer (%d streams, %d consumers)", k, p.Streams, p.Consumers)
		}
	case BalancedProducer, BalancedConsumerGroup, BalancedProducerAndConsumerGroup, EndToEndProducingConsumerGroup:
		def(&p.Streams, 1)
		def(&p.Partitions, 24)
		// The reference wants at least 2 partitions for balanced-producer;
		// 1 is allowed here, to compare one partition with many at one load.
	case EndToEndProducingConsumer:
		def(&p.Streams, min(8, p.Producers))
		def(&p.Partitions, 1)
		if p.Streams > p.Producers {
			bad("%s needs at most one stream per actor (%d streams, %d actors)", k, p.Streams, p.Producers)
		}
	}
	if p.Streams < 1 || p.Partitions < 1 || p.Partitions > 1000 {
		bad("streams %d, partitions %d: at least 1 of each, at most 1,000 partitions", p.Streams, p.Partitions)
	}
	if k.grouped() {
		consumers := p.Consumers
		if k == EndToEndProducingConsumerGroup {
			consumers = max(p.Producers, p.Consumers)
		}
		// Group g reads stream 1+(g-1) mod S and consumer c is in group
		// 1+(c-1) mod G: every stream needs a group and every group a
		// member, or data would wait for a reader forever.
		if p.ConsumerGroups < p.Streams || p.ConsumerGroups > consumers {
			bad("%s needs streams ≤ consumer groups ≤ consumers (%d streams, %d groups, %d consumers)",
				k, p.Streams, p.ConsumerGroups, consumers)
		}
	}
	if p.Address == "" {
		bad("no server address")
	}
	return p, errors.Join(errs...)
}
