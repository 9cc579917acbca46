package mem_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
)

// BenchmarkPut compares Put through shoal's layer with storing a copy in a
// plain map, the "client library" of memory.
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		data := make([]byte, size)
		b.Run(fmt.Sprintf("size=%d/shoal", size), func(b *testing.B) {
			s := mem.NewStore()
			b.SetBytes(int64(size))
			for i := range b.N {
				if _, err := s.Put(context.Background(), fmt.Sprintf("k/%d", i%16), data, objstore.Condition{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("size=%d/map", size), func(b *testing.B) {
			m := map[string][]byte{}
			b.SetBytes(int64(size))
			for i := range b.N {
				m[fmt.Sprintf("k/%d", i%16)] = append([]byte(nil), data...)
			}
			_ = maps.Clone(m)
		})
	}
}
