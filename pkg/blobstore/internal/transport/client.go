package transport

import (
	"bytes"
	"context"
	"crypto/tls"
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

	"github.com/dxf-go/dxf/pkg/internal/retry"
)

// Timeouts bound the waits of the transport (see blobstore.Timeouts, of
// which this is a copy).
type Timeouts struct {
	Connect          time.Duration
	TLSHandshake     time.Duration
	ResponseHeader   time.Duration
	Idle             time.Duration
	CredentialHelper time.Duration
}

// Config is what a Client is made with: the registry's options that concern
// HTTP.
type Config struct {
	// Auth, if set, authenticates every request; it takes precedence over
	// Keychain. With neither, access is anonymous.
	Auth     authn.Authenticator
	Keychain authn.Keychain
	// Insecure talks plain HTTP to the registry.
	Insecure bool
	// AuthHost, if set, receives the token requests in place of the host
	// the bearer realm names.
	AuthHost  string
	TLSConfig *tls.Config
	// Transport replaces the base HTTP transport (TLSConfig and the
	// network timeouts then do not apply).
	Transport http.RoundTripper
	Timeouts  Timeouts
	// MaxRetryAfter caps the wait a Retry-After header may ask for.
	MaxRetryAfter time.Duration
	// WaitNotify, if set, is told of each wait of a second or more that a
	// Retry-After header asked for.
	WaitNotify func(status int, asked, wait time.Duration)
	UserAgent  string
	// Retries is how many times an idempotent request is retried.
	Retries int
	// Debug, if set, logs every exchange.
	Debug *DebugLog
}

// Client is the HTTP side of one registry host. It is safe for concurrent
// use and caches one authenticated transport per scope, so that many calls
// ping the registry and exchange credentials for a token once.
type Client struct {
	reg  name.Registry
	o    *Config
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

// New returns the Client for reg. It does no I/O.
func New(reg name.Registry, o Config) *Client {
	return &Client{
		reg:     reg,
		o:       &o,
		base:    newBaseTransport(&o, reg.RegistryStr()),
		clients: map[string]*clientEntry{},
		ready:   map[string]*http.Client{},
	}
}

// Host returns the registry's host[:port] as requests address it.
func (r *Client) Host() string { return r.reg.RegistryStr() }

// Base returns the base transport, below authentication (for
// go-containerregistry's Ping and Exchange).
func (r *Client) Base() http.RoundTripper { return r.base }

// Scheme returns "http" for an insecure registry, otherwise "https".
func (r *Client) Scheme() string {
	if r.o.Insecure {
		return "http"
	}
	return "https"
}

// URL returns the absolute URL of path (which starts with /v2/).
func (r *Client) URL(path string) string {
	return r.Scheme() + "://" + r.reg.RegistryStr() + path
}

// Authenticator resolves the credentials to use for resource.
func (r *Client) Authenticator(ctx context.Context, res authn.Resource) (authn.Authenticator, error) {
	if r.o.Auth != nil {
		return r.o.Auth, r.LearnCredentials(ctx, r.o.Auth)
	}
	if r.o.Keychain == nil {
		return authn.Anonymous, nil
	}
	a, err := r.resolveKeychain(ctx, r.o.Keychain, res)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %s: %w", res.RegistryStr(), err)
	}
	return a, r.LearnCredentials(ctx, a)
}

// ReadyClient returns the client made for scopes, if one has been made
// successfully; otherwise nil.
func (r *Client) ReadyClient(scopes ...string) *http.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready[strings.Join(scopes, " ")]
}

// Client returns the cached authenticated client for scopes, creating it
// (ping, then token exchange where needed) on first use. An error from the
// ping or the exchange is the caller's to wrap (wrap, applied once, names
// the registry).
func (r *Client) Client(ctx context.Context, res authn.Resource, wrap func(error) error, scopes ...string) (*http.Client, error) {
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
		auth, e.err = r.Authenticator(ctx, res)
		if e.err != nil {
			return
		}
		var rt = http.RoundTripper(r.base)
		var tr http.RoundTripper
		e.err = r.Retry(ctx, func() error {
			var err error
			tr, err = transport.NewWithContext(ctx, r.reg, auth, rt, scopes)
			return err
		})
		if e.err != nil {
			e.err = wrap(e.err)
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

// Upload is the body of an upload request: Attach makes it the body of an
// attempt, Stop ends the attempt once the request is done.
type Upload interface {
	Attach(hr *http.Request)
	Stop()
}

// Request describes one HTTP request to the registry. A nil body, or a
// bytes body, may be retried; an upload body is sent once (or again after a
// token refresh, if it can be rewound). POST and PATCH are sent once unless
// RetrySafe says sending one again does no harm (opening an upload
// session: at worst the registry holds a session nobody uses, which it
// purges).
type Request struct {
	Method    string
	URL       string
	Header    http.Header
	Body      []byte
	Upload    Upload
	NoRetry   bool
	RetrySafe bool
}

// Do sends req with client, retrying idempotent requests on transient
// failures. The caller closes the response body.
func (r *Client) Do(ctx context.Context, c *http.Client, req Request) (*http.Response, error) {
	var resp *http.Response
	idempotent := !req.NoRetry && req.Upload == nil &&
		(req.RetrySafe || (req.Method != http.MethodPost && req.Method != http.MethodPatch))
	attempt := func() error {
		var body io.Reader
		if req.Body != nil {
			body = bytes.NewReader(req.Body)
		}
		hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
		if err != nil {
			return err
		}
		if req.Upload != nil {
			req.Upload.Attach(hr)
			defer req.Upload.Stop()
		}
		for k, v := range req.Header {
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
		return resp, CleanURLError(attempt())
	}
	err := r.Retry(ctx, attempt)
	var rs *retry.Status
	if errors.As(err, &rs) {
		// Out of attempts: hand back the last answer for the caller to report.
		return rs.Resp, nil
	}
	return resp, CleanURLError(err)
}

// Retry runs f until it succeeds, fails permanently, or the attempts allowed
// by Config.Retries are spent, waiting as the retry policy says between
// attempts (back-off, or as long as a Retry-After header asks).
func (r *Client) Retry(ctx context.Context, f func() error) error {
	return retry.Do(ctx, r.o.Retries, f, func(err error) (bool, time.Duration) {
		if !Transient(err) {
			return false, 0
		}
		var rs *retry.Status
		if errors.As(err, &rs) {
			after := r.AskedWait(rs.Resp.StatusCode, rs.After())
			rs.Discard()
			return true, after
		}
		return true, 0
	})
}

// AskedWait returns how long to wait when the registry asked for asked
// (Retry-After) with an answer of the given status: at most the
// Config.MaxRetryAfter cap. A wait of a second or more is reported to the
// Config.WaitNotify callback.
func (r *Client) AskedWait(status int, asked time.Duration) time.Duration {
	if asked <= 0 {
		return 0
	}
	d := min(asked, r.o.MaxRetryAfter)
	if r.o.WaitNotify != nil && d >= time.Second {
		r.o.WaitNotify(status, asked, d)
	}
	return d
}

// CleanURLError drops the query string from the URL in a *url.Error: signed
// redirect URLs (object storage) carry credentials there.
func CleanURLError(err error) error {
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
