package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/zeebo/xxh3"

	"github.com/shoalstream/shoal/client"
)

// digest is an order-independent fingerprint of a multiset of payloads:
// their count and the sum of their XXH3-64 hashes. Every payload the
// benchmark sends starts with a stamp unique to it, so equal digests mean
// the same messages, byte for byte, with none lost or repeated (up to hash
// collisions).
type digest struct {
	Count uint64 `json:"messages"`
	Sum   uint64 `json:"xxh3_sum"`
}

func (d *digest) add(payload []byte) {
	d.Count++
	d.Sum += xxh3.Hash(payload)
}

// readerKey names a reader of one partition: a single consumer or a
// consumer group.
type readerKey struct {
	reader    string // "consumer 3", "group cg-1"
	stream    int
	partition uint32
}

// readerState is what a reader received from one partition: offsets must
// run 0, 1, 2, … with no gap or repeat.
type readerState struct {
	mu   sync.Mutex
	next uint64
	d    digest
	errs []string
}

// verifier accumulates the digests of what was sent, per stream, and of
// what each reader received, per partition.
type verifier struct {
	mu      sync.Mutex
	sent    map[int]*digest
	readers map[readerKey]*readerState
}

func newVerifier() *verifier {
	return &verifier{sent: map[int]*digest{}, readers: map[readerKey]*readerState{}}
}

