package faultproxy

import (
	"fmt"
	"net/http"
	"regexp"
	"time"
)

type kind int

const (
	kindStatus kind = iota + 1
	kindLatency
	kindDropResponse
	kindTruncateResponse
	kindFlipResponse
	kindLoseResponse
	kindCutRequest
	kindCutRequestForwarded
	kindFlipRequest
	kindStallResponse
	kindResponseHeader
)

// Fault is one kind of damage done to a request or its response. Make one
// with [Status], [Latency], [DropResponse], [TruncateResponse],
// [FlipResponseByte], [LoseResponse], [CutRequest], [CutRequestForwarded],
// [FlipRequestByte] or [ResponseHeader]; the zero Fault does nothing.
type Fault struct {
	kind       kind
	status     int
	retryAfter string
	delay      time.Duration
	n          int64
	key, value string
}

// Status answers matching requests with the HTTP status code (for example
// 500, 503 or 429) and a registry-style JSON error body, without forwarding
// them. The request body is not read.
func Status(code int) Fault { return Fault{kind: kindStatus, status: code} }

// WithRetryAfter returns a copy of a [Status] fault that also sends the
// header "Retry-After: v" (seconds, or an HTTP date).
func (f Fault) WithRetryAfter(v string) Fault {
	f.retryAfter = v
	return f
}

// Latency delays matching requests by d before they are forwarded (or
// answered by another fault of the same request). The delay ends early if
// the client goes away.
func Latency(d time.Duration) Fault { return Fault{kind: kindLatency, delay: d} }

// DropResponse forwards the request, sends the upstream's status line,
// headers (with the original Content-Length) and the first n bytes of its
// body, then resets the connection (TCP RST). Because of the reset, the
// client may receive fewer than n bytes. A body of n bytes or fewer is sent
// whole before the reset.
func DropResponse(n int64) Fault { return Fault{kind: kindDropResponse, n: n} }

// TruncateResponse is [DropResponse] with a clean close (FIN) instead of a
// reset: the client receives exactly the first n bytes of a body whose
// Content-Length announces more, then end of file.
func TruncateResponse(n int64) Fault { return Fault{kind: kindTruncateResponse, n: n} }

// StallResponse forwards the status line, headers and the first n body
// bytes of the upstream's answer, then sends nothing more until the client
// goes away (or the proxy closes): a transfer that hangs mid-way, for
// testing deadlines and interruptions.
func StallResponse(n int64) Fault { return Fault{kind: kindStallResponse, n: n} }

// FlipResponseByte flips the lowest bit of the response body byte at offset
// (counted from the start of this response's body, whatever its
// Content-Range). Decimal digits stay digits, so JSON usually stays JSON.
func FlipResponseByte(offset int64) Fault { return Fault{kind: kindFlipResponse, n: offset} }

// LoseResponse forwards the request and reads the upstream's whole answer,
// then resets the client connection without sending any of it: the upstream
// did the work, the client sees a connection error.
func LoseResponse() Fault { return Fault{kind: kindLoseResponse} }

// CutRequest reads the first n bytes of the request body from the client
// (they count in the byte totals), then resets the client connection. Nothing
// is forwarded: the upstream never hears of the request. This models a
// request-buffering proxy, such as nginx, whose client goes away mid-body.
// A body of n bytes or fewer is read whole before the reset.
func CutRequest(n int64) Fault { return Fault{kind: kindCutRequest, n: n} }

// CutRequestForwarded streams the request headers and exactly the first n
// bytes of the body to the upstream over a fresh connection, half-closes it,
// waits until the upstream has finished with the request (it closes its end),
// then resets the client connection. The upstream thus receives — and, if it
// stores partial data, stores — a partial request before the client sees the
// error. A body of n bytes or fewer is forwarded whole and the upstream's
// answer is lost, as with [LoseResponse].
func CutRequestForwarded(n int64) Fault { return Fault{kind: kindCutRequestForwarded, n: n} }

// FlipRequestByte flips the lowest bit of the request body byte at offset
// on its way upstream.
func FlipRequestByte(offset int64) Fault { return Fault{kind: kindFlipRequest, n: offset} }

// ResponseHeader forwards the request and the upstream's answer, with the
// response header k set to v (or removed, if v is empty): a registry that
// names something else than it did, or names nothing. It combines with the
// other faults of a request; several header faults all apply.
func ResponseHeader(k, v string) Fault { return Fault{kind: kindResponseHeader, key: k, value: v} }

