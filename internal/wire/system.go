package wire

import "math"

// ---------------------------------------------------------------------------
// GetStats (10): empty request; reply Stats (wire.md §5.1.2).

// Stats is the GetStats reply:
//
//	[process_id u32][cpu_usage f32][total_cpu_usage f32][memory_usage u64]
//	[total_memory u64][available_memory u64][run_time u64][start_time u64]
//	[read_bytes u64][written_bytes u64][messages_size_bytes u64]
//	[streams_count u32][topics_count u32][partitions_count u32]
//	[segments_count u32][messages_count u64][clients_count u32]
//	[consumer_groups_count u32]                      (108 bytes)
//	[hostname str32][os_name str32][os_version str32][kernel_version str32]
//	[server_version str32][server_semver u32]
//	[cache_metrics_count u32][CacheMetric × count][threads_count u32]
//	[free_disk_space u64][total_disk_space u64]
//
// Times are microseconds. Strings must be UTF-8 (the decoder checks).
type Stats struct {
	ProcessID           uint32
	CPUUsage            float32
	TotalCPUUsage       float32
	MemoryUsage         uint64
	TotalMemory         uint64
	AvailableMemory     uint64
	RunTime             uint64
	StartTime           uint64
	ReadBytes           uint64
	WrittenBytes        uint64
	MessagesSizeBytes   uint64
	StreamsCount        uint32
	TopicsCount         uint32
	PartitionsCount     uint32
	SegmentsCount       uint32
	MessagesCount       uint64
	ClientsCount        uint32
	ConsumerGroupsCount uint32
	Hostname            string
	OSName              string
	OSVersion           string
	KernelVersion       string
	ServerVersion       string
	// ServerSemver is major·1 000 000 + minor·1 000 + patch, 0 if unknown.
	ServerSemver   uint32
	CacheMetrics   []CacheMetric // nil when there are none
	ThreadsCount   uint32
	FreeDiskSpace  uint64
	TotalDiskSpace uint64
}

// CacheMetric is one 32-byte cache entry of Stats:
// [stream_id u32][topic_id u32][partition_id u32][hits u64][misses u64][hit_ratio f32].
type CacheMetric struct {
	StreamID    uint32
	TopicID     uint32
	PartitionID uint32
	Hits        uint64
	Misses      uint64
	HitRatio    float32
}

const cacheMetricSize = 32

// Semver packs a version the way Stats.ServerSemver carries it.
func Semver(major, minor, patch uint32) uint32 { return major*1_000_000 + minor*1_000 + patch }

// AppendTo appends the encoded stats.
func (s Stats) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, s.ProcessID)
	dst = AppendF32(dst, s.CPUUsage)
	dst = AppendF32(dst, s.TotalCPUUsage)
	for _, v := range [...]uint64{s.MemoryUsage, s.TotalMemory, s.AvailableMemory, s.RunTime,
		s.StartTime, s.ReadBytes, s.WrittenBytes, s.MessagesSizeBytes} {
		dst = AppendU64(dst, v)
	}
	for _, v := range [...]uint32{s.StreamsCount, s.TopicsCount, s.PartitionsCount, s.SegmentsCount} {
		dst = AppendU32(dst, v)
	}
	dst = AppendU64(dst, s.MessagesCount)
	dst = AppendU32(dst, s.ClientsCount)
	dst = AppendU32(dst, s.ConsumerGroupsCount)
	for _, v := range [...]string{s.Hostname, s.OSName, s.OSVersion, s.KernelVersion, s.ServerVersion} {
		dst = AppendStr32(dst, v)
	}
	dst = AppendU32(dst, s.ServerSemver)
	dst = AppendU32(dst, uint32(len(s.CacheMetrics)))
	for _, m := range s.CacheMetrics {
		dst = AppendU32(dst, m.StreamID)
		dst = AppendU32(dst, m.TopicID)
		dst = AppendU32(dst, m.PartitionID)
		dst = AppendU64(dst, m.Hits)
		dst = AppendU64(dst, m.Misses)
		dst = AppendF32(dst, m.HitRatio)
	}
	dst = AppendU32(dst, s.ThreadsCount)
	dst = AppendU64(dst, s.FreeDiskSpace)
	return AppendU64(dst, s.TotalDiskSpace)
}

