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

// StringKV returns an option entry key = String value.
func StringKV(key, value string) KV { return wire.StringKV(key, value) }

// BoolKV returns an option entry key = Bool value.
func BoolKV(key string, value bool) KV { return wire.BoolKV(key, value) }

// Uint8KV returns an option entry key = Uint8 value.
func Uint8KV(key string, value uint8) KV { return wire.Uint8KV(key, value) }

// Uint32KV returns an option entry key = Uint32 value.
func Uint32KV(key string, value uint32) KV { return wire.Uint32KV(key, value) }

// Uint64KV returns an option entry key = Uint64 value.
func Uint64KV(key string, value uint64) KV { return wire.Uint64KV(key, value) }

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
