package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoalstream/shoal/client"
)

// streamView is a stream in list and get output.
type streamView struct {
	ID            uint32         `json:"id"`
	Name          string         `json:"name"`
	CreatedAt     string         `json:"created_at"`
	TopicsCount   uint32         `json:"topics_count"`
	SizeBytes     uint64         `json:"size_bytes"`
	MessagesCount uint64         `json:"messages_count"`
	Options       map[string]any `json:"options,omitempty"`

	createdAt uint64
}

type streamDetailsView struct {
	streamView
	Topics []topicView `json:"topics"`
}

func newStreamView(s client.Stream) streamView {
	return streamView{ID: s.ID, Name: s.Name, CreatedAt: timeJSON(s.CreatedAt), TopicsCount: s.TopicsCount,
		SizeBytes: s.SizeBytes, MessagesCount: s.MessagesCount, Options: optionsJSON(s.Options), createdAt: s.CreatedAt}
}

func newStreamDetailsView(d *client.StreamDetails) streamDetailsView {
	v := streamDetailsView{streamView: newStreamView(d.Stream), Topics: []topicView{}}
	v.TopicsCount = uint32(len(d.Topics))
	for _, t := range d.Topics {
		v.Topics = append(v.Topics, newTopicView(t))
	}
	return v
}

func (v streamDetailsView) table(w io.Writer) {
	fields(w, "Stream ID", u32(v.ID), "Name", v.Name, "Created", timeText(v.createdAt),
		"Topics", u32(v.TopicsCount), "Messages", u64(v.MessagesCount), "Size", sizeText(v.SizeBytes))
	if len(v.Topics) > 0 {
		fmt.Fprintln(w)
		topicsTable(w, v.Topics)
	}
}

// topicView is a topic in list and get output. A null message expiry
// never expires; a null max size is unlimited.
type topicView struct {
	ID                uint32         `json:"id"`
	Name              string         `json:"name"`
	CreatedAt         string         `json:"created_at"`
	PartitionsCount   uint32         `json:"partitions_count"`
	MessageExpiryUs   *uint64        `json:"message_expiry_us"`
	Compression       string         `json:"compression"`
	MaxTopicSizeBytes *uint64        `json:"max_topic_size_bytes"`
	SizeBytes         uint64         `json:"size_bytes"`
	MessagesCount     uint64         `json:"messages_count"`
	Options           map[string]any `json:"options"`
	DerivedOptions    map[string]any `json:"derived_options"`

	h client.TopicHeader
}

type topicDetailsView struct {
	topicView
	Partitions []partitionView `json:"partitions"`
}

type partitionView struct {
	ID            uint32 `json:"id"`
	CreatedAt     string `json:"created_at"`
	SegmentsCount uint32 `json:"segments_count"`
	CurrentOffset uint64 `json:"current_offset"`
	SizeBytes     uint64 `json:"size_bytes"`
	MessagesCount uint64 `json:"messages_count"`

	createdAt uint64
}

func newTopicView(t client.TopicHeader) topicView {
	return topicView{ID: t.ID, Name: t.Name, CreatedAt: timeJSON(t.CreatedAt), PartitionsCount: t.PartitionsCount,
		MessageExpiryUs: optionalU64(t.MessageExpiry, client.ExpiryNever), Compression: compressionText(t.Compression),
		MaxTopicSizeBytes: optionalU64(t.MaxTopicSize, client.MaxTopicSizeUnlimited), SizeBytes: t.SizeBytes,
		MessagesCount: t.MessagesCount, Options: optionsJSON(t.Options), DerivedOptions: optionsJSON(t.DerivedOptions), h: t}
}

func newTopicDetailsView(d *client.TopicDetails) topicDetailsView {
	v := topicDetailsView{topicView: newTopicView(d.TopicHeader), Partitions: []partitionView{}}
	for _, p := range d.Partitions {
		v.Partitions = append(v.Partitions, newPartitionView(p))
	}
	return v
}

func newPartitionView(p client.Partition) partitionView {
	return partitionView{ID: p.ID, CreatedAt: timeJSON(p.CreatedAt), SegmentsCount: p.SegmentsCount,
		CurrentOffset: p.CurrentOffset, SizeBytes: p.SizeBytes, MessagesCount: p.MessagesCount, createdAt: p.CreatedAt}
}

