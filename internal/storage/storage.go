// Package storage opens the objstore.Store a server runs on, as the storage
// section of its configuration says, and maps the journal and segments
// sections to the log's options. It is the one place that maps a
// storage.kind to a backend and config keys to backend and log options, so
// config stays free of storage imports and the storage layers free of
// config.
//
// Opening has effects the configuration's validation does not: the fs
// backend creates its data directory, the s3 backend resolves credentials.
// Open is called only after config.Load succeeded.
package storage

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/shoalstream/shoal/internal/config"
	"github.com/shoalstream/shoal/internal/logstore"
	"github.com/shoalstream/shoal/internal/objstore"
	"github.com/shoalstream/shoal/internal/objstore/fs"
	"github.com/shoalstream/shoal/internal/objstore/mem"
	"github.com/shoalstream/shoal/internal/objstore/s3"
)

// Open opens the store cfg.Storage selects: files under cfg.DataDir, an S3
// bucket, or memory. log receives the store's logs; nil means
// slog.Default(). The caller closes the store.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*objstore.Store, error) {
	if log == nil {
		log = slog.Default()
	}
	switch kind := cfg.Storage.Kind; kind {
	case config.StorageFS:
		st, err := fs.Open(cfg.DataDir, fs.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("opening fs storage in %s: %w", cfg.DataDir, err)
		}
		return st, nil
	case config.StorageS3:
		st, err := s3.Open(ctx, S3Options(cfg.Storage.S3, log))
		if err != nil {
			return nil, fmt.Errorf("opening s3 storage (bucket %s): %w", cfg.Storage.S3.Bucket, err)
		}
		return st, nil
	case config.StorageMemory:
		return objstore.New(mem.New(), objstore.Options{Logger: log, Name: "memory"}), nil
	default:
		return nil, fmt.Errorf("unknown storage kind %q", kind)
	}
}

// S3Options maps the storage.s3 section to the s3 backend's options.
func S3Options(c config.S3Config, log *slog.Logger) s3.Options {
	return s3.Options{
		Endpoint:  c.Endpoint,
		Region:    c.Region,
		Bucket:    c.Bucket,
		Prefix:    c.Prefix,
		PathStyle: c.UsePathStyle(),
		Credentials: s3.Credentials{
			AccessKeyID:     c.AccessKeyID,
			SecretAccessKey: c.SecretAccessKey,
			SessionToken:    c.SessionToken,
		},
		PartSize:          c.PartSize.Bytes(),
		UploadConcurrency: c.UploadConcurrency,
		MaxAttempts:       c.MaxAttempts,
		MaxBackoff:        c.MaxBackoff.Std(),
		RequestTimeout:    c.RequestTimeout.Std(),
		Logger:            log,
	}
}

// LogOptions maps the journal and segments sections to the log's options.
func LogOptions(cfg config.Config, log *slog.Logger) logstore.Options {
	ack := logstore.AckDurable
	if cfg.Journal.Ack == "received" {
		ack = logstore.AckReceived
	}
	return logstore.Options{
		Ack:                ack,
		FlushBytes:         int(cfg.Journal.FlushBytes.Bytes()),
		MinFlushInterval:   cfg.Journal.MinFlushInterval.Std(),
		LazyFlushInterval:  zeroOff(cfg.Journal.LazyFlushInterval.Std()),
		MaxInflightFlushes: cfg.Journal.MaxInflightFlushes,
		SendTimeout:        cfg.Journal.SendTimeout.Std(),
		CheckpointInterval: cfg.Journal.CheckpointInterval.Std(),
		SegmentBytes:       cfg.Segment.Bytes.Bytes(),
		SegmentSpread:      cfg.Segment.Bytes.Bytes() / 8,
		SegmentMaxAge:      cfg.Segment.MaxAge.Std(),
		BlockCacheBytes:    cfg.Segment.BlockCache.Bytes(),
		TailCacheBytes:     cfg.Segment.TailCache.Bytes(),
		TailCacheStart:     cfg.Segment.TailCache.Bytes() / 4,
		CopySegments:       !cfg.Segment.Linked,
		LinkedMaxAge:       zeroOff(cfg.Segment.LinkedMaxAge.Std()),
		Logger:             log,
	}
}

// zeroOff maps a duration the configuration turns off with 0 (linked
// segments never copied by age, lazy records not waiting) to the log's
// negative: the log's zero means its default.
func zeroOff(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
