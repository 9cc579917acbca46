//go:build !unix

package server

// kernelVersion returns "": only Unix systems are asked.
func kernelVersion() (release, version string) { return "", "" }

// diskSpace returns 0: the data directory is on Unix systems only (the fs
// backend).
func diskSpace(string) (free, total uint64) { return 0, 0 }
