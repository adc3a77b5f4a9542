package blobstore

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

func TestCredentialsNeverSentOverPlainHTTP(t *testing.T) {
	var sawAuth atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawAuth.Store(true)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="Registry Realm"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	r, err := New(strings.TrimPrefix(srv.URL, "http://"), "foo/bar", WithInsecure(true),
		WithAuth(authn.FromConfig(authn.AuthConfig{Username: "fred", Password: "s3cret-pw"})))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.BlobSize(t.Context(), HashBytes(nil))
	if !errors.Is(err, ErrAuthInsecure) {
		t.Fatalf("got %v, want ErrAuthInsecure", err)
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("error shows the password: %v", err)
	}
	if sawAuth.Load() {
		t.Fatal("credentials reached the server over plain HTTP")
	}
}

func TestRetriesTransientStatuses(t *testing.T) {
	srv := newMemServer(t)
	var failures atomic.Int32
	failures.Store(2)
	srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodHead && failures.Add(-1) >= 0 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	r := srv.repo(t, "foo/bar")
	res := pushBytes(t, r, []byte("retry me"))
	if n, err := r.BlobSize(t.Context(), res.Digest); err != nil || n != 8 {
		t.Fatalf("after two 503s: %d, %v", n, err)
	}

	failures.Store(100)
	r = srv.repo(t, "foo/bar", WithRetries(2))
	start := time.Now()
	_, err := r.BlobSize(t.Context(), res.Digest)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("persistent 503: %v", err)
	}
	if got := 100 - failures.Load(); got != 3 {
		t.Fatalf("made %d attempts, want 3 (1 + 2 retries)", got)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Retry-After: 0 was not honoured")
	}
}

func TestRegistryNotThere(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	r, err := New(host, "foo/bar", WithInsecure(true), WithKeychain(nil), WithRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.BlobSize(t.Context(), HashBytes(nil))
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v", err)
	}
}

func TestNotARegistry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>" + strings.Repeat("lorem ipsum ", 1000) + "</body></html>"))
	}))
	defer srv.Close()
	r, err := New(strings.TrimPrefix(srv.URL, "http://"), "foo/bar", WithInsecure(true), WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.GetManifest(t.Context(), "latest")
	if !errors.Is(err, ErrInvalidManifest) || len(err.Error()) > 300 {
		t.Fatalf("got %v", err)
	}
}

func TestRepositoryNames(t *testing.T) {
	reg, err := NewRegistry("localhost:5000")
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{"foo", "foo/bar", "a.b-c_d/e"} {
		if r, err := reg.Repository(ok); err != nil || r.Name() != ok {
			t.Errorf("Repository(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Foo", "foo bar", "foo//bar", "foo/", "/foo", "foo:tag", "foo@sha256"} {
		if _, err := reg.Repository(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Repository(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
	hub, _ := NewRegistry("registry-1.docker.io")
	if r, err := hub.Repository("ubuntu"); err != nil || r.Name() != "library/ubuntu" {
		t.Errorf("Docker Hub official image: %v, %v", r, err)
	}
	if _, err := NewRegistry(""); !errors.Is(err, ErrInvalidName) {
		t.Errorf("empty host: %v", err)
	}
}

func TestAuthenticateWithoutAuthGivesNoToken(t *testing.T) {
	srv := newMemServer(t)
	reg, err := NewRegistry(srv.host(), WithInsecure(true))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := reg.Authenticate(t.Context(), "foo/bar", "pull")
	if err != nil || tok != "" {
		t.Fatalf("Authenticate = %q, %v", tok, err)
	}
	if err := reg.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestPlainHTTPRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	host := strings.Replace(strings.TrimPrefix(srv.URL, "http://"), "127.0.0.1", "localhost", 1)
	r, err := New(host, "foo/bar", WithKeychain(nil), WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.BlobSize(t.Context(), HashBytes(nil))
	if !errors.Is(err, ErrPlainHTTP) {
		t.Fatalf("got %v, want ErrPlainHTTP", err)
	}
	if strings.Contains(err.Error(), "DXF_") {
		t.Errorf("the library's error speaks of the CLI's variables: %v", err)
	}
}
