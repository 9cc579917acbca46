package mem_test

import (
	"testing"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/objstoretest"
)

func TestConformance(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) *objstore.Store {
		s := mem.NewStore()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestAppend(t *testing.T) {
	objstoretest.RunAppend(t, func(t *testing.T) *objstore.Store {
		s := mem.NewStore()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// The suite again over a clone, which must carry every object and ETag.
func TestConformanceClone(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) *objstore.Store {
		b := mem.New()
		s := objstore.New(b.Clone(), objstore.Options{Name: "memory clone"})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestCloneIsACopy(t *testing.T) {
	ctx := t.Context()
	b := mem.New()
	s := objstore.New(b, objstore.Options{})
	info, err := s.Put(ctx, "k", []byte("before"), objstore.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	c := objstore.New(b.Clone(), objstore.Options{})
	if _, err := s.Put(ctx, "k", []byte("after"), objstore.Condition{}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "k")
	if err != nil || string(got) != "before" {
		t.Fatalf("clone has %q, %v; want the content at clone time", got, err)
	}
	head, err := c.Head(ctx, "k")
	if err != nil || head.ETag != info.ETag {
		t.Fatalf("clone ETag %q, %v; want %q", head.ETag, err, info.ETag)
	}
}
