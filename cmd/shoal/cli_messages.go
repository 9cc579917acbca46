package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/wire"
)

// Payload encodings of message send (input) and poll (output).
const (
	formatText   = "text"
	formatHex    = "hex"
	formatBase64 = "base64"
)

func checkFormat(f string) error {
	switch f {
	case formatText, formatHex, formatBase64:
		return nil
	}
	return fmt.Errorf("unknown payload format %q: use text, hex or base64", f)
}

func decodePayload(format string, b []byte) ([]byte, error) {
	switch format {
	case formatHex:
		out := make([]byte, hex.DecodedLen(len(b)))
		n, err := hex.Decode(out, bytes.TrimSpace(b))
		if err != nil {
			return nil, fmt.Errorf("not hex: %w", err)
		}
		return out[:n], nil
	case formatBase64:
		out, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
		if err != nil {
			return nil, fmt.Errorf("not base64: %w", err)
		}
		return out, nil
	}
	return b, nil
}

func encodePayload(format string, b []byte) string {
	switch format {
	case formatHex:
		return hex.EncodeToString(b)
	case formatBase64:
		return base64.StdEncoding.EncodeToString(b)
	}
	return escapeText(b)
}

func (c *cli) newMessageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "message",
		Short: "Send and poll messages",
		Example: `  shoal message send orders events 'hello' 'world'
  tail -f app.log | shoal message send orders events --key host-1
  shoal message poll orders events --partition 0 --offset 0 --count 10
  shoal message poll orders events --group billing --follow --auto-commit`,
	}
	cmd.AddCommand(c.newMessageSendCommand(), c.newMessagePollCommand(), c.newMessageFlushCommand())
	return cmd
}

// headerKinds maps the kind names --header takes to the protocol's kinds.
var headerKinds = func() map[string]uint8 {
	m := make(map[string]uint8, len(kindNames))
	for k, n := range kindNames {
		m[n] = k
	}
	return m
}()

// parseHeader reads --header KEY:TYPE:VALUE.
func parseHeader(s string) (client.Header, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] == "" {
		return client.Header{}, fmt.Errorf("header %q: want KEY:TYPE:VALUE (types: string, bool, int8…int128, uint8…uint128, float32, float64, raw as hex)", s)
	}
	key, kindName, text := parts[0], parts[1], parts[2]
	kind, ok := headerKinds[kindName]
	if !ok {
		return client.Header{}, fmt.Errorf("header %q: unknown type %q", s, kindName)
	}
	v, err := headerValue(kind, text)
	if err != nil {
		return client.Header{}, fmt.Errorf("header %q: %w", s, err)
	}
	return client.NewHeader(key, v), nil
}

