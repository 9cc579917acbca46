package main

import (
	"strings"

	"github.com/shoalstream/shoal/internal/config"
)

// Transparent huge pages for the heap's batches.
//
// The server's heap is mostly batches: the partitions' tails (up to
// segments.tail_cache), the block cache, and request buffers on their way
// there. Each 4 KiB page of it is faulted in the first time it is touched,
// and on virtual machines a fault is dear: on the 2-core VM here touching a
// fresh GiB costs 3.1 s in 4 KiB pages (12 µs a fault) and 0.5 s in 2 MiB
// ones. A freshly started server writing 1,000 partitions spent half its CPU
// so. The Go runtime asks for no huge pages on the heap, and most
// distributions' kernels give them only where asked (transparent_hugepage
// = madvise). So at start the server grows its heap once by the memory its
// caches may hold plus memoryHeadroom (one allocation, never touched, so
// nothing is faulted in), advises that range for huge pages
// (MADV_HUGEPAGE), and lets the allocation go: the runtime keeps the range
// mapped and hands it out, lowest addresses first, to the batches that
// come. The advice stays on the range when the runtime returns its pages to
// the system.
//
// GODEBUG=disablethp=1, the runtime's switch to keep huge pages off the
// heap, turns this off too. So does the race detector, which touches its
// shadow of every allocation.

// thpSystem is what the planning needs to know of the machine.
type thpSystem struct {
	// enabled is /sys/kernel/mm/transparent_hugepage/enabled ("" when the
	// kernel has no transparent huge pages).
	enabled string
	// pageSize is the huge page size in bytes (0 when unknown).
	pageSize int64
	// overcommit is vm.overcommit_memory ("0", "1" or "2"; "" when unknown).
	overcommit string
	// memTotal is the machine's memory in bytes (0 when unknown).
	memTotal uint64
}

// thpMode returns the bracketed choice of a transparent_hugepage/enabled
// file ("always [madvise] never" → "madvise"), or "".
func thpMode(enabled string) string {
	_, rest, ok := strings.Cut(enabled, "[")
	if !ok {
		return ""
	}
	mode, _, ok := strings.Cut(rest, "]")
	if !ok {
		return ""
	}
	return mode
}

// thpDisabled reports whether a GODEBUG value sets disablethp to 1 (the
// last setting of it wins, as in the runtime).
func thpDisabled(godebug string) bool {
	off := false
	for kv := range strings.SplitSeq(godebug, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "disablethp" {
			off = v == "1"
		}
	}
	return off
}

// planHugePages returns how many bytes of heap the server advises for huge
// pages, or 0 and why not, in the words the start line logs.
//
// The size is what the memory limit counts (the two caches plus
// memoryHeadroom), at most half the machine's memory: the range is mapped
// read-write at once, and the kernel's overcommit heuristic refuses a
// mapping much larger than the machine (the runtime cannot survive that).
// Under strict overcommit (mode 2) every mapped byte is committed, touched
// or not, so there the server does not grow its heap ahead of need.
func planHugePages(cfg config.Config, godebug string, sys thpSystem) (int64, string) {
	switch mode := thpMode(sys.enabled); {
	case thpDisabled(godebug):
		return 0, "off (GODEBUG disablethp=1)"
	case mode == "" || sys.pageSize <= 0:
		return 0, "unavailable (the kernel has no transparent huge pages)"
	case mode == "never":
		return 0, "off (transparent_hugepage is never)"
	case mode == "always":
		return 0, "always (the kernel's setting)"
	case mode != "madvise":
		return 0, "unavailable (transparent_hugepage is " + mode + ")"
	case sys.overcommit == "2":
		return 0, "off (vm.overcommit_memory is 2)"
	case sys.memTotal == 0:
		return 0, "unavailable (the machine's memory is unknown)"
	}
	n := cachesAndHeadroom(cfg)
	if uint64(n) > sys.memTotal/2 {
		n = int64(sys.memTotal / 2)
	}
	n -= n % sys.pageSize
	if n < 2*sys.pageSize {
		return 0, "off (too little memory for huge pages)"
	}
	return n, ""
}
