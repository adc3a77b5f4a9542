package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dxf-go/dxf/internal/envconfig"
	"github.com/dxf-go/dxf/pkg/internal/retry"
)

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
// host may also be written as a URL, as the dxf command takes it:
// "http://host[:port]" means plain HTTP (as [WithInsecure](true)),
// "https://host[:port]" HTTPS, which WithInsecure(true) then contradicts.
func NewRegistry(host string, opts ...Option) (*Registry, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	bare, scheme := envconfig.SplitScheme(host)
	switch {
	case scheme == "http":
		o.insecure = true
	case scheme == "https" && o.insecure:
		return nil, fmt.Errorf("%w: registry %q asks for HTTPS, WithInsecure(true) for plain HTTP: choose one", ErrInvalidName, host)
	}
	if scheme != "" && strings.Contains(bare, "/") && !strings.Contains(bare, "@") {
		return nil, fmt.Errorf("%w: registry %q: want scheme://host[:port], without a path", ErrInvalidName, host)
	}
	host = bare
	if host == "" {
		return nil, fmt.Errorf("%w: empty registry host", ErrInvalidName)
	}
	nopts := []name.Option{name.StrictValidation}
	if o.insecure {
		nopts = append(nopts, name.Insecure)
	}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		// Never echo what may be a password.
		return nil, fmt.Errorf("%w: registry %q: no user information (user:password@) in a host; give credentials with WithAuth", ErrInvalidName, "[redacted]@"+host[i+1:])
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
		return r.o.auth, r.learnCredentials(ctx, r.o.auth)
	}
	if r.o.keychain == nil {
		return authn.Anonymous, nil
	}
	a, err := r.resolveKeychain(ctx, r.o.keychain, res)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %s: %w", res.RegistryStr(), err)
	}
	return a, r.learnCredentials(ctx, a)
}

// readyClient returns the client made for scopes, if one has been made
// successfully; otherwise nil.
func (r *Registry) readyClient(scopes ...string) *http.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready[strings.Join(scopes, " ")]
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
// token refresh, if it can be rewound). POST and PATCH are sent once unless
// retrySafe says sending one again does no harm (opening an upload
// session: at worst the registry holds a session nobody uses, which it
// purges).
type request struct {
	method    string
	url       string
	header    http.Header
	body      []byte
	upload    *uploadBody
	noRetry   bool
	retrySafe bool
}

// do sends req with client, retrying idempotent requests on transient
// failures. The caller closes the response body.
func (r *Registry) do(ctx context.Context, c *http.Client, req request) (*http.Response, error) {
	var resp *http.Response
	idempotent := !req.noRetry && req.upload == nil &&
		(req.retrySafe || (req.method != http.MethodPost && req.method != http.MethodPatch))
	attempt := func() error {
		var body io.Reader
		if req.body != nil {
			body = bytes.NewReader(req.body)
		}
		hr, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
		if err != nil {
			return err
		}
		if req.upload != nil {
			req.upload.attach(hr)
			defer req.upload.stop()
		}
		for k, v := range req.header {
			hr.Header[k] = v
		}
		resp, err = c.Do(hr) //nolint:bodyclose // returned to the caller, who closes it
		if err != nil {
			return err
		}
		if idempotent && retry.IsStatus(resp.StatusCode) {
			return &retry.Status{Resp: resp}
		}
		return nil
	}
	if !idempotent {
		return resp, cleanURLError(attempt())
	}
	err := r.retry(ctx, attempt)
	var rs *retry.Status
	if errors.As(err, &rs) {
		// Out of attempts: hand back the last answer for the caller to report.
		return rs.Resp, nil
	}
	return resp, cleanURLError(err)
}

// getBody GETs a small document (a manifest, a page of a listing), and
// retries the whole request when reading the body fails transiently (a
// dropped or truncated answer). It returns the body and the answer's
// headers. A body over limit.Limit bytes is an error (limit itself).
func (r *Registry) getBody(ctx context.Context, c *http.Client, op string, s subject, req request, limit *LimitError) ([]byte, http.Header, error) {
	var (
		raw []byte
		hdr http.Header
	)
	err := r.retry(ctx, func() error {
		resp, err := r.do(ctx, c, req)
		if err != nil {
			return &retry.Permanent{Err: wrapErr(op, s, err)}
		}
		defer resp.Body.Close()
		if err := checkResponse(op, s, resp, http.StatusOK); err != nil {
			return &retry.Permanent{Err: err}
		}
		hdr = resp.Header
		if resp.ContentLength > limit.Limit {
			return &retry.Permanent{Err: fmt.Errorf("%s: %w", op, limit)}
		}
		raw, err = io.ReadAll(io.LimitReader(resp.Body, limit.Limit+1))
		if err != nil {
			return fmt.Errorf("%s: %w", op, cleanURLError(err))
		}
		if int64(len(raw)) > limit.Limit {
			return &retry.Permanent{Err: fmt.Errorf("%s: %w", op, limit)}
		}
		return nil
	})
	var p *retry.Permanent
	if errors.As(err, &p) {
		return nil, nil, p.Err
	}
	return raw, hdr, err
}

// retry runs f until it succeeds, fails permanently, or the attempts allowed
// by WithRetries are spent, waiting as the retry policy says between
// attempts (back-off, or as long as a Retry-After header asks).
func (r *Registry) retry(ctx context.Context, f func() error) error {
	return retry.Do(ctx, r.o.retries, f, func(err error) (bool, time.Duration) {
		if !transient(err) {
			return false, 0
		}
		var rs *retry.Status
		if errors.As(err, &rs) {
			after := r.askedWait(rs.Resp.StatusCode, rs.After())
			rs.Discard()
			return true, after
		}
		return true, 0
	})
}

// askedWait returns how long to wait when the registry asked for asked
// (Retry-After) with an answer of the given status: at most the
// WithMaxRetryAfter cap. A wait of a second or more is reported to the
// WithRetryWaitNotify callback.
func (r *Registry) askedWait(status int, asked time.Duration) time.Duration {
	if asked <= 0 {
		return 0
	}
	d := min(asked, r.o.maxRetryAfter)
	if r.o.waitNotify != nil && d >= time.Second {
		r.o.waitNotify(RetryWait{Host: r.Host(), Status: status, Asked: asked, Wait: d})
	}
	return d
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
