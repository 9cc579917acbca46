package bench

import (
	"fmt"
	"sync/atomic"
)

// Names of what a run creates (messages.md §7.3).
const (
	streamPrefix = "bench-stream-"
	topicName    = "topic-1"
	groupPrefix  = "cg-"
)

func streamName(s int) string { return fmt.Sprintf("%s%d", streamPrefix, s) }

// Keys of the batch-size sequences that are not an actor's own.
const (
	sharedKey = 1 << 30 // one sequence shared by every producer of a run
	seedKey   = 1 << 29 // seeding of stream s: seedKey + s
	warmKey   = 1 << 28 // warmup batches of actor a: warmKey + a
)

// mix is SplitMix64's finalizer: a well-spread hash of x.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// batchLen is the message count of batch i of the sequence key: fixed, or
// drawn from the range reproducibly, so a consumer's budget can be known
// before the producer runs.
func (p *Params) batchLen(key uint64, i int64) uint32 {
	return p.MessagesPerBatch.pick(mix(p.Seed ^ mix(key<<32^uint64(i))))
}

// messagesOf sums the message counts of batches [0, n) of the sequence key.
func (p *Params) messagesOf(key uint64, n int64) int64 {
	if p.MessagesPerBatch.Min == p.MessagesPerBatch.Max {
		return n * int64(p.MessagesPerBatch.Min)
	}
	var sum int64
	for i := range n {
		sum += int64(p.batchLen(key, i))
	}
	return sum
}

// budget is one finish condition (messages.md §7.4), of one actor or shared
// by several. Producers claim a batch before they send it; consumers count
// what they received.
type budget struct {
	unit  string // "batches", "messages" or "bytes"
	total int64
	// next is the next batch index to claim (producers).
	next atomic.Int64
	// used is what was sent or received, in unit.
	used atomic.Int64
}

func newBudget(unit string, total int64) *budget { return &budget{unit: unit, total: total} }

// claimBatch claims the next batch of a batch-count budget: its index, or
// false when every batch is claimed.
func (b *budget) claimBatch() (int64, bool) {
	i := b.next.Add(1) - 1
	if i >= b.total {
		return 0, false
	}
	b.used.Add(1)
	return i, true
}

// claimBytes claims n bytes of a byte budget: false when the budget was
// spent before this claim (a batch may overshoot it, as in the reference).
func (b *budget) claimBytes(n int64) bool {
	return b.used.Add(n)-n < b.total
}

// account adds what a consumer received.
func (b *budget) account(n int64) { b.used.Add(n) }

func (b *budget) done() bool {
	if b.unit == "batches" {
		return b.next.Load() >= b.total
	}
	return b.used.Load() >= b.total
}

// fraction is how much of the budget is spent, 0 to 1.
func (b *budget) fraction() float64 {
	if b.total <= 0 {
		return 1
	}
	return min(1, float64(b.used.Load())/float64(b.total))
}

// sendPlan is what a producing actor sends.
type sendPlan struct {
	stream   int  // 1-based
	balanced bool // Balanced partitioning, else partition 0
	// key names the batch-size sequence: the actor's own, or sharedKey.
	key    uint64
	budget *budget // batches or bytes
}

// pollPlan is what a consuming actor polls.
type pollPlan struct {
	stream int // 1-based
	// group is the consumer group's index (1-based), 0 for a single
	// consumer that polls partition 0 by offset.
	group  int
	budget *budget // messages or bytes
	// originLatency: latency is now − the first message's origin time,
	// else the poll's round trip.
	originLatency bool
}

// actorPlan is one actor of a run.
type actorPlan struct {
	role  Role
	id    int    // 1-based within its role
	stamp uint64 // unique per actor: the high bits of its payload stamps
	send  *sendPlan
	poll  *pollPlan
	// awaitReply: after each send, poll until something arrives before
	// sending again (end-to-end-producing-consumer).
	awaitReply bool
	rate       float64 // bytes per second, 0 for none
}

