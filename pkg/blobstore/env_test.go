package blobstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewAcceptsURLs: a host written as a URL is understood, as the dxf
// command understands it: http:// is plain HTTP (no WithInsecure needed),
// https:// with WithInsecure(true) is a contradiction, and a path is
// refused.
func TestNewAcceptsURLs(t *testing.T) {
	t.Parallel()
	reg := plain(t)
	for _, host := range []string{"http://" + reg.Host, "http://" + reg.Host + "/"} {
		r, err := New(host, "env/url", WithKeychain(nil))
		if err != nil {
			t.Fatalf("New(%q): %v", host, err)
		}
		if r.Registry().Host() != reg.Host {
			t.Errorf("New(%q) addresses %s", host, r.Registry().Host())
		}
		res, err := r.PushBlob(t.Context(), bytes.NewReader([]byte("over plain HTTP")))
		if err != nil {
			t.Fatalf("push through New(%q): %v", host, err)
		}
		if ok, err := r.HasBlob(t.Context(), res.Digest); !ok || err != nil {
			t.Fatalf("the registry lacks the pushed blob: %v", err)
		}
	}
	if _, err := New("https://"+reg.Host, "env/url", WithInsecure(true)); !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), "choose one") {
		t.Errorf("https:// with WithInsecure(true): %v", err)
	}
	if _, err := New("http://"+reg.Host+"/v2/x", "env/url"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("a URL with a path: %v", err)
	}
	if r, err := New("https://registry.example.com", "env/url"); err != nil || r.Registry().scheme() != "https" {
		t.Errorf("https://: %v", err)
	}
}

// TestPlainHTTPRefusalNamesTheOption: a registry on plain HTTP reached
// without WithInsecure fails with ErrPlainHTTP, whose text names the
// option (and the http:// host) a Go user needs.
func TestPlainHTTPRefusalNamesTheOption(t *testing.T) {
	t.Parallel()
	reg := plain(t) // on localhost, where go-containerregistry falls back to HTTP
	r, err := New(reg.Host, "env/plain", WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.PushBlob(t.Context(), bytes.NewReader([]byte("x")))
	if !errors.Is(err, ErrPlainHTTP) || !strings.Contains(err.Error(), "WithInsecure(true)") || !strings.Contains(err.Error(), "http://") {
		t.Fatalf("push to a plain-HTTP registry without WithInsecure: %v, want ErrPlainHTTP naming WithInsecure(true)", err)
	}
}

// TestFromEnv: the DXF_* variables give the host and options as the dxf
// command reads them; wrong values are errors that name the variable and
// never the secret.
func TestFromEnv(t *testing.T) {
	t.Parallel()
	reg := plain(t)
	lookup := func(env map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	}

	// What .registry.env of `make registry` says, for a plain-HTTP registry.
	for _, env := range []map[string]string{
		{"DXF_HOST": reg.Host, "DXF_INSECURE": "1"},
		{"DXF_HOST": "http://" + reg.Host},
		{"DXF_HOST": reg.Host, "DXF_INSECURE": "yes", "DXF_TIMEOUT": "30", "DXF_MAX_RETRY_WAIT": "2m", "DXF_SKIPTLSVERIFY": "0"},
	} {
		host, opts, err := fromEnv(lookup(env))
		if err != nil {
			t.Fatalf("fromEnv(%v): %v", env, err)
		}
		r, err := New(host, "env/fromenv", append(opts, WithKeychain(nil))...)
		if err != nil {
			t.Fatalf("New from %v: %v", env, err)
		}
		if _, err := r.PushBlob(t.Context(), bytes.NewReader([]byte("from the environment"))); err != nil {
			t.Fatalf("push with the options of %v: %v", env, err)
		}
	}

	// Credentials become WithAuth; with a user over plain HTTP the registry
	// is never sent them (ErrAuthInsecure comes only if asked, and this one
	// does not ask), so only what the options say is checked here.
	_, opts, err := fromEnv(lookup(map[string]string{"DXF_HOST": "h", "DXF_USERNAME": "fred", "DXF_PASSWORD": "pw"}))
	if err != nil {
		t.Fatal(err)
	}
	o, err := makeOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	if ac, err := o.auth.Authorization(); o.auth == nil || err != nil || ac.Username != "fred" || ac.Password != "pw" {
		t.Errorf("DXF_USERNAME and DXF_PASSWORD give %+v (%v)", ac, err)
	}

	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "DXF_HOST is not set"},
		{map[string]string{"DXF_HOST": "h", "DXF_INSECURE": "maybe"}, "DXF_INSECURE"},
		{map[string]string{"DXF_HOST": "https://h", "DXF_INSECURE": "1"}, "choose one"},
		{map[string]string{"DXF_HOST": "h", "DXF_TIMEOUT": "soon"}, "DXF_TIMEOUT"},
		{map[string]string{"DXF_HOST": "h", "DXF_AUTHORIZATION": "Token s3cr3t"}, "DXF_AUTHORIZATION"},
	} {
		_, _, err := fromEnv(lookup(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("fromEnv(%v): %v, want an error naming %q", c.env, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("fromEnv(%v): the error shows the secret: %v", c.env, err)
		}
	}
}

// TestFromEnvLayout: DXF_HOST=oci:ROOT gives a host that New and Open take
// as the dxf command does: repository fred is the layout ROOT/fred.
func TestFromEnvLayout(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	env := map[string]string{"DXF_HOST": LayoutPrefix + root, "DXF_TIMEOUT": "30"}
	host, opts, err := fromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(host, "fred/data", opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsLayout() || r.Name() != filepath.Join(root, "fred", "data") {
		t.Fatalf("New(%q, fred/data) = %v", host, r)
	}
	res, err := r.PushBlob(t.Context(), strings.NewReader("kept on disk"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "fred", "data", "oci-layout")); err != nil {
		t.Fatalf("no layout at ROOT/fred/data: %v", err)
	}
	o, err := Open(t.Context(), host+"/fred/data", opts...)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := o.HasBlob(t.Context(), res.Digest); !ok || err != nil {
		t.Fatalf("Open(%s/fred/data) lacks the blob: %v", host, err)
	}
	for _, repo := range []string{"Fred", "../x", ""} {
		if _, err := New(host, repo); !errors.Is(err, ErrInvalidName) {
			t.Errorf("New(%q, %q) = %v, want ErrInvalidName", host, repo, err)
		}
	}
	if _, err := New(LayoutPrefix, "fred"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("New(oci:, fred) = %v, want ErrInvalidName", err)
	}
}

// TestOpenScheme: Open reads a leading http:// as NewRegistry does.
func TestOpenScheme(t *testing.T) {
	t.Parallel()
	reg := plain(t)
	r, err := Open(t.Context(), "http://"+reg.Host+"/env/open", WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.PushBlob(t.Context(), strings.NewReader("over plain HTTP")); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"http://", "http:///x", "https://h", "h"} {
		if _, err := Open(t.Context(), bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Open(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}
