package transport

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Token realms on private addresses.
//
// go-containerregistry refuses a bearer realm whose host is a private,
// loopback or link-local IP literal unless it is exactly the registry's
// host:port, so that a registry cannot point the client (and its
// credentials) at an internal service. That also refuses the usual
// on-premises set-up: a registry on a LAN or loopback address with its token
// server on another port of the same or another private address.
//
// The rule dxf applies instead: a realm on a private IP literal is accepted
// when the registry is addressed by that same IP (any port), or when the
// registry itself is on a private network (its host is "localhost", a
// private, loopback or link-local IP literal, or a name that resolves only to
// such addresses). A public registry still cannot name a private realm.
//
// To get an accepted realm past go-containerregistry's check, the
// challenge's realm host is replaced by a placeholder name under the
// reserved .invalid domain, and requests to the placeholder are sent to the
// real address below go-containerregistry (see [realmAliases.resolve]).

// realmAliasSuffix ends every placeholder host; .invalid never resolves, so
// a placeholder that escaped would fail rather than reach anything.
const realmAliasSuffix = ".realm.dxf.invalid"

// realmAliases maps placeholder hosts to the real host[:port] of token realms.
type realmAliases struct {
	registry string // host[:port] of the registry
	// private reports whether the registry host is on a private network; it
	// is called at most once.
	private func(ctx context.Context) bool

	mu      sync.Mutex
	known   bool // private has been called
	isPriv  bool
	byAlias map[string]string
	byReal  map[string]string
}

func newRealmAliases(registry string, private func(ctx context.Context, host string) bool) *realmAliases {
	a := &realmAliases{registry: registry, byAlias: map[string]string{}, byReal: map[string]string{}}
	a.private = func(ctx context.Context) bool { return private(ctx, hostOnly(registry)) }
	return a
}

// lookupTimeout bounds the name lookup of the registry host.
const lookupTimeout = 10 * time.Second

// hostOnly strips the port (and IPv6 brackets) from host[:port].
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// privateIP reports whether host is a private, loopback, link-local or
// unspecified IP literal — the addresses go-containerregistry refuses in a
// realm.
func privateIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsUnspecified())
}

// privateRegistryHost reports whether the registry named host is on a
// private network: localhost, a private IP literal, or a name whose every
// address is private. Names that do not resolve count as public.
func privateRegistryHost(ctx context.Context, host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || privateIP(h) {
		return true
	}
	if net.ParseIP(h) != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, h)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !privateIP(a) {
			return false
		}
	}
	return true
}

// allowed reports whether a realm on the private address realmHost (a
// host[:port]) is acceptable for this registry.
func (a *realmAliases) allowed(ctx context.Context, realmHost string) bool {
	if strings.EqualFold(hostOnly(realmHost), hostOnly(a.registry)) {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.known {
		a.isPriv, a.known = a.private(ctx), true
	}
	return a.isPriv
}

// alias returns the placeholder host for the real host[:port].
func (a *realmAliases) alias(real string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if al, ok := a.byReal[real]; ok {
		return al
	}
	h, port, err := net.SplitHostPort(real)
	if err != nil {
		h, port = strings.Trim(real, "[]"), ""
	}
	label := strings.Trim(strings.NewReplacer(".", "-", ":", "-", "%", "-").Replace(h), "-")
	al := "ip-" + label + realmAliasSuffix
	if port != "" {
		al = net.JoinHostPort(al, port)
	}
	a.byAlias[al] = real
	a.byReal[real] = al
	return al
}

// resolve returns the real host[:port] behind a placeholder, or "" if host
// is none.
func (a *realmAliases) resolve(host string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byAlias[host]
}

// realmParam finds the value of the realm parameter of a challenge.
var realmParam = regexp.MustCompile(`(?i)(\brealm\s*=\s*"?)([^",\s]+)`)

// rewrite replaces, in the Bearer challenges of a registry response, each
// acceptable realm on a private IP literal by its placeholder.
func (a *realmAliases) rewrite(ctx context.Context, h http.Header) {
	vals := slices.Clone(h.Values("WWW-Authenticate"))
	changed := false
	for i, c := range vals {
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(c)), "bearer") {
			continue
		}
		m := realmParam.FindStringSubmatchIndex(c)
		if m == nil {
			continue
		}
		u, err := url.Parse(c[m[4]:m[5]])
		if err != nil || u.Host == "" || u.Host == a.registry || !privateIP(u.Hostname()) || !a.allowed(ctx, u.Host) {
			continue
		}
		u.Host = a.alias(u.Host)
		vals[i] = c[:m[4]] + u.String() + c[m[5]:]
		changed = true
	}
	if changed {
		h.Del("WWW-Authenticate")
		for _, v := range vals {
			h.Add("WWW-Authenticate", v)
		}
	}
}
