// Package config owns shoal's configuration: the settings a server starts
// with, where they come from, and whether they make sense.
//
// Settings come from three places, each overriding the one before:
//
//  1. the defaults (Default);
//  2. a TOML file, if one is given (see shoal.example.toml at the root of the
//     repository, which documents every key);
//  3. environment variables: every key has one, named "SHOAL_" followed by
//     the key's dotted path upper-cased with '.' turned into '_', so
//     storage.s3.endpoint is SHOAL_STORAGE_S3_ENDPOINT.
//
// Load applies them and validates the result; nothing else in the process
// reads SHOAL_* configuration variables, and nothing here touches the
// filesystem except to read the file (no directory is created by
// validation).
//
// # Keys
//
// The set of keys is the Config struct: each leaf field is one key, named by
// its toml tags, documented by its doc tag, and optionally constrained by an
// enum tag (the allowed values, comma-separated) or min and max tags (an
// inclusive range, in the field's own syntax; a min starting with '>' is
// exclusive). Keys derives its table from those tags once, so adding a key
// is adding a field (with a default in Default, if it is not the zero value)
// and one documented line in shoal.example.toml; its environment variable,
// its help text and its enum or range check come with it. Checks that a tag
// cannot express (host:port, URLs, bucket names, pairs of keys) live in
// validate.go.
//
// Leaf fields are string, int, bool, Size ("8MiB") or Duration ("20s").
// Fields tagged secret:"true" are hidden by Redacted, LogValue and String.
//
// # Errors and warnings
//
// Every invalid value is reported as a *KeyError naming the key, its
// environment variable and what is allowed; Load reports all of them at once
// (errors.Join). Keys in the file that shoal does not know are errors.
// SHOAL_* environment variables that are not keys are only warnings, since
// the environment is shared with other tools; a few names are reserved for
// purposes other than server configuration and never warned about:
// SHOAL_CONFIG (the file to load), SHOAL_ADDRESS, SHOAL_USERNAME,
// SHOAL_PASSWORD and SHOAL_TOKEN (the command-line client), SHOAL_CACHE_DIR
// (scripts/test) and anything starting with SHOAL_TEST_ (tests).
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// EnvConfigFile names the environment variable that gives the path of the
// configuration file when no --config flag does.
const EnvConfigFile = "SHOAL_CONFIG"

// EnvPrefix starts the name of every configuration environment variable.
const EnvPrefix = "SHOAL_"

// Config is the whole configuration of a shoal server.
type Config struct {
	DataDir string        `toml:"data_dir" doc:"directory of the fs storage backend (created at start if missing); unused by s3 and memory"`
	TCP     TCPConfig     `toml:"tcp"`
	Users   UsersConfig   `toml:"users"`
	Log     LogConfig     `toml:"log"`
	Storage StorageConfig `toml:"storage"`
	Journal JournalConfig `toml:"journal"`
	Segment SegmentConfig `toml:"segments"`
}

// JournalConfig is how appends become durable (see internal/logstore).
type JournalConfig struct {
	Ack                string   `toml:"ack" enum:"durable,received" doc:"when a send is answered: durable (after its journal flush is in storage; nothing acknowledged is ever lost) or received (at once; a crash can lose the last flush window)"`
	FlushBytes         Size     `toml:"flush_bytes" min:"64KiB" max:"1GiB" doc:"a journal flush is cut when this much waits (or one more batch like the last would take it past this), even while the previous one is in flight"`
	MinFlushInterval   Duration `toml:"min_flush_interval" min:"0s" doc:"least time between two flushes: a cap on PUTs per second on S3 (0: flush as soon as the previous one is done)"`
	LazyFlushInterval  Duration `toml:"lazy_flush_interval" min:"0s" doc:"how long offsets that consumers commit as they poll wait to be written with other data before they are written by themselves: with consumers alone, one PUT per interval (0: at once; a crash loses at most this window of them, and consumers read those messages again)"`
	MaxInflightFlushes int      `toml:"max_inflight_flushes" min:"1" max:"64" doc:"journal flushes written at once on an object store (on fs two overlap: one is written while the one before is synced)"`
	SendTimeout        Duration `toml:"send_timeout" min:">0" doc:"how long a send waits for storage (an outage, throttling) before it fails with an error"`
	CheckpointInterval Duration `toml:"checkpoint_interval" min:">0" doc:"how often a manifest is written and the journal trimmed"`
}

