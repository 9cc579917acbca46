package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/wire"
)

func (c *cli) newPingCommand() *cobra.Command {
	var count int
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "ping",
		Short: "Check that the server answers (no login needed)",
		Example: `  shoal ping
  shoal ping --count 5 --address shoal.example.com:8090 --tls`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 {
				return fmt.Errorf("--count must be at least 1")
			}
			ctx := cmd.Context()
			t, err := c.resolve(cmd)
			if err != nil {
				return err
			}
			if c.passwordStdin {
				return errPasswordStdin
			}
			t.creds = nil // a ping needs no login
			s, err := c.dial(ctx, t)
			if err != nil {
				return err
			}
			defer s.Close()
			var rtts []int64
			for i := range count {
				if i > 0 {
					select {
					case <-time.After(interval):
					case <-ctx.Done():
						return s.explain(ctx, ctx.Err(), subject{})
					}
				}
				start := time.Now()
				if err := s.Ping(ctx); err != nil {
					return s.explain(ctx, err, subject{})
				}
				rtt := time.Since(start)
				rtts = append(rtts, rtt.Microseconds())
				if !c.jsonOut() {
					fmt.Fprintf(c.env.stdout, "pong from %s: seq=%d time=%.3f ms\n", s.address, i+1, float64(rtt.Nanoseconds())/1e6)
				}
			}
			if c.jsonOut() {
				return writeJSON(c.env.stdout, map[string]any{"address": s.address, "rtt_us": rtts})
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&count, "count", "c", 1, "how many pings to send")
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "time between pings")
	return cmd
}

// clientView is a connected client.
type clientView struct {
	ClientID            uint32            `json:"client_id"`
	UserID              *uint32           `json:"user_id"` // null: not logged in
	Transport           string            `json:"transport"`
	Address             string            `json:"address"`
	ConsumerGroupsCount uint32            `json:"consumer_groups_count"`
	ConsumerGroups      []clientGroupView `json:"consumer_groups,omitempty"`
}

type clientGroupView struct {
	StreamID uint32 `json:"stream_id"`
	TopicID  uint32 `json:"topic_id"`
	GroupID  uint32 `json:"group_id"`
}

func newClientView(ci client.ClientInfo) clientView {
	v := clientView{ClientID: ci.ClientID, Transport: transportText(ci.Transport), Address: ci.Address, ConsumerGroupsCount: ci.ConsumerGroupsCount}
	if ci.UserID != wire.NoUser {
		id := ci.UserID
		v.UserID = &id
	}
	return v
}

func newClientDetailsView(d *client.ClientDetails) clientView {
	v := newClientView(d.ClientInfo)
	v.ConsumerGroupsCount = uint32(len(d.Groups))
	for _, g := range d.Groups {
		v.ConsumerGroups = append(v.ConsumerGroups, clientGroupView{StreamID: g.StreamID, TopicID: g.TopicID, GroupID: g.GroupID})
	}
	return v
}

func transportText(t uint8) string {
	switch t {
	case 1:
		return "tcp"
	case 2:
		return "quic"
	case 4:
		return "websocket"
	}
	return fmt.Sprintf("unknown (%d)", t)
}

func userIDText(id *uint32) string {
	if id == nil {
		return "-"
	}
	return u32(*id)
}

func (v clientView) table(w io.Writer) {
	fields(w, "Client ID", u32(v.ClientID), "User ID", userIDText(v.UserID), "Transport", v.Transport,
		"Address", v.Address, "Consumer groups", u32(v.ConsumerGroupsCount))
	if len(v.ConsumerGroups) > 0 {
		fmt.Fprintln(w)
		t := newTable(w, "STREAM ID", "TOPIC ID", "GROUP ID")
		for _, g := range v.ConsumerGroups {
			t.row(u32(g.StreamID), u32(g.TopicID), u32(g.GroupID))
		}
		t.flush()
	}
}

func (c *cli) newMeCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "me",
		Short:   "Show this connection as the server sees it",
		Example: `  shoal me`,
		Args:    cobra.NoArgs,
		RunE: c.withSession(func(ctx context.Context, s *session, _ []string) error {
			d, err := s.GetMe(ctx)
			if err != nil {
				return s.explain(ctx, err, subject{})
			}
			v := newClientDetailsView(d)
			return c.emit(v, v.table)
		}),
	}
}