// Decode decodes a reply that is exactly b.
func (s *Stats) Decode(b []byte) error {
	var v Stats
	err := ctlDecode(b, func(r *Reader) {
		v.ProcessID = r.U32()
		v.CPUUsage = r.F32()
		v.TotalCPUUsage = r.F32()
		for _, f := range [...]*uint64{&v.MemoryUsage, &v.TotalMemory, &v.AvailableMemory, &v.RunTime,
			&v.StartTime, &v.ReadBytes, &v.WrittenBytes, &v.MessagesSizeBytes} {
			*f = r.U64()
		}
		for _, f := range [...]*uint32{&v.StreamsCount, &v.TopicsCount, &v.PartitionsCount, &v.SegmentsCount} {
			*f = r.U32()
		}
		v.MessagesCount = r.U64()
		v.ClientsCount = r.U32()
		v.ConsumerGroupsCount = r.U32()
		for _, f := range [...]*string{&v.Hostname, &v.OSName, &v.OSVersion, &v.KernelVersion, &v.ServerVersion} {
			*f = r.Str32()
		}
		v.ServerSemver = r.U32()
		if n := r.Count(cacheMetricSize); n > 0 {
			v.CacheMetrics = make([]CacheMetric, n)
			for i := range v.CacheMetrics {
				m := &v.CacheMetrics[i]
				m.StreamID = r.U32()
				m.TopicID = r.U32()
				m.PartitionID = r.U32()
				m.Hits = r.U64()
				m.Misses = r.U64()
				m.HitRatio = r.F32()
			}
		}
		v.ThreadsCount = r.U32()
		v.FreeDiskSpace = r.U64()
		v.TotalDiskSpace = r.U64()
	})
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ---------------------------------------------------------------------------
// GetSnapshot (11), raw only (wire.md §5.1.3). The reply is a ZIP archive,
// unframed.

// Snapshot compression methods.
const (
	SnapshotStored   uint8 = 1
	SnapshotDeflated uint8 = 2
	SnapshotBzip2    uint8 = 3
	SnapshotZstd     uint8 = 4
	SnapshotLzma     uint8 = 5
	SnapshotXz       uint8 = 6
)

// Snapshot content types.
const (
	SnapshotFilesystemOverview uint8 = 1
	SnapshotProcessList        uint8 = 2
	SnapshotResourceUsage      uint8 = 3
	SnapshotTest               uint8 = 4
	SnapshotServerLogs         uint8 = 5
	SnapshotServerConfig       uint8 = 6
	SnapshotAll                uint8 = 100
)

// GetSnapshotRequest is [compression u8][types_count u8][type u8 × count].
// Decode refuses unknown compression or type codes (status 3).
type GetSnapshotRequest struct {
	Compression uint8
	Types       []uint8 // at most 255; nil when empty
}

// AppendTo appends the encoded request (at most 255 types are written).
func (q GetSnapshotRequest) AppendTo(dst []byte) []byte {
	t := q.Types
	if len(t) > 255 {
		t = t[:255]
	}
	dst = append(dst, q.Compression, byte(len(t)))
	return append(dst, t...)
}

// Decode decodes a request that is exactly b.
func (q *GetSnapshotRequest) Decode(b []byte) error {
	var v GetSnapshotRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Compression = r.U8()
		n := int(r.U8())
		v.Types = ctlCopy(r.Bytes(n))
		if r.Err() != nil {
			return
		}
		if v.Compression < SnapshotStored || v.Compression > SnapshotXz {
			r.Failf("snapshot compression %d", v.Compression)
		}
		for _, t := range v.Types {
			if (t < SnapshotFilesystemOverview || t > SnapshotServerConfig) && t != SnapshotAll {
				r.Failf("snapshot type %d", t)
			}
		}
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// ---------------------------------------------------------------------------
// GetClusterMetadata (12): empty request; reply ClusterMetadata
// (wire.md §5.1.4).

// Cluster node roles. Part of the protocol.
const (
	NodeLeader   uint8 = 0
	NodeFollower uint8 = 1
)

// Cluster node statuses. Part of the protocol (5, "unknown", exists in the
// reference but the Go SDK rejects it, so it is not valid here).
const (
	NodeHealthy     uint8 = 0
	NodeStarting    uint8 = 1
	NodeStopping    uint8 = 2
	NodeUnreachable uint8 = 3
	NodeMaintenance uint8 = 4
)

// MaxClusterNodes is the most nodes a ClusterMetadata reply may list.
const MaxClusterNodes = 64

// ClusterMetadata is the GetClusterMetadata reply:
// [cluster_name str32][nodes_count u32] then nodes_count × ClusterNode.
type ClusterMetadata struct {
	Name  string
	Nodes []ClusterNode // nil when empty
}

// ClusterNode is one node of ClusterMetadata:
// [name str32][ip str32][tcp u16][quic u16][http u16][websocket u16][role u8][status u8].
// A port is 0 when that transport is disabled.
type ClusterNode struct {
	Name      string
	IP        string
	TCP       uint16
	QUIC      uint16
	HTTP      uint16
	WebSocket uint16
	Role      uint8
	Status    uint8
}

const minClusterNodeSize = 4 + 4 + 8 + 2

// AppendTo appends the encoded metadata.
func (m ClusterMetadata) AppendTo(dst []byte) []byte {
	dst = AppendStr32(dst, m.Name)
	dst = AppendU32(dst, uint32(len(m.Nodes)))
	for _, n := range m.Nodes {
		dst = AppendStr32(dst, n.Name)
		dst = AppendStr32(dst, n.IP)
		dst = AppendU16(dst, n.TCP)
		dst = AppendU16(dst, n.QUIC)
		dst = AppendU16(dst, n.HTTP)
		dst = AppendU16(dst, n.WebSocket)
		dst = append(dst, n.Role, n.Status)
	}
	return dst
}

// Decode decodes a reply that is exactly b. It refuses more than
// MaxClusterNodes nodes, a role other than leader/follower and a status
// outside 0..4, as the Go SDK does.
func (m *ClusterMetadata) Decode(b []byte) error {
	var v ClusterMetadata
	err := ctlDecode(b, func(r *Reader) {
		v.Name = r.Str32()
		n := r.Count(minClusterNodeSize)
		if n > MaxClusterNodes {
			r.Failf("%d cluster nodes, more than %d", n, MaxClusterNodes)
			return
		}
		if n > 0 {
			v.Nodes = make([]ClusterNode, n)
		}
		for i := range v.Nodes {
			nd := &v.Nodes[i]
			nd.Name = r.Str32()
			nd.IP = r.Str32()
			nd.TCP = r.U16()
			nd.QUIC = r.U16()
			nd.HTTP = r.U16()
			nd.WebSocket = r.U16()
			nd.Role = r.U8()
			nd.Status = r.U8()
			if r.Err() != nil {
				return
			}
			if nd.Role > NodeFollower {
				r.Failf("cluster node %d: role %d", i, nd.Role)
			}
			if nd.Status > NodeMaintenance {
				r.Failf("cluster node %d: status %d", i, nd.Status)
			}
		}
	})
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ---------------------------------------------------------------------------
// DescribeOptions (13) (wire.md §5.1.5).

// Option scopes of DescribeOptions. Part of the protocol.
const (
	ScopeTopic  uint8 = 1
	ScopeStream uint8 = 2
	ScopeUser   uint8 = 3
)

// DescribeOptionsRequest is [scope u8]; Decode refuses a scope outside
// 1..3 (status 3).
type DescribeOptionsRequest struct {
	Scope uint8
}

// AppendTo appends the encoded request.
func (q DescribeOptionsRequest) AppendTo(dst []byte) []byte { return append(dst, q.Scope) }

// Decode decodes a request that is exactly b.
func (q *DescribeOptionsRequest) Decode(b []byte) error {
	var v DescribeOptionsRequest
	err := ctlDecode(b, func(r *Reader) {
		v.Scope = r.U8()
		if r.Err() == nil && (v.Scope < ScopeTopic || v.Scope > ScopeUser) {
			r.Failf("options scope %d", v.Scope)
		}
	})
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// OptionDescription is one catalog entry of the DescribeOptions reply:
// [key name8][kind u8][default_len u32][default][description_len u32][description UTF-8].
// Default is encoded in Kind (empty when the key has no default).
type OptionDescription struct {
	Key         string
	Kind        uint8
	Default     []byte // nil when empty
	Description string
}

const minOptionDescriptionSize = 2 + 1 + 4 + 4

// AppendTo appends the encoded entry.
func (d OptionDescription) AppendTo(dst []byte) []byte {
	dst = AppendName8(dst, d.Key)
	dst = append(dst, d.Kind)
	dst = AppendU32(dst, uint32(len(d.Default)))
	dst = append(dst, d.Default...)
	return AppendStr32(dst, d.Description)
}

// Decode decodes an entry that is exactly b.
func (d *OptionDescription) Decode(b []byte) error {
	var v OptionDescription
	err := ctlDecode(b, func(r *Reader) { v = readOptionDescription(r) })
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func readOptionDescription(r *Reader) OptionDescription {
	var d OptionDescription
	d.Key = r.Name8()
	d.Kind = r.U8()
	n := r.U32()
	if r.Err() == nil && uint64(n) > uint64(r.Len()) {
		r.Failf("option default of %d bytes at offset %d overruns the body", n, r.Offset()-4)
	}
	if r.Err() != nil {
		return OptionDescription{}
	}
	d.Default = ctlCopy(r.Bytes(int(n)))
	d.Description = r.Str32()
	return d
}

// AppendOptionDescriptions appends the DescribeOptions reply:
// [count u32] then count entries.
func AppendOptionDescriptions(dst []byte, ds []OptionDescription) []byte {
	dst = AppendU32(dst, uint32(len(ds)))
	for _, d := range ds {
		dst = d.AppendTo(dst)
	}
	return dst
}

// DecodeOptionDescriptions decodes a DescribeOptions reply that is exactly
// b. The count is required (stream and user scopes reply count 0); an
// empty list decodes to nil.
func DecodeOptionDescriptions(b []byte) ([]OptionDescription, error) {
	var ds []OptionDescription
	err := ctlDecode(b, func(r *Reader) {
		n := r.Count(minOptionDescriptionSize)
		if n > 0 {
			ds = make([]OptionDescription, 0, n)
		}
		for range n {
			d := readOptionDescription(r)
			if r.Err() != nil {
				return
			}
			ds = append(ds, d)
		}
	})
	if err != nil {
		return nil, err
	}
	return ds, nil
}

// ---------------------------------------------------------------------------
// GetMe (20), GetClient (21), GetClients (22) (wire.md §5.1.6–5.1.9).

// Client transports. Part of the protocol (TLS over TCP is TCP).
const (
	TransportTCP       uint8 = 1
	TransportQUIC      uint8 = 2
	TransportWebSocket uint8 = 4
)

// NoUser is the user id of a client that is not logged in.
const NoUser uint32 = math.MaxUint32

// GetClientRequest is [client_id u32].
type GetClientRequest struct {
	ClientID uint32
}

// AppendTo appends the encoded request.
func (q GetClientRequest) AppendTo(dst []byte) []byte { return AppendU32(dst, q.ClientID) }

// Decode decodes a request that is exactly b.
func (q *GetClientRequest) Decode(b []byte) error {
	var v GetClientRequest
	if err := ctlDecode(b, func(r *Reader) { v.ClientID = r.U32() }); err != nil {
		return err
	}
	*q = v
	return nil
}

// ClientInfo is a client record:
// [client_id u32][user_id u32][transport u8][address str32][consumer_groups_count u32].
// In a GetClients list the count is informational (no group entries follow).
type ClientInfo struct {
	ClientID            uint32
	UserID              uint32 // NoUser before login
	Transport           uint8
	Address             string // peer ip:port
	ConsumerGroupsCount uint32
}

const minClientInfoSize = 4 + 4 + 1 + 4 + 4

// AppendTo appends the encoded record.
func (c ClientInfo) AppendTo(dst []byte) []byte {
	dst = AppendU32(dst, c.ClientID)
	dst = AppendU32(dst, c.UserID)
	dst = append(dst, c.Transport)
	dst = AppendStr32(dst, c.Address)
	return AppendU32(dst, c.ConsumerGroupsCount)
}

// Decode decodes a record that is exactly b.
func (c *ClientInfo) Decode(b []byte) error {
	var v ClientInfo
	if err := ctlDecode(b, func(r *Reader) { v = readClientInfo(r) }); err != nil {
		return err
	}
	*c = v
	return nil
}

func readClientInfo(r *Reader) ClientInfo {
	var c ClientInfo
	c.ClientID = r.U32()
	c.UserID = r.U32()
	c.Transport = r.U8()
	c.Address = r.Str32()
	c.ConsumerGroupsCount = r.U32()
	return c
}

// ClientGroup is a consumer group a client belongs to:
// [stream_id u32][topic_id u32][group_id u32].
type ClientGroup struct {
	StreamID uint32
	TopicID  uint32
	GroupID  uint32
}

// ClientDetails is the GetClient and GetMe reply: ClientInfo then
// consumer_groups_count × ClientGroup.
type ClientDetails struct {
	ClientInfo
	Groups []ClientGroup // nil when empty
}

// AppendTo appends the encoded details; the count written is len(Groups)
// (ClientInfo.ConsumerGroupsCount is ignored).
func (c ClientDetails) AppendTo(dst []byte) []byte {
	info := c.ClientInfo
	info.ConsumerGroupsCount = uint32(len(c.Groups))
	dst = info.AppendTo(dst)
	for _, g := range c.Groups {
		dst = AppendU32(dst, g.StreamID)
		dst = AppendU32(dst, g.TopicID)
		dst = AppendU32(dst, g.GroupID)
	}
	return dst
}

// Decode decodes details that are exactly b.
func (c *ClientDetails) Decode(b []byte) error {
	var v ClientDetails
	err := ctlDecode(b, func(r *Reader) {
		v.ClientInfo = readClientInfo(r)
		n := ctlBound(r, v.ConsumerGroupsCount, 12, "client groups")
		if n > 0 {
			v.Groups = make([]ClientGroup, n)
		}
		for i := range v.Groups {
			v.Groups[i] = ClientGroup{StreamID: r.U32(), TopicID: r.U32(), GroupID: r.U32()}
		}
	})
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// AppendClients appends the GetClients reply: records back to back, no
// count.
func AppendClients(dst []byte, cs []ClientInfo) []byte {
	for _, c := range cs {
		dst = c.AppendTo(dst)
	}
	return dst
}

// DecodeClients decodes a GetClients reply; an empty body is an empty list
// (nil).
func DecodeClients(b []byte) ([]ClientInfo, error) {
	var cs []ClientInfo
	err := ctlDecode(b, func(r *Reader) {
		for r.Len() > 0 {
			c := readClientInfo(r)
			if r.Err() != nil {
				return
			}
			cs = append(cs, c)
		}
	})
	if err != nil {
		return nil, err
	}
	return cs, nil
}
