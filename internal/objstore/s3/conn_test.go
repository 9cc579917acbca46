package s3

import (
	"bytes"
	"context"
	"io"
	"net"
	"slices"
	"testing"
)

// recordingConn keeps what is written to it and the size of each write.
type recordingConn struct {
	net.Conn
	got    bytes.Buffer
	writes []int
}

func (c *recordingConn) Write(b []byte) (int, error) {
	c.writes = append(c.writes, len(b))
	return c.got.Write(b)
}

// A request body goes out in bodyChunk writes, byte for byte, also
// through the io.LimitedReader net/http wraps it in.
func TestBodyConnWritesLargeChunks(t *testing.T) {
	rec := &recordingConn{}
	d := newBodyDialer(func(context.Context, string, string) (net.Conn, error) { return rec, nil })
	c, err := d.DialContext(t.Context(), "tcp", "store:9000")
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 3*bodyChunk+100)
	for i := range body {
		body[i] = byte(i * 7)
	}
	rf, ok := c.(io.ReaderFrom)
	if !ok {
		t.Fatal("the dialed connection has no ReadFrom")
	}
	r := newPiecesReader([][]byte{body[:1000], body[1000:]})
	n, err := rf.ReadFrom(io.LimitReader(r, int64(len(body))))
	if err != nil || n != int64(len(body)) {
		t.Fatalf("ReadFrom: %d, %v", n, err)
	}
	if !bytes.Equal(rec.got.Bytes(), body) {
		t.Fatal("the bytes written differ from the body")
	}
	if want := []int{bodyChunk, bodyChunk, bodyChunk, 100}; !slices.Equal(rec.writes, want) {
		t.Errorf("writes of %v bytes, want %v", rec.writes, want)
	}
}
