package server

import "golang.org/x/sys/unix"

// systemMemory returns the machine's memory and how much of it is free, in
// bytes (zeros when unknown).
func systemMemory() (total, available uint64) {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0, 0
	}
	return si.Totalram * uint64(si.Unit), si.Freeram * uint64(si.Unit)
}
