package transport

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

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
