//go:build unix

package fs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
)

// rawPut is the same durable write done directly with the os package:
// temp file, write, fsync, rename, fsync of the directory.
func rawPut(dir, name string, data []byte) error {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, "tmp."+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// BenchmarkPut compares a durable Put through shoal's layer with the same
// write done directly: small-Put latency (1 KiB, ns/op) and throughput.
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 8 << 20} {
		data := make([]byte, size)
		b.Run(fmt.Sprintf("size=%d/shoal", size), func(b *testing.B) {
			s, err := fs.Open(b.TempDir(), fs.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(int64(size))
			for i := range b.N {
				if _, err := s.Put(context.Background(), fmt.Sprintf("bench/%d", i%16), data, objstore.Condition{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("size=%d/raw", size), func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "bench")
			if err := os.Mkdir(dir, 0o750); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			for i := range b.N {
				if err := rawPut(dir, fmt.Sprint(i%16), data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGet compares Get of a 1 MiB object with os.ReadFile.
func BenchmarkGet(b *testing.B) {
	data := make([]byte, 1<<20)
	root := b.TempDir()
	s, err := fs.Open(root, fs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(context.Background(), "bench/obj", data, objstore.Condition{}); err != nil {
		b.Fatal(err)
	}
	b.Run("shoal", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			if _, err := s.Get(context.Background(), "bench/obj"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		path := filepath.Join(root, "bench%", "obj")
		for range b.N {
			if _, err := os.ReadFile(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}
