package client

import (
	"github.com/shoalstream/shoal/internal/wire"
)

// Identifier names a stream, topic, consumer, consumer group or user: a
// numeric id or a name.
type Identifier = wire.Identifier

// NumericID returns the identifier of numeric id (ids are 0-based).
func NumericID(id uint32) Identifier { return wire.NumericID(id) }

// NamedID returns the identifier of a name (1..255 bytes, matched
// exactly).
func NamedID(name string) Identifier { return wire.NamedID(name) }

// Uint128 is a 128-bit value: low half first.
type Uint128 = wire.Uint128

// KV is one key/value entry of an options block.
type KV = wire.KV

// OptionsBlock is the options of a topic, stream or user: key/value
// entries in wire order, with string keys.
type OptionsBlock = wire.Options

// Option entry constructors.
var (
	StringKV = wire.StringKV
	BoolKV   = wire.BoolKV
	Uint8KV  = wire.Uint8KV
	Uint32KV = wire.Uint32KV
	Uint64KV = wire.Uint64KV
)

// Sentinels of u64 settings.
const (
	// ExpiryNever is a message expiry that never expires.
	ExpiryNever = wire.ExpiryNever
	// MaxTopicSizeUnlimited is a topic size without a limit.
	MaxTopicSizeUnlimited = wire.MaxTopicSizeUnlimited
)

// Permissions of a user: global ones and per stream and topic.
type (
	Permissions       = wire.Permissions
	GlobalPermissions = wire.GlobalPermissions
	StreamPermissions = wire.StreamPermissions
	TopicPermissions  = wire.TopicPermissions
)

// Server-side records.
type (
	Stats                  = wire.Stats
	CacheMetric            = wire.CacheMetric
	ClusterMetadata        = wire.ClusterMetadata
	ClusterNode            = wire.ClusterNode
	OptionDescription      = wire.OptionDescription
	ClientInfo             = wire.ClientInfo
	ClientDetails          = wire.ClientDetails
	ClientGroup            = wire.ClientGroup
	User                   = wire.User
	UserDetails            = wire.UserDetails
	PersonalAccessToken    = wire.PATInfo
	RawPersonalAccessToken = wire.RawPAT
	Stream                 = wire.Stream
	StreamDetails          = wire.StreamDetails
	TopicHeader            = wire.TopicHeader
	TopicDetails           = wire.TopicDetails
	Partition              = wire.Partition
)