func (c *cli) newClientCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "client",
		Short: "List and inspect the clients connected to the server",
		Example: `  shoal client list
  shoal client get 3`,
	}
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the connected clients",
		Example: `  shoal client list -o json`,
		Args:    cobra.NoArgs,
		RunE: c.withSession(func(ctx context.Context, s *session, _ []string) error {
			cs, err := s.GetClients(ctx)
			if err != nil {
				return s.explain(ctx, err, subject{})
			}
			views := make([]clientView, 0, len(cs))
			for _, ci := range cs {
				views = append(views, newClientView(ci))
			}
			return c.emit(views, func(w io.Writer) {
				t := newTable(w, "CLIENT ID", "USER ID", "TRANSPORT", "ADDRESS", "CONSUMER GROUPS")
				for _, v := range views {
					t.row(u32(v.ClientID), userIDText(v.UserID), v.Transport, v.Address, u32(v.ConsumerGroupsCount))
				}
				t.flush()
			})
		}),
	}
	get := &cobra.Command{
		Use:     "get CLIENT_ID",
		Short:   "Show a connected client and its consumer groups",
		Example: `  shoal client get 3`,
		Args:    cobra.ExactArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			id, err := parseUint32("client id", args[0])
			if err != nil {
				return err
			}
			d, err := s.GetClient(ctx, id)
			if err != nil {
				return s.explain(ctx, err, subject{clientID: args[0]})
			}
			v := newClientDetailsView(d)
			return c.emit(v, v.table)
		}),
	}
	cmd.AddCommand(list, get)
	return cmd
}

// statsView is the server's statistics.
type statsView struct {
	ServerVersion       string  `json:"server_version"`
	Hostname            string  `json:"hostname"`
	OSName              string  `json:"os_name"`
	OSVersion           string  `json:"os_version"`
	KernelVersion       string  `json:"kernel_version"`
	ProcessID           uint32  `json:"process_id"`
	StartTime           string  `json:"start_time"`
	RunTimeUs           uint64  `json:"run_time_us"`
	CPUUsage            float32 `json:"cpu_usage"`
	TotalCPUUsage       float32 `json:"total_cpu_usage"`
	MemoryUsage         uint64  `json:"memory_usage_bytes"`
	TotalMemory         uint64  `json:"total_memory_bytes"`
	AvailableMemory     uint64  `json:"available_memory_bytes"`
	ReadBytes           uint64  `json:"read_bytes"`
	WrittenBytes        uint64  `json:"written_bytes"`
	ThreadsCount        uint32  `json:"threads_count"`
	FreeDiskSpace       uint64  `json:"free_disk_space_bytes"`
	TotalDiskSpace      uint64  `json:"total_disk_space_bytes"`
	StreamsCount        uint32  `json:"streams_count"`
	TopicsCount         uint32  `json:"topics_count"`
	PartitionsCount     uint32  `json:"partitions_count"`
	SegmentsCount       uint32  `json:"segments_count"`
	MessagesCount       uint64  `json:"messages_count"`
	MessagesSizeBytes   uint64  `json:"messages_size_bytes"`
	ClientsCount        uint32  `json:"clients_count"`
	ConsumerGroupsCount uint32  `json:"consumer_groups_count"`
}

func (c *cli) newStatsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Show the server's statistics",
		Example: `  shoal stats
  shoal stats -o json | jq .messages_count`,
		Args: cobra.NoArgs,
		RunE: c.withSession(func(ctx context.Context, s *session, _ []string) error {
			st, err := s.GetStats(ctx)
			if err != nil {
				return s.explain(ctx, err, subject{})
			}
			v := statsView{
				ServerVersion: st.ServerVersion, Hostname: st.Hostname, OSName: st.OSName, OSVersion: st.OSVersion,
				KernelVersion: st.KernelVersion, ProcessID: st.ProcessID, StartTime: timeJSON(st.StartTime),
				RunTimeUs: st.RunTime, CPUUsage: st.CPUUsage, TotalCPUUsage: st.TotalCPUUsage,
				MemoryUsage: st.MemoryUsage, TotalMemory: st.TotalMemory, AvailableMemory: st.AvailableMemory,
				ReadBytes: st.ReadBytes, WrittenBytes: st.WrittenBytes, ThreadsCount: st.ThreadsCount,
				FreeDiskSpace: st.FreeDiskSpace, TotalDiskSpace: st.TotalDiskSpace,
				StreamsCount: st.StreamsCount, TopicsCount: st.TopicsCount, PartitionsCount: st.PartitionsCount,
				SegmentsCount: st.SegmentsCount, MessagesCount: st.MessagesCount, MessagesSizeBytes: st.MessagesSizeBytes,
				ClientsCount: st.ClientsCount, ConsumerGroupsCount: st.ConsumerGroupsCount,
			}
			return c.emit(v, func(w io.Writer) {
				fields(w,
					"Server version", v.ServerVersion,
					"Hostname", v.Hostname,
					"OS", strings.TrimSpace(v.OSName+" "+v.KernelVersion),
					"Process ID", u32(v.ProcessID),
					"Started", timeText(st.StartTime),
					"Run time", (time.Duration(st.RunTime) * time.Microsecond).Round(time.Second).String(),
					"Memory used", sizeText(v.MemoryUsage),
					"Memory total/available", sizeText(v.TotalMemory)+" / "+sizeText(v.AvailableMemory),
					"Disk total/free", sizeText(v.TotalDiskSpace)+" / "+sizeText(v.FreeDiskSpace),
					"Read/written", sizeText(v.ReadBytes)+" / "+sizeText(v.WrittenBytes),
					"Threads", u32(v.ThreadsCount),
					"Streams", u32(v.StreamsCount),
					"Topics", u32(v.TopicsCount),
					"Partitions", u32(v.PartitionsCount),
					"Segments", u32(v.SegmentsCount),
					"Messages", u64(v.MessagesCount),
					"Messages size", sizeText(v.MessagesSizeBytes),
					"Clients", u32(v.ClientsCount),
					"Consumer groups", u32(v.ConsumerGroupsCount),
				)
			})
		}),
	}
}