func headerValue(kind uint8, s string) (client.HeaderValue, error) {
	bad := func() (client.HeaderValue, error) {
		return client.HeaderValue{}, fmt.Errorf("%q is not a valid %s", s, kindName(kind))
	}
	switch kind {
	case wire.KindString:
		return client.StringValue(s), nil
	case wire.KindRaw:
		b, err := hex.DecodeString(s)
		if err != nil {
			return bad()
		}
		return client.RawValue(b), nil
	case wire.KindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return bad()
		}
		return client.BoolValue(b), nil
	case wire.KindInt8, wire.KindInt16, wire.KindInt32, wire.KindInt64:
		bits := map[uint8]int{wire.KindInt8: 8, wire.KindInt16: 16, wire.KindInt32: 32, wire.KindInt64: 64}[kind]
		n, err := strconv.ParseInt(s, 0, bits)
		if err != nil {
			return bad()
		}
		switch kind {
		case wire.KindInt8:
			return client.Int8Value(int8(n)), nil
		case wire.KindInt16:
			return client.Int16Value(int16(n)), nil
		case wire.KindInt32:
			return client.Int32Value(int32(n)), nil
		}
		return client.Int64Value(n), nil
	case wire.KindUint8, wire.KindUint16, wire.KindUint32, wire.KindUint64:
		bits := map[uint8]int{wire.KindUint8: 8, wire.KindUint16: 16, wire.KindUint32: 32, wire.KindUint64: 64}[kind]
		n, err := strconv.ParseUint(s, 0, bits)
		if err != nil {
			return bad()
		}
		switch kind {
		case wire.KindUint8:
			return client.Uint8Value(uint8(n)), nil
		case wire.KindUint16:
			return client.Uint16Value(uint16(n)), nil
		case wire.KindUint32:
			return client.Uint32Value(uint32(n)), nil
		}
		return client.Uint64Value(n), nil
	case wire.KindInt128, wire.KindUint128:
		n, ok := new(big.Int).SetString(s, 0)
		if !ok {
			return bad()
		}
		limit := new(big.Int).Lsh(big.NewInt(1), 128)
		if kind == wire.KindInt128 {
			half := new(big.Int).Rsh(limit, 1)
			if n.Cmp(half) >= 0 || n.Cmp(new(big.Int).Neg(half)) < 0 {
				return bad()
			}
			if n.Sign() < 0 {
				n.Add(n, limit) // two's complement
			}
		} else if n.Sign() < 0 || n.Cmp(limit) >= 0 {
			return bad()
		}
		var le [16]byte
		be := n.FillBytes(make([]byte, 16))
		for i := range le {
			le[i] = be[15-i]
		}
		if kind == wire.KindInt128 {
			return client.Int128Value(le), nil
		}
		return client.Uint128Value(le), nil
	case wire.KindFloat32:
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return bad()
		}
		return client.Float32Value(float32(f)), nil
	case wire.KindFloat64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return bad()
		}
		return client.Float64Value(f), nil
	}
	return bad()
}

// Bounds of one batch that message send builds from lines.
const (
	maxBatchMessages = 10_000
	maxBatchBytes    = 8 << 20
)

// sentBatch is one batch of a send, in its output.
type sentBatch struct {
	StreamID   uint32 `json:"stream_id"`
	TopicID    uint32 `json:"topic_id"`
	Partition  uint32 `json:"partition"`
	BaseOffset uint64 `json:"base_offset"`
	Count      int    `json:"count"`
}

type sendResult struct {
	Stream   string      `json:"stream"`
	Topic    string      `json:"topic"`
	Messages int         `json:"messages"`
	Batches  []sentBatch `json:"batches"`
}

