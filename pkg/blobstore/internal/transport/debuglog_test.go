package transport

import (
	"net/url"
	"strings"
	"testing"
)

// TestRedactURL checks that traced URLs keep no credentials: user
// information, tokens, and the signatures of pre-signed storage URLs.
func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, secret, keep string }{
		{"https://user:hunter2@r.example/v2/", "hunter2", "https://r.example/v2/"},
		{"https://s3.example/b/o?X-Amz-Credential=AKIA123&X-Amz-Signature=abcdef&X-Amz-Expires=60", "abcdef", "X-Amz-Expires=60"},
		{"https://s3.example/b/o?X-Amz-Credential=AKIA123", "AKIA123", "s3.example/b/o"},
		{"https://auth.example/token?access_token=tok987&scope=repository%3Ar%3Apull", "tok987", "scope=repository"},
		{"https://blob.example/c/b?sig=s1g&se=2030", "s1g", "se=2030"},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got := redactURL(u)
		if strings.Contains(got, tc.secret) || !strings.Contains(got, tc.keep) {
			t.Errorf("redactURL(%q) = %q", tc.in, got)
		}
	}
}
