//go:build !linux

package fs

import (
	"fmt"
	"os"
)

// SyncData makes what was written to f durable: f.Sync, which on macOS is
// fcntl F_FULLFSYNC (a plain fsync there leaves the data in the drive's
// cache). The benchmark's fs baseline syncs with it too.
func SyncData(f *os.File) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// dropCache does nothing: only Linux has fadvise.
func dropCache(*os.File, int64, int64) error { return nil }
