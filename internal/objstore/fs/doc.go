// Package fs is the local-filesystem objstore backend, shoal's default
// storage: objects are files under a root directory.
//
// # Layout
//
// A key's '/'-separated segments become directories and a file. The
// filesystem cannot hold a file and a directory of one name, while an object
// store holds "a" and "a/b" side by side; so a directory's name is its
// segment followed by a bare '%', and every '%' inside a segment is written
// as "%25". An escaped segment never ends in a bare '%' (an escaped '%' is
// always followed by two hex digits), so directories and files never
// collide, and names the backend keeps for itself start with '%' followed by
// letters, which no escaped segment does:
//
//	key  segments/1/2/00000000000000000042
//	file <root>/segments%/1%/2%/00000000000000000042
//	key  50%/off   →  <root>/50%25%/off
//
// Empty directories are left in place.
//
// # Durability and conditions
//
// Every Put writes a temp file ("%tmp.<random>") in the target directory,
// fsyncs it, then renames it over the target (no condition), links it to
// the target (IfAbsent: link fails if the target exists, atomically), or
// compares the current ETag and renames under the key's lock (IfMatch), and
// finally fsyncs the directory. New directories are fsynced into their
// parents. Every mutation of a key holds one of a fixed set of in-process
// locks chosen by the key's hash, so IfMatch is atomic across goroutines;
// across processes, one server per data directory is enforced by the lock
// file ("%lock", flock) that Open takes.
//
// The ETag names the content (objstore.ContentETag, a fast 128-bit hash,
// computed while writing) and is kept in the file's "user.shoal.etag"
// extended attribute; where the filesystem has no extended attributes it is
// computed from the content when asked for.
//
// Appends (objstore.AppendBackend) write at the end of the file and
// fdatasync it.
//
// The backend needs a Unix system (flock, extended attributes, directory
// fsync); elsewhere New says so, and the server runs on S3 or memory.
package fs
