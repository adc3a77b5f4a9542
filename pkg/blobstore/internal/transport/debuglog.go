package transport

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// NewDebugLog returns a log writing to w.
func NewDebugLog(w io.Writer) *DebugLog { return &DebugLog{w: w} }

// DebugLog serialises the lines of concurrent requests.
type DebugLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *DebugLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// logTransport logs each exchange of inner to log.
type logTransport struct {
	inner http.RoundTripper
	log   *DebugLog
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := redactURL(req.URL)
	auth := "none"
	if a := req.Header.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		auth = scheme + " [redacted]"
	}
	t.log.printf("--> %s %s (%s, auth %s)\n", req.Method, u, sizeText(req.ContentLength), auth)
	start := time.Now()
	resp, err := t.inner.RoundTrip(req)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		t.log.printf("<-- %s %s: %v (%s)\n", req.Method, u, err, took)
		return nil, err
	}
	extra := ""
	if loc := resp.Header.Get("Location"); loc != "" {
		if lu, err := url.Parse(loc); err == nil {
			extra = ", location " + redactURL(lu)
		}
	}
	t.log.printf("<-- %s %s %s (%s, %s%s)\n", resp.Status, req.Method, u, sizeText(resp.ContentLength), took, extra)
	return resp, nil
}

func sizeText(n int64) string {
	if n < 0 {
		return "size unknown"
	}
	return fmt.Sprintf("%d bytes", n)
}

// secretParams are query parameters that carry credentials: tokens, and the
// signatures and credentials of pre-signed storage URLs (S3, GCS, Azure).
var secretParams = []string{"token", "access_token", "password", "secret", "signature", "credential", "sig", "key", "code"}

// redactURL is u without user information or secret query values.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for k := range q {
			lk := strings.ToLower(k)
			for _, s := range secretParams {
				if strings.Contains(lk, s) {
					q[k] = []string{"redacted"}
					changed = true
					break
				}
			}
		}
		if changed {
			c.RawQuery = q.Encode()
		}
	}
	return c.String()
}
