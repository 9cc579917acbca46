package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/wire"
)

// consumerFlags name the consumer of an offset command.
type consumerFlags struct {
	consumer  string
	group     string
	partition uint32
}

func (f *consumerFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.consumer, "consumer", "", "the single consumer (`ID` or name; default 0)")
	fl.StringVarP(&f.group, "group", "g", "", "the consumer `GROUP` (id or name) instead")
	fl.Uint32VarP(&f.partition, "partition", "p", 0, "the partition")
}

// resolve returns the consumer and fills sub.
func (f *consumerFlags) resolve(cmd *cobra.Command, sub *subject) (client.Consumer, error) {
	if cmd.Flags().Changed("consumer") && f.group != "" {
		return client.Consumer{}, errors.New("give --consumer or --group, not both")
	}
	sub.partition = u32(f.partition)
	if f.group != "" {
		g, err := parseID(f.group)
		if err != nil {
			return client.Consumer{}, err
		}
		sub.group = f.group
		sub.consumer = "consumer group " + quoted(f.group)
		return client.GroupConsumer(g), nil
	}
	name := f.consumer
	if name == "" {
		name = "0"
	}
	id, err := parseID(name)
	if err != nil {
		return client.Consumer{}, err
	}
	sub.consumer = "consumer " + quoted(name)
	return client.SingleConsumer(id), nil
}

type offsetView struct {
	Stream        string `json:"stream"`
	Topic         string `json:"topic"`
	Partition     uint32 `json:"partition"`
	Consumer      string `json:"consumer,omitempty"`
	Group         string `json:"group,omitempty"`
	StoredOffset  uint64 `json:"stored_offset"`
	CurrentOffset uint64 `json:"current_offset"`
}

func (c *cli) newConsumerOffsetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "consumer-offset",
		Aliases: []string{"offset"},
		Short:   "Show, store and delete the offsets of consumers and consumer groups",
		Long: `A consumer offset is the last offset a single consumer (--consumer, default 0)
or a consumer group (--group) processed on a partition (--partition, default
0). 'message poll --next' goes on after it.`,
		Example: `  shoal consumer-offset get orders events --consumer audit
  shoal consumer-offset set orders events 41 --group billing --partition 2
  shoal consumer-offset delete orders events --group billing --partition 2`,
	}

	var gf consumerFlags
	get := &cobra.Command{
		Use:     "get STREAM TOPIC",
		Aliases: []string{"show"},
		Short:   "Show a consumer's stored offset and the partition's current offset",
		Example: `  shoal consumer-offset get orders events --consumer audit --partition 1`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], probe: true}
			consumer, err := gf.resolve(s.cmd, &sub)
			if err != nil {
				return err
			}
			info, err := s.GetConsumerOffset(ctx, consumer, id[0], id[1], client.InPartition(gf.partition))
			if err != nil {
				return s.explain(ctx, err, sub)
			}
			if info == nil {
				// The server answers "nothing stored" for unknown streams,
				// topics and groups too: say which.
				if m := s.locate(ctx, sub); m != "" {
					return reason(client.ErrResourceNotFound, "%s", m)
				}
				return s.explain(ctx, client.ErrConsumerOffsetNotFound, sub)
			}
			v := offsetView{Stream: args[0], Topic: args[1], Partition: info.PartitionID, Consumer: gf.consumerName(), Group: gf.group,
				StoredOffset: info.StoredOffset, CurrentOffset: info.CurrentOffset}
			return c.emit(v, func(w io.Writer) {
				fields(w, "Consumer", strings.TrimPrefix(sub.consumer, "consumer "), "Partition", sub.partitionText(),
					"Stored offset", u64(v.StoredOffset), "Current offset", u64(v.CurrentOffset),
					"Lag", u64(v.CurrentOffset-min(v.StoredOffset, v.CurrentOffset)))
			})
		}),
	}
	gf.add(get)

	var sf consumerFlags
	set := &cobra.Command{
		Use:     "set STREAM TOPIC OFFSET",
		Aliases: []string{"store"},
		Short:   "Store a consumer's offset on a partition",
		Example: `  shoal consumer-offset set orders events 41 --group billing --partition 2`,
		Args:    cobra.ExactArgs(3),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args[:2]...)
			if err != nil {
				return err
			}
			off, err := parseUint64("offset", args[2])
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], probe: true}
			consumer, err := sf.resolve(s.cmd, &sub)
			if err != nil {
				return err
			}
			if err := joinFor(ctx, s, consumer, id[0], id[1], sub); err != nil {
				return err
			}
			if err := s.StoreConsumerOffset(ctx, consumer, id[0], id[1], client.InPartition(sf.partition), off, client.AckQuorum); err != nil {
				return s.explain(ctx, err, sub)
			}
			return c.done(fmt.Sprintf("Stored offset %d for %s on %s", off, sub.consumer, sub.partitionText()),
				map[string]any{"stream": args[0], "topic": args[1], "partition": sf.partition, "offset": off})
		}),
	}
	sf.add(set)

	var df consumerFlags
	del := &cobra.Command{
		Use:     "delete STREAM TOPIC",
		Aliases: []string{"rm"},
		Short:   "Delete a consumer's stored offset on a partition",
		Example: `  shoal consumer-offset delete orders events --consumer audit`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], probe: true}
			consumer, err := df.resolve(s.cmd, &sub)
			if err != nil {
				return err
			}
			if err := joinFor(ctx, s, consumer, id[0], id[1], sub); err != nil {
				return err
			}
			if err := s.DeleteConsumerOffset(ctx, consumer, id[0], id[1], client.InPartition(df.partition), client.AckQuorum); err != nil {
				return s.explain(ctx, err, sub)
			}
			return c.done(fmt.Sprintf("Deleted the offset of %s on %s", sub.consumer, sub.partitionText()),
				map[string]any{"stream": args[0], "topic": args[1], "partition": df.partition})
		}),
	}
	df.add(del)
	cmd.AddCommand(get, set, del)
	return cmd
}

