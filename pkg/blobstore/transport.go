package blobstore

import (
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
// [WithAuthHost] (sending token requests to another host than the realm
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
}

func newBaseTransport(o *options, registry string) *baseTransport {
	inner := o.transport
	if inner == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = o.tlsConfig
		t.MaxIdleConnsPerHost = 32
		t.WriteBufferSize = 256 << 10
		t.ReadBufferSize = 256 << 10
		if o.timeout > 0 {
			t.DialContext = (&net.Dialer{Timeout: o.timeout, KeepAlive: 30 * time.Second}).DialContext
			t.TLSHandshakeTimeout = o.timeout
			t.ResponseHeaderTimeout = o.timeout
		}
		inner = t
	}
	if o.debug != nil {
		inner = &logTransport{inner: inner, log: o.debug}
	}
	return &baseTransport{
		inner:     inner,
		registry:  registry,
		userAgent: o.userAgent,
		authHost:  o.authHost,
		insecure:  o.insecure,
		realms:    map[string]bool{},
		aliases:   newRealmAliases(registry, privateRegistryHost),
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
	if err := rewindIfReplayed(req); err != nil {
		return nil, err
	}
	if req.URL.Scheme == "http" && req.Header.Get("Authorization") != "" {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, ErrAuthInsecure
	}
	ua := t.userAgent
	if !toRegistry {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized && toRegistry {
		t.noteRealm(resp.Header.Values("WWW-Authenticate"))
		t.aliases.rewrite(req.Context(), resp.Header)
	}
	return resp, nil
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
