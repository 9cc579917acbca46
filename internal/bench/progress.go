package bench

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// progress counts what the actors moved in the measured phase; actors add
// to it, the reporter goroutine reads it.
type progress struct {
	sentMsgs, sentBytes atomic.Int64
	recvMsgs, recvBytes atomic.Int64
	// changed is when anything last moved, in nanoseconds since t0.
	changed atomic.Int64
	t0      time.Time
}

func (p *progress) sent(n int, bytes int64) {
	p.sentMsgs.Add(int64(n))
	p.sentBytes.Add(bytes)
}

func (p *progress) received(n int, bytes int64) {
	p.recvMsgs.Add(int64(n))
	p.recvBytes.Add(bytes)
}

// touch notes that something moved (warmup included).
func (p *progress) touch() { p.changed.Store(int64(time.Since(p.t0))) }

// reporter draws the progress line and watches for a stall. It is owned
// by Run: started with start, stopped (and waited for) with stop.
type reporter struct {
	r        *runner
	w        io.Writer // nil: no line, only the stall watch
	terminal bool
	every    time.Duration
	stall    func(error)

	done, exited chan struct{}
	// previous tick, for the current rates
	lastAt           time.Duration
	lastSent, lastRx int64
	width            int
}

func (rp *reporter) start() {
	rp.done, rp.exited = make(chan struct{}), make(chan struct{})
	go rp.loop()
}

// stop ends the loop and writes a last line with the rates of the whole
// run (on a terminal, in place of the live one).
func (rp *reporter) stop() {
	close(rp.done)
	<-rp.exited
	if rp.w != nil {
		rp.draw(true)
		if rp.terminal {
			fmt.Fprintln(rp.w)
		}
	}
}

func (rp *reporter) loop() {
	defer close(rp.exited)
	t := time.NewTicker(rp.every)
	defer t.Stop()
	for {
		select {
		case <-rp.done:
			return
		case <-t.C:
			rp.watch()
			if rp.w != nil {
				rp.draw(false)
			}
		}
	}
}

// watch fails the run when nothing moved for the stall timeout.
func (rp *reporter) watch() {
	r := rp.r
	since := r.since() - time.Duration(r.progress.changed.Load())
	if since > r.p.StallTimeout {
		rp.stall(fmt.Errorf("no message sent or received for %v (stall timeout); unfinished: %s",
			since.Round(time.Second), r.unfinished()))
	}
}

// draw writes one progress line: a bar of the budgets spent, the current
// rates and the elapsed time.
func (rp *reporter) draw(final bool) {
	r := rp.r
	frac := r.fraction()
	now := r.since()
	sent, rx := r.progress.sentBytes.Load(), r.progress.recvBytes.Load()
	dt := (now - rp.lastAt).Seconds()
	var line strings.Builder
	const barWidth = 24
	filled := int(frac * barWidth)
	fmt.Fprintf(&line, "%s [%s%s] %3.0f%%  %6.1fs", r.p.Kind.Alias(),
		strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), 100*frac, now.Seconds())
	if final {
		dt = now.Seconds()
		rp.lastSent, rp.lastRx = 0, 0
	}
	if dt > 0 {
		if r.p.Kind.hasProducers() {
			fmt.Fprintf(&line, "  send %8.1f MB/s %10s msg", float64(sent-rp.lastSent)/1e6/dt, count(r.progress.sentMsgs.Load()))
		}
		if r.p.Kind.hasConsumers() {
			fmt.Fprintf(&line, "  recv %8.1f MB/s %10s msg", float64(rx-rp.lastRx)/1e6/dt, count(r.progress.recvMsgs.Load()))
		}
	}
	rp.lastAt, rp.lastSent, rp.lastRx = now, sent, rx
	s := line.String()
	if rp.terminal {
		pad := max(0, rp.width-len(s))
		rp.width = len(s)
		fmt.Fprintf(rp.w, "\r%s%s", s, strings.Repeat(" ", pad))
		return
	}
	fmt.Fprintln(rp.w, s)
}

// count formats n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
