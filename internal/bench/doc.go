// Package bench is shoal's benchmark, behind `shoal bench`: the workloads
// of the Iggy benchmark (messages.md §7 of the protocol specification), run through the
// public client against any server that speaks the protocol, with the
// figures that benchmark reports, and a measurement of what the server's
// storage can do without the server in the way.
//
// # Workloads
//
// Eight workloads (Kind), with the reference's actors, streams,
// partitions and finish conditions: pinned and balanced producers,
// pinned consumers and consumer groups, both together, and end-to-end
// actors that send and poll. Run creates streams bench-stream-1…S (deleting
// those of an earlier run), each with topic-1 and the workload's
// partitions, and consumer groups cg-1…G; the read-only workloads
// (pinned-consumer, balanced-consumer-group) first write, unmeasured,
// exactly the data their consumers will read.
//
// Finish conditions follow the reference: b·M/F batches per actor or
// shared, or a payload volume (messages.md §7.4). Producers claim a batch
// before sending it, so shared budgets are never overshot; consumers count
// messages, and a consumer's budget is the exact number of messages of
// the batches it is owed, so a run in which every consumer should read
// everything ends when it has. Batch sizes drawn from a range come from a
// seeded sequence per producer, which makes that count known in advance.
//
// # Figures
//
// Each actor has a send side, a receive side or both. A side records every
// batch: its latency in an HDR histogram (github.com/HdrHistogram/hdrhistogram-go,
// microseconds, three significant digits) and its volume spread over
// sampling intervals (10 ms by default). Throughput is the reference's:
// MB/s (10^6 bytes of payload) per interval, smoothed by a moving average
// of 20 intervals, averaged over the intervals that saw data; an aggregate
// (total over wall time) is given beside it. Groups (producers, consumers,
// producing consumers' sends and receives, all actors) sum their actors'
// throughput and pool their histograms; the reference's group latency,
// the mean of the actors' percentiles, is kept too.
//
// Producer latency is the round trip of one send. Consumer latency is the
// poll's round trip in the read-only workloads, and now − the first
// message's origin time where producers run alongside. Only polls that
// return messages are samples.
//
// # Verification
//
// Every payload starts with an 8-byte stamp unique in the run. With
// Params.Verify, producers fold every acknowledged payload into a digest
// per stream (count and sum of XXH3-64 hashes), consumers check that the
// offsets of each partition they read run 0, 1, 2, … and fold what they
// received per partition, and at the end every partition is read back:
// what is stored must equal what was sent, and what each reader received
// must equal the stored prefix, byte for byte.
//
// # Baselines
//
// FSBaseline appends batch-sized writes, each followed by fdatasync, to a
// file in the server's data directory; S3Baseline PUTs journal-sized
// objects to the server's bucket as many at a time as the journal has in
// flight, then GETs them. Report.SetBaseline computes baseline_ratio.
// SnapshotBucket and S3UsageBetween count the server's own PUTs from
// listings of its bucket (journal objects are numbered densely);
// StoreUsageBetween reads the server's own storage counters (StoreCounters,
// served by its diagnostics listener), which count its GETs too.
package bench
