package main

import (
	"math"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/shoalstream/shoal/internal/config"
)

func TestMemoryLimit(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	cfg := config.Default()
	if got, ok := memoryLimit(cfg, noEnv); !ok || got != int64(config.GiB+64*config.MiB+memoryHeadroom) {
		t.Errorf("defaults: limit %d (%v), want tail_cache + block_cache + headroom", got, ok)
	}
	cfg.Segment.TailCache = 8 * config.MiB
	cfg.Segment.BlockCache = 2 * config.MiB
	if got, ok := memoryLimit(cfg, noEnv); !ok || got != 10<<20+memoryHeadroom {
		t.Errorf("small caches: limit %d (%v)", got, ok)
	}
	cfg.Segment.TailCache = math.MaxInt64 - 1
	if got, ok := memoryLimit(cfg, noEnv); !ok || got != math.MaxInt64 {
		t.Errorf("huge caches: limit %d (%v), want no overflow", got, ok)
	}
	withEnv := func(k string) (string, bool) { return "1GiB", k == "GOMEMLIMIT" }
	if _, ok := memoryLimit(cfg, withEnv); ok {
		t.Error("GOMEMLIMIT set: the server sets a limit of its own")
	}
	emptyEnv := func(k string) (string, bool) { return "", k == "GOMEMLIMIT" }
	if _, ok := memoryLimit(cfg, emptyEnv); !ok {
		t.Error("GOMEMLIMIT empty (the runtime's default): the server sets no limit")
	}
	cfg.Storage.Kind = config.StorageMemory
	if _, ok := memoryLimit(cfg, noEnv); ok {
		t.Error("memory storage: the server sets a limit, though all it stores is on the heap")
	}
}

func TestGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	noEnv := func(string) (string, bool) { return "", false }
	if got := applyGCPercent(noEnv); got != strconv.Itoa(serverGCPercent) {
		t.Errorf("no GOGC: %s in force, want %d", got, serverGCPercent)
	}
	// GOGC set: the runtime read it at start; the server leaves it.
	debug.SetGCPercent(80)
	withEnv := func(k string) (string, bool) { return "80", k == "GOGC" }
	if got := applyGCPercent(withEnv); got != "80" {
		t.Errorf("GOGC=80: %s in force", got)
	}
	debug.SetGCPercent(-1)
	if got := applyGCPercent(func(k string) (string, bool) { return "off", k == "GOGC" }); got != "off" {
		t.Errorf("GOGC=off: %s in force", got)
	}
}