func (c *cli) newMessageSendCommand() *cobra.Command {
	var (
		partition uint32
		key       string
		headers   []string
		file      string
		whole     bool
		format    string
		batchSize int
	)
	cmd := &cobra.Command{
		Use:   "send STREAM TOPIC [MESSAGE...]",
		Short: "Send messages: arguments, lines of standard input, or lines of a file",
		Long: `Send messages to a topic. Each MESSAGE argument is one message; without any,
each line of standard input (or of --file) is one message (empty lines are
skipped), and --whole sends all of it as a single message. Lines are sent in
batches as they arrive, so 'tail -f' can feed it.

With --password-stdin the first line of standard input is the password and
the messages follow it.

The partition is --partition, or the one --key hashes to (the same key always
goes to the same partition), or else partitions take turns.

Headers are KEY:TYPE:VALUE, with TYPE one of string, bool, int8, int16,
int32, int64, int128, uint8, uint16, uint32, uint64, uint128, float32,
float64, or raw (VALUE in hex). Every message gets the same headers.`,
		Example: `  shoal message send orders events 'hello' 'world'
  shoal message send orders events --partition 1 'to partition one'
  shoal message send orders events --key customer-42 --header source:string:web --header retry:uint8:0 'order placed'
  seq 1000 | shoal message send orders events
  shoal message send orders events --file events.txt
  shoal message send orders events --whole --file image.png
  echo 68656c6c6f | shoal message send orders events --format hex`,
		Args: cobra.MinimumNArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			id, err := ids(args[:2]...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], probe: true}
			part := client.Balanced()
			switch {
			case s.cmd.Flags().Changed("partition") && key != "":
				return errors.New("give --partition or --key, not both")
			case s.cmd.Flags().Changed("partition"):
				part = client.PartitionID(partition)
				sub.partition = u32(partition)
			case key != "":
				part = client.MessagesKeyString(key)
			}
			var hs []client.Header
			for _, h := range headers {
				hv, err := parseHeader(h)
				if err != nil {
					return err
				}
				hs = append(hs, hv)
			}
			if batchSize < 1 || batchSize > maxBatchMessages {
				return fmt.Errorf("--batch-size must be from 1 to %d", maxBatchMessages)
			}
			res := sendResult{Stream: args[0], Topic: args[1], Batches: []sentBatch{}}
			send := func(msgs []client.Message) error {
				confs, err := s.SendMessages(ctx, id[0], id[1], part, msgs)
				if err != nil {
					return s.explain(ctx, err, sub)
				}
				res.Messages += len(msgs)
				for _, cf := range confs {
					res.Batches = append(res.Batches, sentBatch{StreamID: cf.Stream, TopicID: cf.Topic, Partition: cf.Partition, BaseOffset: cf.BaseOffset, Count: len(msgs)})
				}
				return nil
			}
			newMessage := func(b []byte) (client.Message, error) {
				p, err := decodePayload(format, b)
				if err != nil {
					return client.Message{}, fmt.Errorf("message %d: %w", res.Messages+1, err)
				}
				return client.NewMessage(p, hs...), nil
			}

			if len(args) > 2 {
				if file != "" || whole {
					return errors.New("give messages as arguments or with --file/--whole, not both")
				}
				var msgs []client.Message
				for _, a := range args[2:] {
					m, err := newMessage([]byte(a))
					if err != nil {
						return err
					}
					msgs = append(msgs, m)
				}
				for len(msgs) > 0 {
					n := min(len(msgs), batchSize)
					if err := send(msgs[:n]); err != nil {
						return err
					}
					msgs = msgs[n:]
				}
				return c.reportSend(res, sub)
			}

			in := c.stdin()
			if _, tty := c.terminal(); tty && (file == "" || file == "-") {
				fmt.Fprintln(c.env.stderr, "Reading messages from the terminal, one a line; end with Ctrl-D.")
			}
			if file != "" && file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				in = bufio.NewReaderSize(f, 64<<10)
			}
			if whole {
				b, err := io.ReadAll(io.LimitReader(in, client.MaxPayloadSize+1))
				if err != nil {
					return err
				}
				if len(b) > client.MaxPayloadSize {
					return fmt.Errorf("the input is larger than a message may be (%d bytes)", client.MaxPayloadSize)
				}
				m, err := newMessage(b)
				if err != nil {
					return err
				}
				if err := send([]client.Message{m}); err != nil {
					return err
				}
				return c.reportSend(res, sub)
			}
			for {
				lines, err := nextLines(in, batchSize)
				if len(lines) > 0 {
					msgs := make([]client.Message, 0, len(lines))
					for _, l := range lines {
						m, err := newMessage(l)
						if err != nil {
							return err
						}
						msgs = append(msgs, m)
					}
					if err := send(msgs); err != nil {
						return err
					}
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return fmt.Errorf("reading messages: %w", err)
				}
			}
			if res.Messages == 0 {
				return errors.New("no messages to send: give them as arguments, on standard input or with --file")
			}
			return c.reportSend(res, sub)
		}),
	}
	f := cmd.Flags()
	f.Uint32VarP(&partition, "partition", "p", 0, "send to this partition")
	f.StringVarP(&key, "key", "k", "", "send to the partition this key hashes to")
	f.StringArrayVarP(&headers, "header", "H", nil, "add a header `KEY:TYPE:VALUE` to every message (repeatable)")
	f.StringVarP(&file, "file", "f", "", "read messages from the lines of `FILE` (- for standard input)")
	f.BoolVar(&whole, "whole", false, "send the whole input (standard input or --file) as one message")
	f.StringVar(&format, "format", formatText, "how payloads are written: text, hex or base64")
	f.IntVar(&batchSize, "batch-size", 1000, "most messages in one batch")
	return cmd
}

