// Package retry is the one retry policy of pkg/blobstore: which failures are
// worth another attempt, how long to wait before it (exponential back-off
// with jitter, or what a Retry-After header asks), and how many attempts an
// operation gets. Requests, resumed downloads and recovered uploads all
// count their failures against the same limit.
package retry

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Statuses are the HTTP statuses worth retrying an idempotent request for.
var Statuses = []int{
	http.StatusRequestTimeout,
	http.StatusTooManyRequests,
	http.StatusInternalServerError,
	http.StatusBadGateway,
	http.StatusServiceUnavailable,
	http.StatusGatewayTimeout,
}

// IsStatus reports whether code is one of [Statuses].
func IsStatus(code int) bool { return slices.Contains(Statuses, code) }

// Counter counts the failures of one operation against a limit: the
// retries of a request, the resumptions of a download, the recoveries of an
// upload.
type Counter struct {
	limit    int
	failures int
}

// NewCounter returns a counter that allows retries further attempts.
func NewCounter(retries int) *Counter { return &Counter{limit: retries} }

// Again counts a failure and reports whether another attempt is allowed.
func (c *Counter) Again() bool {
	c.failures++
	return c.failures <= c.limit
}

// Failures is how many failures have been counted.
func (c *Counter) Failures() int { return c.failures }

// Wait sleeps before the next attempt: after, if positive (a Retry-After
// header), or else the back-off for the failures counted so far. It
// returns the context's error if the context ends first.
func (c *Counter) Wait(ctx context.Context, after time.Duration) error {
	d := after
	if d <= 0 {
		d = Backoff(max(0, c.failures-1))
	}
	return Sleep(ctx, d)
}

// Do calls f until it succeeds, fails for good, or retries further attempts
// have been made. After each failure, check says whether the error is worth
// another attempt and how long to wait before it (0: the back-off). check is
// only called when another attempt is allowed, so it may release what the
// failed attempt holds (a response body). Do returns f's last error, or the
// context's if it ended while waiting.
func Do(ctx context.Context, retries int, f func() error, check func(error) (again bool, after time.Duration)) error {
	c := NewCounter(retries)
	for {
		err := f()
		if err == nil || ctx.Err() != nil || !c.Again() {
			return err
		}
		again, after := check(err)
		if !again {
			return err
		}
		if werr := c.Wait(ctx, after); werr != nil {
			return werr
		}
	}
}

// Backoff returns the delay before retry i (0-based): 200ms doubling, capped
// at 10s, with ±50% jitter so that many clients do not retry in step.
func Backoff(i int) time.Duration {
	d := 200 * time.Millisecond << min(i, 6)
	d = min(d, 10*time.Second)
	return d/2 + time.Duration(rand.Int64N(int64(d))) //nolint:gosec // jitter needs no cryptographic randomness
}

// MaxAfter bounds what After returns (callers cap it further: the waits a
// registry may ask for are an option of pkg/blobstore).
const MaxAfter = 30 * 24 * time.Hour

// After parses a Retry-After header (seconds or an HTTP date), capped at
// MaxAfter.
func After(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(min(s, int(MaxAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	} else {
		return 0, false
	}
	return max(0, min(d, MaxAfter)), true
}

// Sleep waits d, or until ctx ends (then returning its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Permanent marks an error not to retry (typically because a lower layer
// already retried it).
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }

// Unwrap returns the error marked.
func (p *Permanent) Unwrap() error { return p.Err }

// Status is a response with one of the [Statuses]: the attempt failed, and
// if no other follows, the response is the answer to report.
type Status struct{ Resp *http.Response }

func (e *Status) Error() string { return e.Resp.Status }

// Discard drains and closes the response body, before another attempt.
func (e *Status) Discard() {
	_, _ = io.Copy(io.Discard, io.LimitReader(e.Resp.Body, 64<<10))
	_ = e.Resp.Body.Close()
}

// After is the wait the response's Retry-After header asks for, if any.
func (e *Status) After() time.Duration {
	d, _ := After(e.Resp.Header.Get("Retry-After"))
	return d
}

// Transient reports whether err is worth retrying: a [*Status], a
// temporary registry error, or a network failure (connection refused or
// reset, EOF mid-response, DNS hiccups) — not a cancellation, a
// [*Permanent] error, one of permanent, or a certificate problem.
func Transient(err error, permanent ...error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var p *Permanent
	if errors.As(err, &p) {
		return false
	}
	var rs *Status
	if errors.As(err, &rs) {
		return true
	}
	for _, perm := range permanent {
		if errors.Is(err, perm) {
			return false
		}
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.Temporary()
	}
	msg := err.Error()
	for _, s := range []string{"certificate", "x509", "tls: ", "no such host", "server gave HTTP response to HTTPS client"} {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}
