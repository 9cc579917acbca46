package batch_test

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shoalstream/shoal/internal/batch"
)

// vector is the part of a SendMessages vector (bytes the official Go SDK
// sent) that these tests use.
type vector struct {
	BodyHex string `json:"body_hex"`
	Inputs  struct {
		Messages []struct {
			IDBytesHex      string `json:"id_bytes_hex"`
			OriginTimestamp uint64 `json:"origin_timestamp"`
			PayloadHex      string `json:"payload_hex"`
			UserHeadersHex  string `json:"user_headers_hex"`
		} `json:"messages"`
	} `json:"inputs"`
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sdkBatches returns the batch of every SendMessages vector, with the
// messages it was built from.
func sdkBatches(t testing.TB) map[string]struct {
	batch []byte
	msgs  []batch.NewMessage
} {
	files, err := filepath.Glob("testdata/send_messages__*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	out := map[string]struct {
		batch []byte
		msgs  []batch.NewMessage
	}{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vector
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		body := unhex(t, v.BodyHex)
		metaLen := binary.LittleEndian.Uint32(body)
		var msgs []batch.NewMessage
		for _, m := range v.Inputs.Messages {
			nm := batch.NewMessage{OriginTimestamp: m.OriginTimestamp, Payload: unhex(t, m.PayloadHex), UserHeaders: unhex(t, m.UserHeadersHex)}
			copy(nm.ID[:], unhex(t, m.IDBytesHex))
			msgs = append(msgs, nm)
		}
		out[filepath.Base(f)] = struct {
			batch []byte
			msgs  []batch.NewMessage
		}{body[4+metaLen:], msgs}
	}
	return out
}

func TestSDKBatchesValidate(t *testing.T) {
	for name, v := range sdkBatches(t) {
		h, err := batch.Validate(v.batch)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if int(h.Count) != len(v.msgs) || h.PartitionID != 0 || h.BaseOffset != 0 || h.BaseTimestamp != 0 {
			t.Fatalf("%s: header %+v", name, h)
		}
		i := 0
		for m := range batch.Messages(v.batch) {
			want := v.msgs[i]
			if m.ID != want.ID || m.OriginTimestamp != want.OriginTimestamp || string(m.Payload) != string(want.Payload) || string(m.UserHeaders) != string(want.UserHeaders) {
				t.Fatalf("%s: message %d = %+v, want %+v", name, i, m, want)
			}
			i++
		}
		if i != len(v.msgs) {
			t.Fatalf("%s: iterated %d messages, want %d", name, i, len(v.msgs))
		}
	}
}

// Build produces exactly the bytes the official SDK sends.
func TestBuildMatchesSDK(t *testing.T) {
	for name, v := range sdkBatches(t) {
		got, err := batch.Build(nil, v.msgs)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != hex.EncodeToString(v.batch) {
			t.Fatalf("%s: Build differs from the SDK's bytes", name)
		}
	}
}

// Build writes every byte of the batch: spare capacity left dirty by an
// earlier batch (Build does not clear it first) changes nothing.
func TestBuildIntoDirtyBuffer(t *testing.T) {
	for name, v := range sdkBatches(t) {
		dirty := slices.Grow([]byte("kept"), len(v.batch)+64)
		spare := dirty[len(dirty):cap(dirty)]
		for i := range spare {
			spare[i] = 0xA5
		}
		got, err := batch.Build(dirty, v.msgs)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[:4]) != "kept" || hex.EncodeToString(got[4:]) != hex.EncodeToString(v.batch) {
			t.Fatalf("%s: Build into a dirty buffer differs from the SDK's bytes", name)
		}
	}
}