// nextLines reads at least one line (blocking), then more while whole
// lines are already buffered, up to max lines and maxBatchBytes: bulk input
// goes in large batches, a slow trickle line by line. Empty lines are
// skipped. At the end of input it returns the last lines with io.EOF.
func nextLines(r *bufio.Reader, max int) ([][]byte, error) {
	var lines [][]byte
	size := 0
	for len(lines) < max && size < maxBatchBytes {
		if len(lines) > 0 {
			b, _ := r.Peek(r.Buffered())
			if bytes.IndexByte(b, '\n') < 0 {
				break
			}
		}
		l, err := readLine(r, client.MaxPayloadSize)
		if err != nil {
			return lines, err
		}
		if len(l) == 0 {
			continue
		}
		lines = append(lines, l)
		size += len(l)
	}
	return lines, nil
}

func (c *cli) reportSend(res sendResult, sub subject) error {
	if c.jsonOut() {
		return writeJSON(c.env.stdout, res)
	}
	// Offsets per partition, in the order the batches went.
	type span struct {
		partition   uint32
		first, last uint64
	}
	var spans []*span
	byPart := map[uint32]*span{}
	for _, b := range res.Batches {
		last := b.BaseOffset + uint64(b.Count) - 1
		if sp := byPart[b.Partition]; sp != nil {
			sp.first, sp.last = min(sp.first, b.BaseOffset), max(sp.last, last)
			continue
		}
		sp := &span{b.Partition, b.BaseOffset, last}
		byPart[b.Partition] = sp
		spans = append(spans, sp)
	}
	var where []string
	for _, sp := range spans {
		offs := "offset " + u64(sp.first)
		if sp.last > sp.first {
			offs = fmt.Sprintf("offsets %d-%d", sp.first, sp.last)
		}
		where = append(where, fmt.Sprintf("partition %d %s", sp.partition, offs))
	}
	msg := fmt.Sprintf("Sent %s to %s", plural(res.Messages, "message"), sub.topicText())
	if len(where) > 0 {
		msg += " (" + strings.Join(where, ", ") + ")"
	}
	fmt.Fprintln(c.env.stdout, msg)
	return nil
}

// messageView is a polled message in JSON output.
type messageView struct {
	Partition       uint32       `json:"partition"`
	Offset          uint64       `json:"offset"`
	ID              string       `json:"id"`
	Timestamp       string       `json:"timestamp"`
	OriginTimestamp string       `json:"origin_timestamp"`
	Checksum        uint64       `json:"checksum"`
	Headers         []headerView `json:"headers,omitempty"`
	Payload         string       `json:"payload"`
}

type headerView struct {
	Key       any    `json:"key"`
	KeyKind   string `json:"key_kind,omitempty"` // only when not a string
	ValueKind string `json:"kind"`
	Value     any    `json:"value"`
}

