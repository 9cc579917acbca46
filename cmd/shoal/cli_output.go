package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/shoalstream/shoal/client"
	"github.com/shoalstream/shoal/internal/wire"
)

// emit prints v as indented JSON with --output json, else runs table on
// the command's output.
func (c *cli) emit(v any, table func(w io.Writer)) error {
	if c.jsonOut() {
		return writeJSON(c.env.stdout, v)
	}
	table(c.env.stdout)
	return nil
}

// done reports a command without a result: msg for people, and with
// --output json an object {"ok": true, "message": msg} plus fields.
func (c *cli) done(msg string, fields map[string]any) error {
	if !c.jsonOut() {
		fmt.Fprintln(c.env.stdout, msg)
		return nil
	}
	v := map[string]any{"ok": true, "message": msg}
	for k, f := range fields {
		v[k] = f
	}
	return writeJSON(c.env.stdout, v)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// table writes aligned columns.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() { _ = t.tw.Flush() }

// fields writes "Key:  value" lines.
func fields(w io.Writer, kv ...string) {
	t := newTable(w)
	for i := 0; i+1 < len(kv); i += 2 {
		t.row(kv[i]+":", kv[i+1])
	}
	t.flush()
}

func u32(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// micros converts a protocol timestamp (µs since the epoch) to a time.
func micros(us uint64) time.Time { return time.UnixMicro(int64(min(us, math.MaxInt64))) }

// timeText shows a timestamp for people, in local time.
func timeText(us uint64) string {
	if us == 0 {
		return "-"
	}
	return micros(us).Local().Format("2006-01-02 15:04:05")
}

// timeJSON is a timestamp in JSON: RFC 3339 in UTC with microseconds.
func timeJSON(us uint64) string {
	return micros(us).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// sizeText shows a byte count for people.
func sizeText(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}

// expiryText shows a message or token expiry duration in µs.
func expiryText(us uint64) string {
	switch us {
	case client.ExpiryNever:
		return "never"
	case 0:
		return "server default"
	}
	return durationText(time.Duration(min(us, math.MaxInt64/1000)) * time.Microsecond)
}

// durationText shows a duration with days: "7d", "1d12h", "90m", "1.5s".
func durationText(d time.Duration) string {
	const day = 24 * time.Hour
	days := d / day
	rest := d % day
	s := ""
	if days > 0 {
		s = fmt.Sprintf("%dd", days)
		if rest == 0 {
			return s
		}
	}
	r := rest.String()
	// Drop zero units: "12h0m0s" -> "12h", "1h30m0s" -> "1h30m".
	if strings.HasSuffix(r, "m0s") {
		r = strings.TrimSuffix(r, "0s")
	}
	if strings.HasSuffix(r, "h0m") {
		r = strings.TrimSuffix(r, "0m")
	}
	return s + r
}

// optionalU64 is a u64 setting in JSON, null for its "none" sentinel.
func optionalU64(v, none uint64) *uint64 {
	if v == none {
		return nil
	}
	return &v
}

func maxSizeText(n uint64) string {
	switch n {
	case client.MaxTopicSizeUnlimited:
		return "unlimited"
	case 0:
		return "server default"
	}
	return sizeText(n)
}

func compressionText(c uint8) string {
	switch c {
	case wire.CompressionNone:
		return "none"
	case wire.CompressionGzip:
		return "gzip"
	}
	return fmt.Sprintf("unknown (%d)", c)
}

// kvValue returns an option or header value as a JSON-friendly value:
// strings, bools and numbers as such, anything else in hex.
func kvValue(kind uint8, data []byte) any {
	v := client.HeaderValue{Kind: client.HeaderKind(kind), Data: data}
	if s, err := v.AsString(); err == nil {
		return s
	}
	if b, err := v.AsBool(); err == nil {
		return b
	}
	if i, err := v.AsInt(); err == nil {
		return i
	}
	if u, err := v.AsUint(); err == nil {
		return u
	}
	if f, err := v.AsFloat(); err == nil {
		return f
	}
	if (kind == wire.KindInt128 || kind == wire.KindUint128) && len(data) == 16 {
		be := make([]byte, 16)
		for i := range be {
			be[i] = data[15-i]
		}
		n := new(big.Int).SetBytes(be)
		if kind == wire.KindInt128 && data[15]&0x80 != 0 {
			n.Sub(n, new(big.Int).Lsh(big.NewInt(1), 128))
		}
		return n.String()
	}
	return fmt.Sprintf("%x", data)
}

// kvText shows such a value for people.
func kvText(kind uint8, data []byte) string {
	switch v := kvValue(kind, data).(type) {
	case string:
		if kind == wire.KindString || kind == wire.KindInt128 || kind == wire.KindUint128 {
			return v
		}
		return "0x" + v
	default:
		return fmt.Sprint(v)
	}
}

// kindNames are the names of the header and option kinds, as --header
// takes them.
var kindNames = map[uint8]string{
	wire.KindRaw: "raw", wire.KindString: "string", wire.KindBool: "bool",
	wire.KindInt8: "int8", wire.KindInt16: "int16", wire.KindInt32: "int32", wire.KindInt64: "int64", wire.KindInt128: "int128",
	wire.KindUint8: "uint8", wire.KindUint16: "uint16", wire.KindUint32: "uint32", wire.KindUint64: "uint64", wire.KindUint128: "uint128",
	wire.KindFloat32: "float32", wire.KindFloat64: "float64",
}

func kindName(k uint8) string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind%d", k)
}

// optionsJSON maps an options block to key → value.
func optionsJSON(o wire.Options) map[string]any {
	m := make(map[string]any, len(o))
	for _, kv := range o {
		m[string(kv.Key)] = kvValue(kv.ValueKind, kv.Value)
	}
	return m
}

// escapeText shows a payload as text on one line: valid UTF-8 as it is,
// with control characters and invalid bytes escaped Go-style.
func escapeText(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&sb, `\x%02x`, b[0])
		case r == '\\':
			sb.WriteString(`\\`)
		case r < 0x20 || r == 0x7f:
			q := strconv.QuoteRune(r)
			sb.WriteString(q[1 : len(q)-1])
		default:
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

// topicOptionText shows a topic option for people: durations and sizes in
// units, their sentinels by name.
func topicOptionText(kv wire.KV) string {
	n, ok := kv.AsUint64()
	if !ok {
		return kvText(kv.ValueKind, kv.Value)
	}
	switch string(kv.Key) {
	case client.OptMessageExpiry:
		return expiryText(n)
	case client.OptMaxTopicSize:
		return maxSizeText(n)
	case "segment_size", "size_of_messages_required_to_save":
		return sizeText(n)
	}
	return u64(n)
}