// String describes the fault, e.g. "status 503 (Retry-After: 1)" or
// "cut request after 1024 bytes (not forwarded)".
func (f Fault) String() string {
	switch f.kind {
	case kindStatus:
		s := fmt.Sprintf("status %d", f.status)
		if f.retryAfter != "" {
			s += " (Retry-After: " + f.retryAfter + ")"
		}
		return s
	case kindLatency:
		return "latency " + f.delay.String()
	case kindDropResponse:
		return fmt.Sprintf("drop response after %d body bytes", f.n)
	case kindTruncateResponse:
		return fmt.Sprintf("truncate response after %d body bytes", f.n)
	case kindFlipResponse:
		return fmt.Sprintf("flip response byte %d", f.n)
	case kindLoseResponse:
		return "lose response"
	case kindCutRequest:
		return fmt.Sprintf("cut request after %d body bytes (not forwarded)", f.n)
	case kindCutRequestForwarded:
		return fmt.Sprintf("cut request after %d body bytes (forwarded)", f.n)
	case kindFlipRequest:
		return fmt.Sprintf("flip request byte %d", f.n)
	case kindStallResponse:
		return fmt.Sprintf("stall response after %d body bytes", f.n)
	case kindResponseHeader:
		if f.value == "" {
			return "remove response header " + f.key
		}
		return fmt.Sprintf("response header %s: %s", f.key, f.value)
	}
	return "no fault"
}

func (f Fault) isRequestFault() bool {
	return f.kind == kindCutRequest || f.kind == kindCutRequestForwarded || f.kind == kindFlipRequest
}

func (f Fault) isResponseFault() bool {
	return f.kind == kindDropResponse || f.kind == kindTruncateResponse ||
		f.kind == kindFlipResponse || f.kind == kindLoseResponse || f.kind == kindStallResponse
}

// Rule selects the requests a fault applies to. The zero Rule matches every
// request, every time.
type Rule struct {
	// Method is the HTTP method to match ("" matches any).
	Method string
	// Path is a regular expression searched for in the URL path (not
	// anchored unless it says so; "" matches any path).
	Path string
	// Query is a regular expression searched for in the raw query string
	// ("" matches any query, including none).
	Query string
	// Skip lets the first Skip matching requests through untouched.
	Skip int
	// Times is how many matching requests, after the skipped ones, the
	// fault applies to; 0 means every one.
	Times int
}

// Injection is a fault added to a [Proxy] by [Proxy.Inject]. Its methods are
// safe for concurrent use.
type Injection struct {
	p     *Proxy
	rule  Rule
	path  *regexp.Regexp
	query *regexp.Regexp
	fault Fault

	// Guarded by p.mu.
	seen, hits int
	removed    bool
}

// matches reports whether the request is selected by the rule, counting it.
// The caller holds p.mu.
func (i *Injection) matches(r *http.Request) bool {
	if i.removed {
		return false
	}
	if i.rule.Method != "" && i.rule.Method != r.Method {
		return false
	}
	if i.path != nil && !i.path.MatchString(r.URL.Path) {
		return false
	}
	if i.query != nil && !i.query.MatchString(r.URL.RawQuery) {
		return false
	}
	i.seen++
	if i.seen <= i.rule.Skip {
		return false
	}
	if i.rule.Times > 0 && i.hits >= i.rule.Times {
		return false
	}
	i.hits++
	return true
}

// Hits returns how many requests the fault has been applied to.
func (i *Injection) Hits() int {
	i.p.mu.Lock()
	defer i.p.mu.Unlock()
	return i.hits
}

// Seen returns how many requests matched the rule's method, path and query,
// including those skipped or let through once Times was reached.
func (i *Injection) Seen() int {
	i.p.mu.Lock()
	defer i.p.mu.Unlock()
	return i.seen
}

// Remove switches the fault off. Requests already being damaged carry on.
func (i *Injection) Remove() {
	i.p.mu.Lock()
	defer i.p.mu.Unlock()
	i.removed = true
}

// String describes the rule and the fault.
func (i *Injection) String() string {
	r := i.rule
	m := r.Method
	if m == "" {
		m = "*"
	}
	s := fmt.Sprintf("%s %q", m, r.Path)
	if r.Query != "" {
		s += fmt.Sprintf(" ?%q", r.Query)
	}
	if r.Skip > 0 {
		s += fmt.Sprintf(" after %d", r.Skip)
	}
	if r.Times > 0 {
		s += fmt.Sprintf(" ×%d", r.Times)
	}
	return s + ": " + i.fault.String()
}