func uuidText(id [16]byte) string {
	h := hex.EncodeToString(id[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func headersOf(m client.Message) []headerView {
	var hs []headerView
	for _, h := range m.Headers {
		v := headerView{Key: kvValue(uint8(h.Key.Kind), h.Key.Data), ValueKind: kindName(uint8(h.Value.Kind)), Value: kvValue(uint8(h.Value.Kind), h.Value.Data)}
		if h.Key.Kind != client.KindString {
			v.KeyKind = kindName(uint8(h.Key.Kind))
		}
		hs = append(hs, v)
	}
	return hs
}

func headersText(m client.Message) string {
	if len(m.Headers) == 0 && len(m.RawHeaders) > 0 {
		return "(unreadable)"
	}
	var parts []string
	for _, h := range m.Headers {
		parts = append(parts, kvText(uint8(h.Key.Kind), h.Key.Data)+"="+kvText(uint8(h.Value.Kind), h.Value.Data))
	}
	return strings.Join(parts, ",")
}

// parseTimestamp reads --timestamp: RFC 3339, microseconds since the
// epoch, or a duration meaning that long ago.
func parseTimestamp(s string, now time.Time) (uint64, error) {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return uint64(t.UnixMicro()), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return uint64(now.Add(-d).UnixMicro()), nil
	}
	return 0, fmt.Errorf("--timestamp %q: want RFC 3339 (2026-01-02T15:04:05Z), microseconds since the epoch, or a duration ago (15m)", s)
}

func (c *cli) newMessagePollCommand() *cobra.Command {
	var (
		partition  uint32
		consumer   string
		group      string
		offset     uint64
		first      bool
		last       bool
		next       bool
		timestamp  string
		count      uint32
		autoCommit bool
		follow     bool
		interval   time.Duration
		format     string
	)
	cmd := &cobra.Command{
		Use:   "poll STREAM TOPIC",
		Short: "Poll messages, once or continuously (--follow)",
		Long: `Poll messages from a topic.

Where to start: --offset N, --first (the default), --last (the newest --count
messages), --next (after the consumer's stored offset; the default with
--group), or --timestamp (RFC 3339, microseconds since the epoch, or a
duration ago such as 15m).

Who polls: the single consumer --consumer (an id or name, default 0), or the
consumer group --group, which this command joins for as long as it runs.
--auto-commit stores the offset of the last polled message for them. Without
--partition a single consumer reads partition 0 and a group its assigned
partitions in turn.

--follow keeps polling like 'tail -f' until interrupted; with --group and no
--partition it needs --next and --auto-commit.

Output: a table, or with --output json one JSON object per message and line.
Payloads are shown as text, hex or base64 (--format). In a table, control
characters and invalid UTF-8 in text are escaped Go-style; in JSON, text is
a JSON string (invalid UTF-8 becomes U+FFFD: use base64 for binary data).`,
		Example: `  shoal message poll orders events --partition 0 --offset 0 --count 10
  shoal message poll orders events --last --count 5
  shoal message poll orders events --consumer audit --next --auto-commit
  shoal message poll orders events --group billing --follow --auto-commit
  shoal message poll orders events --timestamp 15m --format base64 -o json`,
		Args: cobra.ExactArgs(2),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			fl := s.cmd.Flags()
			if err := checkFormat(format); err != nil {
				return err
			}
			id, err := ids(args...)
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], probe: true}
			req := client.PollRequest{Stream: id[0], Topic: id[1], Count: count, AutoCommit: autoCommit, Consumer: client.DefaultConsumer()}
			if count == 0 {
				return errors.New("--count must be at least 1")
			}
			if fl.Changed("consumer") && group != "" {
				return errors.New("give --consumer or --group, not both")
			}
			switch {
			case group != "":
				g, err := parseID(group)
				if err != nil {
					return err
				}
				req.Consumer = client.GroupConsumer(g)
				sub.group = group
			case consumer != "":
				cid, err := parseID(consumer)
				if err != nil {
					return err
				}
				req.Consumer = client.SingleConsumer(cid)
			}
			if fl.Changed("partition") {
				req.Partition = client.InPartition(partition)
				sub.partition = u32(partition)
			}
			strategies := 0
			for _, set := range []bool{fl.Changed("offset"), first, last, next, timestamp != ""} {
				if set {
					strategies++
				}
			}
			if strategies > 1 {
				return errors.New("give only one of --offset, --first, --last, --next and --timestamp")
			}
			switch {
			case fl.Changed("offset"):
				req.Strategy = client.OffsetStrategy(offset)
			case last:
				req.Strategy = client.LastStrategy()
			case next || (strategies == 0 && group != ""):
				req.Strategy = client.NextStrategy()
				next = true
			case timestamp != "":
				us, err := parseTimestamp(timestamp, time.Now())
				if err != nil {
					return err
				}
				req.Strategy = client.TimestampStrategy(us)
			default:
				req.Strategy = client.FirstStrategy()
			}
			groupRotates := group != "" && !req.Partition.Set
			if follow && groupRotates && (!next || !autoCommit) {
				return errors.New("--follow with --group and no --partition needs --next and --auto-commit (the group's offsets say where each partition goes on)")
			}
			if group != "" && req.Partition.Set {
				// A group member polls its own partitions only.
				if err := s.JoinConsumerGroup(ctx, id[0], id[1], req.Consumer.ID); err != nil {
					return s.explain(ctx, err, sub)
				}
			}
			if follow {
				var stop context.CancelFunc
				ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
				defer stop()
			}
			p := &pollPrinter{c: c, format: format, showPartition: groupRotates, follow: follow}
			polled := 0
			// A one-shot group poll reads the assigned partitions in turn
			// until one has messages.
			tried, assigned := 0, -1
			for {
				tried++
				res, err := s.PollMessages(ctx, req)
				if err != nil {
					if follow && ctx.Err() != nil {
						return nil
					}
					return s.explain(ctx, err, sub)
				}
				if res.PartitionID == client.PollNoAssignmentPartition || res.PartitionID == client.PollResyncPartition {
					if !follow {
						return fmt.Errorf("no partition of %s is assigned to this client", sub.groupText())
					}
				}
				if err := p.print(res); err != nil {
					return err
				}
				polled += len(res.Messages)
				if !follow && groupRotates && len(res.Messages) == 0 {
					if assigned < 0 {
						assigned = 1
						if a, err := s.SyncConsumerGroup(ctx, id[0], id[1], req.Consumer.ID); err == nil {
							assigned = len(a.Partitions)
						}
					}
					if tried < assigned {
						continue
					}
				}
				if !follow {
					if polled == 0 && !c.jsonOut() {
						fmt.Fprintln(c.env.stdout, "No messages.")
					}
					return nil
				}
				if n := len(res.Messages); n > 0 && !groupRotates {
					// Go on after the last one, whatever the strategy was.
					req.Strategy = client.OffsetStrategy(res.Messages[n-1].Offset + 1)
				}
				if len(res.Messages) < int(count) {
					select {
					case <-time.After(interval):
					case <-ctx.Done():
						return nil
					}
				}
			}
		}),
	}
	f := cmd.Flags()
	f.Uint32VarP(&partition, "partition", "p", 0, "poll this partition")
	f.StringVar(&consumer, "consumer", "", "poll as this single consumer (`ID` or name; default 0)")
	f.StringVarP(&group, "group", "g", "", "poll as this consumer `GROUP` (id or name)")
	f.Uint64Var(&offset, "offset", 0, "start at this offset")
	f.BoolVar(&first, "first", false, "start at the oldest message")
	f.BoolVar(&last, "last", false, "poll the newest --count messages")
	f.BoolVar(&next, "next", false, "start after the consumer's stored offset")
	f.StringVar(&timestamp, "timestamp", "", "start at the first message stored at or after `TIME`")
	f.Uint32VarP(&count, "count", "n", 10, "most messages per poll")
	f.BoolVar(&autoCommit, "auto-commit", false, "store the consumer's offset as messages are polled")
	f.BoolVarP(&follow, "follow", "F", false, "keep polling until interrupted")
	f.DurationVar(&interval, "interval", 500*time.Millisecond, "with --follow, the pause after a poll that was not full")
	f.StringVar(&format, "format", formatText, "how payloads are shown: text, hex or base64")
	return cmd
}