// seedPlan is a stream's data written before the measured phase of a
// workload that only reads.
type seedPlan struct {
	stream   int
	balanced bool
	key      uint64 // batch-size sequence
	first    int64  // batch indices first, first+step, … below batches
	step     int64
	batches  int64 // batch mode: index bound; 0 in bytes mode
	bytes    int64 // bytes mode: payload to write
}

// Role is what an actor does.
type Role string

// The roles.
const (
	RoleProducer          Role = "producer"
	RoleConsumer          Role = "consumer"
	RoleProducingConsumer Role = "producing consumer"
)

// plan is a resolved run: its actors, the data seeded before it, and
// whether every consumer is expected to read every message of its stream.
type plan struct {
	actors  []*actorPlan
	seeds   []seedPlan
	budgets []*budget
	// readsAll: each reader (consumer or group) ends having read all its
	// stream holds, so verification can demand it.
	readsAll bool
}

// groupStream is the stream consumer group g reads.
func groupStream(p *Params, g int) int { return 1 + (g-1)%p.Streams }

// makePlan lays out the actors and their finish conditions (messages.md
// §7.3 and §7.4) for resolved parameters.
func makePlan(p *Params) *plan {
	P, C := int64(p.Producers), int64(p.Consumers)
	B, T := int64(p.MessageBatches), int64(p.TotalBytes)
	bytesMode := T > 0
	pl := &plan{}
	add := func(b *budget) *budget { pl.budgets = append(pl.budgets, b); return b }
	// Producer budgets: batches (b·M/F) or bytes (T/F).
	sendBudget := func(m, f int64) *budget {
		if bytesMode {
			return add(newBudget("bytes", T/f))
		}
		return add(newBudget("batches", B*m/f))
	}
	// Consumer budgets: the messages of the batches [0, n) of the sequence
	// key, or bytes.
	pollBudget := func(key uint64, m, f int64) *budget {
		if bytesMode {
			return add(newBudget("bytes", T/f))
		}
		return add(newBudget("messages", p.messagesOf(key, B*m/f)))
	}
	stamp := uint64(0)
	newActor := func(role Role, id int) *actorPlan {
		stamp++
		return &actorPlan{role: role, id: id, stamp: stamp}
	}
	streamOf := func(i int64) int { return 1 + int((i-1)%int64(p.Streams)) }
	groupOf := func(i int64) int { return 1 + int((i-1)%int64(p.ConsumerGroups)) }

	switch p.Kind {
	case PinnedProducer:
		for i := int64(1); i <= P; i++ {
			a := newActor(RoleProducer, int(i))
			a.send = &sendPlan{stream: int(i), key: uint64(i), budget: sendBudget(P, P)}
			pl.actors = append(pl.actors, a)
		}
	case BalancedProducer:
		shared := sendBudget(P, 1)
		for i := int64(1); i <= P; i++ {
			a := newActor(RoleProducer, int(i))
			a.send = &sendPlan{stream: streamOf(i), balanced: true, key: sharedKey, budget: shared}
			pl.actors = append(pl.actors, a)
		}
	case PinnedConsumer:
		pl.readsAll = true
		for s := 1; s <= p.Streams; s++ {
			sd := seedPlan{stream: s, key: seedKey + uint64(s), step: 1}
			if bytesMode {
				sd.bytes = T / C
			} else {
				sd.batches = B
			}
			pl.seeds = append(pl.seeds, sd)
		}
		for i := int64(1); i <= C; i++ {
			s := streamOf(i)
			a := newActor(RoleConsumer, int(i))
			a.poll = &pollPlan{stream: s, budget: pollBudget(seedKey+uint64(s), C, C)}
			pl.actors = append(pl.actors, a)
		}
	case BalancedConsumerGroup:
		pl.readsAll = p.ConsumerGroups == p.Streams
		for s := 1; s <= p.Streams; s++ {
			sd := seedPlan{stream: s, balanced: true, key: sharedKey, first: int64(s - 1), step: int64(p.Streams)}
			if bytesMode {
				sd.bytes = (T + int64(p.Streams) - 1) / int64(p.Streams)
			} else {
				sd.batches = B * C
			}
			pl.seeds = append(pl.seeds, sd)
		}
		shared := pollBudget(sharedKey, C, 1)
		for i := int64(1); i <= C; i++ {
			g := groupOf(i)
			a := newActor(RoleConsumer, int(i))
			a.poll = &pollPlan{stream: groupStream(p, g), group: g, budget: shared}
			pl.actors = append(pl.actors, a)
		}
	case PinnedProducerAndConsumer:
		pl.readsAll = C == P
		for i := int64(1); i <= P; i++ {
			a := newActor(RoleProducer, int(i))
			a.send = &sendPlan{stream: int(i), key: uint64(i), budget: sendBudget(P+C, P)}
			pl.actors = append(pl.actors, a)
		}
		for i := int64(1); i <= C; i++ {
			s := streamOf(i) // whose one producer is producer s
			a := newActor(RoleConsumer, int(i))
			a.poll = &pollPlan{stream: s, budget: pollBudget(uint64(s), P+C, C), originLatency: true}
			pl.actors = append(pl.actors, a)
		}
	case BalancedProducerAndConsumerGroup:
		pl.readsAll = p.ConsumerGroups == p.Streams
		shared := sendBudget(P, 1)
		for i := int64(1); i <= P; i++ {
			a := newActor(RoleProducer, int(i))
			a.send = &sendPlan{stream: streamOf(i), balanced: true, key: sharedKey, budget: shared}
			pl.actors = append(pl.actors, a)
		}
		polls := pollBudget(sharedKey, P, 1)
		for i := int64(1); i <= C; i++ {
			g := groupOf(i)
			a := newActor(RoleConsumer, int(i))
			a.poll = &pollPlan{stream: groupStream(p, g), group: g, budget: polls, originLatency: true}
			pl.actors = append(pl.actors, a)
		}
	case EndToEndProducingConsumer:
		pl.readsAll = p.Streams == p.Producers
		for i := int64(1); i <= P; i++ {
			s := streamOf(i)
			a := newActor(RoleProducingConsumer, int(i))
			a.send = &sendPlan{stream: s, key: uint64(i), budget: sendBudget(2*P, 2*P)}
			a.poll = &pollPlan{stream: s, budget: pollBudget(uint64(i), 2*P, 2*P), originLatency: true}
			a.awaitReply = true
			pl.actors = append(pl.actors, a)
		}
	case EndToEndProducingConsumerGroup:
		pl.readsAll = p.ConsumerGroups == p.Streams
		sends := sendBudget(2*P, 2)
		polls := pollBudget(sharedKey, 2*P, 2)
		for i := int64(1); i <= max(P, C); i++ {
			a := newActor(RoleProducingConsumer, int(i))
			if i <= P {
				a.send = &sendPlan{stream: streamOf(i), balanced: true, key: sharedKey, budget: sends}
			}
			if i <= C {
				g := groupOf(i)
				a.poll = &pollPlan{stream: groupStream(p, g), group: g, budget: polls, originLatency: true}
			}
			switch {
			case a.send == nil:
				a.role = RoleConsumer
			case a.poll == nil:
				a.role = RoleProducer
			}
			pl.actors = append(pl.actors, a)
		}
	}
	if bytesMode || p.Warmup > 0 {
		// Byte budgets overshoot by up to a batch and warmup data shifts
		// what a reader's budget covers: reads are checked, not their
		// completeness.
		pl.readsAll = false
	}
	// Rate limit: split evenly per actor; consumers of the mixed pinned
	// and balanced workloads get 5% more, to keep up (§7.2).
	if p.RateLimit > 0 {
		per := float64(p.RateLimit) / float64(len(pl.actors))
		for _, a := range pl.actors {
			a.rate = per
			if a.role == RoleConsumer && (p.Kind == PinnedProducerAndConsumer || p.Kind == BalancedProducerAndConsumerGroup) {
				a.rate *= 1.05
			}
		}
	}
	return pl
}
