package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// DefaultRetries is how many times an idempotent request is retried after a
// transient failure, unless [WithRetries] says otherwise.
const DefaultRetries = 4

// DefaultJobs bounds concurrent blob operations, unless [WithJobs] says otherwise.
const DefaultJobs = 8

// Registry is a connection to one registry host. It is safe for concurrent
// use and caches one authenticated transport per scope, so that many calls
// ping the registry and exchange credentials for a token once.
type Registry struct {
	reg  name.Registry
	o    *options
	base *baseTransport

	mu      sync.Mutex
	clients map[string]*clientEntry
	ready   map[string]*http.Client // clients made successfully, by scope key
}

type clientEntry struct {
	once   sync.Once
	client *http.Client
	err    error
}

// NewRegistry returns a Registry for host ("host[:port]"). It does no I/O.
func NewRegistry(host string, opts ...Option) (*Registry, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	if host == "" {
		return nil, fmt.Errorf("%w: empty registry host", ErrInvalidName)
	}
	nopts := []name.Option{name.StrictValidation}
	if o.insecure {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, nopts...)
	if err != nil {
		return nil, fmt.Errorf("%w: registry %q: %w", ErrInvalidName, host, err)
	}
	return &Registry{
		reg:     reg,
		o:       o,
		base:    newBaseTransport(o, reg.RegistryStr()),
		clients: map[string]*clientEntry{},
		ready:   map[string]*http.Client{},
	}, nil
}

// Host returns the registry's host[:port] as requests address it.
func (r *Registry) Host() string { return r.reg.RegistryStr() }

// String returns the host.
func (r *Registry) String() string { return r.Host() }

func (r *Registry) scheme() string {
	if r.o.insecure {
		return "http"
	}
	return "https"
}

// url returns the absolute URL of path (which starts with /v2/).
func (r *Registry) url(path string) string {
	return r.scheme() + "://" + r.reg.RegistryStr() + path
}

// authenticator resolves the credentials to use for resource.
func (r *Registry) authenticator(ctx context.Context, res authn.Resource) (authn.Authenticator, error) {
	if r.o.auth != nil {
		return r.o.auth, nil
	}
	if r.o.keychain == nil {
		return authn.Anonymous, nil
	}
	a, err := authn.Resolve(ctx, r.o.keychain, res)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %s: %w", res.RegistryStr(), err)
	}
	return a, nil
}

// client returns the cached authenticated client for scopes, creating it
// (ping, then token exchange where needed) on first use.
func (r *Registry) client(ctx context.Context, res authn.Resource, scopes ...string) (*http.Client, error) {
	key := strings.Join(scopes, " ")
	r.mu.Lock()
	e, ok := r.clients[key]
	if !ok {
		e = &clientEntry{}
		r.clients[key] = e
	}
	r.mu.Unlock()
	e.once.Do(func() {
		var auth authn.Authenticator
		auth, e.err = r.authenticator(ctx, res)
		if e.err != nil {
			return
		}
		var rt = http.RoundTripper(r.base)
		var tr http.RoundTripper
		e.err = r.retry(ctx, func() error {
			var err error
			tr, err = transport.NewWithContext(ctx, r.reg, auth, rt, scopes)
			return err
		})
		if e.err != nil {
			e.err = wrapErr("contacting registry "+r.Host(), subjectOther, e.err)
			return
		}
		e.client = &http.Client{Transport: tr}
		r.mu.Lock()
		r.ready[key] = e.client
		r.mu.Unlock()
	})
	if e.err != nil {
		// Do not cache failures: a later call may succeed (e.g. after a
		// transient network error or a cancelled context).
		r.mu.Lock()
		if r.clients[key] == e {
			delete(r.clients, key)
		}
		r.mu.Unlock()
	}
	return e.client, e.err
}

// request describes one HTTP request to the registry. A nil body, or a
// bytes body, may be retried; an upload body is sent once (or again after a
// token refresh, if it can be rewound).
type request struct {
	method  string
	url     string
	header  http.Header
	body    []byte
	upload  *countingReader
	length  int64 // of upload; -1 if unknown
	noRetry bool
}

