package server

import "golang.org/x/sys/unix"

// systemMemory returns the machine's memory in bytes (0 when unknown);
// macOS has no single figure for the memory free, so that is 0.
func systemMemory() (total, available uint64) {
	total, _ = unix.SysctlUint64("hw.memsize")
	return total, 0
}
