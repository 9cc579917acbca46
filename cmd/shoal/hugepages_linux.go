package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/shoalstream/shoal/internal/config"
)

// readTHPSystem reads what planHugePages needs from /sys and /proc.
func readTHPSystem() thpSystem {
	var sys thpSystem
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		sys.enabled = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"); err == nil {
		sys.pageSize, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	if b, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err == nil {
		sys.overcommit = strings.TrimSpace(string(b))
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		sys.memTotal = uint64(si.Totalram) * uint64(si.Unit)
	}
	return sys
}

// applyHugePages grows the heap by the range planHugePages gives and
// advises it for huge pages (see hugepages.go). It returns what it did, for
// the start line: the size advised, or why nothing was.
func applyHugePages(cfg config.Config, lookupEnv func(string) (string, bool)) string {
	switch {
	case strconv.IntSize < 64:
		return "unavailable (a 32-bit address space)"
	case raceEnabled:
		// The race detector clears its shadow of every allocation: the
		// range would be touched, 1.6 GiB of it by default, and the
		// server take seconds to start.
		return "off (the race detector)"
	}
	godebug, _ := lookupEnv("GODEBUG")
	sys := readTHPSystem()
	n, why := planHugePages(cfg, godebug, sys)
	if n == 0 {
		return why
	}
	_, size, err := adviseHeapRange(n, sys.pageSize)
	// The range's allocation is garbage now: collect it, so that the
	// batches to come are allocated in it.
	runtime.GC()
	if err != nil {
		return "unavailable (" + err.Error() + ")"
	}
	return config.Size(size).String()
}

// adviseHeapRange allocates n bytes on the heap without touching them
// (fresh heap memory needs no zeroing, so nothing is faulted in), advises
// the whole huge pages inside for huge pages, and lets the allocation go.
// It returns the range advised. The caller collects the garbage.
func adviseHeapRange(n, pageSize int64) (start uint64, size int64, err error) {
	b := make([]byte, n)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	page := uintptr(pageSize)
	lo := (base+page-1)/page*page - base
	hi := (base+uintptr(n))/page*page - base
	if lo >= hi {
		return 0, 0, fmt.Errorf("no whole huge page in %d bytes of heap", n)
	}
	if err := unix.Madvise(b[lo:hi], unix.MADV_HUGEPAGE); err != nil {
		return 0, 0, fmt.Errorf("madvise huge pages: %w", err)
	}
	return uint64(base + lo), int64(hi - lo), nil
}