func topicsTable(w io.Writer, ts []topicView) {
	t := newTable(w, "ID", "NAME", "PARTITIONS", "MESSAGES", "SIZE", "EXPIRY", "MAX SIZE", "COMPRESSION", "CREATED")
	for _, v := range ts {
		t.row(u32(v.ID), v.Name, u32(v.PartitionsCount), u64(v.MessagesCount), sizeText(v.SizeBytes),
			expiryText(v.h.MessageExpiry), maxSizeText(v.h.MaxTopicSize), v.Compression, timeText(v.h.CreatedAt))
	}
	t.flush()
}

func partitionsTable(w io.Writer, ps []partitionView) {
	t := newTable(w, "PARTITION", "MESSAGES", "CURRENT OFFSET", "SEGMENTS", "SIZE", "CREATED")
	for _, p := range ps {
		t.row(u32(p.ID), u64(p.MessagesCount), u64(p.CurrentOffset), u32(p.SegmentsCount), sizeText(p.SizeBytes), timeText(p.createdAt))
	}
	t.flush()
}

func (v topicDetailsView) table(w io.Writer) {
	fields(w, "Topic ID", u32(v.ID), "Name", v.Name, "Created", timeText(v.h.CreatedAt),
		"Partitions", u32(v.PartitionsCount), "Messages", u64(v.MessagesCount), "Size", sizeText(v.SizeBytes),
		"Message expiry", expiryText(v.h.MessageExpiry), "Max size", maxSizeText(v.h.MaxTopicSize),
		"Compression", v.Compression)
	if len(v.h.Options)+len(v.h.DerivedOptions) > 0 {
		fmt.Fprintln(w)
		t := newTable(w, "OPTION", "VALUE", "SET")
		for _, kv := range v.h.Options {
			t.row(string(kv.Key), topicOptionText(kv), "explicitly")
		}
		for _, kv := range v.h.DerivedOptions {
			t.row(string(kv.Key), topicOptionText(kv), "default")
		}
		t.flush()
	}
	if len(v.Partitions) > 0 {
		fmt.Fprintln(w)
		partitionsTable(w, v.Partitions)
	}
}

