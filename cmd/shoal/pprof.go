package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/shoalstream/shoal/internal/bench"
	"github.com/shoalstream/shoal/internal/objstore"
)

// pprofServer serves the runtime profiles (net/http/pprof) and the
// storage counters (/debug/store) on its own listener, for
// `shoal server --pprof ADDR`: off unless asked for, and never on the
// protocol's port.
type pprofServer struct {
	srv   *http.Server
	addr  net.Addr
	done  chan error
	store atomic.Pointer[objstore.Store] // once opened
}

// countersOf is what /debug/store serves: what the server asked of its
// storage since it started (see objstore.Stats).
func countersOf(st *objstore.Store) bench.StoreCounters {
	s := st.Stats()
	c := bench.StoreCounters{Store: st.Name(), Calls: map[string]uint64{}, Errors: map[string]uint64{},
		BytesRead: s.BytesRead, BytesWritten: s.BytesWritten, Requests: s.Requests}
	for op := range objstore.Op(len(s.Calls)) {
		c.Calls[op.String()] = s.Calls[op]
		c.Errors[op.String()] = s.Errors[op]
	}
	return c
}

// serveStore answers /debug/store.
func (ps *pprofServer) serveStore(w http.ResponseWriter, _ *http.Request) {
	st := ps.store.Load()
	if st == nil {
		http.Error(w, "storage is not open yet", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(countersOf(st))
}

// startPprof listens on addr and serves /debug/pprof/ and /debug/store
// until stop.
func startPprof(addr string, log *slog.Logger) (*pprofServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ps := &pprofServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, addr: ln.Addr(), done: make(chan error, 1)}
	mux.HandleFunc("/debug/store", ps.serveStore)
	go func() { ps.done <- ps.srv.Serve(ln) }()
	log.Info("serving profiles", "pprof.address", ln.Addr().String())
	return ps, nil
}

// stop closes the listener and waits for the server to return.
func (ps *pprofServer) stop() {
	_ = ps.srv.Close()
	<-ps.done
}
