package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shoalstream/shoal/client"
)

// alphanumeric is what payloads are made of, as in the reference.
const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// actor runs one actorPlan on its own connection. Its fields are its
// goroutine's alone until run returns.
type actor struct {
	r    *runner
	plan *actorPlan
	cl   *client.Client
	rng  *rand.Rand

	arena  []byte // payload bytes: message i of a batch is arena[i*maxSize:]
	msgs   []client.Message
	stamps uint64 // payloads stamped so far

	sendRec, pollRec *recorder
	groupID          uint32 // numeric id of the actor's consumer group
	nextOffset       uint64 // single consumer: the next offset to poll
	warmOffset       uint64 // consumer-only warmup: a cycling read position
	warmBatches      int64  // warmup batches sent
	idle             time.Duration

	// Rate limit: bytes moved since limitStart.
	limitStart time.Time
	limitBytes float64
}

func newActor(r *runner, ap *actorPlan) *actor {
	p := r.p
	a := &actor{r: r, plan: ap, rng: rand.New(rand.NewPCG(p.Seed, ap.stamp))}
	if ap.send != nil {
		maxSize, maxMsgs := int(p.MessageSize.Max), int(p.MessagesPerBatch.Max)
		a.arena = make([]byte, maxSize*maxMsgs)
		for i := range a.arena {
			a.arena[i] = alphanumeric[a.rng.IntN(len(alphanumeric))]
		}
		a.msgs = make([]client.Message, maxMsgs)
	}
	if ap.send != nil {
		a.sendRec = newRecorder(p.SamplingTime)
	}
	if ap.poll != nil {
		a.pollRec = newRecorder(p.SamplingTime)
	}
	return a
}

// batch fills the actor's messages for a batch of n messages and returns
// them with their payload bytes. Every payload starts with a stamp unique
// in the run (the actor's number and a counter), so that verification
// tells every message apart; payloads shorter than 8 bytes carry what fits.
func (a *actor) batch(n uint32) ([]client.Message, int64) {
	p := a.r.p
	maxSize := int(p.MessageSize.Max)
	now := uint64(time.Now().UnixMicro())
	var bytes int64
	msgs := a.msgs[:n]
	for i := range msgs {
		size := int(p.MessageSize.pick(a.rng.Uint64()))
		payload := a.arena[i*maxSize : i*maxSize+size]
		a.stamps++
		var st [8]byte
		binary.LittleEndian.PutUint64(st[:], a.plan.stamp<<40|a.stamps)
		copy(payload, st[:])
		msgs[i] = client.Message{OriginTimestamp: now, Payload: payload}
		bytes += int64(size)
	}
	return msgs, bytes
}

func (a *actor) partitioning(balanced bool) client.Partitioning {
	if balanced {
		return client.Balanced()
	}
	return client.PartitionID(0)
}

// send sends msgs to stream and reports the call's latency.
func (a *actor) send(ctx context.Context, stream int, balanced bool, msgs []client.Message) (time.Duration, error) {
	start := time.Now()
	_, err := a.cl.SendMessages(ctx, a.r.streamIDs[stream], a.r.topicIDs[stream], a.partitioning(balanced), msgs)
	lat := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %d: send to %s: %w", a.plan.role, a.plan.id, streamName(stream), err)
	}
	a.r.progress.touch()
	if a.r.verify != nil {
		a.r.verify.addSent(stream, msgs)
	}
	return lat, nil
}

// sendOne claims and sends the next batch of the measured phase; false
// when the budget is spent.
func (a *actor) sendOne(ctx context.Context) (bool, error) {
	sp := a.plan.send
	var msgs []client.Message
	var bytes int64
	if sp.budget.unit == "batches" {
		i, ok := sp.budget.claimBatch()
		if !ok {
			return false, nil
		}
		msgs, bytes = a.batch(a.r.p.batchLen(sp.key, i))
	} else {
		i := sp.budget.next.Add(1) - 1
		msgs, bytes = a.batch(a.r.p.batchLen(sp.key, i))
		if !sp.budget.claimBytes(bytes) {
			return false, nil
		}
	}
	lat, err := a.send(ctx, sp.stream, sp.balanced, msgs)
	if err != nil {
		return false, err
	}
	a.sendRec.record(a.r.since(), lat, uint64(len(msgs)), uint64(bytes))
	a.r.progress.sent(len(msgs), bytes)
	a.limit(ctx, bytes)
	return true, nil
}

