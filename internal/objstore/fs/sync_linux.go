package fs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// SyncData makes what was written to f durable, as an append needs it:
// fdatasync (the file's size is synced, its times need not be). The
// benchmark's fs baseline syncs with it too.
func SyncData(f *os.File) error {
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("fdatasync: %w", err)
	}
	return nil
}

// dropCache asks the kernel to drop f's range from the page cache.
func dropCache(f *os.File, off, n int64) error {
	if err := unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("fadvise: %w", err)
	}
	return nil
}
