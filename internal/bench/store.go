package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shoalstream/shoal/internal/objstore"
)

// StoreCounters are a server's storage counters at one moment, as its
// diagnostics listener serves them (`shoal server --pprof ADDR`, at
// /debug/store): cumulative since the server started.
type StoreCounters struct {
	Store        string            `json:"store"`
	Calls        map[string]uint64 `json:"calls"`
	Errors       map[string]uint64 `json:"errors"`
	BytesRead    uint64            `json:"bytes_read"`
	BytesWritten uint64            `json:"bytes_written"`
	// Requests are the HTTP requests of an S3 store by kind; nil for a
	// local one.
	Requests *objstore.Requests `json:"requests,omitempty"`
}

// StoreUsage is what the server asked of its storage during the measured
// phase, from its own counters: their differences, and for S3 the
// requests by price class — PUT, COPY, POST and LIST are billed as PUTs,
// GET and HEAD as GETs, DELETE is free.
type StoreUsage struct {
	Source  string  `json:"source"`
	Seconds float64 `json:"duration_s"`
	StoreCounters
	PutClass      uint64  `json:"put_class_requests,omitempty"`
	GetClass      uint64  `json:"get_class_requests,omitempty"`
	PutsPerSecond float64 `json:"put_class_per_s,omitempty"`
	GetsPerSecond float64 `json:"get_class_per_s,omitempty"`
	// CostPerGiB is the request cost of the run per GiB of payload sent,
	// at Prices.
	CostPerGiB float64 `json:"request_usd_per_gib_payload,omitempty"`
	Prices     *Prices `json:"prices,omitempty"`
}

// StoreUsageBetween computes the server's storage use between two readings
// of its counters, seconds apart, while payload bytes were sent.
func StoreUsageBetween(before, after StoreCounters, seconds float64, payload uint64, prices Prices) *StoreUsage {
	u := &StoreUsage{
		Source: "the server's storage counters before and after the measured phase", Seconds: round3(seconds),
		StoreCounters: StoreCounters{
			Store: after.Store, Calls: map[string]uint64{}, Errors: map[string]uint64{},
			BytesRead:    after.BytesRead - before.BytesRead,
			BytesWritten: after.BytesWritten - before.BytesWritten,
		},
	}
	for op, n := range after.Calls {
		u.Calls[op] = n - before.Calls[op]
	}
	for op, n := range after.Errors {
		u.Errors[op] = n - before.Errors[op]
	}
	if after.Requests == nil || before.Requests == nil {
		return u
	}
	r := after.Requests.Sub(*before.Requests)
	u.Requests = &r
	u.PutClass = r.Put + r.Post + r.List
	u.GetClass = r.Get + r.Head
	u.Prices = &prices
	if seconds > 0 {
		u.PutsPerSecond = float64(u.PutClass) / seconds
		u.GetsPerSecond = float64(u.GetClass) / seconds
	}
	if payload > 0 {
		cost := float64(u.PutClass)*prices.PutPer1000/1000 + float64(u.GetClass)*prices.GetPer1000/1000
		u.CostPerGiB = cost / (float64(payload) / (1 << 30))
	}
	return u
}

// RequestsText is the S3 requests in a line, "" for a local store.
func (u *StoreUsage) RequestsText() string {
	r := u.Requests
	if r == nil {
		return ""
	}
	return fmt.Sprintf("%d PUT-class requests, %.1f/s (%d PUT, %d POST, %d LIST); %d GET-class, %.1f/s (%d GET, %d HEAD); %d DELETE",
		u.PutClass, u.PutsPerSecond, r.Put, r.Post, r.List, u.GetClass, u.GetsPerSecond, r.Get, r.Head, r.Delete)
}

// CallsText is the store calls and bytes in a line.
func (u *StoreUsage) CallsText() string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(u.Calls)) {
		if n := u.Calls[op]; n > 0 {
			s := fmt.Sprintf("%s %d", op, n)
			if e := u.Errors[op]; e > 0 {
				s += fmt.Sprintf(" (%d failed)", e)
			}
			parts = append(parts, s)
		}
	}
	calls := "none"
	if len(parts) > 0 {
		calls = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("calls: %s; %s read, %s written", calls, bytesText(float64(u.BytesRead)), bytesText(float64(u.BytesWritten)))
}
