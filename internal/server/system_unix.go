//go:build unix

package server

import "golang.org/x/sys/unix"

// kernelVersion returns the kernel's release and version ("" when unknown).
func kernelVersion() (release, version string) {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "", ""
	}
	return unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Version[:])
}

// diskSpace returns the space free (for this user) and in all on the
// filesystem holding dir (0 when unknown).
func diskSpace(dir string) (free, total uint64) {
	var fs unix.Statfs_t
	if unix.Statfs(dir, &fs) != nil {
		return 0, 0
	}
	return uint64(fs.Bavail) * uint64(fs.Bsize), uint64(fs.Blocks) * uint64(fs.Bsize)
}
