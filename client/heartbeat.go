package client

import (
	"context"
	"time"

	"github.com/shoalstream/shoal/internal/wire"
)

// heartbeat is the goroutine that pings the server while the client is
// connected (Options.Heartbeat). The client owns it: Close stops it and
// waits for it.
type heartbeat struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startHeartbeat(c *Client, every time.Duration) *heartbeat {
	ctx, cancel := context.WithCancel(context.Background())
	h := &heartbeat{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := c.heartbeatPing(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("heartbeat ping failed", "err", err)
			}
		}
	}()
	return h
}

// stop ends the goroutine and waits for it.
func (h *heartbeat) stop() {
	h.cancel()
	<-h.done
}

// heartbeatPing pings if the client is connected; it never dials.
func (c *Client) heartbeatPing(ctx context.Context) error {
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	if c.conn == nil {
		return nil
	}
	_, err := c.callLocked(ctx, wire.CmdPing, nil)
	return err
}