// SegmentConfig is how journal data is sealed into segments and read back.
type SegmentConfig struct {
	Bytes      Size     `toml:"bytes" min:"64KiB" max:"4GiB" doc:"a partition's journal data is sealed into a segment object once it reaches about this size (each partition at its own point in the last eighth below it, so that partitions written at one rate are not all sealed at once)"`
	MaxAge     Duration `toml:"max_age" min:">0" doc:"data older than this is sealed whatever its size"`
	BlockCache Size     `toml:"block_cache" min:"1MiB" doc:"memory for cached blocks of segments read back"`
	TailCache  Size     `toml:"tail_cache" min:"1MiB" doc:"memory for the unsealed tails of all partitions: past it, the partitions holding the most drop theirs from memory and read it from the journal until sealed (or are sealed early when their segment would be a copy); tails a seal links are dropped past a quarter of it, what has been read first, until a read first has to go to the journal for one; the buffers of large sends the tails let go of are kept for the next requests, up to a quarter of it"`
	Linked     bool     `toml:"linked" doc:"seal into linked segments, which point at the batches where the journal wrote them instead of copying them (every byte is written once); false copies every segment's batches"`
	// LinkedMaxAge applies to S3 only.
	LinkedMaxAge Duration `toml:"linked_max_age" min:"0s" doc:"on S3, linked segments whose newest message is older than this are copied into ordinary segments, so old data is read from one object per segment and the journal objects can be deleted (0: never); on fs linked segments are copied only when they keep journal files that hold mostly deleted data"`
}

// TCPConfig configures the Iggy binary-protocol TCP listener.
type TCPConfig struct {
	Address        string   `toml:"address" doc:"host:port the TCP protocol listener binds to, port 1-65535, or 0 for any free port (logged at start); an empty host means all interfaces"`
	TLSCert        string   `toml:"tls_cert" doc:"PEM certificate (chain) file: with tls_key, the listener serves TLS; empty means plain TCP"`
	TLSKey         string   `toml:"tls_key" doc:"PEM private key file of tls_cert"`
	MaxConnections int      `toml:"max_connections" min:"1" max:"1000000" doc:"most client connections open at once; more are closed as they arrive"`
	MaxFrameSize   Size     `toml:"max_frame_size" min:"64KiB" max:"64MiB" doc:"largest request frame accepted (header included); a larger one gets an eviction and the connection is closed"`
	IdleTimeout    Duration `toml:"idle_timeout" min:">0" doc:"a connection that sends no request for this long is closed"`
	ReadTimeout    Duration `toml:"read_timeout" min:">0" doc:"time a client has to send the rest of a frame once it started one, and to read a reply; slower clients are dropped"`
}

// UsersConfig configures the root user.
type UsersConfig struct {
	RootUsername string `toml:"root_username" doc:"username of the root user (id 0, every permission), created on a fresh store"`
	RootPassword string `toml:"root_password" secret:"true" doc:"password of the root user; when it differs from the stored one at start, the stored one is replaced"`
}

// LogConfig configures the server's log, written to standard error.
type LogConfig struct {
	Level  string `toml:"level" enum:"debug,info,warn,error" doc:"least severe level written to the log"`
	Format string `toml:"format" enum:"text,json" doc:"log line format: text (key=value) or json (one object per line)"`
}

// The storage kinds.
const (
	StorageFS     = "fs"
	StorageS3     = "s3"
	StorageMemory = "memory"
)

// StorageConfig selects and configures the object store all data lives in.
type StorageConfig struct {
	Kind string   `toml:"kind" enum:"fs,s3,memory" doc:"where data is kept: fs (files under data_dir), s3 (an S3-compatible bucket, no local files), memory (tests only: everything is lost at exit)"`
	S3   S3Config `toml:"s3"`
}

// The S3 addressing styles.
const (
	AddressingAuto        = "auto"
	AddressingPath        = "path"
	AddressingVirtualHost = "virtual-host"
)

// S3Config configures the s3 storage backend.
type S3Config struct {
	Endpoint          string   `toml:"endpoint" doc:"URL of the S3-compatible service, http(s)://host[:port]; empty means AWS S3 in region"`
	Bucket            string   `toml:"bucket" doc:"bucket name, required when storage.kind is s3: 3-63 characters of lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"`
	Prefix            string   `toml:"prefix" doc:"optional key prefix in the bucket, to share a bucket: objects are stored under <prefix>/ (no leading '/'; a trailing one is optional)"`
	Region            string   `toml:"region" doc:"region used to sign requests (and to find the AWS endpoint when endpoint is empty)"`
	Addressing        string   `toml:"addressing" enum:"auto,path,virtual-host" doc:"request addressing: path (http://host/bucket/key), virtual-host (http://bucket.host/key), or auto (path when endpoint is set, virtual-host otherwise)"`
	AccessKeyID       string   `toml:"access_key_id" doc:"static access key id; empty means the AWS credential chain (environment, shared files, container, web identity, instance metadata)"`
	SecretAccessKey   string   `toml:"secret_access_key" secret:"true" doc:"static secret access key; set both or neither with access_key_id"`
	SessionToken      string   `toml:"session_token" secret:"true" doc:"optional session token of temporary static credentials; needs access_key_id and secret_access_key"`
	PartSize          Size     `toml:"part_size" min:"5MiB" max:"5GiB" doc:"part size of multipart uploads; objects smaller than one part are written with a single PUT"`
	UploadConcurrency int      `toml:"upload_concurrency" min:"1" max:"64" doc:"parts of one object uploaded at once (memory use is about part_size times this, per writer)"`
	MaxAttempts       int      `toml:"max_attempts" min:"1" max:"100" doc:"attempts per request, including the first, on throttling, 5xx and timeouts"`
	MaxBackoff        Duration `toml:"max_backoff" min:">0" doc:"longest wait between two attempts of a request (backoff is exponential with jitter)"`
	RequestTimeout    Duration `toml:"request_timeout" min:">0" doc:"time limit of one attempt of one request"`
}

