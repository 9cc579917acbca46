//go:build !linux && !darwin

package server

// systemMemory returns 0 (unknown) where no way to ask is written.
func systemMemory() (total, available uint64) { return 0, 0 }