// do sends req with client, retrying idempotent requests on transient
// failures. The caller closes the response body.
func (r *Registry) do(ctx context.Context, c *http.Client, req request) (*http.Response, error) {
	var resp *http.Response
	idempotent := !req.noRetry && req.upload == nil &&
		req.method != http.MethodPost && req.method != http.MethodPatch
	attempt := func() error {
		var body io.Reader
		switch {
		case req.upload != nil:
			body = req.upload.attempt()
		case req.body != nil:
			body = bytes.NewReader(req.body)
		}
		hr, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
		if err != nil {
			return err
		}
		if req.upload != nil {
			hr.ContentLength = req.length
			if req.length == 0 {
				hr.Body = http.NoBody
			}
			if req.upload.rewind != nil {
				hr.GetBody = func() (io.ReadCloser, error) {
					if err := req.upload.restart(); err != nil {
						return nil, err
					}
					return req.upload.attempt(), nil
				}
			}
			// The transport may still be reading the body after answering
			// (a registry can refuse a request before reading it); make sure
			// it has stopped before the caller touches the hash again.
			defer req.upload.stop()
		}
		for k, v := range req.header {
			hr.Header[k] = v
		}
		resp, err = c.Do(hr) //nolint:bodyclose // returned to the caller, who closes it
		if err != nil {
			return err
		}
		if idempotent && isRetryStatus(resp.StatusCode) {
			return &retryableStatus{resp: resp}
		}
		return nil
	}
	if !idempotent {
		return resp, cleanURLError(attempt())
	}
	err := r.retry(ctx, attempt)
	var rs *retryableStatus
	if errors.As(err, &rs) {
		// Out of attempts: hand back the last answer for the caller to report.
		return rs.resp, nil
	}
	return resp, cleanURLError(err)
}

// getBody GETs a small document (a manifest, a page of a listing), reading
// at most limit bytes, and retries the whole request when reading the body
// fails transiently (a dropped or truncated answer). It returns the body and
// the answer's headers.
func (r *Registry) getBody(ctx context.Context, c *http.Client, op string, s subject, req request, limit int64) ([]byte, http.Header, error) {
	var (
		raw []byte
		hdr http.Header
	)
	err := r.retry(ctx, func() error {
		resp, err := r.do(ctx, c, req)
		if err != nil {
			return &permanent{wrapErr(op, s, err)}
		}
		defer resp.Body.Close()
		if err := checkResponse(op, s, resp, http.StatusOK); err != nil {
			return &permanent{err}
		}
		hdr = resp.Header
		raw, err = io.ReadAll(io.LimitReader(resp.Body, limit))
		if err != nil {
			return fmt.Errorf("%s: %w", op, cleanURLError(err))
		}
		return nil
	})
	var p *permanent
	if errors.As(err, &p) {
		return nil, nil, p.err
	}
	return raw, hdr, err
}

// permanent marks an error retry must not retry (do already retried it).
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }

type retryableStatus struct{ resp *http.Response }

func (e *retryableStatus) Error() string { return e.resp.Status }

func isRetryStatus(code int) bool { return slices.Contains(retryStatuses, code) }

// retry runs f until it succeeds, fails permanently, or the attempts allowed
// by WithRetries are spent, sleeping with exponential backoff and jitter (or
// as long as a Retry-After header asks) between attempts.
func (r *Registry) retry(ctx context.Context, f func() error) error {
	var err error
	for i := 0; ; i++ {
		err = f()
		if err == nil || i >= r.o.retries || !transient(err) || ctx.Err() != nil {
			return err
		}
		delay := backoff(i)
		var rs *retryableStatus
		if errors.As(err, &rs) {
			if d, ok := retryAfter(rs.resp.Header.Get("Retry-After")); ok {
				delay = d
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(rs.resp.Body, 64<<10))
			_ = rs.resp.Body.Close()
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff returns the delay before retry i (0-based): 200ms doubling, capped
// at 10s, with ±50% jitter so that many clients do not retry in step.
func backoff(i int) time.Duration {
	d := 200 * time.Millisecond << min(i, 6)
	d = min(d, 10*time.Second)
	return d/2 + time.Duration(rand.Int64N(int64(d))) //nolint:gosec // jitter needs no cryptographic randomness
}

// retryAfter parses a Retry-After header (seconds or an HTTP date), capped at
// a minute.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	} else {
		return 0, false
	}
	return max(0, min(d, time.Minute)), true
}

// transient reports whether err is worth retrying.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var p *permanent
	if errors.As(err, &p) {
		return false
	}
	var rs *retryableStatus
	if errors.As(err, &rs) {
		return true
	}
	if errors.Is(err, ErrAuthInsecure) {
		return false
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.Temporary()
	}
	// Connection refused, reset, EOF mid-response, DNS hiccups: all worth
	// another go, within the bounded number of attempts. TLS certificate
	// errors are not.
	msg := err.Error()
	for _, permanent := range []string{"certificate", "x509", "tls: ", "no such host", "server gave HTTP response to HTTPS client", "plain HTTP is not allowed"} {
		if strings.Contains(msg, permanent) {
			return false
		}
	}
	return true
}

// cleanURLError drops the query string from the URL in a *url.Error: signed
// redirect URLs (object storage) carry credentials there.
func cleanURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			u.User = nil
			ue.URL = u.String()
		}
	}
	return err
}
