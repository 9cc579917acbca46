package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// palette colours the groups, in order.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"}

// WriteHTML writes the report as one self-contained HTML page: summary
// tables, and SVG charts of throughput over time, latency over time, the
// latency percentile distribution and the latency histogram. It needs no
// script and loads nothing.
func (rep *Report) WriteHTML(w io.Writer) error {
	var b strings.Builder
	p := rep.Params
	title := fmt.Sprintf("shoal bench %s", p.Kind)
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0 16px;font-variant-numeric:tabular-nums}
th,td{padding:3px 10px;text-align:right;border-bottom:1px solid #eee;white-space:nowrap}
th:first-child,td:first-child{text-align:left}th{background:#f6f6f6;font-weight:600}
.kv td{text-align:left}.ok{color:#2ca02c;font-weight:600}.bad{color:#d62728;font-weight:600}
.big{font-size:28px;font-weight:600}.cards{display:flex;gap:16px;flex-wrap:wrap;margin:12px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:180px}.card .l{color:#666;font-size:12px}
svg{background:#fff;border:1px solid #e3e3e3;border-radius:4px;margin:6px 0}
svg text{font:11px system-ui,sans-serif;fill:#444}svg .t{font-size:13px;font-weight:600;fill:#222}
</style></head><body>
`, html.EscapeString(title))
	fmt.Fprintf(&b, "<h1>%s</h1>\n<p class=\"sub\">%s against %s — %s — %s</p>\n",
		html.EscapeString(title), html.EscapeString(p.Kind.Alias()), html.EscapeString(p.Address),
		html.EscapeString(rep.Server.Version), rep.StartedAt.Format("2006-01-02 15:04:05 MST"))

	// Headline cards.
	b.WriteString(`<div class="cards">`)
	for _, g := range rep.Groups {
		if g.Name == GroupAll {
			continue
		}
		fmt.Fprintf(&b, `<div class="card"><div class="l">%s</div><div class="big">%.1f MB/s</div><div>%s msg/s · p99 %.2f ms</div></div>`,
			html.EscapeString(capitalize(g.Name)), g.ThroughputMBps, count(int64(g.ThroughputMsgps)), g.Latency.P99)
	}
	if rep.BaselineRatio != nil {
		fmt.Fprintf(&b, `<div class="card"><div class="l">baseline ratio (%s)</div><div class="big">%.3f</div><div>baseline %.1f MB/s of payload</div></div>`,
			html.EscapeString(rep.Baseline.Storage), *rep.BaselineRatio, rep.Baseline.PayloadMBps)
	}
	if v := rep.Verification; v != nil {
		cls, txt := "ok", "verified"
		if !v.OK {
			cls, txt = "bad", "verification FAILED"
		}
		fmt.Fprintf(&b, `<div class="card"><div class="l">messages</div><div class="big %s">%s</div><div>%d readers checked</div></div>`, cls, txt, len(v.Readers))
	}
	b.WriteString("</div>\n")

	// Charts.
	b.WriteString("<h2>Throughput over time</h2>\n")
	var tp, lat []plotLine
	for i, g := range rep.Groups {
		if g.Name == GroupAll {
			continue
		}
		c := palette[i%len(palette)]
		tp = append(tp, plotLine{name: g.Name + " (sum)", x: g.Series.TimeSeconds, y: g.Series.ThroughputMBps, color: c, width: 2})
		lat = append(lat, plotLine{name: g.Name, x: g.Series.TimeSeconds, y: sma(g.Series.LatencyMs, p.MovingAverageWindow), color: c, width: 1.5})
	}
	for _, a := range rep.Actors {
		for _, s := range []*SideReport{a.Send, a.Receive} {
			if s == nil {
				continue
			}
			tp = append(tp, plotLine{x: s.Series.TimeSeconds, y: s.Series.ThroughputMBps, color: "#999", width: 0.7, opacity: 0.5})
		}
	}
	// Group sums first in the legend, actors (grey) drawn underneath.
	lineChart(&b, "Throughput, MB/s (moving average; grey: each actor)", "time, s", "MB/s", reorderFaintFirst(tp), nil)
	b.WriteString("<h2>Latency over time</h2>\n")
	lineChart(&b, fmt.Sprintf("Mean batch latency per interval, ms (moving average of %d)", p.MovingAverageWindow), "time, s", "ms", lat, nil)

	b.WriteString("<h2>Latency distribution</h2>\n")
	var pct []plotLine
	for i, g := range rep.Groups {
		if g.Name == GroupAll || len(g.Percentiles) == 0 {
			continue
		}
		var xs, ys []float64
		for _, pt := range g.Percentiles {
			xs = append(xs, percentileX(pt.Percentile))
			ys = append(ys, pt.Ms)
		}
		pct = append(pct, plotLine{name: g.Name, x: xs, y: ys, color: palette[i%len(palette)], width: 2, dots: true})
	}
	ticks := []tick{{0, "0%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}, {5, "99.999%"}}
	lineChart(&b, "Latency by percentile, ms", "percentile", "ms", pct, ticks)
	for i, g := range rep.Groups {
		if g.Name == GroupAll || len(g.Histogram) == 0 {
			continue
		}
		barChart(&b, fmt.Sprintf("Latency histogram: %s (batches per bin, log-spaced bins)", g.Name), g.Histogram, palette[i%len(palette)])
	}

	// Tables.
	b.WriteString("<h2>Groups</h2>\n<table><tr><th>group</th><th>actors</th><th>MB/s</th><th>msg/s</th><th>aggregate MB/s</th><th>messages</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>min</th><th>max</th><th>mean</th></tr>\n")
	for _, g := range rep.Groups {
		l := g.Latency
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%d</td><td>%.2f</td><td>%s</td><td>%.2f</td><td>%s</td>%s</tr>\n",
			html.EscapeString(g.Name), g.Actors, g.ThroughputMBps, count(int64(g.ThroughputMsgps)), g.AggregateMBps,
			count(int64(g.Messages)), latencyCells(l))
	}
	b.WriteString("</table><p class=\"sub\">Latencies in ms from the pooled HDR histogram of the group; throughput is the sum of the actors' (messages.md §7.5).</p>\n")
	b.WriteString("<h2>Actors</h2>\n<table><tr><th>actor</th><th>side</th><th>stream</th><th>MB/s</th><th>msg/s</th><th>messages</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>min</th><th>max</th><th>mean</th></tr>\n")
	for _, a := range rep.Actors {
		for _, s := range []struct {
			name string
			r    *SideReport
		}{{"send", a.Send}, {"receive", a.Receive}} {
			if s.r == nil {
				continue
			}
			fmt.Fprintf(&b, "<tr><td>%s %d</td><td>%s</td><td>%s</td><td>%.2f</td><td>%s</td><td>%s</td>%s</tr>\n",
				html.EscapeString(string(a.Role)), a.ID, s.name, html.EscapeString(a.Stream), s.r.ThroughputMBps,
				count(int64(s.r.ThroughputMsgps)), count(int64(s.r.Messages)), latencyCells(s.r.Latency))
		}
	}
	b.WriteString("</table>\n")

	if bl := rep.Baseline; bl != nil {
		b.WriteString("<h2>Baseline</h2>\n<table class=\"kv\">")
		row := func(k, v string) {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td></tr>", html.EscapeString(k), html.EscapeString(v))
		}
		row("method", bl.Method)
		row("target", bl.Target)
		row("throughput", fmt.Sprintf("%.2f MB/s written, %.2f MB/s of payload, %.1f %s/s", bl.MBps, bl.PayloadMBps, bl.OpsPerSecond, bl.Op))
		row("latency, ms", latencyLine(bl.Latency))
		if bl.WarmupSeconds > 0 {
			row("warm-up", fmt.Sprintf("%.1f s of unmeasured writes first, at %.2f MB/s", bl.WarmupSeconds, bl.WarmupMBps))
		}
		if bl.GetLatency != nil {
			row("GET", fmt.Sprintf("%.2f MB/s, %.1f GET/s; latency ms %s", bl.GetMBps, bl.GetsPerSecond, latencyLine(*bl.GetLatency)))
		}
		if bl.Cost != nil {
			row("request cost", bl.Cost.Text())
		}
		if rep.BaselineRatio != nil {
			row("baseline_ratio", fmt.Sprintf("%.3f (%s)", *rep.BaselineRatio, rep.BaselineBasis))
		}
		b.WriteString("</table>\n")
	}
	if u := rep.S3; u != nil {
		fmt.Fprintf(&b, "<h2>S3 requests of the server</h2>\n<p>%d PUTs in %.2f s (%.1f PUT/s): %d journal objects, %d segments (≈ %d requests), %d manifests; $%.5f per GiB of payload at list prices. %s. Source: %s.</p>\n",
			u.Puts, u.Seconds, u.PutsPerSecond, u.JournalObjects, u.SegmentObjects, u.SegmentRequests, u.Manifests, u.PutCostPerGiB,
			html.EscapeString(rep.getsText()), html.EscapeString(u.Source))
	}
	if u := rep.Store; u != nil {
		fmt.Fprintf(&b, "<h2>Storage of the server</h2>\n<p>%s, %.2f s (%s).</p>\n<ul>", html.EscapeString(u.Store), u.Seconds, html.EscapeString(u.Source))
		if t := u.RequestsText(); t != "" {
			fmt.Fprintf(&b, "<li>%s</li><li>request cost at list prices: $%.5f per GiB of payload sent</li>", html.EscapeString(t), u.CostPerGiB)
		}
		fmt.Fprintf(&b, "<li>%s</li></ul>\n", html.EscapeString(u.CallsText()))
	}
	b.WriteString("<h2>Parameters</h2>\n<table class=\"kv\">")
	for _, kv := range [][2]string{
		{"workload", fmt.Sprintf("%s (%s)", p.Kind, p.Kind.Alias())},
		{"producers / consumers / groups", fmt.Sprintf("%d / %d / %d", p.Producers, p.Consumers, p.ConsumerGroups)},
		{"streams × partitions", fmt.Sprintf("%d × %d", p.Streams, p.Partitions)},
		{"message size, messages per batch", fmt.Sprintf("%s B, %s", p.MessageSize, p.MessagesPerBatch)},
		{"finish", finishText(p)},
		{"warmup, sampling, moving average", fmt.Sprintf("%v, %v, %d samples", p.Warmup, p.SamplingTime, p.MovingAverageWindow)},
		{"rate limit", rateText(p.RateLimit)},
		{"server", fmt.Sprintf("%s (storage %s) on %s", rep.Server.Version, rep.Server.Storage, rep.Server.Hostname)},
		{"client machine", fmt.Sprintf("%d CPUs, %s/%s, %s", rep.Hardware.CPUs, rep.Hardware.GOOS, rep.Hardware.GOARCH, rep.Hardware.GoVersion)},
	} {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td></tr>", html.EscapeString(kv[0]), html.EscapeString(kv[1]))
	}
	b.WriteString("</table>\n")
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "<p class=\"sub\">note: %s</p>\n", html.EscapeString(n))
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func finishText(p Params) string {
	if p.TotalBytes > 0 {
		return bytesText(float64(p.TotalBytes)) + " of payload"
	}
	return fmt.Sprintf("%d batches (messages.md §7.4)", p.MessageBatches)
}

func rateText(r uint64) string {
	if r == 0 {
		return "none"
	}
	return bytesText(float64(r)) + "/s"
}

func latencyCells(l Latency) string {
	return fmt.Sprintf("<td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td>",
		l.P50, l.P90, l.P95, l.P99, l.P999, l.P9999, l.Min, l.Max, l.Mean)
}

// percentileX places a percentile on the "nines" scale: 90% at 1, 99% at
// 2, 99.9% at 3, …
func percentileX(p float64) float64 {
	if p >= 100 {
		return 6
	}
	return min(6, math.Log10(100/(100-p)))
}

type plotLine struct {
	name     string
	x, y     []float64
	color    string
	width    float64
	opacity  float64 // 0 means 1
	dots     bool
	faintTop bool
}

type tick struct {
	v     float64
	label string
}

func reorderFaintFirst(ls []plotLine) []plotLine {
	var out []plotLine
	for _, l := range ls {
		if l.name == "" {
			out = append(out, l)
		}
	}
	for _, l := range ls {
		if l.name != "" {
			out = append(out, l)
		}
	}
	return out
}

// Chart geometry, in SVG units.
const (
	chartW, chartH                   = 1060, 330
	padL, padR, padT, padB           = 64, 44, 40, 44
	plotW, plotH                     = chartW - padL - padR, chartH - padT - padB
	legendRowHeight, legendItemWidth = 16, 250
)

// niceTicks returns about n round tick values from the first at or below
// lo to the first at or above hi.
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []float64
	for v := math.Floor(lo/step+1e-9) * step; ; v += step {
		ts = append(ts, v)
		if v >= hi-step*1e-9 {
			return ts
		}
	}
}

func fmtTick(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// lineChart draws lines on shared axes; xticks, if given, replace the
// computed ticks of the x axis.
func lineChart(b *strings.Builder, title, xlab, ylab string, lines []plotLine, xticks []tick) {
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	for _, l := range lines {
		for i := range l.x {
			if math.IsNaN(l.y[i]) || math.IsInf(l.y[i], 0) {
				continue
			}
			xmin, xmax, ymax = min(xmin, l.x[i]), max(xmax, l.x[i]), max(ymax, l.y[i])
		}
	}
	if math.IsInf(xmin, 1) {
		fmt.Fprintf(b, "<p class=\"sub\">%s: no data</p>\n", html.EscapeString(title))
		return
	}
	if xticks != nil {
		xmin, xmax = xticks[0].v, xticks[len(xticks)-1].v
	}
	if xmax <= xmin {
		xmax = xmin + 1
	}
	if ymax <= 0 {
		ymax = 1
	}
	yt := niceTicks(0, ymax*1.05, 6)
	ytop := yt[len(yt)-1]
	named := 0
	for _, l := range lines {
		if l.name != "" {
			named++
		}
	}
	perRow := chartW / legendItemWidth
	legendH := ((named + perRow - 1) / perRow) * legendRowHeight
	h := chartH + legendH
	sx := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*plotW }
	sy := func(y float64) float64 { return padT + plotH - y/ytop*plotH }
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		chartW, h, chartW, h, html.EscapeString(title))
	fmt.Fprintf(b, `<text class="t" x="%d" y="18">%s</text>`, padL, html.EscapeString(title))
	for _, v := range yt {
		y := sy(v)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`,
			padL, chartW-padR, y, y, padL-6, y+4, fmtTick(v))
	}
	if xticks == nil {
		for _, v := range niceTicks(xmin, xmax, 10) {
			if v >= xmin && v <= xmax {
				xticks = append(xticks, tick{v, fmtTick(v)})
			}
		}
	}
	for _, t := range xticks {
		x := sx(t.v)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#f3f3f3"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`,
			x, x, padT, padT+plotH, x, padT+plotH+16, html.EscapeString(t.label))
	}
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#888"/><line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#888"/>`,
		padL, chartW-padR, padT+plotH, padT+plotH, padL, padL, padT, padT+plotH)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, padL+plotW/2, padT+plotH+34, html.EscapeString(xlab))
	fmt.Fprintf(b, `<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>`, padT+plotH/2, padT+plotH/2, html.EscapeString(ylab))
	for _, l := range lines {
		var pts strings.Builder
		for i := range l.x {
			if math.IsNaN(l.y[i]) || l.x[i] < xmin || l.x[i] > xmax {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", sx(l.x[i]), sy(l.y[i]))
		}
		op := l.opacity
		if op == 0 {
			op = 1
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="%.1f" stroke-opacity="%.2f" stroke-linejoin="round" points="%s"/>`,
			l.color, l.width, op, strings.TrimSpace(pts.String()))
		if l.dots {
			for i := range l.x {
				fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s: %s at %s</title></circle>`,
					sx(l.x[i]), sy(l.y[i]), l.color, html.EscapeString(l.name), fmtTick(l.y[i]), xlabelOf(xticks, l.x[i]))
			}
		}
	}
	i := 0
	for _, l := range lines {
		if l.name == "" {
			continue
		}
		x := padL + (i%perRow)*legendItemWidth
		y := chartH + (i/perRow)*legendRowHeight
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="14" height="4" fill="%s"/><text x="%d" y="%d">%s</text>`,
			x, y-6, l.color, x+20, y, html.EscapeString(l.name))
		i++
	}
	b.WriteString("</svg>\n")
}

func xlabelOf(ticks []tick, x float64) string {
	// The percentile chart's x is on the nines scale: invert it.
	if len(ticks) > 0 && ticks[len(ticks)-1].label == "99.999%" {
		return fmt.Sprintf("p%g", round3(100-100/math.Pow(10, x)))
	}
	return fmtTick(x)
}

// barChart draws a histogram whose bins are log-spaced.
func barChart(b *strings.Builder, title string, bins []HistogramBin, color string) {
	var top int64
	for _, bin := range bins {
		top = max(top, bin.Count)
	}
	if top == 0 {
		return
	}
	yt := niceTicks(0, float64(top)*1.05, 5)
	ytop := yt[len(yt)-1]
	h := chartH - 40
	ph := h - padT - padB
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		chartW, h, chartW, h, html.EscapeString(title))
	fmt.Fprintf(b, `<text class="t" x="%d" y="18">%s</text>`, padL, html.EscapeString(title))
	for _, v := range yt {
		y := float64(padT+ph) - v/ytop*float64(ph)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`,
			padL, chartW-padR, y, y, padL-6, y+4, fmtTick(v))
	}
	bw := float64(plotW) / float64(len(bins))
	for i, bin := range bins {
		x := float64(padL) + float64(i)*bw
		bh := float64(bin.Count) / ytop * float64(ph)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.8"><title>%s–%s ms: %d</title></rect>`,
			x+0.5, float64(padT+ph)-bh, max(bw-1, 0.5), bh, color, fmtTick(bin.FromMs), fmtTick(bin.ToMs), bin.Count)
		if i%5 == 0 {
			fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, x, padT+ph+16, fmtTick(bin.FromMs))
		}
	}
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#888"/>`, padL, chartW-padR, padT+ph, padT+ph)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">latency, ms (log scale)</text>`, padL+plotW/2, padT+ph+34)
	b.WriteString("</svg>\n")
}
