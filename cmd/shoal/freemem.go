package main

import (
	"strings"
)

// How the Go runtime gives the kernel back heap memory it no longer needs.
//
// On Linux the runtime releases it with MADV_DONTNEED by default: the pages
// leave the process at once, and the next allocation there faults them in
// again, zero-filled. The server's heap goes up and down all the time: the
// tails of partitions grow until they are sealed and then are garbage all
// at once. Under load the runtime's scavenger kept releasing memory that
// the next requests needed again, and faulting it back in cost the server
// 15-25% of its CPU on the 2-core VM here (where the host backs a page the
// first time the guest touches it) and lengthened the tail of send
// latencies, since a request read into a fresh buffer waits for the faults.
//
// With GODEBUG=madvdontneed=0 the runtime releases with MADV_FREE instead:
// the kernel takes the pages back only when it needs memory, and until then
// a page used again costs nothing. The runtime reads the setting once, at
// start, and it cannot be given in the source (//go:debug accepts only the
// settings of Go's compatibility table), so the server starts itself again
// with it when GODEBUG does not set madvdontneed.
//
// The cost: memory released this way still counts in the process's RSS
// until the kernel reclaims it, so an idle server's RSS stays near its peak
// (on a machine with memory to spare). The kernel keeps such pages on the
// inactive file list, which cgroup "working set" figures (the kubelet's)
// leave out, and reclaims them before anything is swapped or killed.
// GODEBUG=madvdontneed=1 keeps the runtime's default.

// lazyFreeSetting is the GODEBUG setting the server runs with.
const lazyFreeSetting = "madvdontneed=0"

// lazyFreeEnviron returns environ with lazyFreeSetting added to GODEBUG,
// and true, when the server should start itself again with it: on Linux,
// unless GODEBUG already sets madvdontneed (the user's choice stands).
func lazyFreeEnviron(goos string, environ []string) ([]string, bool) {
	if goos != "linux" {
		return nil, false
	}
	// The first GODEBUG in the environment is the one getenv returns.
	at := -1
	for i, kv := range environ {
		if strings.HasPrefix(kv, "GODEBUG=") {
			at = i
			break
		}
	}
	out := append([]string(nil), environ...)
	if at < 0 {
		return append(out, "GODEBUG="+lazyFreeSetting), true
	}
	godebug := strings.TrimPrefix(environ[at], "GODEBUG=")
	if _, set := godebugSetting(godebug, "madvdontneed"); set {
		return nil, false
	}
	if strings.TrimSpace(godebug) == "" {
		out[at] = "GODEBUG=" + lazyFreeSetting
	} else {
		out[at] = "GODEBUG=" + godebug + "," + lazyFreeSetting
	}
	return out, true
}

// freedMemory says how the runtime gives back freed memory, for the start
// line.
func freedMemory(goos, godebug string) string {
	if goos != "linux" {
		return "os default"
	}
	if v, _ := godebugSetting(godebug, "madvdontneed"); v == "0" {
		return "lazily (MADV_FREE)"
	}
	return "at once (MADV_DONTNEED)"
}