// joinFor makes this connection a member of consumer's group, if it is
// one: a group's offsets are written by the member that owns the
// partition.
func joinFor(ctx context.Context, s *session, consumer client.Consumer, stream, topic client.Identifier, sub subject) error {
	if consumer.Kind != wire.ConsumerGroup {
		return nil
	}
	if err := s.JoinConsumerGroup(ctx, stream, topic, consumer.ID); err != nil {
		return s.explain(ctx, err, sub)
	}
	return nil
}

func (f *consumerFlags) consumerName() string {
	if f.group != "" {
		return ""
	}
	if f.consumer == "" {
		return "0"
	}
	return f.consumer
}

func parseUint64(what, s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number from 0 to %d", what, s, uint64(math.MaxUint64))
	}
	return n, nil
}

// groupView is a consumer group.
type groupView struct {
	ID              uint32       `json:"id"`
	Name            string       `json:"name"`
	PartitionsCount uint32       `json:"partitions_count"`
	MembersCount    uint32       `json:"members_count"`
	Members         []memberView `json:"members,omitempty"`
}

type memberView struct {
	ID         uint32   `json:"id"`
	Partitions []uint32 `json:"partitions"`
}

func newGroupDetailsView(d *client.ConsumerGroupDetails) groupView {
	v := groupView{ID: d.ID, Name: d.Name, PartitionsCount: d.PartitionsCount, MembersCount: uint32(len(d.Members)), Members: []memberView{}}
	for _, m := range d.Members {
		ps := m.Partitions
		if ps == nil {
			ps = []uint32{}
		}
		v.Members = append(v.Members, memberView{ID: m.ID, Partitions: ps})
	}
	sort.Slice(v.Members, func(i, j int) bool { return v.Members[i].ID < v.Members[j].ID })
	return v
}

func (v groupView) table(w io.Writer) {
	fields(w, "Group ID", u32(v.ID), "Name", v.Name, "Partitions", u32(v.PartitionsCount), "Members", u32(v.MembersCount))
	if len(v.Members) > 0 {
		fmt.Fprintln(w)
		t := newTable(w, "MEMBER", "PARTITIONS")
		for _, m := range v.Members {
			t.row(u32(m.ID), joinU32(m.Partitions))
		}
		t.flush()
	}
}

func joinU32(ps []uint32) string {
	if len(ps) == 0 {
		return "-"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = u32(p)
	}
	return strings.Join(s, ",")
}