type nodeView struct {
	Name          string `json:"name"`
	IP            string `json:"ip"`
	TCPPort       uint16 `json:"tcp_port"`
	QUICPort      uint16 `json:"quic_port"`
	HTTPPort      uint16 `json:"http_port"`
	WebSocketPort uint16 `json:"websocket_port"`
	Role          string `json:"role"`
	Status        string `json:"status"`
}

func (c *cli) newClusterCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "cluster",
		Short:   "Show the cluster's nodes (one for a single server)",
		Example: `  shoal cluster`,
		Args:    cobra.NoArgs,
		RunE: c.withSession(func(ctx context.Context, s *session, _ []string) error {
			m, err := s.GetClusterMetadata(ctx)
			if err != nil {
				return s.explain(ctx, err, subject{})
			}
			nodes := []nodeView{}
			for _, n := range m.Nodes {
				nodes = append(nodes, nodeView{Name: n.Name, IP: n.IP, TCPPort: n.TCP, QUICPort: n.QUIC, HTTPPort: n.HTTP,
					WebSocketPort: n.WebSocket, Role: nodeRole(n.Role), Status: nodeStatus(n.Status)})
			}
			v := map[string]any{"name": m.Name, "nodes": nodes}
			return c.emit(v, func(w io.Writer) {
				fields(w, "Cluster", m.Name)
				fmt.Fprintln(w)
				t := newTable(w, "NODE", "IP", "TCP", "ROLE", "STATUS")
				for _, n := range nodes {
					t.row(n.Name, n.IP, fmt.Sprint(n.TCPPort), n.Role, n.Status)
				}
				t.flush()
			})
		}),
	}
}

func nodeRole(r uint8) string {
	switch r {
	case 0:
		return "leader"
	case 1:
		return "follower"
	}
	return fmt.Sprintf("unknown (%d)", r)
}

func nodeStatus(s uint8) string {
	if names := []string{"healthy", "starting", "stopping", "unreachable", "maintenance"}; int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("unknown (%d)", s)
}

var snapshotCompressions = map[string]client.SnapshotCompression{
	"stored": client.SnapshotStored, "deflated": client.SnapshotDeflated, "bzip2": client.SnapshotBzip2,
	"zstd": client.SnapshotZstd, "lzma": client.SnapshotLzma, "xz": client.SnapshotXz,
}

var snapshotTypes = map[string]client.SnapshotType{
	"filesystem_overview": client.SnapshotFilesystemOverview, "process_list": client.SnapshotProcessList,
	"resource_usage": client.SnapshotResourceUsage, "test": client.SnapshotTest,
	"server_logs": client.SnapshotServerLogs, "server_config": client.SnapshotServerConfig, "all": client.SnapshotAll,
}

func (c *cli) newSnapshotCommand() *cobra.Command {
	var compression string
	var types []string
	cmd := &cobra.Command{
		Use:   "snapshot [FILE]",
		Short: "Save a ZIP archive of the server's diagnostics",
		Long: `Save a ZIP archive of the server's diagnostics to FILE (default
shoal-snapshot-<time>.zip; - writes it to standard output).

Types: filesystem_overview, process_list, resource_usage, test, server_logs,
server_config, all. Compressions: stored, deflated, bzip2, zstd, lzma, xz.`,
		Example: `  shoal snapshot
  shoal snapshot diag.zip --type server_config,resource_usage --compression stored`,
		Args: cobra.MaximumNArgs(1),
		RunE: c.withSession(func(ctx context.Context, s *session, args []string) error {
			comp, ok := snapshotCompressions[compression]
			if !ok {
				return fmt.Errorf("unknown compression %q", compression)
			}
			var ts []client.SnapshotType
			for _, name := range types {
				t, ok := snapshotTypes[name]
				if !ok {
					return fmt.Errorf("unknown snapshot type %q", name)
				}
				ts = append(ts, t)
			}
			file := "shoal-snapshot-" + time.Now().Format("20060102-150405") + ".zip"
			if len(args) == 1 {
				file = args[0]
			}
			zip, err := s.GetSnapshot(ctx, comp, ts...)
			if err != nil {
				return s.explain(ctx, err, subject{})
			}
			if file == "-" {
				_, err := c.env.stdout.Write(zip)
				return err
			}
			if err := os.WriteFile(file, zip, 0o600); err != nil {
				return err
			}
			return c.done(fmt.Sprintf("Saved the snapshot (%s) to %s", sizeText(uint64(len(zip))), file),
				map[string]any{"file": file, "size_bytes": len(zip)})
		}),
	}
	cmd.Flags().StringVar(&compression, "compression", "deflated", "archive compression")
	cmd.Flags().StringSliceVar(&types, "type", []string{"all"}, "what to collect (comma-separated)")
	return cmd
}