// poll polls once; it returns the messages (aliasing the reply) and the
// partition they came from.
func (a *actor) poll(ctx context.Context, warm bool) ([]client.Message, uint32, time.Duration, error) {
	pp := a.plan.poll
	p := a.r.p
	req := client.PollRequest{
		Stream: a.r.streamIDs[pp.stream], Topic: a.r.topicIDs[pp.stream],
		Count: p.MessagesPerBatch.Max,
	}
	singleWarm := warm && !p.Kind.hasProducers()
	switch {
	case singleWarm:
		// Warming up a read-only workload must not use up the data it is
		// measured on: read by offset, as a consumer of its own, in a loop.
		req.Consumer = client.SingleConsumer(client.NumericID(uint32(1000 + a.plan.id)))
		part := uint32(0)
		if pp.group != 0 {
			part = uint32(a.plan.id-1) % uint32(p.Partitions)
		}
		req.Partition = client.InPartition(part)
		req.Strategy = client.OffsetStrategy(a.warmOffset)
	case pp.group != 0:
		req.Consumer = client.GroupConsumer(client.NumericID(a.groupID))
		req.Partition = client.AnyPartition()
		req.Strategy = client.NextStrategy()
		req.AutoCommit = true
	default:
		req.Consumer = client.SingleConsumer(client.NumericID(uint32(a.plan.id)))
		req.Partition = client.InPartition(0)
		req.Strategy = client.OffsetStrategy(a.nextOffset)
	}
	start := time.Now()
	res, err := a.cl.PollMessages(ctx, req)
	lat := time.Since(start)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s %d: poll %s: %w", a.plan.role, a.plan.id, streamName(pp.stream), err)
	}
	msgs := res.Messages
	if len(msgs) > 0 {
		a.r.progress.touch()
	}
	if singleWarm {
		if len(msgs) == 0 {
			a.warmOffset = 0
		} else {
			a.warmOffset = msgs[len(msgs)-1].Offset + 1
		}
		return msgs, res.PartitionID, lat, nil
	}
	if len(msgs) > 0 {
		if pp.group == 0 {
			a.nextOffset = msgs[len(msgs)-1].Offset + 1
		}
		if a.r.verify != nil {
			a.r.verify.addRead(readerName(a.r, a.plan), pp.stream, res.PartitionID, msgs)
		}
	}
	return msgs, res.PartitionID, lat, nil
}

// readerName names the reader whose position a poll advances.
func readerName(r *runner, ap *actorPlan) string {
	if ap.poll.group != 0 {
		return fmt.Sprintf("group %s%d", groupPrefix, ap.poll.group)
	}
	return fmt.Sprintf("consumer %d", ap.id)
}

// pollOne polls once in the measured phase; false when nothing came.
func (a *actor) pollOne(ctx context.Context) (bool, error) {
	msgs, _, lat, err := a.poll(ctx, false)
	if err != nil || len(msgs) == 0 {
		return false, err
	}
	now := time.Now()
	var bytes int64
	for i := range msgs {
		bytes += int64(len(msgs[i].Payload))
	}
	if a.plan.poll.originLatency {
		lat = now.Sub(time.UnixMicro(int64(msgs[0].OriginTimestamp)))
	}
	if a.plan.poll.budget.unit == "bytes" {
		a.plan.poll.budget.account(bytes)
	} else {
		a.plan.poll.budget.account(int64(len(msgs)))
	}
	a.pollRec.record(a.r.since(), lat, uint64(len(msgs)), uint64(bytes))
	a.r.progress.received(len(msgs), bytes)
	a.limit(ctx, bytes)
	return true, nil
}

// limit waits as long as the actor's rate limit asks.
func (a *actor) limit(ctx context.Context, bytes int64) {
	if a.plan.rate <= 0 {
		return
	}
	if a.limitStart.IsZero() {
		a.limitStart = time.Now()
	}
	a.limitBytes += float64(bytes)
	due := a.limitStart.Add(time.Duration(a.limitBytes / a.plan.rate * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		sleep(ctx, d)
	}
}

// backoff waits a little after an empty poll, longer after several: the
// benchmark runs beside the server, and spinning would take its CPU.
func (a *actor) backoff(ctx context.Context) {
	a.idle = min(max(2*a.idle, 50*time.Microsecond), time.Millisecond)
	sleep(ctx, a.idle)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// warmup runs the workload unmeasured until the deadline.
func (a *actor) warmup(ctx context.Context, until time.Time) error {
	for time.Now().Before(until) && ctx.Err() == nil {
		if sp := a.plan.send; sp != nil {
			msgs, _ := a.batch(a.r.p.batchLen(warmKey+a.plan.stamp, a.warmBatches))
			a.warmBatches++
			if _, err := a.send(ctx, sp.stream, sp.balanced, msgs); err != nil {
				return err
			}
		}
		if a.plan.poll != nil {
			msgs, _, _, err := a.poll(ctx, true)
			if err != nil {
				return err
			}
			if len(msgs) == 0 && a.plan.send == nil {
				a.backoff(ctx)
			}
		}
	}
	return ctx.Err()
}

// run is the actor's measured phase, after the warmup: it sends and polls
// in turn until both of its budgets are spent, as the reference's
// producing consumer does.
func (a *actor) run(ctx context.Context) error {
	now := a.r.since()
	if a.sendRec != nil {
		a.sendRec.begin(now)
	}
	if a.pollRec != nil {
		a.pollRec.begin(now)
	}
	awaiting := false
	for ctx.Err() == nil {
		sendDone := a.plan.send == nil || a.plan.send.budget.done()
		pollDone := a.plan.poll == nil || a.plan.poll.budget.done()
		if sendDone && pollDone {
			return nil
		}
		if !sendDone && (!a.plan.awaitReply || !awaiting || pollDone) {
			sent, err := a.sendOne(ctx)
			if err != nil {
				return err
			}
			awaiting = sent && a.plan.poll != nil
		}
		if !pollDone {
			got, err := a.pollOne(ctx)
			if err != nil {
				return err
			}
			if got {
				awaiting = false
				a.idle = 0
			} else if a.plan.send == nil || sendDone || awaiting {
				a.backoff(ctx)
			}
		}
	}
	return ctx.Err()
}
