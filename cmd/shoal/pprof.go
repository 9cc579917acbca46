package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofServer serves the runtime profiles (net/http/pprof) on its own
// listener, for `shoal server --pprof ADDR`: off unless asked for, and
// never on the protocol's port.
type pprofServer struct {
	srv  *http.Server
	addr net.Addr
	done chan error
}

// startPprof listens on addr and serves /debug/pprof/ until stop.
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
	go func() { ps.done <- ps.srv.Serve(ln) }()
	log.Info("serving profiles", "pprof.address", ln.Addr().String())
	return ps, nil
}

// stop closes the listener and waits for the server to return.
func (ps *pprofServer) stop() {
	_ = ps.srv.Close()
	<-ps.done
}
