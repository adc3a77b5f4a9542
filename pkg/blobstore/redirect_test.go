package blobstore

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/registry"
)

// TestCredentialsNotForwardedOnRedirect: a registry that wants Basic auth
// redirects blob downloads to "object storage" on another host. The blob
// arrives, verified, and the storage host never sees the credentials.
func TestCredentialsNotForwardedOnRedirect(t *testing.T) {
	const user, pass = "fred", "redirect-s3cret"
	var (
		mu          sync.Mutex
		storageAuth []string
	)
	var blob []byte
	storage := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		storageAuth = append(storageAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = w.Write(blob)
	}))
	defer storage.Close()

	mem := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	reg := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="Registry Realm"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
			http.Redirect(w, r, storage.URL+"/bucket/object?X-Amz-Signature=abc", http.StatusTemporaryRedirect)
			return
		}
		mem.ServeHTTP(w, r)
	}))
	defer reg.Close()

	pool := x509.NewCertPool()
	pool.AddCert(reg.Certificate())
	pool.AddCert(storage.Certificate())
	r, err := New(strings.TrimPrefix(reg.URL, "https://"), "foo/bar",
		WithAuth(authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})),
		WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	blob = []byte("served from object storage")
	res := pushBytes(t, r, blob)
	got, err := pullAll(t, r, res.Digest)
	if err != nil || string(got) != string(blob) {
		t.Fatalf("pull through the redirect: %q, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(storageAuth) == 0 {
		t.Fatal("the redirect was not followed")
	}
	for _, a := range storageAuth {
		if a != "" {
			t.Fatalf("the storage host received an Authorization header")
		}
	}
}

// TestRedirectDowngradeRefused: an HTTPS registry that redirects a blob
// download to plain HTTP is refused (ErrRedirectDowngrade), credentials or
// not; the plain-HTTP host is never contacted.
func TestRedirectDowngradeRefused(t *testing.T) {
	var contacted sync.Mutex
	hits := 0
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		contacted.Lock()
		hits++
		contacted.Unlock()
		_, _ = w.Write([]byte("downgraded"))
	}))
	defer plain.Close()
	reg := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") {
			http.Redirect(w, r, plain.URL+"/object", http.StatusTemporaryRedirect)
		}
	}))
	defer reg.Close()
	pool := x509.NewCertPool()
	pool.AddCert(reg.Certificate())
	r, err := New(strings.TrimPrefix(reg.URL, "https://"), "foo/bar", WithKeychain(nil), WithRetries(0),
		WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pullAll(t, r, HashBytes([]byte("downgraded")))
	if !errors.Is(err, ErrRedirectDowngrade) {
		t.Fatalf("got %v, want ErrRedirectDowngrade", err)
	}
	contacted.Lock()
	defer contacted.Unlock()
	if hits != 0 {
		t.Fatalf("the plain-HTTP host was contacted %d times", hits)
	}
}
