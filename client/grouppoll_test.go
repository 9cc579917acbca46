package client

import (
	"errors"
	"testing"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

var groupPoll = PollRequest{
	Consumer: GroupConsumer(group3), Stream: stream1, Topic: topic2,
	Strategy: NextStrategy(), Count: 10, AutoCommit: true,
}

// pollOn checks that a request is a poll of partition p with the request
// id id.
func pollOn(p uint32, id uint64) func(t *testing.T, h wire.Request, body []byte) {
	return func(t *testing.T, h wire.Request, body []byte) {
		var req wire.PollMessagesRequest
		if h.Code != wire.CmdPollMessages {
			t.Errorf("request for command %d, want a poll", h.Code)
			return
		}
		if err := req.Decode(body); err != nil {
			t.Error(err)
			return
		}
		if !req.Partition.Set || req.Partition.ID != p || h.Request != id {
			t.Errorf("poll of partition %+v with request %d, want partition %d with request %d", req.Partition, h.Request, p, id)
		}
	}
}

func assignment(gen uint64, parts ...uint32) []byte {
	return wire.Assignment{Generation: gen, Partitions: parts}.AppendTo(nil)
}

// clock is a settable clock for the assignment cache.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestGroupPollTranscript replays the official SDK's group-poll transcript
// (Sync: not a member, Join, Sync, Poll of the first assigned partition),
// then checks the round robin over the cached assignment and its expiry.
func TestGroupPollTranscript(t *testing.T) {
	v := loadVector(t, "poll_messages__consumer_group_no_partition")
	s := newFakeServer(t, transcriptSteps(t, v)...)
	clk := &clock{t: time.Unix(1_767_225_600, 0)}
	opts := testOptions(s.addr())
	opts.now = clk.now
	c := dialTest(t, opts)
	bindVectorSession(c)
	ctx := testContext(t)
	res, err := c.PollMessages(ctx, groupPoll)
	if err != nil {
		t.Fatal(err)
	}
	if res.PartitionID != 0 || len(res.Messages) != 0 {
		t.Errorf("result %+v", res)
	}
	// Within 5 s the next polls take the next assigned partitions (2, 0).
	s.add(step{check: pollOn(2, 6), body: wire.AppendPollPrefix(nil, 2, 0, 0)},
		step{check: pollOn(0, 6), body: wire.AppendPollPrefix(nil, 0, 0, 0)})
	for _, want := range []uint32{2, 0} {
		clk.t = clk.t.Add(2 * time.Second)
		res, err := c.PollMessages(ctx, groupPoll)
		if err != nil {
			t.Fatal(err)
		}
		if res.PartitionID != want {
			t.Errorf("polled partition %d, want %d", res.PartitionID, want)
		}
	}
	// 5 s after the sync: sync again; the same generation keeps the
	// cursor (next: 2).
	clk.t = clk.t.Add(2 * time.Second)
	s.add(step{check: isCode(wire.CmdSyncConsumerGroup), body: assignment(1, 0, 2)},
		step{check: pollOn(2, 6), body: wire.AppendPollPrefix(nil, 2, 0, 0)})
	if _, err := c.PollMessages(ctx, groupPoll); err != nil {
		t.Fatal(err)
	}
	// A new generation starts the cursor over.
	clk.t = clk.t.Add(6 * time.Second)
	s.add(step{check: isCode(wire.CmdSyncConsumerGroup), body: assignment(2, 1, 2)},
		step{check: pollOn(1, 6), body: wire.AppendPollPrefix(nil, 1, 0, 0)})
	if _, err := c.PollMessages(ctx, groupPoll); err != nil {
		t.Fatal(err)
	}
}

func TestGroupPollResync(t *testing.T) {
	resync := unhex(t, loadReply(t, "poll_messages__resync_sentinel").ReplyBodyHex)
	t.Run("sentinel then success", func(t *testing.T) {
		s := newFakeServer(t,
			step{check: isCode(wire.CmdSyncConsumerGroup), body: assignment(1, 0, 1)},
			step{check: pollOn(0, vecWatermark), body: resync},
			step{check: isCode(wire.CmdSyncConsumerGroup), body: assignment(2, 1)},
			step{check: pollOn(1, vecWatermark), body: wire.AppendPollPrefix(nil, 1, 7, 0)})
		c := dialTest(t, testOptions(s.addr()))
		bindVectorSession(c)
		res, err := c.PollMessages(testContext(t), groupPoll)
		if err != nil {
			t.Fatal(err)
		}
		if res.PartitionID != 1 || res.CurrentOffset != 7 {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("two attempts then no assignment", func(t *testing.T) {
		s := newFakeServer(t,
			step{check: isCode(wire.CmdSyncConsumerGroup), body: assignment(1, 0)},
			step{check: pollOn(0, vecWatermark), body: resync},
			step{check: isCode(wire.CmdSyncConsumerGroup), body: assignment(1, 0)},
			step{check: pollOn(0, vecWatermark), status: wire.CodeConsumerGroupPartitionNotOwned})
		c := dialTest(t, testOptions(s.addr()))
		bindVectorSession(c)
		res, err := c.PollMessages(testContext(t), groupPoll)
		if err != nil {
			t.Fatal(err)
		}
		if res.PartitionID != PollNoAssignmentPartition || len(res.Messages) != 0 {
			t.Errorf("result %+v, want the no-assignment sentinel", res)
		}
	})
	t.Run("empty assignment", func(t *testing.T) {
		r := loadReply(t, "sync_consumer_group__member_without_partitions")
		s := newFakeServer(t, step{check: isCode(wire.CmdSyncConsumerGroup), body: unhex(t, r.ReplyBodyHex)})
		c := dialTest(t, testOptions(s.addr()))
		bindVectorSession(c)
		res, err := c.PollMessages(testContext(t), groupPoll)
		if err != nil {
			t.Fatal(err)
		}
		if res.PartitionID != PollNoAssignmentPartition {
			t.Errorf("result %+v, want the no-assignment sentinel", res)
		}
	})
	t.Run("other errors are returned", func(t *testing.T) {
		s := newFakeServer(t,
			step{check: isCode(wire.CmdSyncConsumerGroup), body: assignment(1, 0)},
			step{check: pollOn(0, vecWatermark), status: wire.CodeUnauthorized})
		c := dialTest(t, testOptions(s.addr()))
		bindVectorSession(c)
		if _, err := c.PollMessages(testContext(t), groupPoll); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("poll: %v, want unauthorized", err)
		}
	})
}

func TestGroupPollAfterLeaveDoesNotJoin(t *testing.T) {
	s := newFakeServer(t,
		step{check: isCode(wire.CmdLeaveConsumerGroup), body: ok4},
		step{check: isCode(wire.CmdSyncConsumerGroup)}, // not a member
		// An explicit join lifts it.
		step{check: isCode(wire.CmdJoinConsumerGroup), body: ok4},
		step{check: isCode(wire.CmdSyncConsumerGroup), body: assignment(1, 0)},
		step{check: pollOn(0, vecWatermark+2), body: wire.AppendPollPrefix(nil, 0, 0, 0)})
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	ctx := testContext(t)
	if err := c.LeaveConsumerGroup(ctx, stream1, topic2, group3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PollMessages(ctx, groupPoll); !errors.Is(err, ErrConsumerGroupMemberNotFound) {
		t.Fatalf("poll after leave: %v, want member not found", err)
	}
	if err := c.JoinConsumerGroup(ctx, stream1, topic2, group3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PollMessages(ctx, groupPoll); err != nil {
		t.Fatal(err)
	}
}

func TestGroupAssignmentIsForgottenWithTheSession(t *testing.T) {
	s := newFakeServer(t,
		step{check: isCode(wire.CmdSyncConsumerGroup), body: assignment(1, 3)},
		step{check: pollOn(3, vecWatermark), body: wire.AppendPollPrefix(nil, 3, 0, 0)},
		step{check: isCode(wire.CmdLogoutUser)},
	)
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	ctx := testContext(t)
	if _, err := c.PollMessages(ctx, groupPoll); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	c.sem <- struct{}{}
	n := len(c.groups.assignments)
	<-c.sem
	if n != 0 {
		t.Errorf("%d assignments cached after logout", n)
	}
}

func TestNotFoundReplies(t *testing.T) {
	s := newFakeServer(t)
	c := dialTest(t, testOptions(s.addr()))
	bindVectorSession(c)
	ctx := testContext(t)
	for _, tc := range []struct {
		name  string
		reply string // the SDK's reply vector, if there is one
		call  func() error
		want  error
	}{
		{"get stream", "get_stream__not_found", func() error { _, err := c.GetStream(ctx, stream1); return err }, ErrStreamNotFound},
		{"get topic", "get_topic__not_found", func() error { _, err := c.GetTopic(ctx, stream1, topic2); return err }, ErrTopicNotFound},
		{"get user", "", func() error { _, err := c.GetUser(ctx, user5); return err }, ErrResourceNotFound},
		{"get group", "get_consumer_group__not_found", func() error { _, err := c.GetConsumerGroup(ctx, stream1, topic2, group3); return err }, ErrConsumerGroupNotFound},
		{"sync group", "sync_consumer_group__not_a_member", func() error { _, err := c.SyncConsumerGroup(ctx, stream1, topic2, group3); return err }, ErrConsumerGroupMemberNotFound},
		{"get client", "", func() error { _, err := c.GetClient(ctx, 9); return err }, ErrClientNotFound},
	} {
		st := step{} // status 0, empty body
		if tc.reply != "" {
			r := loadReply(t, tc.reply)
			if r.ReplyBodyHex != "" {
				t.Fatalf("%s: reply body %s, want none", tc.reply, r.ReplyBodyHex)
			}
			if r.ReplyFrameHex != "" {
				st.reply = unhex(t, r.ReplyFrameHex)
			}
		}
		s.add(st)
		if err := tc.call(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	s.add(step{})
	off, err := c.GetConsumerOffset(ctx, DefaultConsumer(), stream1, topic2, InPartition(0))
	if off != nil || err != nil {
		t.Errorf("get consumer offset with nothing stored: %+v, %v; want nil, nil", off, err)
	}
}