// Default returns the configuration used for every key that neither the
// file nor the environment sets.
func Default() Config {
	return Config{
		DataDir: "./data",
		TCP: TCPConfig{Address: "127.0.0.1:8090", MaxConnections: 10000, MaxFrameSize: 64 << 20,
			IdleTimeout: Duration(10 * time.Minute), ReadTimeout: Duration(time.Minute)},
		Users: UsersConfig{RootUsername: "iggy", RootPassword: "iggy"},
		Log:   LogConfig{Level: "info", Format: "text"},
		Storage: StorageConfig{
			Kind: StorageFS,
			S3: S3Config{
				Region:            "us-east-1",
				Addressing:        AddressingAuto,
				PartSize:          8 * MiB,
				UploadConcurrency: 4,
				MaxAttempts:       10,
				MaxBackoff:        Duration(20 * time.Second),
				RequestTimeout:    Duration(30 * time.Second),
			},
		},
		Journal: JournalConfig{
			Ack:                "durable",
			FlushBytes:         2 * MiB,
			LazyFlushInterval:  Duration(time.Second),
			MaxInflightFlushes: 4,
			SendTimeout:        Duration(30 * time.Second),
			CheckpointInterval: Duration(time.Minute),
		},
		Segment: SegmentConfig{
			Bytes:        64 * MiB,
			MaxAge:       Duration(10 * time.Minute),
			BlockCache:   64 * MiB,
			TailCache:    GiB,
			Linked:       true,
			LinkedMaxAge: Duration(10 * time.Minute),
		},
	}
}

// UsePathStyle reports whether requests address the bucket in the path
// (http://host/bucket/key) rather than in the host name.
func (s S3Config) UsePathStyle() bool {
	switch s.Addressing {
	case AddressingPath:
		return true
	case AddressingVirtualHost:
		return false
	default:
		return s.Endpoint != ""
	}
}

// Load returns the configuration made of the defaults, the TOML file at path
// (none if path is ""), and the environment variables getenv finds, in
// increasing priority, validated. environ (in os.Environ's "KEY=value" form)
// is only searched for SHOAL_* variables that are not keys, which are
// returned as warnings. A nil getenv means an empty environment.
//
// The error joins every problem found: the file's unknown keys, then the
// environment's values that do not parse, then Validate's. A file that
// cannot be read or decoded (a syntax error, a value of the wrong type) is
// the only error reported.
func Load(path string, getenv func(string) (string, bool), environ []string) (Config, []string, error) {
	c := Default()
	var errs []error
	if path != "" {
		unknown, err := c.decodeFile(path)
		if err != nil {
			return Config{}, nil, err
		}
		errs = unknown
	}
	warnings := unknownEnv(environ)
	errs = append(errs, c.applyEnv(getenv)...)
	errs = append(errs, c.validate()...)
	if len(errs) > 0 {
		return Config{}, warnings, errors.Join(errs...)
	}
	return c, warnings, nil
}

// decodeFile decodes the TOML file at path over c. It returns an error for
// each key the file sets that Config does not have, or the error that
// stopped it reading the file.
func (c *Config) decodeFile(path string) (unknown []error, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	md, err := toml.Decode(string(data), c)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	reported := make(map[string]bool)
	for _, k := range md.Undecoded() {
		// An unknown table makes every key in it undecoded too: report
		// only the outermost.
		if covered(k, reported) {
			continue
		}
		name := k.String()
		reported[name] = true
		what := "unknown key"
		if md.Type(k...) == "Hash" {
			what = "unknown table"
		}
		msg := fmt.Sprintf("config file %s: %s %s", path, what, name)
		if near := suggestKey(k); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		unknown = append(unknown, errors.New(msg))
	}
	return unknown, nil
}

// covered reports whether a parent of k was already reported.
func covered(k toml.Key, reported map[string]bool) bool {
	for i := 1; i < len(k); i++ {
		if reported[k[:i].String()] {
			return true
		}
	}
	return false
}