func (c *cli) newStreamCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "Create, list, inspect, rename, purge and delete streams",
		Long: `Streams hold topics. A stream is named by its name or its numeric id
(an argument made of digits is an id).`,
		Example: `  shoal stream create orders
  shoal stream list
  shoal stream get orders
  shoal stream update orders sales
  shoal stream purge sales
  shoal stream delete sales`,
	}
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a stream",
		Example: `  shoal stream create orders`,
		Args:    cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			d, err := s.CreateStream(ctx, args[0])
			if err != nil {
				return s.explain(ctx, err, subject{name: args[0]})
			}
			v := newStreamDetailsView(d)
			if c.jsonOut() {
				return writeJSON(c.env.stdout, v)
			}
			fmt.Fprintf(c.env.stdout, "Created stream '%s' (id %d)\n", d.Name, d.ID)
			return nil
		}),
	}
	get := &cobra.Command{
		Use:     "get STREAM",
		Aliases: []string{"show"},
		Short:   "Show a stream and its topics",
		Example: `  shoal stream get orders
  shoal stream get 0 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			stream, err := parseID(args[0])
			if err != nil {
				return err
			}
			d, err := s.GetStream(ctx, stream)
			if err != nil {
				return s.explain(ctx, err, subject{stream: args[0]})
			}
			v := newStreamDetailsView(d)
			return c.emit(v, v.table)
		}),
	}
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the streams",
		Example: `  shoal stream list
  shoal stream list -o json | jq -r '.[].name'`,
		Args: cobra.NoArgs,
		RunE: c.withSession(func(ctx context.Context, s *session, _ []string) error {
			ss, err := s.GetStreams(ctx)
			if err != nil {
				return s.explain(ctx, err, subject{})
			}
			views := make([]streamView, 0, len(ss))
			for _, st := range ss {
				views = append(views, newStreamView(st))
			}
			sort.Slice(views, func(i, j int) bool { return views[i].ID < views[j].ID })
			return c.emit(views, func(w io.Writer) {
				t := newTable(w, "ID", "NAME", "TOPICS", "MESSAGES", "SIZE", "CREATED")
				for _, v := range views {
					t.row(u32(v.ID), v.Name, u32(v.TopicsCount), u64(v.MessagesCount), sizeText(v.SizeBytes), timeText(v.createdAt))
				}
				t.flush()
			})
		}),
	}
	update := &cobra.Command{
		Use:     "update STREAM NEW_NAME",
		Aliases: []string{"rename"},
		Short:   "Rename a stream",
		Example: `  shoal stream update orders sales`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			stream, err := parseID(args[0])
			if err != nil {
				return err
			}
			if err := s.UpdateStream(ctx, stream, args[1]); err != nil {
				return s.explain(ctx, err, subject{stream: args[0], name: args[1]})
			}
			return c.done(fmt.Sprintf("Renamed stream %s to '%s'", quoted(args[0]), args[1]), map[string]any{"stream": args[0], "name": args[1]})
		}),
	}
	purge := &cobra.Command{
		Use:     "purge STREAM",
		Short:   "Delete every message of a stream, keeping its topics and partitions",
		Example: `  shoal stream purge orders`,
		Args:    cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			stream, err := parseID(args[0])
			if err != nil {
				return err
			}
			if err := s.PurgeStream(ctx, stream); err != nil {
				return s.explain(ctx, err, subject{stream: args[0]})
			}
			return c.done(fmt.Sprintf("Purged stream %s", quoted(args[0])), map[string]any{"stream": args[0]})
		}),
	}
	del := &cobra.Command{
		Use:     "delete STREAM",
		Aliases: []string{"rm"},
		Short:   "Delete a stream with its topics, messages, consumer groups and offsets",
		Example: `  shoal stream delete orders`,
		Args:    cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			stream, err := parseID(args[0])
			if err != nil {
				return err
			}
			if err := s.DeleteStream(ctx, stream); err != nil {
				return s.explain(ctx, err, subject{stream: args[0]})
			}
			return c.done(fmt.Sprintf("Deleted stream %s", quoted(args[0])), map[string]any{"stream": args[0]})
		}),
	}
	cmd.AddCommand(create, get, list, update, purge, del, c.newOptionsCommand("stream", client.ScopeStream))
	return cmd
}

// topicFlags are the settings of topic create and update.
type topicFlags struct {
	compression   string
	messageExpiry string
	maxSize       string
	options       []string
}

func (f *topicFlags) add(cmd *cobra.Command, create bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.compression, "compression", "", "compression algorithm: none or gzip")
	fl.StringVar(&f.messageExpiry, "message-expiry", "", "delete messages older than this `DURATION` (e.g. 90m, 7d, 1d12h) or 'never'")
	fl.StringVar(&f.maxSize, "max-size", "", "delete the oldest messages beyond this `SIZE` (e.g. 10GiB, 500MB) or 'unlimited'")
	if create {
		fl.StringArrayVar(&f.options, "option", nil, "set a topic option `KEY=VALUE` (repeatable; see 'shoal topic options')")
	}
}

// settings returns the topic settings the flags set.
func (f *topicFlags) settings() (client.TopicSettings, error) {
	var s client.TopicSettings
	switch f.compression {
	case "":
	case "gzip":
		s.Compression = client.CompressionGzip
	case "none":
		// The client never sends "none" as a typed setting (the
		// official SDK's rule), so it goes as a plain option.
		s.Extra = append(s.Extra, client.StringKV(client.OptCompressionAlgorithm, "none"))
	default:
		return s, fmt.Errorf("unknown compression %q: use none or gzip", f.compression)
	}
	if f.messageExpiry != "" {
		us, err := parseExpiry(f.messageExpiry)
		if err != nil {
			return s, fmt.Errorf("--message-expiry: %w", err)
		}
		s.MessageExpiry = us
	}
	if f.maxSize != "" {
		if f.maxSize == "unlimited" {
			s.MaxTopicSize = client.MaxTopicSizeUnlimited
		} else {
			n, err := parseSize(f.maxSize)
			if err != nil {
				return s, fmt.Errorf("--max-size: %w", err)
			}
			if n == 0 {
				return s, errors.New("--max-size: must be more than 0")
			}
			s.MaxTopicSize = n
		}
	}
	for _, o := range f.options {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" || v == "" {
			return s, fmt.Errorf("--option %q: want KEY=VALUE", o)
		}
		s.Extra = append(s.Extra, client.StringKV(k, v))
	}
	return s, nil
}

var daysPrefix = regexp.MustCompile(`^(\d+)d`)

// parseExpiry reads a duration ("90m", "7d", "1d12h") or "never" as µs.
func parseExpiry(s string) (uint64, error) {
	if s == "never" {
		return client.ExpiryNever, nil
	}
	var d time.Duration
	rest := s
	if m := daysPrefix.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseUint(m[1], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q: too many days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
		rest = s[len(m[0]):]
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like 90m, 7d or 1d12h, nor 'never'", s)
		}
		d += r
	}
	if d < time.Microsecond {
		return 0, fmt.Errorf("%q: must be at least 1µs", s)
	}
	return uint64(d.Microseconds()), nil
}

var sizePattern = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$`)

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "tib": 1 << 40,
}

