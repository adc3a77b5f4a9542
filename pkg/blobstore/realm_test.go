package blobstore

import (
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