// pollPrinter prints polled messages as they come: one JSON object per
// message and line, or table rows: aligned per poll, or with --follow in
// fixed columns under one header (headers, if any, in braces before the
// payload).
type pollPrinter struct {
	c             *cli
	format        string
	showPartition bool
	follow        bool
	headerDone    bool
}

// timestampText shows when a message was stored, to the microsecond.
func timestampText(us uint64) string {
	return micros(us).Local().Format("2006-01-02 15:04:05.000000")
}

// printFollowed prints rows in fixed columns, so that the polls of
// --follow line up.
func (p *pollPrinter) printFollowed(w io.Writer, res *client.PolledMessages) {
	var b strings.Builder
	if !p.headerDone {
		if p.showPartition {
			fmt.Fprintf(&b, "%-10s ", "PARTITION")
		}
		fmt.Fprintf(&b, "%-12s %-27s %s\n", "OFFSET", "TIMESTAMP", "PAYLOAD")
		p.headerDone = true
	}
	for _, m := range res.Messages {
		if p.showPartition {
			fmt.Fprintf(&b, "%-10d ", res.PartitionID)
		}
		fmt.Fprintf(&b, "%-12d %-27s ", m.Offset, timestampText(m.Timestamp))
		if h := headersText(m); h != "" {
			b.WriteString("{" + h + "} ")
		}
		b.WriteString(encodePayload(p.format, m.Payload) + "\n")
	}
	io.WriteString(w, b.String())
}

