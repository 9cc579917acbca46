package wire_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shoalstream/shoal/internal/wire"
)

// Loading the golden vectors of the control plane (testdata/vectors: the
// request bytes the official Go SDK writes, and under replies/ the reply
// bodies its tests decode with what it decodes from them). Helpers carry a
// ctl prefix: the message-plane tests of this package have their own.

// ctlCodec is what every control-plane payload type implements.
type ctlCodec interface {
	AppendTo(dst []byte) []byte
	Decode(b []byte) error
}

// ctlVec is a vector file read as loosely typed JSON (numbers kept exact).
type ctlVec map[string]any

func ctlLoad(t testing.TB, path string) ctlVec {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "vectors", path))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v ctlVec
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func ctlUnhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// body returns a request vector's body_hex.
func (v ctlVec) body(t testing.TB) []byte { return ctlUnhex(t, v["body_hex"].(string)) }

// payload returns a reply vector's payload: after the result section when
// framed.
func (v ctlVec) payload(t testing.TB) []byte {
	if p, ok := v["payload_hex"].(string); ok {
		return ctlUnhex(t, p)
	}
	return ctlUnhex(t, v["reply_body_hex"].(string))
}

func (v ctlVec) obj(k string) ctlVec {
	o, _ := v[k].(map[string]any)
	return o
}

func (v ctlVec) list(k string) []ctlVec {
	l, _ := v[k].([]any)
	out := make([]ctlVec, len(l))
	for i, e := range l {
		out[i], _ = e.(map[string]any)
	}
	return out
}

func (v ctlVec) str(k string) string { s, _ := v[k].(string); return s }

func (v ctlVec) isNull(k string) bool { x, ok := v[k]; return !ok || x == nil }

func (v ctlVec) bool(k string) bool { b, _ := v[k].(bool); return b }

// u64 reads a JSON number or a decimal string (values above 2^53).
func (v ctlVec) u64(t testing.TB, k string) uint64 {
	t.Helper()
	var s string
	switch x := v[k].(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		t.Fatalf("field %q is %T, not a number", k, v[k])
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("field %q: %v", k, err)
	}
	return n
}

func (v ctlVec) u32(t testing.TB, k string) uint32 { return uint32(v.u64(t, k)) }
func (v ctlVec) u16(t testing.TB, k string) uint16 { return uint16(v.u64(t, k)) }
func (v ctlVec) u8(t testing.TB, k string) uint8   { return uint8(v.u64(t, k)) }

func (v ctlVec) f32(t testing.TB, k string) float32 {
	t.Helper()
	n, ok := v[k].(json.Number)
	if !ok {
		t.Fatalf("field %q is %T, not a number", k, v[k])
	}
	f, err := strconv.ParseFloat(n.String(), 32)
	if err != nil {
		t.Fatal(err)
	}
	return float32(f)
}

// id reads {"kind": "numeric"|"string", "value": ...}.
func (v ctlVec) id(t testing.TB, k string) wire.Identifier {
	t.Helper()
	o := v.obj(k)
	switch o.str("kind") {
	case "numeric":
		return wire.NumericID(o.u32(t, "value"))
	case "string":
		return wire.NamedID(o.str("value"))
	}
	t.Fatalf("identifier %q: %v", k, v[k])
	return wire.Identifier{}
}