// suggestKey returns the known key the unknown key k was probably meant to
// be, or "": one a typo away, one with the same name in another table, or
// one in the same table whose name starts like k's.
func suggestKey(k toml.Key) string {
	name := k.String()
	if near := nearest(name, keyNames()); near != "" {
		return near
	}
	leaf, parent := k[len(k)-1], k[:len(k)-1].String()
	for _, known := range keyNames() {
		kp, kl := "", known
		if i := strings.LastIndexByte(known, '.'); i >= 0 {
			kp, kl = known[:i], known[i+1:]
		}
		if kl == leaf || (kp == parent && (strings.HasPrefix(leaf, kl) || strings.HasPrefix(kl, leaf))) {
			return known
		}
	}
	return ""
}

// applyEnv sets every key whose environment variable getenv finds.
func (c *Config) applyEnv(getenv func(string) (string, bool)) []error {
	if getenv == nil {
		return nil
	}
	var errs []error
	for _, k := range table() {
		s, ok := getenv(k.Env)
		if !ok {
			continue
		}
		if err := k.set(c, s); err != nil {
			errs = append(errs, k.errorf("environment value %q is not %s", s, err))
		}
	}
	return errs
}

// reservedEnv are SHOAL_* variables that are not server configuration; see
// the package doc.
var reservedEnv = []string{EnvConfigFile, "SHOAL_ADDRESS", "SHOAL_USERNAME", "SHOAL_PASSWORD", "SHOAL_TOKEN", "SHOAL_CACHE_DIR"}

const reservedEnvPrefix = "SHOAL_TEST_"

// unknownEnv returns a warning for each SHOAL_* variable in environ that is
// neither a key nor reserved, in name order.
func unknownEnv(environ []string) []string {
	known := make(map[string]bool)
	var envs []string
	for _, k := range table() {
		known[k.Env] = true
		envs = append(envs, k.Env)
	}
	var names []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || known[name] ||
			strings.HasPrefix(name, reservedEnvPrefix) || slices.Contains(reservedEnv, name) {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var warnings []string
	for i, name := range names {
		if i > 0 && names[i-1] == name {
			continue
		}
		w := fmt.Sprintf("environment variable %s is not a configuration key; ignored", name)
		if near := nearest(name, envs); near != "" {
			w += fmt.Sprintf(" (did you mean %s?)", near)
		}
		warnings = append(warnings, w)
	}
	return warnings
}

// nearest returns the candidate closest to s by edit distance, if it is
// close enough to be a likely typo, or "".
func nearest(s string, candidates []string) string {
	best, bestDist := "", 3 // at most 2 edits
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// redactedText replaces the value of a secret that is set.
const redactedText = "REDACTED"

// Redacted returns a copy of c with every secret that is set replaced by
// "REDACTED" (an unset secret stays empty, so logs show whether it is set).
func (c Config) Redacted() Config {
	for _, k := range table() {
		if !k.Secret {
			continue
		}
		if f := k.field(&c); f.String() != "" {
			f.SetString(redactedText)
		}
	}
	return c
}

// LogValue implements slog.LogValuer: the configuration as nested groups,
// secrets redacted.
func (c Config) LogValue() slog.Value { return groupValue(reflect.ValueOf(c)) }

// String describes the configuration, secrets redacted.
func (c Config) String() string { return c.LogValue().String() }

// LogValue implements slog.LogValuer, secrets redacted.
func (s S3Config) LogValue() slog.Value { return groupValue(reflect.ValueOf(s)) }

// String describes the S3 configuration, secrets redacted, so that printing
// it (or a Config holding it) with %v does not reveal them.
func (s S3Config) String() string { return s.LogValue().String() }

// groupValue turns a configuration struct into a slog group, one attribute
// per field named by its toml tag, hiding fields tagged secret.
func groupValue(v reflect.Value) slog.Value {
	t := v.Type()
	attrs := make([]slog.Attr, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name := tomlName(f)
		fv := v.Field(i)
		switch {
		case isSection(f.Type):
			attrs = append(attrs, slog.Attr{Key: name, Value: groupValue(fv)})
		case f.Tag.Get("secret") == "true":
			s := ""
			if !fv.IsZero() {
				s = redactedText
			}
			attrs = append(attrs, slog.String(name, s))
		case fv.Kind() == reflect.Int:
			attrs = append(attrs, slog.Int64(name, fv.Int()))
		case fv.Kind() == reflect.Bool:
			attrs = append(attrs, slog.Bool(name, fv.Bool()))
		default:
			attrs = append(attrs, slog.String(name, formatValue(fv)))
		}
	}
	return slog.GroupValue(attrs...)
}