// addSent records a batch that was acknowledged.
func (v *verifier) addSent(stream int, msgs []client.Message) {
	var d digest
	for i := range msgs {
		d.add(msgs[i].Payload)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.sent[stream]
	if s == nil {
		s = &digest{}
		v.sent[stream] = s
	}
	s.Count += d.Count
	s.Sum += d.Sum
}

func (v *verifier) reader(k readerKey) *readerState {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.readers[k]
	if r == nil {
		r = &readerState{}
		v.readers[k] = r
	}
	return r
}

// addRead records a non-empty poll of a reader.
func (v *verifier) addRead(reader string, stream int, partition uint32, msgs []client.Message) {
	r := v.reader(readerKey{reader, stream, partition})
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range msgs {
		m := &msgs[i]
		if m.Offset != r.next && len(r.errs) < 5 {
			r.errs = append(r.errs, fmt.Sprintf("got offset %d, expected %d", m.Offset, r.next))
		}
		r.next = m.Offset + 1
		r.d.add(m.Payload)
	}
}

// Verification is the outcome of checking every message.
type Verification struct {
	OK bool `json:"ok"`
	// Streams: per stream, what the producers had acknowledged and what
	// the server returned when every partition was read back.
	Streams []StreamCheck `json:"streams"`
	// Readers: per reader and partition, what it received; each must be
	// the partition's first messages, byte for byte.
	Readers []ReaderCheck `json:"readers"`
	// ReadsAll says whether each reader was expected to read all of its
	// partitions (see plan.readsAll).
	ReadsAll bool     `json:"reads_all_expected"`
	Problems []string `json:"problems,omitempty"`
}

// StreamCheck compares a stream's sent and stored messages.
type StreamCheck struct {
	Stream string `json:"stream"`
	Sent   digest `json:"sent"`
	Stored digest `json:"stored"`
}

// ReaderCheck compares what a reader received with what is stored.
type ReaderCheck struct {
	Reader    string `json:"reader"`
	Stream    string `json:"stream"`
	Partition uint32 `json:"partition"`
	Received  digest `json:"received"`
	// Stored is the digest of the partition's first Received.Count
	// messages.
	Stored   digest `json:"stored_prefix"`
	Complete bool   `json:"complete"`
}

// verify reads every partition of the run's streams back and compares.
func (v *verifier) verify(ctx context.Context, cl *client.Client, r *runner) (*Verification, error) {
	res := &Verification{OK: true, ReadsAll: r.plan.readsAll}
	problem := func(format string, args ...any) {
		res.OK = false
		res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
	}
	// prefix[stream][partition][n] is the digest sum of the first n
	// messages.
	prefix := map[int]map[uint32][]uint64{}
	for s := 1; s <= r.p.Streams; s++ {
		td, err := cl.GetTopic(ctx, r.streamIDs[s], r.topicIDs[s])
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		prefix[s] = map[uint32][]uint64{}
		var stored digest
		for _, part := range td.Partitions {
			sums, err := readPartition(ctx, cl, r.streamIDs[s], r.topicIDs[s], part.ID, r.p.MessagesPerBatch.Max)
			if err != nil {
				return nil, err
			}
			prefix[s][part.ID] = sums
			stored.Count += uint64(len(sums) - 1)
			stored.Sum += sums[len(sums)-1]
			if part.MessagesCount != uint64(len(sums)-1) {
				problem("%s partition %d: the topic reports %d messages, %d were read back",
					streamName(s), part.ID, part.MessagesCount, len(sums)-1)
			}
		}
		sent := digest{}
		if d := v.sent[s]; d != nil {
			sent = *d
		}
		res.Streams = append(res.Streams, StreamCheck{Stream: streamName(s), Sent: sent, Stored: stored})
		if sent != stored {
			problem("%s: sent %d messages (sum %x), stored %d (sum %x)", streamName(s), sent.Count, sent.Sum, stored.Count, stored.Sum)
		}
	}
	keys := make([]readerKey, 0, len(v.readers))
	for k := range v.readers {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b readerKey) int {
		if a.reader != b.reader {
			return cmpNatural(a.reader, b.reader)
		}
		if a.stream != b.stream {
			return a.stream - b.stream
		}
		return int(a.partition) - int(b.partition)
	})
	// Which partitions each reader read, to find partitions it never read.
	read := map[string]map[int]map[uint32]bool{}
	for _, k := range keys {
		st := v.readers[k]
		sums := prefix[k.stream][k.partition]
		rc := ReaderCheck{Reader: k.reader, Stream: streamName(k.stream), Partition: k.partition, Received: st.d}
		for _, e := range st.errs {
			problem("%s, %s partition %d: %s", k.reader, rc.Stream, k.partition, e)
		}
		if st.d.Count >= uint64(len(sums)) {
			problem("%s, %s partition %d: received %d messages, the partition holds %d",
				k.reader, rc.Stream, k.partition, st.d.Count, len(sums)-1)
		} else {
			rc.Stored = digest{Count: st.d.Count, Sum: sums[st.d.Count]}
			rc.Complete = st.d.Count == uint64(len(sums)-1)
			if rc.Stored != st.d {
				problem("%s, %s partition %d: the %d messages received differ from those stored (sum %x, stored %x)",
					k.reader, rc.Stream, k.partition, st.d.Count, st.d.Sum, rc.Stored.Sum)
			}
			if r.plan.readsAll && !rc.Complete {
				problem("%s, %s partition %d: read %d of %d messages", k.reader, rc.Stream, k.partition, st.d.Count, len(sums)-1)
			}
		}
		res.Readers = append(res.Readers, rc)
		if read[k.reader] == nil {
			read[k.reader] = map[int]map[uint32]bool{}
		}
		if read[k.reader][k.stream] == nil {
			read[k.reader][k.stream] = map[uint32]bool{}
		}
		read[k.reader][k.stream][k.partition] = true
	}
	if r.plan.readsAll {
		for _, a := range r.plan.actors {
			if a.poll == nil {
				continue
			}
			name := readerName(r, a)
			for part, sums := range prefix[a.poll.stream] {
				if len(sums) > 1 && !read[name][a.poll.stream][part] {
					problem("%s never read %s partition %d (%d messages)", name, streamName(a.poll.stream), part, len(sums)-1)
				}
			}
		}
	}
	if res.OK && len(v.sent) == 0 && len(v.readers) == 0 {
		return res, errors.New("verify: nothing was sent or received")
	}
	return res, nil
}

// readPartition reads a partition from offset 0 to its end and returns the
// prefix sums of its payload hashes: sums[n] covers the first n messages.
func readPartition(ctx context.Context, cl *client.Client, stream, topic client.Identifier, partition, count uint32) ([]uint64, error) {
	sums := []uint64{0}
	count = max(count, 1000)
	for {
		next := uint64(len(sums) - 1)
		res, err := cl.PollMessages(ctx, client.PollRequest{
			Consumer: client.DefaultConsumer(), Stream: stream, Topic: topic,
			Partition: client.InPartition(partition), Strategy: client.OffsetStrategy(next), Count: count,
		})
		if err != nil {
			return nil, fmt.Errorf("verify: reading back partition %d: %w", partition, err)
		}
		if len(res.Messages) == 0 {
			return sums, nil
		}
		for i := range res.Messages {
			m := &res.Messages[i]
			if m.Offset != uint64(len(sums)-1) {
				return nil, fmt.Errorf("verify: partition %d read back offset %d where %d was expected", partition, m.Offset, len(sums)-1)
			}
			sums = append(sums, sums[len(sums)-1]+xxh3.Hash(m.Payload))
		}
	}
}

// cmpNatural orders "consumer 2" before "consumer 10".
func cmpNatural(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
