package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/s3"
	"github.com/shoalstream/shoal/internal/objstore/s3/s3test"
)

// BenchmarkPut compares Put through shoal's layer with the same PutObject
// done directly with aws-sdk-go-v2: small-Put latency (1 KiB, ns/op) and
// throughput.
func BenchmarkPut(b *testing.B) {
	o := s3test.Options(b)
	s, err := s3.Open(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cli := s3test.Client(o)
	for _, size := range []int{1 << 10, 1 << 20, 8 << 20} {
		data := make([]byte, size)
		b.Run(fmt.Sprintf("size=%d/shoal", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for i := range b.N {
				if _, err := s.Put(context.Background(), fmt.Sprintf("bench/%d", i%16), data, objstore.Condition{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("size=%d/sdk", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for i := range b.N {
				_, err := cli.PutObject(context.Background(), &s3sdk.PutObjectInput{
					Bucket: aws.String(o.Bucket), Key: aws.String(fmt.Sprintf("%s/raw/%d", o.Prefix, i%16)),
					Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(size)),
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGet compares Get of a 1 MiB object with GetObject.
func BenchmarkGet(b *testing.B) {
	o := s3test.Options(b)
	s, err := s3.Open(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cli := s3test.Client(o)
	data := make([]byte, 1<<20)
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
	b.Run("sdk", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			out, err := cli.GetObject(context.Background(), &s3sdk.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Prefix + "/bench/obj")})
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, aws.ToInt64(out.ContentLength)) // what Get returns: the bytes
			if _, err := io.ReadFull(out.Body, buf); err != nil {
				b.Fatal(err)
			}
			out.Body.Close()
		}
	})
}
