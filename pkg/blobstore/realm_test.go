package blobstore

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
	"github.com/google/go-containerregistry/pkg/authn"
)

// TestIntegrationTokenRealmOnLoopbackIP runs token authentication with the
// realm on a loopback IP literal at another port than the registry's — the
// on-premises set-up go-containerregistry refuses on its own ("realm host
// is a private or link-local address") — with the registry addressed by
// that same IP, by localhost, and with the realm on localhost.
func TestIntegrationTokenRealmOnLoopbackIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, host, tokenHost string }{
		{"registry-ip-realm-same-ip", "127.0.0.1", "127.0.0.1"},
		{"registry-localhost-realm-ip", "localhost", "127.0.0.1"},
		{"registry-ip-realm-localhost", "127.0.0.1", "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthToken, Host: tc.host, TokenHost: tc.tokenHost})
			if !strings.HasPrefix(reg.Token.Realm, "https://"+tc.tokenHost+":") || strings.HasSuffix(reg.Host, reg.Token.URL[strings.LastIndex(reg.Token.URL, ":"):]) {
				t.Fatalf("realm %s is not on %s at another port than the registry %s", reg.Token.Realm, tc.tokenHost, reg.Host)
			}
			good := authn.FromConfig(authn.AuthConfig{Username: reg.Username, Password: reg.Password})
			r, err := New(reg.Host, "realm/repo", WithAuth(good), WithCABundle(reg.CAFile))
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, r)
			if reg.Token.Issued() == 0 {
				t.Fatal("no token was issued")
			}
			// DXF_AUTH_HOST still applies to such a realm.
			realm := strings.TrimPrefix(reg.Token.URL, "https://")
			r, _ = New(reg.Host, "realm/repo", WithAuth(good), WithCABundle(reg.CAFile), WithAuthHost(realm))
			roundTrip(t, r)
		})
	}
}

// challengeTransport answers every request to the registry with a Bearer
// challenge naming realm, and records the hosts other requests go to.
type challengeTransport struct {
	realm string
	other []string
}

func (c *challengeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if !strings.HasSuffix(req.URL.Host, ".example") {
		c.other = append(c.other, req.URL.Host)
		return nil, io.ErrUnexpectedEOF
	}
	h := http.Header{}
	h.Set("WWW-Authenticate", `Bearer realm="`+c.realm+`",service="registry"`)
	return &http.Response{StatusCode: http.StatusUnauthorized, Header: h, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

// TestPublicRegistryCannotNameAPrivateRealm: a registry that is not on a
// private network cannot send the client, with its credentials, to a private
// address; go-containerregistry's refusal stands and nothing is sent there.
func TestPublicRegistryCannotNameAPrivateRealm(t *testing.T) {
	t.Parallel()
	for _, realm := range []string{"https://127.0.0.1:5001/token", "https://169.254.169.254/latest", "https://10.1.2.3/token", "https://[::1]:5001/token"} {
		ct := &challengeTransport{realm: realm}
		good := authn.FromConfig(authn.AuthConfig{Username: "u", Password: "secret-pw"})
		r, err := New("registry.example", "repo", WithAuth(good), WithTransport(ct), WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.ListAliases(t.Context())
		if err == nil || !strings.Contains(err.Error(), "private or link-local address") {
			t.Fatalf("realm %s: %v", realm, err)
		}
		noSecret(t, err, "secret-pw")
		if len(ct.other) != 0 {
			t.Fatalf("realm %s: requests went to %v", realm, ct.other)
		}
	}
}

func TestRealmRule(t *testing.T) {
	t.Parallel()
	public := func(context.Context, string) bool { return false }
	private := func(context.Context, string) bool { return true }
	for _, tc := range []struct {
		registry, realmHost string
		priv                bool
		want                bool
	}{
		{"10.0.0.5:5000", "10.0.0.5:5001", false, true}, // same IP, other port
		{"10.0.0.5", "10.0.0.5:5001", false, true},
		{"[::1]:5000", "[::1]:5001", false, true},
		{"registry.lan:5000", "10.0.0.6:5001", true, true}, // registry on a private network
		{"registry.example", "10.0.0.6", false, false},     // public registry
		{"93.184.216.34", "127.0.0.1:5001", false, false},
	} {
		f := public
		if tc.priv {
			f = private
		}
		a := newRealmAliases(tc.registry, f)
		if got := a.allowed(t.Context(), tc.realmHost); got != tc.want {
			t.Errorf("registry %s, realm %s: allowed %v, want %v", tc.registry, tc.realmHost, got, tc.want)
		}
	}
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "10.2.3.4": true, "192.168.1.1": true, "::1": true, "fe80::1": true, "93.184.216.34": false, "2001:db8::1": false} {
		if got := privateRegistryHost(t.Context(), host); got != want {
			t.Errorf("privateRegistryHost(%s) = %v, want %v", host, got, want)
		}
	}
	// The placeholder maps back to the real host.
	a := newRealmAliases("127.0.0.1:5000", public)
	h := http.Header{}
	h.Add("WWW-Authenticate", `Bearer realm="https://127.0.0.1:5001/token",service="Docker registry",scope="repository:a:pull"`)
	a.rewrite(t.Context(), h)
	got := h.Get("WWW-Authenticate")
	if strings.Contains(got, "127.0.0.1") || !strings.Contains(got, realmAliasSuffix+":5001/token\",service=") {
		t.Fatalf("rewritten challenge: %s", got)
	}
	alias := got[strings.Index(got, "https://")+len("https://") : strings.Index(got, "/token")]
	if real := a.resolve(alias); real != "127.0.0.1:5001" {
		t.Fatalf("alias %s resolves to %q", alias, real)
	}
}
