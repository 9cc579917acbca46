package wire_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoalstream/shoal/internal/wire"
)

// The golden vectors under testdata/vectors are the bytes the official Go
// SDK writes (requests) and the reply bodies its own tests decode, with
// what it decodes from them; see the protocol specification's vectors
// README. They are read here as loosely typed JSON.

type jsonObj = map[string]any

// loadMsgVector reads testdata/vectors/<name>.
func loadMsgVector(t testing.TB, name string) jsonObj {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v jsonObj
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// msgVectorFiles lists the vector files matching pattern (relative to
// testdata/vectors), failing if there are none.
func msgVectorFiles(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "vectors", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors match %s: %v", pattern, err)
	}
	for i, f := range files {
		files[i], _ = filepath.Rel(filepath.Join("testdata", "vectors"), f)
	}
	return files
}

func msgUnhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jHex decodes the hex string at key of o.
func jHex(t testing.TB, o jsonObj, key string) []byte {
	t.Helper()
	s, ok := o[key].(string)
	if !ok {
		t.Fatalf("no hex string %q", key)
	}
	return msgUnhex(t, s)
}

func jObj(t testing.TB, o jsonObj, key string) jsonObj {
	t.Helper()
	v, ok := o[key].(jsonObj)
	if !ok {
		t.Fatalf("no object %q", key)
	}
	return v
}

func jStr(t testing.TB, o jsonObj, key string) string {
	t.Helper()
	v, ok := o[key].(string)
	if !ok {
		t.Fatalf("no string %q", key)
	}
	return v
}

// jU64 reads a number, a decimal string (values above 2^53) or a 0x hex
// string.
func jU64(t testing.TB, o jsonObj, key string) uint64 {
	t.Helper()
	var s string
	switch v := o[key].(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		t.Fatalf("no number %q (%T)", key, o[key])
	}
	base := 10
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		s, base = h, 16
	}
	n, ok := new(big.Int).SetString(s, base)
	if !ok || !n.IsUint64() {
		t.Fatalf("%q: %q is not a u64", key, s)
	}
	return n.Uint64()
}

// jIdentifier reads {"kind": "numeric"|"string", "value": ...}.
func jIdentifier(t testing.TB, o jsonObj) wire.Identifier {
	t.Helper()
	switch jStr(t, o, "kind") {
	case "numeric":
		return wire.NumericID(uint32(jU64(t, o, "value")))
	case "string":
		return wire.NamedID(jStr(t, o, "value"))
	}
	t.Fatalf("identifier kind %v", o["kind"])
	return wire.Identifier{}
}

// jConsumer reads {"kind_byte": k, "id": identifier}.
func jConsumer(t testing.TB, o jsonObj) wire.Consumer {
	t.Helper()
	return wire.Consumer{Kind: uint8(jU64(t, o, "kind_byte")), ID: jIdentifier(t, jObj(t, o, "id"))}
}

// jOptionalPartition reads a partition id that may be null.
func jOptionalPartition(t testing.TB, o jsonObj, key string) wire.OptionalPartition {
	t.Helper()
	if o[key] == nil {
		return wire.OptionalPartition{}
	}
	return wire.OptionalPartition{Set: true, ID: uint32(jU64(t, o, key))}
}

// transcriptStep returns the transcript step of v carrying code.
func transcriptStep(t testing.TB, v jsonObj, code uint64) jsonObj {
	t.Helper()
	steps, _ := v["transcript"].([]any)
	for _, s := range steps {
		step := s.(jsonObj)
		if jU64(t, step, "code") == code {
			return step
		}
	}
	t.Fatalf("no transcript step with code %d", code)
	return nil
}

// requestBody parses a request frame and checks its operation and code.
func requestBody(t testing.TB, frame []byte, op uint8, code uint32) []byte {
	t.Helper()
	h, body, err := wire.ParseRequest(frame)
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	if h.Operation != op || h.Code != code {
		t.Fatalf("frame operation %d code %d, want %d %d", h.Operation, h.Code, op, code)
	}
	return body
}

// replyBody parses a reply frame and returns its body.
func replyBody(t testing.TB, frame []byte, op uint8) []byte {
	t.Helper()
	h, body, err := wire.ParseReply(frame)
	if err != nil {
		t.Fatalf("ParseReply: %v", err)
	}
	if h.Operation != op || h.Status != 0 {
		t.Fatalf("reply operation %d status %d, want %d 0", h.Operation, h.Status, op)
	}
	return body
}

// seedFromVectors adds to f the hex value at key of every vector file
// matching pattern, plus a truncated and an extended copy of each.
func seedFromVectors(f *testing.F, pattern string, key string) {
	f.Helper()
	for _, name := range msgVectorFiles(f, pattern) {
		v := loadMsgVector(f, name)
		s, ok := v[key].(string)
		if !ok {
			continue
		}
		b := msgUnhex(f, s)
		f.Add(b)
		if len(b) > 0 {
			f.Add(b[:len(b)-1])
			f.Add(b[:len(b)/2])
		}
		f.Add(append(append([]byte(nil), b...), 0xff, 0, 0, 0))
		f.Add(append(append([]byte(nil), b...), b...))
	}
}