func TestStamp(t *testing.T) {
	for name, v := range sdkBatches(t) {
		b := append([]byte(nil), v.batch...)
		batch.Stamp(b, 2, 1000, 1767225600123456)
		h, err := batch.Validate(b)
		if err != nil {
			t.Fatalf("%s: stamped batch does not validate: %v", name, err)
		}
		if h.PartitionID != 2 || h.BaseOffset != 1000 || h.BaseTimestamp != 1767225600123456 || h.LastOffset() != 1000+uint64(h.Count)-1 {
			t.Fatalf("%s: stamped header %+v", name, h)
		}
		n := uint64(0)
		for m := range batch.Messages(b) {
			if m.Offset != 1000+n || m.Timestamp != 1767225600123456 {
				t.Fatalf("%s: message %d offset %d timestamp %d", name, n, m.Offset, m.Timestamp)
			}
			n++
		}
	}
}

func TestValidateRejects(t *testing.T) {
	good, err := batch.Build(nil, []batch.NewMessage{{Payload: []byte("hello"), OriginTimestamp: 10}, {Payload: []byte("world"), UserHeaders: []byte{2, 1, 0, 0, 0, 'k', 2, 1, 0, 0, 0, 'v'}, OriginTimestamp: 12}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := batch.Validate(good); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	cases := map[string]struct {
		mutate   func(b []byte) []byte
		checksum bool
	}{
		"short":                  {func(b []byte) []byte { return b[:100] }, false},
		"truncated frame":        {func(b []byte) []byte { return b[:len(b)-1] }, false},
		"trailing byte":          {func(b []byte) []byte { return append(b, 0) }, false},
		"reserved header":        {func(b []byte) []byte { b[200] = 1; return b }, false},
		"zero count":             {func(b []byte) []byte { le.PutUint32(b[48:], 0); return b }, false},
		"huge count":             {func(b []byte) []byte { le.PutUint32(b[48:], 0xFFFFFFFF); return b }, false},
		"length mismatch":        {func(b []byte) []byte { le.PutUint64(b[32:], 9999); return b }, false},
		"frame reserved":         {func(b []byte) []byte { b[256+40] = 1; return b }, false},
		"offset delta":           {func(b []byte) []byte { le.PutUint32(b[256+24:], 5); return b }, false},
		"payload length":         {func(b []byte) []byte { le.PutUint32(b[256+36:], 1<<31); return b }, false},
		"payload bit flip":       {func(b []byte) []byte { b[256+48] ^= 1; return b }, true},
		"message checksum":       {func(b []byte) []byte { b[256] ^= 1; return b }, true},
		"batch checksum":         {func(b []byte) []byte { b[40] ^= 1; return b }, true},
		"stamped without reseal": {func(b []byte) []byte { le.PutUint64(b[8:], 7); return b }, true},
	}
	for name, c := range cases {
		b := c.mutate(append([]byte(nil), good...))
		_, err := batch.Validate(b)
		if !errors.Is(err, batch.ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
		if c.checksum != errors.Is(err, batch.ErrChecksum) {
			t.Errorf("%s: Validate = %v, checksum error %v", name, err, c.checksum)
		}
	}
	if _, err := batch.Build(nil, nil); err == nil {
		t.Error("Build of no messages succeeded")
	}
}

func FuzzValidate(f *testing.F) {
	for _, v := range sdkBatches(f) {
		f.Add(v.batch)
		f.Add(v.batch[:len(v.batch)/2])
		f.Add(append(append([]byte(nil), v.batch...), v.batch...))
	}
	f.Add(make([]byte, batch.HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := batch.Validate(b)
		if err != nil {
			if !errors.Is(err, batch.ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		// A valid batch: its messages re-encode to the same bytes, and
		// stamping keeps it valid.
		var msgs []batch.NewMessage
		for m := range batch.Messages(b) {
			msgs = append(msgs, batch.NewMessage{ID: m.ID, OriginTimestamp: m.OriginTimestamp, Payload: m.Payload, UserHeaders: m.UserHeaders})
		}
		if len(msgs) != int(h.Count) {
			t.Fatalf("Messages yielded %d of %d", len(msgs), h.Count)
		}
		c := append([]byte(nil), b...)
		batch.Stamp(c, h.PartitionID+1, h.BaseOffset+1, h.BaseTimestamp+1)
		if _, err := batch.Validate(c); err != nil {
			t.Fatalf("stamped valid batch does not validate: %v", err)
		}
	})
}
