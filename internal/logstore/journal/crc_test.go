package journal

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	lengths := []int{0, 1, 2, 3, 7, 8, 31, 32, 33, 255, 4096, 65537, len(data)}
	for range 50 {
		lengths = append(lengths, rng.IntN(len(data)+1))
	}
	for _, n := range lengths {
		for _, split := range []int{0, n / 3, n / 2, n} {
			a, b := data[:split], data[split:n]
			want := crc32.Checksum(data[:n], castagnoli)
			got := crc32Combine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), int64(len(b)))
			if got != want {
				t.Fatalf("length %d split at %d: combined %08x, want %08x", n, split, got, want)
			}
		}
	}
}

func BenchmarkCRC32Combine(b *testing.B) {
	for b.Loop() {
		crc32Combine(0x12345678, 0x9abcdef0, 2<<20)
	}
}
