package main

import (
	"testing"

	"github.com/shoalstream/shoal/internal/config"
)

func TestPlanHugePages(t *testing.T) {
	const mib = 1 << 20
	madvise := thpSystem{enabled: "always [madvise] never", pageSize: 2 * mib, overcommit: "0", memTotal: 24 << 30}
	cfg := config.Default()
	full := cfg.Segment.TailCache.Bytes() + cfg.Segment.BlockCache.Bytes() + memoryHeadroom
	small := cfg
	small.Segment.TailCache = 8*config.MiB + 1
	small.Segment.BlockCache = 0
	with := func(f func(*thpSystem)) thpSystem { s := madvise; f(&s); return s }
	for _, c := range []struct {
		name    string
		cfg     config.Config
		godebug string
		sys     thpSystem
		want    int64
		why     string
	}{
		{"madvise: the caches and the headroom", cfg, "", madvise, full, ""},
		{"rounded down to whole huge pages", small, "", madvise, 520 * mib, ""},
		{"at most half the memory", cfg, "", with(func(s *thpSystem) { s.memTotal = 1 << 30 }), 512 * mib, ""},
		{"too little memory", cfg, "", with(func(s *thpSystem) { s.memTotal = 6 * mib }), 0, "off (too little memory for huge pages)"},
		{"GODEBUG", cfg, "madvdontneed=1,disablethp=1", madvise, 0, "off (GODEBUG disablethp=1)"},
		{"GODEBUG, last wins", cfg, "disablethp=1,disablethp=0", madvise, full, ""},
		{"never", cfg, "", with(func(s *thpSystem) { s.enabled = "always madvise [never]" }), 0, "off (transparent_hugepage is never)"},
		{"always", cfg, "", with(func(s *thpSystem) { s.enabled = "[always] madvise never" }), 0, "always (the kernel's setting)"},
		{"no THP in the kernel", cfg, "", thpSystem{overcommit: "0", memTotal: 24 << 30}, 0, "unavailable (the kernel has no transparent huge pages)"},
		{"strict overcommit", cfg, "", with(func(s *thpSystem) { s.overcommit = "2" }), 0, "off (vm.overcommit_memory is 2)"},
		{"memory unknown", cfg, "", with(func(s *thpSystem) { s.memTotal = 0 }), 0, "unavailable (the machine's memory is unknown)"},
	} {
		n, why := planHugePages(c.cfg, c.godebug, c.sys)
		if n != c.want || why != c.why {
			t.Errorf("%s: %d %q, want %d %q", c.name, n, why, c.want, c.why)
		}
	}
}
