package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/shoalstream/shoal/internal/config"
	"github.com/shoalstream/shoal/internal/logstore"
	"github.com/shoalstream/shoal/internal/storage"
)

func newServerCommand(env environment) *cobra.Command {
	var configFile string
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
			return runServer(cmd.Context(), path, env)
		},
	}
	cmd.Flags().StringVarP(&configFile, "config", "c", "",
		"TOML configuration `FILE` (default: $"+config.EnvConfigFile+", else none)")
	return cmd
}

// configError is an invalid configuration: each problem on its own line.
type configError struct{ err error }

func (e configError) Error() string {
	return "invalid configuration:\n  " + strings.ReplaceAll(e.err.Error(), "\n", "\n  ")
}

func (e configError) Unwrap() error { return e.err }

// runServer runs the server with the configuration file at path ("" for
// none) until SIGINT or SIGTERM.
func runServer(ctx context.Context, path string, env environment) error {
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

	file := path
	if file == "" {
		file = "(none)"
	}
	log.Info("starting shoal", "version", version(), "pid", os.Getpid(), "config_file", file, "config", cfg)

	store, err := storage.Open(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("opening storage: %w", err)
	}
	log.Info("storage opened", "store", store.Name(), "kind", cfg.Storage.Kind)
	l, err := logstore.Open(ctx, store, storage.LogOptions(cfg, log))
	if err != nil {
		_ = store.Close()
		if ctx.Err() != nil {
			// A signal during recovery: stop, as asked, not a failure.
			log.Info("stopped while opening the log", "cause", context.Cause(ctx))
			return nil
		}
		return fmt.Errorf("opening the log: %w", err)
	}
	log.Info("log opened", "epoch", l.Epoch())
	log.Info("protocol listener not implemented yet; not listening", "tcp.address", cfg.TCP.Address)
	log.Info("running; stop with SIGINT or SIGTERM")

	<-ctx.Done()
	stop() // a second signal now kills the process
	log.Info("stopping", "cause", context.Cause(ctx))

	if err := l.Close(); err != nil {
		log.Error("closing the log failed", "err", err)
		_ = store.Close()
		return fmt.Errorf("closing the log: %w", err)
	}
	if err := store.Close(); err != nil {
		log.Error("closing storage failed", "err", err)
		return fmt.Errorf("closing storage: %w", err)
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
