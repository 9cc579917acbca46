package broker

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Option value kinds (the protocol's header kinds).
const (
	KindRawValue uint8 = 1
	KindString   uint8 = 2
	KindBool     uint8 = 3
	KindUint8    uint8 = 9
	KindUint32   uint8 = 11
	KindUint64   uint8 = 12
)

// Option is one key/value of a topic's options as a client sent it.
type Option struct {
	Key   string
	Kind  uint8
	Value []byte
}

// Never and Unlimited are the "no limit" values of message expiry and
// max topic size.
const (
	Never     = math.MaxUint64
	Unlimited = math.MaxUint64
)

// Compression algorithms (the protocol's values; metadata only).
const (
	CompressionNone uint8 = 1
	CompressionGzip uint8 = 2
)

// TopicConfig is a topic's resolved options plus the explicit ones as
// stored.
type TopicConfig struct {
	MessageExpiry                uint64   `json:"message_expiry"` // µs; Never
	MaxTopicSize                 uint64   `json:"max_topic_size"` // bytes; Unlimited
	Compression                  uint8    `json:"compression"`
	SegmentSize                  uint64   `json:"segment_size"`
	EnforceFsync                 bool     `json:"enforce_fsync"`
	MessagesRequiredToSave       uint32   `json:"messages_required_to_save"`
	SizeOfMessagesRequiredToSave uint64   `json:"size_of_messages_required_to_save"`
	PreallocateSegments          bool     `json:"preallocate_segments"`
	Explicit                     []Option `json:"explicit,omitempty"` // sorted by key
}

// OptionInfo describes a catalog option (DescribeOptions).
type OptionInfo struct {
	Key         string
	Kind        uint8
	Default     []byte
	Description string
}

const (
	keyCompression = "compression_algorithm"
	keyExpiry      = "message_expiry"
	keyMaxSize     = "max_topic_size"
	keySegmentSize = "segment_size"
	keyFsync       = "enforce_fsync"
	keyMsgsToSave  = "messages_required_to_save"
	keySizeToSave  = "size_of_messages_required_to_save"
	keyPrealloc    = "preallocate_segments"
)

const (
	defaultSegmentSize = 1 << 30
	defaultMsgsToSave  = 1024
	defaultSizeToSave  = 1 << 20
)

// TopicOptionCatalog lists the topic options, in the order DescribeOptions
// gives them.
func TopicOptionCatalog() []OptionInfo {
	return []OptionInfo{
		{keyCompression, KindString, []byte("none"), "compression of the topic's messages, recorded only (clients compress): none or gzip; updatable"},
		{keyExpiry, KindUint64, u64(Never), "how long messages are kept, in microseconds; 0 = server default (never), 18446744073709551615 = never; updatable"},
		{keyMaxSize, KindUint64, u64(Unlimited), "most bytes the topic keeps before its oldest segments are deleted; 0 = server default (unlimited), 18446744073709551615 = unlimited; at least segment_size; updatable"},
		{keySegmentSize, KindUint64, u64(defaultSegmentSize), "segment size in bytes: a multiple of 512 from 1 MiB to 1 GiB; 0 = default (1 GiB); fixed at creation"},
		{keyFsync, KindBool, []byte{0}, "sync every write (shoal makes every acknowledged write durable anyway); fixed at creation"},
		{keyMsgsToSave, KindUint32, u32(defaultMsgsToSave), "messages buffered before a flush, 1 to 16777216 (recorded; shoal's journal decides flushes); fixed at creation"},
		{keySizeToSave, KindUint64, u64(defaultSizeToSave), "bytes buffered before a flush, at most 1 GiB; 0 = default (recorded; shoal's journal decides flushes); fixed at creation"},
		{keyPrealloc, KindBool, []byte{0}, "preallocate segment files (recorded only); segment_size × partitions at most 64 GiB; fixed at creation"},
	}
}

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// defaultTopicConfig is a topic with no options set.
func defaultTopicConfig() TopicConfig {
	return TopicConfig{
		MessageExpiry: Never, MaxTopicSize: Unlimited, Compression: CompressionNone,
		SegmentSize: defaultSegmentSize, MessagesRequiredToSave: defaultMsgsToSave,
		SizeOfMessagesRequiredToSave: defaultSizeToSave,
	}
}

// newTopicConfig resolves the options of a CreateTopic (wire.md §5.5.4).
func newTopicConfig(opts []Option, partitions uint32) (TopicConfig, error) {
	c := defaultTopicConfig()
	seen := map[string]bool{}
	for _, o := range opts {
		if seen[o.Key] {
			return c, errf(KindOptionValue, "option %q given twice", o.Key)
		}
		seen[o.Key] = true
		canon, unset, err := c.set(o, false)
		if err != nil {
			return c, err
		}
		if !unset {
			c.Explicit = append(c.Explicit, canon)
		}
	}
	slices.SortFunc(c.Explicit, func(a, b Option) int { return strings.Compare(a.Key, b.Key) })
	if c.MaxTopicSize < c.SegmentSize {
		return c, errf(KindTopicSize, "max_topic_size %d is below segment_size %d", c.MaxTopicSize, c.SegmentSize)
	}
	if c.PreallocateSegments && c.SegmentSize*uint64(partitions) > 64<<30 {
		return c, errf(KindOptionValue, "preallocate_segments with segment_size × partitions above 64 GiB")
	}
	return c, nil
}

// update patches c with the options of an UpdateTopic (wire.md §5.5.5).
func (c TopicConfig) update(opts []Option) (TopicConfig, error) {
	n := c
	n.Explicit = slices.Clone(c.Explicit)
	for _, o := range opts {
		switch o.Key {
		case keyCompression, keyExpiry, keyMaxSize:
		default:
			return c, errf(KindOptionKey, "option %q cannot be updated (only %s, %s and %s can)", o.Key, keyCompression, keyExpiry, keyMaxSize)
		}
		if _, _, err := n.set(o, true); err != nil {
			return c, err
		}
		stored := Option{Key: o.Key, Kind: o.Kind, Value: slices.Clone(o.Value)}
		i := slices.IndexFunc(n.Explicit, func(e Option) bool { return e.Key == o.Key })
		if i >= 0 {
			n.Explicit[i] = stored
		} else {
			n.Explicit = append(n.Explicit, stored)
		}
	}
	slices.SortFunc(n.Explicit, func(a, b Option) int { return strings.Compare(a.Key, b.Key) })
	if n.MaxTopicSize != 0 && n.MaxTopicSize < n.SegmentSize {
		return c, errf(KindTopicSize, "max_topic_size %d is below segment_size %d", n.MaxTopicSize, n.SegmentSize)
	}
	return n, nil
}

// Derived returns the catalog options the client did not set, with their
// resolved values in canonical kinds.
func (c TopicConfig) Derived() []Option {
	var out []Option
	for _, info := range TopicOptionCatalog() {
		if slices.ContainsFunc(c.Explicit, func(e Option) bool { return e.Key == info.Key }) {
			continue
		}
		out = append(out, Option{Key: info.Key, Kind: info.Kind, Value: c.canonical(info.Key)})
	}
	slices.SortFunc(out, func(a, b Option) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func (c TopicConfig) canonical(key string) []byte {
	switch key {
	case keyCompression:
		if c.Compression == CompressionGzip {
			return []byte("gzip")
		}
		return []byte("none")
	case keyExpiry:
		return u64(c.MessageExpiry)
	case keyMaxSize:
		return u64(c.MaxTopicSize)
	case keySegmentSize:
		return u64(c.SegmentSize)
	case keyFsync:
		return boolBytes(c.EnforceFsync)
	case keyMsgsToSave:
		return u32(c.MessagesRequiredToSave)
	case keySizeToSave:
		return u64(c.SizeOfMessagesRequiredToSave)
	case keyPrealloc:
		return boolBytes(c.PreallocateSegments)
	}
	return nil
}

func boolBytes(b bool) []byte {
	if b {
		return []byte{1}
	}
	return []byte{0}
}

// set applies one option to c. It returns the option in its canonical
// kind, and unset = true when the value is the "unset" sentinel (then the
// option is derived, not explicit). On update, sentinels are stored as
// sent.
func (c *TopicConfig) set(o Option, update bool) (Option, bool, error) {
	canon := Option{Key: o.Key}
	switch o.Key {
	case keyCompression:
		var alg uint8
		switch {
		case o.Kind == KindString && strings.EqualFold(string(o.Value), "none"):
			alg = CompressionNone
		case o.Kind == KindString && strings.EqualFold(string(o.Value), "gzip"):
			alg = CompressionGzip
		case o.Kind == KindUint8 && len(o.Value) == 1 && (o.Value[0] == 1 || o.Value[0] == 2):
			alg = o.Value[0]
		default:
			return canon, false, badValue(o, "none or gzip")
		}
		c.Compression = alg
		canon.Kind, canon.Value = KindString, c.canonical(keyCompression)
		return canon, false, nil
	case keyExpiry:
		v, err := durationValue(o)
		if err != nil {
			return canon, false, err
		}
		if v == 0 && !update {
			return canon, true, nil
		}
		c.MessageExpiry = v
		canon.Kind, canon.Value = KindUint64, u64(v)
		return canon, false, nil
	case keyMaxSize:
		v, err := sizeValue(o)
		if err != nil {
			return canon, false, err
		}
		if v == 0 && !update {
			return canon, true, nil
		}
		c.MaxTopicSize = v
		canon.Kind, canon.Value = KindUint64, u64(v)
		return canon, false, nil
	case keySegmentSize:
		v, err := sizeValue(o)
		if err != nil {
			return canon, false, err
		}
		if v == 0 {
			return canon, true, nil
		}
		if v < 1<<20 || v > 1<<30 || v%512 != 0 {
			return canon, false, badValue(o, "a multiple of 512 from 1 MiB to 1 GiB")
		}
		c.SegmentSize = v
		canon.Kind, canon.Value = KindUint64, u64(v)
		return canon, false, nil
	case keyFsync, keyPrealloc:
		v, err := boolValue(o)
		if err != nil {
			return canon, false, err
		}
		if o.Key == keyFsync {
			c.EnforceFsync = v
		} else {
			c.PreallocateSegments = v
		}
		canon.Kind, canon.Value = KindBool, boolBytes(v)
		return canon, false, nil
	case keyMsgsToSave:
		v, err := intValue(o, KindUint32)
		if err != nil {
			return canon, false, err
		}
		if v < 1 || v > 16_777_216 {
			return canon, false, badValue(o, "1 to 16777216")
		}
		c.MessagesRequiredToSave = uint32(v)
		canon.Kind, canon.Value = KindUint32, u32(uint32(v))
		return canon, false, nil
	case keySizeToSave:
		v, err := sizeValue(o)
		if err != nil {
			return canon, false, err
		}
		if v == 0 {
			return canon, true, nil
		}
		if v > 1<<30 {
			return canon, false, badValue(o, "at most 1 GiB")
		}
		c.SizeOfMessagesRequiredToSave = v
		canon.Kind, canon.Value = KindUint64, u64(v)
		return canon, false, nil
	default:
		return canon, false, errf(KindOptionKey, "unknown topic option %q", o.Key)
	}
}

func badValue(o Option, want string) *Error {
	return errf(KindOptionValue, "invalid value for option %q: want %s", o.Key, want)
}

func intValue(o Option, canonical uint8) (uint64, error) {
	switch {
	case o.Kind == canonical && canonical == KindUint64 && len(o.Value) == 8:
		return binary.LittleEndian.Uint64(o.Value), nil
	case o.Kind == canonical && canonical == KindUint32 && len(o.Value) == 4:
		return uint64(binary.LittleEndian.Uint32(o.Value)), nil
	case o.Kind == KindString:
		v, err := strconv.ParseUint(strings.TrimSpace(string(o.Value)), 10, 64)
		if err != nil {
			return 0, badValue(o, "a decimal integer")
		}
		return v, nil
	}
	return 0, badValue(o, "an unsigned integer")
}

func boolValue(o Option) (bool, error) {
	switch {
	case o.Kind == KindBool && len(o.Value) == 1 && o.Value[0] <= 1:
		return o.Value[0] == 1, nil
	case o.Kind == KindString:
		switch strings.ToLower(strings.TrimSpace(string(o.Value))) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, badValue(o, "true or false")
}

// durationValue reads µs: a Uint64, or a string such as "7d", "1h 30m",
// "500ms", "never" or "0".
func durationValue(o Option) (uint64, error) {
	if o.Kind != KindString {
		return intValue(o, KindUint64)
	}
	s := strings.ToLower(strings.TrimSpace(string(o.Value)))
	switch s {
	case "never", "unlimited", "none":
		return Never, nil
	}
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return v, nil
	}
	d, ok := parseHumanDuration(s)
	if !ok {
		return 0, badValue(o, "a duration such as 7d, 1h 30m or never")
	}
	return uint64(d / time.Microsecond), nil
}

func parseHumanDuration(s string) (time.Duration, bool) {
	units := map[string]time.Duration{
		"us": time.Microsecond, "µs": time.Microsecond, "usec": time.Microsecond,
		"ms": time.Millisecond, "msec": time.Millisecond,
		"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
		"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
		"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
		"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
		"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
	}
	var total time.Duration
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	for s != "" {
		i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) })
		if i <= 0 {
			return 0, false
		}
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil {
			return 0, false
		}
		s = strings.TrimLeft(s[i:], " ")
		j := strings.IndexFunc(s, func(r rune) bool { return unicode.IsDigit(r) || r == ' ' })
		if j < 0 {
			j = len(s)
		}
		u, ok := units[s[:j]]
		if !ok {
			return 0, false
		}
		total += time.Duration(n) * u
		s = strings.TrimLeft(s[j:], " ")
	}
	return total, true
}

// sizeValue reads bytes: a Uint64, or a string such as "128 MiB", "1GB",
// "unlimited" or "0".
func sizeValue(o Option) (uint64, error) {
	if o.Kind != KindString {
		return intValue(o, KindUint64)
	}
	s := strings.TrimSpace(string(o.Value))
	switch strings.ToLower(s) {
	case "unlimited", "none", "never":
		return Unlimited, nil
	}
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	if i < 0 {
		i = len(s)
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || n < 0 {
		return 0, badValue(o, "a size such as 128 MiB")
	}
	units := map[string]float64{
		"": 1, "b": 1, "kb": 1e3, "kib": 1 << 10, "mb": 1e6, "mib": 1 << 20,
		"gb": 1e9, "gib": 1 << 30, "tb": 1e12, "tib": 1 << 40,
	}
	u, ok := units[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok || n*u > math.MaxUint64/2 {
		return 0, badValue(o, "a size such as 128 MiB")
	}
	return uint64(n * u), nil
}
