package transport

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// baseTransport sits below go-containerregistry's authentication layers. It
// enforces what those layers do not: no credentials over plain HTTP, the
// Docker client User-Agent on token requests, and the auth host of
// Config.AuthHost (sending token requests to another host than the realm
// names).
type baseTransport struct {
	inner     http.RoundTripper
	registry  string // host[:port] of the registry
	userAgent string
	authHost  string
	insecure  bool

	mu     sync.Mutex
	realms map[string]bool // hosts named by bearer realms seen so far

	aliases *realmAliases // placeholders of accepted private realms (realm.go)
	secrets *secretSet    // credentials and tokens: see guard.go
	idle    time.Duration // Timeouts.Idle: see stall.go
}

func newBaseTransport(o *Config, registry string) *baseTransport {
	inner := o.Transport
	if inner == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = o.TLSConfig
		t.MaxIdleConnsPerHost = 32
		t.WriteBufferSize = 256 << 10
		t.ReadBufferSize = 256 << 10
		t.DialContext = (&net.Dialer{Timeout: o.Timeouts.Connect, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = o.Timeouts.TLSHandshake
		t.ResponseHeaderTimeout = o.Timeouts.ResponseHeader
		inner = t
	}
	if o.Debug != nil {
		inner = &logTransport{inner: inner, log: o.Debug}
	}
	return &baseTransport{
		inner:     inner,
		registry:  registry,
		userAgent: o.UserAgent,
		authHost:  o.AuthHost,
		insecure:  o.Insecure,
		realms:    map[string]bool{},
		aliases:   newRealmAliases(registry, privateRegistryHost),
		secrets:   newSecretSet(),
		idle:      o.Timeouts.Idle,
	}
}

// RoundTrip implements http.RoundTripper.
func (t *baseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	toRegistry := req.URL.Host == t.registry
	if toRegistry && req.URL.Scheme == "http" && !t.insecure {
		// go-containerregistry falls back to plain HTTP for localhost; the
		// user did not ask for it.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, ErrPlainHTTP
	}
	if real := t.aliases.resolve(req.URL.Host); real != "" && !toRegistry {
		req = req.Clone(req.Context())
		req.URL.Host = real
		req.Host = ""
	}
	if !toRegistry {
		t.mu.Lock()
		realm := t.realms[req.URL.Host]
		t.mu.Unlock()
		if realm && t.authHost != "" {
			req = req.Clone(req.Context())
			req.URL.Host = t.authHost
			req.Host = ""
		}
	}
	if err := t.checkRedirect(req); err != nil {
		closeBody(req)
		return nil, err
	}
	if err := t.guard(req); err != nil {
		closeBody(req)
		return nil, err
	}
	if err := rewindIfReplayed(req); err != nil {
		return nil, err
	}
	ua := t.userAgent
	if !toRegistry {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	req, finish := t.watch(req)
	resp, err := finish(t.inner.RoundTrip(req))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized && toRegistry {
		t.noteRealm(resp.Header.Values("WWW-Authenticate"))
		t.aliases.rewrite(req.Context(), resp.Header)
	}
	switch {
	case resp.StatusCode >= 400:
		limitBody(resp, MaxErrorBodySize)
	case toRegistry && req.URL.Path == "/v2/":
		// The ping's body means nothing, and go-containerregistry drains it.
		limitBody(resp, MaxPingBodySize)
	}
	if resp.StatusCode >= 400 {
		t.redactBody(resp)
	}
	return resp, nil
}

// limitBody cuts resp's body after n bytes: an answer whose body is only
// quoted or drained cannot make us read forever.
func limitBody(resp *http.Response, n int64) {
	if resp.Body == nil || resp.Body == http.NoBody {
		return
	}
	resp.Body = &readCloser{Reader: io.LimitReader(resp.Body, n), Closer: resp.Body}
	if resp.ContentLength > n {
		resp.ContentLength = n
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// maxRedactedBody is how much of an error answer is searched for secrets
// (error bodies are read with smaller limits than this).
const maxRedactedBody = 64 << 10

// redactBody replaces known secrets in the start of an error answer's body
// (a registry may echo the token it was sent), so that no message built from
// it shows them.
func (t *baseTransport) redactBody(resp *http.Response) {
	if resp.Body == nil || resp.Body == http.NoBody || len(t.secrets.list()) == 0 {
		return
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxRedactedBody))
	clean := []byte(t.secrets.redact(string(head)))
	var rest io.Reader = resp.Body
	if err != nil {
		rest = &errReader{err}
	}
	resp.Body = &readCloser{Reader: io.MultiReader(bytes.NewReader(clean), rest), Closer: resp.Body}
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

type readCloser struct {
	io.Reader
	io.Closer
}

// noteRealm records the host of a bearer realm, so that token requests to
// it can be redirected to the auth host.
func (t *baseTransport) noteRealm(challenges []string) {
	for _, c := range challenges {
		i := strings.Index(strings.ToLower(c), "realm=")
		if i < 0 {
			continue
		}
		v := strings.TrimLeft(c[i+len("realm="):], `"`)
		if j := strings.IndexAny(v, `",`); j >= 0 {
			v = v[:j]
		}
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			t.mu.Lock()
			t.realms[u.Host] = true
			t.mu.Unlock()
		}
	}
}
