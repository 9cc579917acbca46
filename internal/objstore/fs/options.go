package fs

import (
	"errors"
	"log/slog"
)

// Options configure the backend.
type Options struct {
	Logger *slog.Logger
	// NoLock skips the exclusive lock file (tests that open one root twice
	// on purpose).
	NoLock bool
}

// ErrLocked is returned by New when another process holds the root.
var ErrLocked = errors.New("data directory is in use by another process")

// ErrUnsupported is returned by New on systems the backend does not run
// on (those that are not Unix).
var ErrUnsupported = errors.New("the local filesystem backend needs a Unix system (Linux, macOS, a BSD)")