func (p *pollPrinter) print(res *client.PolledMessages) error {
	if len(res.Messages) == 0 {
		return nil
	}
	w := p.c.env.stdout
	if p.c.jsonOut() {
		for _, m := range res.Messages {
			payload := string(m.Payload) // JSON escapes it
			if p.format != formatText {
				payload = encodePayload(p.format, m.Payload)
			}
			v := messageView{Partition: res.PartitionID, Offset: m.Offset, ID: uuidText(m.ID), Timestamp: timeJSON(m.Timestamp),
				OriginTimestamp: timeJSON(m.OriginTimestamp), Checksum: m.Checksum, Headers: headersOf(m), Payload: payload}
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if _, err := w.Write(append(b, '\n')); err != nil {
				return err
			}
		}
		return nil
	}
	if p.follow {
		p.printFollowed(w, res)
		return nil
	}
	hasHeaders := false
	for _, m := range res.Messages {
		hasHeaders = hasHeaders || len(m.Headers) > 0 || len(m.RawHeaders) > 0
	}
	cols := []string{"OFFSET", "TIMESTAMP"}
	if p.showPartition {
		cols = append([]string{"PARTITION"}, cols...)
	}
	if hasHeaders {
		cols = append(cols, "HEADERS")
	}
	cols = append(cols, "PAYLOAD")
	t := newTable(w, cols...)
	for _, m := range res.Messages {
		row := []string{u64(m.Offset), timestampText(m.Timestamp)}
		if p.showPartition {
			row = append([]string{u32(res.PartitionID)}, row...)
		}
		if hasHeaders {
			row = append(row, headersText(m))
		}
		row = append(row, encodePayload(p.format, m.Payload))
		t.row(row...)
	}
	t.flush()
	return nil
}

func (c *cli) newMessageFlushCommand() *cobra.Command {
	var fsync bool
	cmd := &cobra.Command{
		Use:     "flush STREAM TOPIC PARTITION",
		Short:   "Ask the server to write a partition's buffered messages to storage",
		Example: `  shoal message flush orders events 0 --fsync`,
		Args:    cobra.ExactArgs(3),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := ids(args[:2]...)
			if err != nil {
				return err
			}
			p, err := parseUint32("partition", args[2])
			if err != nil {
				return err
			}
			sub := subject{stream: args[0], topic: args[1], partition: args[2], probe: true}
			if err := s.FlushUnsavedBuffer(ctx, client.FlushUnsavedBufferRequest{Stream: id[0], Topic: id[1], Partition: p, Fsync: fsync}); err != nil {
				return s.explain(ctx, err, sub)
			}
			return c.done("Flushed "+sub.partitionText(), map[string]any{"stream": args[0], "topic": args[1], "partition": p})
		}),
	}
	cmd.Flags().BoolVar(&fsync, "fsync", false, "also fsync the data")
	return cmd
}