// perms reads the permissions object of a request vector (nil for null).
func (v ctlVec) perms(t testing.TB, k string) *wire.Permissions {
	t.Helper()
	if v.isNull(k) {
		return nil
	}
	o := v.obj(k)
	g := o.obj("global")
	p := &wire.Permissions{Global: wire.GlobalPermissions{
		ManageServers: g.bool("manage_servers"), ReadServers: g.bool("read_servers"),
		ManageUsers: g.bool("manage_users"), ReadUsers: g.bool("read_users"),
		ManageStreams: g.bool("manage_streams"), ReadStreams: g.bool("read_streams"),
		ManageTopics: g.bool("manage_topics"), ReadTopics: g.bool("read_topics"),
		PollMessages: g.bool("poll_messages"), SendMessages: g.bool("send_messages"),
	}}
	for _, s := range o.list("streams") {
		if p.Streams == nil {
			p.Streams = map[uint32]*wire.StreamPermissions{}
		}
		sp := &wire.StreamPermissions{
			ManageStream: s.bool("manage_stream"), ReadStream: s.bool("read_stream"),
			ManageTopics: s.bool("manage_topics"), ReadTopics: s.bool("read_topics"),
			PollMessages: s.bool("poll_messages"), SendMessages: s.bool("send_messages"),
		}
		for _, tp := range s.list("topics") {
			if sp.Topics == nil {
				sp.Topics = map[uint32]*wire.TopicPermissions{}
			}
			sp.Topics[tp.u32(t, "topic_id")] = &wire.TopicPermissions{
				ManageTopic: tp.bool("manage_topic"), ReadTopic: tp.bool("read_topic"),
				PollMessages: tp.bool("poll_messages"), SendMessages: tp.bool("send_messages"),
			}
		}
		p.Streams[s.u32(t, "stream_id")] = sp
	}
	return p
}

// kv reads {"key": {"kind", "bytes_hex"}, "value": {"kind", "bytes_hex"}}.
func (v ctlVec) kv(t testing.TB) wire.KV {
	t.Helper()
	k, val := v.obj("key"), v.obj("value")
	return wire.KV{
		KeyKind: k.u8(t, "kind"), Key: ctlUnhex(t, k.str("bytes_hex")),
		ValueKind: val.u8(t, "kind"), Value: ctlUnhex(t, val.str("bytes_hex")),
	}
}

// optionsMap reads a reply's {"key": {"kind", "bytes_hex"}} object, in key
// order (nil when empty).
func (v ctlVec) optionsMap(t testing.TB, k string) wire.Options {
	t.Helper()
	o := v.obj(k)
	var out wire.Options
	for _, key := range slices.Sorted(maps.Keys(o)) {
		e := o.obj(key)
		out = append(out, wire.KV{KeyKind: wire.KindString, Key: []byte(key),
			ValueKind: e.u8(t, "kind"), Value: ctlUnhex(t, e.str("bytes_hex"))})
	}
	return out
}

// topicOptions builds the options block the Go SDK writes for CreateTopic
// and UpdateTopic: typed keys first (gzip only, non-zero expiry and size),
// then the caller's extra entries.
func (v ctlVec) topicOptions(t testing.TB) wire.Options {
	t.Helper()
	var o wire.Options
	if strings.HasPrefix(v.str("compression_algorithm"), "gzip") {
		o = append(o, wire.StringKV("compression_algorithm", "gzip"))
	}
	if _, ok := v["message_expiry_us"]; ok {
		if e := v.u64(t, "message_expiry_us"); e != 0 {
			o = append(o, wire.Uint64KV("message_expiry", e))
		}
	}
	if _, ok := v["max_topic_size"]; ok {
		if s := v.u64(t, "max_topic_size"); s != 0 {
			o = append(o, wire.Uint64KV("max_topic_size", s))
		}
	}
	for _, e := range v.list("extra_options") {
		o = append(o, e.kv(t))
	}
	return o
}

// ctlSeeds returns the request bodies and reply payloads of the named
// vector files, for fuzz corpora.
func ctlSeeds(t testing.TB, files ...string) [][]byte {
	var out [][]byte
	for _, f := range files {
		v := ctlLoad(t, f)
		if strings.HasPrefix(f, "replies/") {
			out = append(out, v.payload(t))
			continue
		}
		out = append(out, v.body(t))
		alts, _ := v["equivalent_body_hex_variants"].([]any)
		for _, alt := range alts {
			out = append(out, ctlUnhex(t, alt.(string)))
		}
	}
	return out
}