func (c *cli) newConsumerGroupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "consumer-group",
		Aliases: []string{"group"},
		Short:   "Create, list, inspect, join and delete consumer groups",
		Long: `A consumer group shares the partitions of a topic among its members; each
member polls its own partitions. Membership belongs to a connection: 'message
poll --group' joins for as long as it runs, and 'consumer-group join --hold'
holds a membership until interrupted.`,
		Example: `  shoal consumer-group create orders events billing
  shoal consumer-group list orders events
  shoal consumer-group get orders events billing
  shoal consumer-group join orders events billing --hold
  shoal consumer-group delete orders events billing`,
	}
	create := &cobra.Command{
		Use:     "create STREAM TOPIC NAME",
		Short:   "Create a consumer group on a topic",
		Example: `  shoal consumer-group create orders events billing`,
		Args:    cobra.ExactArgs(3),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args[:2]...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], name: args[2]}
			d, err := s.CreateConsumerGroup(ctx, id[0], id[1], args[2])
			if err != nil {
				return s.explain(ctx, err, sub)
			}
			if c.jsonOut() {
				return writeJSON(c.env.stdout, newGroupDetailsView(d))
			}
			fmt.Fprintf(c.env.stdout, "Created consumer group '%s' (id %d) on %s\n", d.Name, d.ID, sub.topicText())
			return nil
		}),
	}
	get := &cobra.Command{
		Use:     "get STREAM TOPIC GROUP",
		Aliases: []string{"show"},
		Short:   "Show a consumer group and its members' partitions",
		Example: `  shoal consumer-group get orders events billing`,
		Args:    cobra.ExactArgs(3),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			d, err := s.GetConsumerGroup(ctx, id[0], id[1], id[2])
			if err != nil {
				return s.explain(ctx, err, subject{stream: args[0], topic: args[1], group: args[2]})
			}
			v := newGroupDetailsView(d)
			return c.emit(v, v.table)
		}),
	}
	list := &cobra.Command{
		Use:     "list STREAM TOPIC",
		Aliases: []string{"ls"},
		Short:   "List the consumer groups of a topic",
		Example: `  shoal consumer-group list orders events`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			gs, err := s.GetConsumerGroups(ctx, id[0], id[1])
			if err != nil {
				return s.explain(ctx, err, subject{stream: args[0], topic: args[1]})
			}
			views := []groupView{}
			for _, g := range gs {
				views = append(views, groupView{ID: g.ID, Name: g.Name, PartitionsCount: g.PartitionsCount, MembersCount: g.MembersCount})
			}
			sort.Slice(views, func(i, j int) bool { return views[i].ID < views[j].ID })
			return c.emit(views, func(w io.Writer) {
				t := newTable(w, "ID", "NAME", "PARTITIONS", "MEMBERS")
				for _, v := range views {
					t.row(u32(v.ID), v.Name, u32(v.PartitionsCount), u32(v.MembersCount))
				}
				t.flush()
			})
		}),
	}
	del := &cobra.Command{
		Use:     "delete STREAM TOPIC GROUP",
		Aliases: []string{"rm"},
		Short:   "Delete a consumer group and its offsets",
		Example: `  shoal consumer-group delete orders events billing`,
		Args:    cobra.ExactArgs(3),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], group: args[2]}
			if err := s.DeleteConsumerGroup(ctx, id[0], id[1], id[2]); err != nil {
				return s.explain(ctx, err, sub)
			}
			return c.done("Deleted "+sub.groupText(), map[string]any{"stream": args[0], "topic": args[1], "group": args[2]})
		}),
	}
	cmd.AddCommand(create, get, list, del, c.newGroupJoinCommand())
	return cmd
}

type assignmentView struct {
	Group      string   `json:"group"`
	Generation uint64   `json:"generation"`
	Partitions []uint32 `json:"partitions"`
	Left       bool     `json:"left,omitempty"`
}

func (c *cli) newGroupJoinCommand() *cobra.Command {
	var hold bool
	cmd := &cobra.Command{
		Use:   "join STREAM TOPIC GROUP",
		Short: "Join a consumer group and show the partitions this member gets",
		Long: `Join a consumer group and show the partitions assigned to this member.
The membership belongs to this command's connection: it ends when the command
does. With --hold the command stays a member until interrupted, then leaves
the group, which hands its partitions back to the other members.`,
		Example: `  shoal consumer-group join orders events billing
  shoal consumer-group join orders events billing --hold`,
		Args: cobra.ExactArgs(3),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], group: args[2]}
			if err := s.JoinConsumerGroup(ctx, id[0], id[1], id[2]); err != nil {
				return s.explain(ctx, err, sub)
			}
			a, err := s.SyncConsumerGroup(ctx, id[0], id[1], id[2])
			if err != nil {
				return s.explain(ctx, err, sub)
			}
			v := assignmentView{Group: args[2], Generation: a.Generation, Partitions: a.Partitions}
			if v.Partitions == nil {
				v.Partitions = []uint32{}
			}
			if !hold {
				return c.emit(v, func(w io.Writer) {
					fmt.Fprintf(w, "Joined %s: partitions %s (generation %d)\n", sub.groupText(), joinU32(v.Partitions), v.Generation)
				})
			}
			if !c.jsonOut() {
				fmt.Fprintf(c.env.stdout, "Joined %s: partitions %s (generation %d); holding until interrupted\n", sub.groupText(), joinU32(v.Partitions), v.Generation)
			}
			sig, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-sig.Done()
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.LeaveConsumerGroup(ctx, id[0], id[1], id[2]); err != nil {
				return s.explain(ctx, err, sub)
			}
			v.Left = true
			return c.emit(v, func(w io.Writer) { fmt.Fprintf(w, "Left %s\n", sub.groupText()) })
		}),
	}
	cmd.Flags().BoolVar(&hold, "hold", false, "stay a member until interrupted, then leave")
	return cmd
}
