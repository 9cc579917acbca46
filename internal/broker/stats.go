package broker

import (
	"context"
	"time"

	"github.com/shoalstream/shoal/internal/auth"
	"github.com/shoalstream/shoal/internal/logstore"
)

// Stats are the broker's figures for GetStats.
type Stats struct {
	Streams, Topics, Partitions, Segments, Groups, Clients uint32
	Messages, Size                                         uint64
	// StoreRead and StoreWritten are the bytes read from and written to
	// the store since start.
	StoreRead, StoreWritten uint64
	Start                   time.Time
	Storage                 string
}

// MayReadServer checks that the session may read server-wide information
// (stats, clients, snapshots).
func (b *Broker) MayReadServer(s *Session) error {
	return b.authorize(s, auth.ActionReadServers, 0, 0)
}

// Stats counts what the broker holds.
func (b *Broker) Stats(s *Session) (Stats, error) {
	if err := b.MayReadServer(s); err != nil {
		return Stats{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	ss := b.store.Stats()
	st := Stats{Start: b.start, Storage: b.opts.Storage, Clients: uint32(b.ClientCount()),
		StoreRead: ss.BytesRead, StoreWritten: ss.BytesWritten}
	for _, s := range b.st.Streams {
		st.Streams++
		for _, t := range s.Topics {
			st.Topics++
			st.Groups += uint32(len(t.Groups))
			for _, p := range t.Partitions {
				st.Partitions++
				pi := b.partitionInfo(s.ID, t.ID, p)
				st.Segments += pi.Segments
				st.Messages += pi.Messages
				st.Size += pi.Size
			}
		}
	}
	return st, nil
}

// EnforceRetention deletes the sealed segments that topics' message expiry
// and size limits no longer keep.
func (b *Broker) EnforceRetention(ctx context.Context) {
	type job struct {
		keys []logstore.PartitionKey
		r    logstore.Retention
	}
	var jobs []job
	b.mu.RLock()
	for _, s := range b.st.Streams {
		for _, t := range s.Topics {
			var r logstore.Retention
			if e := t.Config.MessageExpiry; e != 0 && e != Never {
				r.MaxAge = time.Duration(min(e, uint64(1<<62)/1000)) * time.Microsecond
			}
			if m := t.Config.MaxTopicSize; m != 0 && m != Unlimited {
				r.MaxBytes = int64(min(m, 1<<62))
			}
			if r != (logstore.Retention{}) {
				jobs = append(jobs, job{t.keys(s.ID), r})
			}
		}
	}
	b.mu.RUnlock()
	b.dataMu.RLock()
	defer b.dataMu.RUnlock()
	for _, j := range jobs {
		n, err := b.log.EnforceRetention(ctx, j.keys, j.r)
		if err != nil {
			b.lg.Warn("enforcing retention failed", "err", err)
		}
		if n > 0 {
			b.lg.Info("retention deleted segments", "segments", n)
		}
	}
}
