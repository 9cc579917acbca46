package main

import (
	"math"
	"runtime/debug"
	"strconv"

	"github.com/shoalstream/shoal/internal/config"
)

// memoryHeadroom is what the soft memory limit allows beyond the caches:
// request buffers in flight, journal frames being written, the buffers of
// segments being copied, connections and metadata.
const memoryHeadroom = 512 << 20

// memoryLimit returns the soft memory limit the server sets on the Go
// runtime: the memory its caches may hold (segments.tail_cache and
// segments.block_cache) plus memoryHeadroom. ok is false when GOMEMLIMIT is
// set in the environment (not empty): the runtime already took that one,
// and it wins.
//
// Without a limit the garbage collector lets the heap grow to twice what is
// live, so full tail caches (1 GiB by default) made the heap grow to about
// 2 GiB. Memory a process touches for the first time is costly on virtual
// machines (the host backs it then): on the 2-core VM here a server that had
// just started spent a third of its CPU zeroing fresh pages under load.
//
// The memory backend keeps every byte stored on the heap, which no limit
// derived from the caches can bound: ok is false for it too.
func memoryLimit(cfg config.Config, lookupEnv func(string) (string, bool)) (limit int64, ok bool) {
	if v, _ := lookupEnv("GOMEMLIMIT"); v != "" || cfg.Storage.Kind == config.StorageMemory {
		return 0, false
	}
	return cachesAndHeadroom(cfg), true
}

// cachesAndHeadroom is segments.tail_cache + segments.block_cache +
// memoryHeadroom, at most math.MaxInt64.
func cachesAndHeadroom(cfg config.Config) int64 {
	sum := int64(memoryHeadroom)
	for _, n := range []int64{cfg.Segment.TailCache.Bytes(), cfg.Segment.BlockCache.Bytes()} {
		if n > math.MaxInt64-sum {
			return math.MaxInt64
		}
		sum += n
	}
	return sum
}

// applyMemoryLimit sets memoryLimit on the runtime, unless GOMEMLIMIT did,
// and returns the limit in force, for the log: a size, or "none".
func applyMemoryLimit(cfg config.Config, lookupEnv func(string) (string, bool)) string {
	if limit, ok := memoryLimit(cfg, lookupEnv); ok {
		debug.SetMemoryLimit(limit)
	}
	if limit := debug.SetMemoryLimit(-1); limit < math.MaxInt64 {
		return config.Size(limit).String()
	}
	return "none"
}

// serverGCPercent is the garbage collector's target the server sets
// (GOGC's meaning: the heap may grow by this percentage of what is live
// before a collection). The runtime's default, 100, lets garbage grow as
// large as the live heap; the server's live heap is mostly the caches'
// batches, and its garbage mostly the request buffers of batches it did
// not keep. Those are byte slices, which a collection marks without
// scanning, so collecting four times as often costs little, while the
// memory a process has never touched is costly on virtual machines: with
// 25, S3 bench runs on the 2-core VM here faulted in 14-31% fewer pages,
// and the server used 8-22% less CPU for the same bytes.
const serverGCPercent = 25

// applyGCPercent sets serverGCPercent on the runtime, unless GOGC is set
// (not empty): the runtime already took that one, and it wins. It returns
// the percentage in force, for the log, or "off".
func applyGCPercent(lookupEnv func(string) (string, bool)) string {
	if v, _ := lookupEnv("GOGC"); v == "" {
		debug.SetGCPercent(serverGCPercent)
	}
	pct := debug.SetGCPercent(100)
	debug.SetGCPercent(pct)
	if pct < 0 {
		return "off"
	}
	return strconv.Itoa(pct)
}