// parseSize reads a byte size: 1024, 500MB, 1.5GiB.
func parseSize(s string) (uint64, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size like 1024, 500MB or 10GiB", s)
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (B, KB, KiB, MB, MiB, GB, GiB, TB, TiB)", s, m[2])
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil || f*unit >= math.MaxUint64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return uint64(f * unit), nil
}

func (c *cli) newTopicCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, inspect, update, purge and delete topics",
		Long: `Topics belong to a stream and hold partitions. Streams and topics are named
by name or numeric id (an argument made of digits is an id).`,
		Example: `  shoal topic create orders events --partitions 3 --message-expiry 7d
  shoal topic list orders
  shoal topic get orders events
  shoal topic update orders events --max-size 10GiB
  shoal topic delete orders events`,
	}
	var cf topicFlags
	var partitions uint32
	create := &cobra.Command{
		Use:   "create STREAM NAME",
		Short: "Create a topic",
		Example: `  shoal topic create orders events
  shoal topic create orders events --partitions 3 --compression gzip --message-expiry 7d --max-size 10GiB
  shoal topic create orders audit --option segment_size=256MiB --option enforce_fsync=true`,
		Args: cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			stream, err := parseID(args[0])
			if err != nil {
				return err
			}
			settings, err := cf.settings()
			if err != nil {
				return err
			}
			d, err := s.CreateTopic(ctx, stream, args[1], partitions, settings)
			if err != nil {
				return s.explain(ctx, err, subject{stream: args[0], name: args[1]})
			}
			if c.jsonOut() {
				return writeJSON(c.env.stdout, newTopicDetailsView(d))
			}
			fmt.Fprintf(c.env.stdout, "Created topic '%s' (id %d) in stream %s with %s\n", d.Name, d.ID, quoted(args[0]), plural(int(d.PartitionsCount), "partition"))
			return nil
		}),
	}
	cf.add(create, true)
	create.Flags().Uint32VarP(&partitions, "partitions", "p", 1, "number of partitions")

	get := &cobra.Command{
		Use:     "get STREAM TOPIC",
		Aliases: []string{"show"},
		Short:   "Show a topic, its options and its partitions",
		Example: `  shoal topic get orders events`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			d, err := s.GetTopic(ctx, id[0], id[1])
			if err != nil {
				return s.explain(ctx, err, subject{stream: args[0], topic: args[1]})
			}
			v := newTopicDetailsView(d)
			return c.emit(v, v.table)
		}),
	}
	list := &cobra.Command{
		Use:     "list STREAM",
		Aliases: []string{"ls"},
		Short:   "List the topics of a stream",
		Example: `  shoal topic list orders`,
		Args:    cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			stream, err := parseID(args[0])
			if err != nil {
				return err
			}
			ts, err := s.GetTopics(ctx, stream)
			if err != nil {
				return s.explain(ctx, err, subject{stream: args[0]})
			}
			if len(ts) == 0 {
				// An unknown stream has no topics either.
				if _, err := s.GetStream(ctx, stream); err != nil {
					return s.explain(ctx, err, subject{stream: args[0]})
				}
			}
			views := make([]topicView, 0, len(ts))
			for _, th := range ts {
				views = append(views, newTopicView(th))
			}
			sort.Slice(views, func(i, j int) bool { return views[i].ID < views[j].ID })
			return c.emit(views, func(w io.Writer) { topicsTable(w, views) })
		}),
	}
	var uf topicFlags
	update := &cobra.Command{
		Use:   "update STREAM TOPIC [NEW_NAME]",
		Short: "Rename a topic or change its compression, message expiry or max size",
		Example: `  shoal topic update orders events events-v2
  shoal topic update orders events --message-expiry never --max-size unlimited`,
		Args: cobra.RangeArgs(2, 3),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args[:2]...)
			if err != nil {
				return err
			}
			settings, err := uf.settings()
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1]}
			name := ""
			if len(args) == 3 {
				name, sub.name = args[2], args[2]
			} else {
				if settings.Compression == 0 && settings.MessageExpiry == 0 && settings.MaxTopicSize == 0 && len(settings.Extra) == 0 {
					return errors.New("nothing to change: give a new name or --compression, --message-expiry or --max-size")
				}
				// The protocol always renames: keep the current name.
				d, err := s.GetTopic(ctx, id[0], id[1])
				if err != nil {
					return s.explain(ctx, err, sub)
				}
				name = d.Name
			}
			if err := s.UpdateTopic(ctx, id[0], id[1], name, settings); err != nil {
				return s.explain(ctx, err, sub)
			}
			return c.done(fmt.Sprintf("Updated %s", sub.topicText()), map[string]any{"stream": args[0], "topic": args[1], "name": name})
		}),
	}
	uf.add(update, false)
	purge := &cobra.Command{
		Use:     "purge STREAM TOPIC",
		Short:   "Delete every message of a topic, keeping its partitions",
		Example: `  shoal topic purge orders events`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1]}
			if err := s.PurgeTopic(ctx, id[0], id[1]); err != nil {
				return s.explain(ctx, err, sub)
			}
			return c.done("Purged "+sub.topicText(), map[string]any{"stream": args[0], "topic": args[1]})
		}),
	}
	del := &cobra.Command{
		Use:     "delete STREAM TOPIC",
		Aliases: []string{"rm"},
		Short:   "Delete a topic with its messages, consumer groups and offsets",
		Example: `  shoal topic delete orders events`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1]}
			if err := s.DeleteTopic(ctx, id[0], id[1]); err != nil {
				return s.explain(ctx, err, sub)
			}
			return c.done("Deleted "+sub.topicText(), map[string]any{"stream": args[0], "topic": args[1]})
		}),
	}
	cmd.AddCommand(create, get, list, update, purge, del, c.newOptionsCommand("topic", client.ScopeTopic))
	return cmd
}

