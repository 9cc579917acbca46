package server

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

// stats answers GetStats with the broker's figures and the process's.
func (c *conn) stats(req wire.Request) {
	bs, err := c.s.b.Stats(c.sess)
	if err != nil {
		c.fail(req, err)
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := wire.Stats{
		ProcessID: uint32(os.Getpid()), MemoryUsage: ms.Sys,
		RunTime: uint64(time.Since(bs.Start).Microseconds()), StartTime: uint64(bs.Start.UnixMicro()),
		ReadBytes: bs.StoreRead, WrittenBytes: bs.StoreWritten, MessagesSizeBytes: bs.Size, StreamsCount: bs.Streams, TopicsCount: bs.Topics, PartitionsCount: bs.Partitions,
		SegmentsCount: bs.Segments, MessagesCount: bs.Messages, ClientsCount: bs.Clients, ConsumerGroupsCount: bs.Groups,
		OSName: runtime.GOOS, ServerVersion: c.s.opts.Version + " (storage: " + bs.Storage + ")",
		ThreadsCount: uint32(runtime.NumGoroutine()),
	}
	st.Hostname, _ = os.Hostname()
	st.KernelVersion, st.OSVersion = kernelVersion()
	st.TotalMemory, st.AvailableMemory = systemMemory()
	if c.s.opts.DataDir != "" {
		st.FreeDiskSpace, st.TotalDiskSpace = diskSpace(c.s.opts.DataDir)
	}
	c.ok(req, st.AppendTo(nil))
}

// clusterMetadata answers with one healthy leader: this server, at the
// address the client reached it on.
func (c *conn) clusterMetadata(req wire.Request) {
	ip := "127.0.0.1"
	if a, ok := c.nc.LocalAddr().(*net.TCPAddr); ok {
		ip = a.IP.String()
	}
	var port uint16
	if a, ok := c.s.ln.Addr().(*net.TCPAddr); ok {
		port = uint16(a.Port)
	}
	m := wire.ClusterMetadata{Name: "single-node", Nodes: []wire.ClusterNode{{
		Name: "shoal-node", IP: ip, TCP: port, Role: wire.NodeLeader, Status: wire.NodeHealthy,
	}}}
	c.ok(req, m.AppendTo(nil))
}

// Snapshot types (wire.md §5.1.3).
const (
	snapFilesystem = 1
	snapProcesses  = 2
	snapResources  = 3
	snapTest       = 4
	snapLogs       = 5
	snapConfig     = 6
	snapAll        = 100
)

// snapshot answers GetSnapshot with a ZIP of diagnostic text files.
func (c *conn) snapshot(req wire.Request, body []byte) {
	var r wire.GetSnapshotRequest
	if !c.decode(req, body, &r) {
		return
	}
	if err := c.s.b.MayReadServer(c.sess); err != nil {
		c.fail(req, err)
		return
	}
	var method uint16
	switch r.Compression {
	case 1:
		method = zip.Store
	case 2, 3, 4, 5, 6: // only deflate is built in; the others fall back to it
		method = zip.Deflate
	default:
		c.status(req, wire.CodeInvalidCommand)
		return
	}
	types := map[uint8]bool{}
	for _, t := range r.Types {
		switch t {
		case snapAll:
			for _, k := range []uint8{snapFilesystem, snapProcesses, snapResources, snapTest, snapLogs, snapConfig} {
				types[k] = true
			}
		case snapFilesystem, snapProcesses, snapResources, snapTest, snapLogs, snapConfig:
			types[t] = true
		default:
			c.status(req, wire.CodeInvalidCommand)
			return
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.DefaultCompression) })
	add := func(name, text string) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: time.Now()})
		if err == nil {
			_, _ = io.WriteString(w, text)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for t := range types {
		switch t {
		case snapFilesystem:
			add("filesystem_overview.txt", fmt.Sprintf("data directory: %s\n", c.s.opts.DataDir))
		case snapProcesses:
			add("process_list.txt", fmt.Sprintf("pid %d: shoal %s, %d goroutines\n", os.Getpid(), c.s.opts.Version, runtime.NumGoroutine()))
		case snapResources:
			add("resource_usage.txt", fmt.Sprintf("heap_alloc %d\nsys %d\nnum_gc %d\n", ms.HeapAlloc, ms.Sys, ms.NumGC))
		case snapTest:
			add("test.txt", "test\n")
		case snapLogs:
			add("server_logs.txt", "shoal logs to its standard error; see the service manager's journal\n")
		case snapConfig:
			add("server_config.txt", strings.Join([]string{"version=" + c.s.opts.Version, "max_frame_size=" + strconv.Itoa(c.s.opts.MaxFrameSize)}, "\n")+"\n")
		}
	}
	if err := zw.Close(); err != nil || buf.Len() > wire.MaxFrameSize-wire.HeaderSize {
		c.status(req, wire.CodeSnapshotFailed)
		return
	}
	c.ok(req, buf.Bytes())
}
