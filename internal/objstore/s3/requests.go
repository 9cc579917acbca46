package s3

import (
	"net/http"
	"sync/atomic"

	"github.com/shoalstream/shoal/internal/objstore"
)

// requestCounts counts the backend's HTTP requests by kind
// (objstore.Requests).
type requestCounts struct {
	get, head, list, put, post, del atomic.Uint64
}

func (c *requestCounts) snapshot() objstore.Requests {
	return objstore.Requests{
		Get: c.get.Load(), Head: c.head.Load(), List: c.list.Load(),
		Put: c.put.Load(), Post: c.post.Load(), Delete: c.del.Load(),
	}
}

// countingTransport counts every request that goes through it, before
// sending it: each attempt of the SDK's retries is one.
type countingTransport struct {
	next   http.RoundTripper
	counts *requestCounts
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c := t.counts
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		if q.Has("list-type") || q.Has("uploads") || q.Has("uploadId") {
			c.list.Add(1) // ListObjectsV2, ListMultipartUploads, ListParts
		} else {
			c.get.Add(1)
		}
	case http.MethodHead:
		c.head.Add(1)
	case http.MethodPut:
		c.put.Add(1)
	case http.MethodPost:
		c.post.Add(1)
	case http.MethodDelete:
		c.del.Add(1)
	}
	return t.next.RoundTrip(r)
}

// countRequests returns a client like hc whose requests are counted in c.
func countRequests(hc *http.Client, c *requestCounts) *http.Client {
	counted := *hc
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	counted.Transport = countingTransport{next: next, counts: c}
	return &counted
}

// Requests returns the requests the backend has sent (objstore.RequestCounter).
func (b *Backend) Requests() objstore.Requests { return b.requests.snapshot() }