// optionView is one entry of the server's option catalog.
type optionView struct {
	Key         string `json:"key"`
	Kind        string `json:"kind"`
	Default     any    `json:"default"`
	Description string `json:"description"`
}

// newOptionsCommand lists the option keys the server knows for streams,
// topics or users.
func (c *cli) newOptionsCommand(entity string, scope client.OptionScope) *cobra.Command {
	return &cobra.Command{
		Use:     "options",
		Short:   fmt.Sprintf("List the %s options the server knows, with their defaults", entity),
		Example: fmt.Sprintf("  shoal %s options", entity),
		Args:    cobra.NoArgs,
		RunE: c.withSession(func(ctx context.Context, s *session, _ []string) error {
			ds, err := s.DescribeOptions(ctx, scope)
			if err != nil {
				return s.explain(ctx, err, subject{})
			}
			views := []optionView{}
			for _, d := range ds {
				var def any
				if len(d.Default) > 0 {
					def = kvValue(d.Kind, d.Default)
				}
				views = append(views, optionView{Key: d.Key, Kind: kindName(d.Kind), Default: def, Description: d.Description})
			}
			return c.emit(views, func(w io.Writer) {
				if len(views) == 0 {
					fmt.Fprintf(w, "The server knows no %s options.\n", entity)
					return
				}
				t := newTable(w, "KEY", "KIND", "DEFAULT", "DESCRIPTION")
				for i, v := range views {
					def := "-"
					if len(ds[i].Default) > 0 {
						def = kvText(ds[i].Kind, ds[i].Default)
					}
					t.row(v.Key, v.Kind, def, v.Description)
				}
				t.flush()
			})
		}),
	}
}

