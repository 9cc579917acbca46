package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/config"
	shoalserver "github.com/shoalstream/shoal/internal/server"
	"github.com/shoalstream/shoal/internal/storage"
)

func newServerCommand(env environment) *cobra.Command {
	var configFile, pprofAddr string
	cmd := &cobra.Command{
		Use:   "server [--config FILE]",
		Short: "Run the shoal server",
		Long:  serverHelp(),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := configFile
			if path == "" {
				path, _ = env.lookupEnv(config.EnvConfigFile)
			}
			return runServer(cmd.Context(), path, pprofAddr, env)
		},
	}
	cmd.Flags().StringVarP(&configFile, "config", "c", "",
		"TOML configuration `FILE` (default: $"+config.EnvConfigFile+", else none)")
	cmd.Flags().StringVar(&pprofAddr, "pprof", "",
		"serve runtime profiles (net/http/pprof, /debug/pprof/) and storage counters (/debug/store) on `ADDR`, e.g. 127.0.0.1:6060 (default: off)")
	return cmd
}

// configError is an invalid configuration: each problem on its own line.
type configError struct{ err error }

func (e configError) Error() string {
	return "invalid configuration:\n  " + strings.ReplaceAll(e.err.Error(), "\n", "\n  ")
}

func (e configError) Unwrap() error { return e.err }

// runServer runs the server with the configuration file at path ("" for
// none) until SIGINT or SIGTERM; with pprofAddr it also serves profiles
// there.
func runServer(ctx context.Context, path, pprofAddr string, env environment) error {
	// Nothing touches the disk or the network before the configuration is
	// known to be valid.
	cfg, warnings, err := config.Load(path, env.lookupEnv, env.environ)
	if err != nil {
		for _, w := range warnings {
			fmt.Fprintf(env.stderr, "shoal: warning: %s\n", w)
		}
		return configError{err}
	}
	log := newLogger(cfg.Log, env.stderr)
	for _, w := range warnings {
		log.Warn(w)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ps *pprofServer
	if pprofAddr != "" {
		ps, err = startPprof(pprofAddr, log)
		if err != nil {
			return err
		}
		defer ps.stop()
	}

	file := path
	if file == "" {
		file = "(none)"
	}
	// Huge pages first: the range is allocated before the limit is set.
	hugePages := applyHugePages(cfg, env.lookupEnv)
	memLimit, gcPercent := applyMemoryLimit(cfg, env.lookupEnv), applyGCPercent(env.lookupEnv)
	log.Info("starting shoal", "version", version(), "pid", os.Getpid(), "config_file", file, "config", cfg,
		"memory_limit", memLimit, "gc_percent", gcPercent, "huge_pages", hugePages)

	store, err := storage.Open(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("opening storage: %w", err)
	}
	log.Info("storage opened", "store", store.Name(), "kind", cfg.Storage.Kind)
	if ps != nil {
		ps.store.Store(store)
	}
	var tlsConf *tls.Config
	if cfg.TCP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TCP.TLSCert, cfg.TCP.TLSKey)
		if err != nil {
			_ = store.Close()
			return fmt.Errorf("loading the TLS certificate: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	b, err := broker.Open(ctx, store, broker.Options{
		Log:          storage.LogOptions(cfg, log),
		RootUsername: cfg.Users.RootUsername,
		RootPassword: cfg.Users.RootPassword,
		Storage:      cfg.Storage.Kind,
		Logger:       log,
	})
	if err != nil {
		_ = store.Close()
		if ctx.Err() != nil {
			// A signal during recovery: stop, as asked, not a failure.
			log.Info("stopped while opening the log", "cause", context.Cause(ctx))
			return nil
		}
		return fmt.Errorf("opening the broker: %w", err)
	}
	log.Info("log opened", "epoch", b.Log().Epoch())
	dataDir := ""
	if cfg.Storage.Kind == config.StorageFS {
		dataDir = cfg.DataDir
	}
	srv := shoalserver.New(b, shoalserver.Options{
		Address: cfg.TCP.Address, TLS: tlsConf, MaxConnections: cfg.TCP.MaxConnections,
		MaxFrameSize: int(cfg.TCP.MaxFrameSize.Bytes()), IdleTimeout: cfg.TCP.IdleTimeout.Std(),
		ReadTimeout: cfg.TCP.ReadTimeout.Std(), WriteTimeout: cfg.TCP.ReadTimeout.Std(),
		Version: "shoal " + version(), DataDir: dataDir, Logger: log,
		// A seal or spill lets go of a partition's whole tail at once: the
		// pool keeps as much free as the tails a seal links start bounded
		// at (logstore.Options.TailCacheStart).
		BufferPoolBytes: cfg.Segment.TailCache.Bytes() / 4,
	})
	if err := srv.Listen(); err != nil {
		_ = b.Close()
		_ = store.Close()
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	log.Info("running; stop with SIGINT or SIGTERM", "tcp.address", srv.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
		log.Error("the listener failed", "err", runErr)
	}
	stop() // a second signal now kills the process
	log.Info("stopping", "cause", context.Cause(ctx))
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("connections did not finish in time; closed them", "err", err)
	}
	bs := srv.BufferStats()
	log.Info("request buffers", "handed_out", bs.Gets, "reused", bs.Reused, "let_go", bs.Dropped)
	if err := b.Close(); err != nil {
		log.Error("closing the log failed", "err", err)
		_ = store.Close()
		return fmt.Errorf("closing the log: %w", err)
	}
	if err := store.Close(); err != nil {
		log.Error("closing storage failed", "err", err)
		return fmt.Errorf("closing storage: %w", err)
	}
	if runErr != nil {
		return runErr
	}
	log.Info("stopped")
	return nil
}

// newLogger returns the logger the configuration asks for, writing to w.
// The level and format were validated by config.Load.
func newLogger(c config.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serverHelp is the long help of `shoal server`, with every configuration
// key.
func serverHelp() string {
	var b strings.Builder
	b.WriteString(`Run the shoal server: load and check the configuration, open the storage,
and run until SIGINT or SIGTERM, then close the storage and exit.

The configuration is the defaults, overridden by the TOML file given with
--config (or $` + config.EnvConfigFile + `), overridden by environment variables. An invalid
value or an unknown key in the file stops the server before it touches any
storage. shoal.example.toml documents every key.

Configuration keys (file key and environment variable):
`)
	for _, k := range config.Keys() {
		fmt.Fprintf(&b, "\n  %s  (%s)\n", k.Name, k.Env)
		def := k.Default
		if k.Type == "string" {
			def = fmt.Sprintf("%q", def)
		}
		text := strings.ToUpper(k.Doc[:1]) + k.Doc[1:] + ". Default " + def
		if k.Allowed != "" {
			text += "; allowed: " + k.Allowed
		}
		if k.Secret {
			text += "; secret: never logged"
		}
		b.WriteString(wrap(text+".", 6, 80))
	}
	return b.String()
}

// wrap breaks text into lines of at most width columns (words longer than
// a line stay whole), each indented by indent spaces.
func wrap(text string, indent, width int) string {
	var b strings.Builder
	pad := strings.Repeat(" ", indent)
	col := 0
	for _, word := range strings.Fields(text) {
		switch {
		case col == 0:
			b.WriteString(pad)
			col = indent
		case col+1+len(word) > width:
			b.WriteString("\n" + pad)
			col = indent
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	b.WriteByte('\n')
	return b.String()
}
