package broker

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/objstoretest"
)

// A partition that moves to another member while a group poll of it is
// reading must not be served by the old owner too: the new owner polls
// from the group's offset, so both would get the same messages.
func TestGroupPollRacingRebalance(t *testing.T) {
	ctx := t.Context()
	faulty := objstoretest.NewFaulty(mem.New())
	b, err := Open(ctx, objstore.New(faulty, objstore.Options{}), Options{
		PasswordParams: cheap,
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	root := rootSession(t, b)
	setup(t, b, root, 3)
	g := ByName("g")
	if _, err := b.CreateGroup(ctx, root, ByName("s"), ByName("t"), "g"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(ctx, root, ByName("s"), ByName("t"), Partitioning{Kind: PartitionByID, ID: 2}, msgs(t, 5), nil, 5); err != nil {
		t.Fatal(err)
	}
	// Sealed, so that a poll reads the store, where it can be held.
	if err := b.Log().Seal(ctx); err != nil {
		t.Fatal(err)
	}
	a, c := rootSession(t, b), rootSession(t, b)
	if err := b.JoinGroup(a, ByName("s"), ByName("t"), g); err != nil {
		t.Fatal(err)
	}
	req := PollRequest{Consumer: Consumer{Kind: ConsumerGroup, Group: g}, Stream: ByName("s"), Topic: ByName("t"),
		Partition: 2, HasPart: true, Strategy: PollNext, Count: 10, AutoCommit: true}

	// (Whatever it reads: a segment, or the journal a linked one points into.)
	stall := faulty.Inject(objstoretest.Rule{Op: objstore.OpGet, Action: objstoretest.Stall})
	type result struct {
		res PollResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := b.Poll(ctx, a, req)
		done <- result{res, err}
	}()
	select {
	case <-stall.Stalled():
	case <-time.After(10 * time.Second):
		t.Fatal("the poll did not read the store")
	}
	// c joins while a's poll reads: partition 2, the last of a's, moves to
	// c at once (nothing of it was served yet).
	if err := b.JoinGroup(c, ByName("s"), ByName("t"), g); err != nil {
		t.Fatal(err)
	}
	asg, member, err := b.SyncGroup(c, ByName("s"), ByName("t"), g)
	if err != nil || !member || len(asg.Partitions) != 1 || asg.Partitions[0] != 2 {
		t.Fatalf("the joining member's assignment %+v %v %v", asg, member, err)
	}
	stall.Remove()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.res.Count != 0 || !r.res.Resync {
		t.Fatalf("the old owner was served %d messages of a partition it lost during the poll", r.res.Count)
	}
	res, err := b.Poll(context.Background(), c, req)
	if err != nil || res.Count != 5 || res.From != 0 {
		t.Fatalf("the new owner's poll: from %d, %d messages, %v", res.From, res.Count, err)
	}
}
