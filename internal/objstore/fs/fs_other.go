//go:build !unix

package fs

import (
	"fmt"
	"runtime"

	"github.com/shoalstream/shoal/internal/objstore"
)

// Backend is not available on this system: New always fails.
type Backend struct{ objstore.Backend }

// New fails with ErrUnsupported.
func New(root string, opts Options) (*Backend, error) {
	return nil, fmt.Errorf("fs backend at %s: %w; on %s, set storage.kind to \"s3\" (or \"memory\", for tests)", root, ErrUnsupported, runtime.GOOS)
}

// Open fails with ErrUnsupported.
func Open(root string, opts Options) (*objstore.Store, error) {
	_, err := New(root, opts)
	return nil, err
}