func (c *cli) newPartitionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "partition",
		Short: "Add, remove and list the partitions of a topic",
		Long: `Partitions have dense ids from 0. Adding gives the next ids; removing takes
the highest ones away, with their messages.`,
		Example: `  shoal partition create orders events --count 2
  shoal partition list orders events
  shoal partition delete orders events --count 1`,
	}
	var count uint32
	create := &cobra.Command{
		Use:     "create STREAM TOPIC",
		Aliases: []string{"add"},
		Short:   "Add partitions to a topic",
		Example: `  shoal partition create orders events --count 2`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1]}
			if err := s.CreatePartitions(ctx, id[0], id[1], count); err != nil {
				return s.explain(ctx, err, sub)
			}
			return c.done(fmt.Sprintf("Added %s to %s", plural(int(count), "partition"), sub.topicText()),
				map[string]any{"stream": args[0], "topic": args[1], "count": count})
		}),
	}
	create.Flags().Uint32VarP(&count, "count", "n", 1, "how many partitions to add")
	var delCount uint32
	del := &cobra.Command{
		Use:     "delete STREAM TOPIC",
		Aliases: []string{"rm"},
		Short:   "Remove the last partitions of a topic, with their messages",
		Example: `  shoal partition delete orders events --count 1`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1]}
			if err := s.DeletePartitions(ctx, id[0], id[1], delCount); err != nil {
				return s.explain(ctx, err, sub)
			}
			return c.done(fmt.Sprintf("Removed %s from %s", plural(int(delCount), "partition"), sub.topicText()),
				map[string]any{"stream": args[0], "topic": args[1], "count": delCount})
		}),
	}
	del.Flags().Uint32VarP(&delCount, "count", "n", 1, "how many partitions to remove")
	list := &cobra.Command{
		Use:     "list STREAM TOPIC",
		Aliases: []string{"ls"},
		Short:   "List the partitions of a topic",
		Example: `  shoal partition list orders events`,
		Args:    cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args...)
			if err != nil {
				return err
			}
			d, err := s.GetTopic(ctx, id[0], id[1])
			if err != nil {
				return s.explain(ctx, err, subject{stream: args[0], topic: args[1]})
			}
			views := newTopicDetailsView(d).Partitions
			return c.emit(views, func(w io.Writer) { partitionsTable(w, views) })
		}),
	}
	cmd.AddCommand(create, del, list)
	return cmd
}

func (c *cli) newSegmentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "segment",
		Short:   "Delete the oldest sealed segments of a partition",
		Example: `  shoal segment delete orders events 0 --count 2`,
	}
	var count uint32
	del := &cobra.Command{
		Use:     "delete STREAM TOPIC PARTITION",
		Aliases: []string{"rm"},
		Short:   "Delete up to --count of the oldest sealed segments of a partition",
		Long: `Delete up to --count of the oldest sealed segments of a partition, with their
messages. The segment being written is never deleted.`,
		Example: `  shoal segment delete orders events 0
  shoal segment delete orders events 0 --count 10`,
		Args: cobra.ExactArgs(3),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args[:2]...)
			if err != nil {
				return err
			}
			p, err := parseUint32("partition", args[2])
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], partition: args[2]}
			before := segmentsOf(ctx, s, id[0], id[1], p)
			if err := s.DeleteSegments(ctx, id[0], id[1], p, count); err != nil {
				return s.explain(ctx, err, sub)
			}
			after := segmentsOf(ctx, s, id[0], id[1], p)
			msg := fmt.Sprintf("Deleted up to %s of %s", plural(int(count), "segment"), sub.partitionText())
			out := map[string]any{"stream": args[0], "topic": args[1], "partition": p}
			if before >= 0 && after >= 0 {
				msg = fmt.Sprintf("Deleted %s of %s (%d left)", plural(before-after, "segment"), sub.partitionText(), after)
				out["deleted"], out["segments_left"] = before-after, after
			}
			return c.done(msg, out)
		}),
	}
	del.Flags().Uint32VarP(&count, "count", "n", 1, "how many segments to delete at most")
	cmd.AddCommand(del)
	return cmd
}

// segmentsOf returns a partition's segment count, or -1 if it cannot tell.
func segmentsOf(ctx context.Context, s *session, stream, topic client.Identifier, partition uint32) int {
	d, err := s.GetTopic(ctx, stream, topic)
	if err != nil {
		return -1
	}
	for _, p := range d.Partitions {
		if p.ID == partition {
			return int(p.SegmentsCount)
		}
	}
	return -1
}
