package blobstore

// Reliability tests: the real Distribution registry behind a fault-injecting
// proxy (pkg/registrytest/faultproxy). Every operation, under every fault,
// must either succeed with the right data or fail with an error that says
// what went wrong — and the registry must never end up holding a wrong blob
// or an alias that points at blobs it does not have. The registry is checked
// directly, bypassing the proxy, after each operation.
//
// docs/reliability.md is the fault matrix these tests measure; keep the two
// in step.

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dxf-go/dxf/internal/testutil"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestReliabilityBadInput: bad names, digests, aliases, files and
// registries give clear errors, before any request where the input alone is
// at fault.
func TestReliabilityBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	known := HashBytes([]byte("never pushed"))

	t.Run("repository-names", func(t *testing.T) {
		t.Parallel()
		reg, err := NewRegistry("localhost:5000")
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", "UPPER", "a//b", "a/", "/a", "-a", "a-", "a_", "a b", "a:b", "a@b", "a/../b",
			"a%2fb", "a\x00b", "a..b", "a___b", "é", strings.Repeat("a", 256)} {
			if _, err := reg.Repository(bad); !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), strconv.Quote(bad)) {
				t.Errorf("Repository(%q) = %v, want ErrInvalidName naming it", bad, err)
			}
			if _, err := New("localhost:5000", bad); !errors.Is(err, ErrInvalidName) {
				t.Errorf("New(%q) = %v", bad, err)
			}
		}
		for _, ok := range []string{"a", "a/b", "a-b_c.d/e__f", "a---b", "0/1/2", strings.Repeat("a", 255)} {
			if r, err := reg.Repository(ok); err != nil || r.Name() != ok {
				t.Errorf("Repository(%q) = %v", ok, err)
			}
		}
	})

	t.Run("digests", func(t *testing.T) {
		t.Parallel()
		e := newRelEnv(t)
		for _, tc := range []struct {
			s    string
			want error
		}{
			{"sha256:zzz", ErrInvalidDigest},
			{"sha256:" + strings.Repeat("a", 63), ErrInvalidDigest},
			{"sha256:" + strings.Repeat("a", 65), ErrInvalidDigest},
			{"sha256:" + strings.Repeat("A", 64), ErrInvalidDigest},
			{"sha256:" + strings.Repeat("g", 64), ErrInvalidDigest},
			{"sha256", ErrInvalidDigest},
			{"", ErrInvalidDigest},
			{"sha256:" + strings.Repeat("a", 64) + ":x", ErrInvalidDigest},
			{"md5:" + strings.Repeat("a", 32), ErrUnexpectedDigestMethod},
			{"sha512:" + strings.Repeat("a", 128), ErrUnexpectedDigestMethod},
		} {
			if _, err := ParseDigest(tc.s); !errors.Is(err, tc.want) {
				t.Errorf("ParseDigest(%q) = %v, want %v", tc.s, err, tc.want)
			}
		}
		if _, err := e.repo.PullBlob(ctx, v1.Hash{Algorithm: "sha512", Hex: strings.Repeat("a", 128)}); !errors.Is(err, ErrUnexpectedDigestMethod) {
			t.Errorf("PullBlob(sha512:…) = %v", err)
		}
		if n := len(e.proxy.Requests()); n != 0 {
			t.Errorf("%d requests for malformed input", n)
		}
		// Well-formed, but not in the registry.
		if _, err := e.repo.SetAlias(ctx, "v1", known); !errors.Is(err, ErrBlobNotFound) || !strings.Contains(err.Error(), known.String()) {
			t.Errorf("SetAlias of a missing blob: %v", err)
		}
		e.checkAlias(t, "v1", nil)
	})

	t.Run("aliases", func(t *testing.T) {
		t.Parallel()
		e := newRelEnv(t)
		for _, bad := range []string{"bad alias!", "", ".x", "-x", "a/b", "a:b", strings.Repeat("a", 129), "sha256:zzz"} {
			if err := ValidateAlias(bad); !errors.Is(err, ErrInvalidName) {
				t.Errorf("ValidateAlias(%q) = %v", bad, err)
			}
			if _, err := e.repo.GetManifest(ctx, bad); !errors.Is(err, ErrInvalidName) {
				t.Errorf("GetManifest(%q) = %v", bad, err)
			}
		}
		if n := len(e.proxy.Requests()); n != 0 {
			t.Errorf("%d requests for invalid aliases", n)
		}
		// SetAlias names the bad alias, whatever the blobs, and sends nothing.
		if _, err := e.repo.SetAlias(ctx, "bad alias!", known); !errors.Is(err, ErrInvalidName) {
			t.Errorf(`SetAlias("bad alias!") = %v, want ErrInvalidName`, err)
		}
		if n := len(e.proxy.Requests()); n != 0 {
			t.Errorf("SetAlias with an invalid alias made %d requests first", n)
		}
	})

	t.Run("files", func(t *testing.T) {
		t.Parallel()
		e := newRelEnv(t, WithDefaultChunkSize(1<<20))
		dir := t.TempDir()
		notDir := filepath.Join(dir, "file")
		writeFile(t, notDir, []byte("x"))
		// A path through a file: unreadable for every user, root included.
		bad := filepath.Join(notDir, "child")
		if _, err := e.repo.PushFile(ctx, bad); !errors.Is(err, syscall.ENOTDIR) || !strings.Contains(err.Error(), bad) {
			t.Errorf("PushFile(%s) = %v, want ENOTDIR naming the path", bad, err)
		}
		// Permission denied, where the file mode is enforced (not for root).
		locked := filepath.Join(dir, "locked")
		writeFile(t, locked, []byte("secret"))
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		if f, err := os.Open(locked); err == nil {
			f.Close()
			t.Logf("running as a privileged user: mode 000 does not stop reading, the path-through-a-file case stands in")
		} else if _, err := e.repo.PushFile(ctx, locked); !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), locked) {
			t.Errorf("PushFile(mode 000) = %v, want ErrPermission naming the path", err)
		}
		if _, err := e.repo.PushFile(ctx, dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("PushFile(directory) = %v", err)
		}
		if _, err := e.repo.PushFile(ctx, filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("PushFile(missing) = %v", err)
		}
		if n := len(e.proxy.Requests()); n != 0 {
			t.Errorf("%d requests for unreadable files", n)
		}
		// An empty file is a valid blob.
		empty := filepath.Join(dir, "empty")
		writeFile(t, empty, nil)
		res, err := e.repo.PushFile(ctx, empty)
		if err != nil || res.Blob() != (Blob{Digest: HashBytes(nil), Size: 0}) {
			t.Fatalf("PushFile(empty) = %+v, %v", res, err)
		}
		if !e.checkNoWrongBlob(t, nil) {
			t.Fatal("the registry lacks the empty blob")
		}
	})

	t.Run("bad-manifests", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name, body, contentType string
			want                    error
		}{
			{"not-json", "this is not JSON", string(MediaTypeDockerManifest), ErrInvalidManifest},
			{"html", "<html><body>oops</body></html>", "text/html", ErrInvalidManifest},
			{"over-4-mib", `{"schemaVersion":2,"x":"` + strings.Repeat("a", MaxManifestSize) + `"}`, string(MediaTypeOCIManifest), ErrInvalidManifest},
			{"unknown-media-type", `{"schemaVersion":2,"mediaType":"application/vnd.example.unknown+json"}`, "application/vnd.example.unknown+json", ErrUnsupportedManifest},
			{"bad-layer-digest", `{"schemaVersion":2,"mediaType":"` + string(MediaTypeDockerManifest) + `","config":{"digest":"sha256:zzz","size":1},"layers":[]}`, string(MediaTypeDockerManifest), ErrInvalidManifest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/v2/" {
						return
					}
					w.Header().Set("Content-Type", tc.contentType)
					_, _ = io.WriteString(w, tc.body)
				}))
				defer srv.Close()
				r, err := New(strings.TrimPrefix(srv.URL, "http://"), "a/b", WithInsecure(true), WithKeychain(nil))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.GetManifest(ctx, "v1"); !errors.Is(err, tc.want) {
					t.Fatalf("GetManifest = %v, want %v", err, tc.want)
				}
				if _, err := r.GetAlias(ctx, "v1", ""); !errors.Is(err, tc.want) {
					t.Fatalf("GetAlias = %v, want %v", err, tc.want)
				}
			})
		}
	})

	// A web server that answers every request with an HTML page, as a
	// mistyped registry address may.
	t.Run("html-page-registry", func(t *testing.T) {
		t.Parallel()
		page := "<html><body>Welcome to nginx!</body></html>"
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, page)
		}))
		defer srv.Close()
		r, err := New(strings.TrimPrefix(srv.URL, "http://"), "a/b", WithInsecure(true), WithKeychain(nil), WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.GetManifest(ctx, "v1"); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("GetManifest = %v", err)
		}
		if _, err := pullAll(t, r, known); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("PullBlob = %v", err)
		}
		if _, err := r.ListAliases(ctx); err == nil || !strings.Contains(err.Error(), "not JSON") {
			t.Errorf("ListAliases = %v", err)
		}
		if _, err := r.PushBlob(ctx, bytes.NewReader([]byte("x"))); !isStatus(http.StatusOK)(err) {
			t.Errorf("PushBlob = %v", err)
		}
		// Never reported as success:
		if ok, err := r.HasBlob(ctx, known); ok && err == nil {
			t.Errorf("HasBlob says an HTML page holds %s", known)
		}
		if res, err := r.PushBlob(ctx, bytes.NewReader([]byte("x")), WithDigest(HashBytes([]byte("x")))); err == nil {
			t.Errorf("PushBlob WithDigest to an HTML page succeeded: %+v", res)
		}
		if _, err := r.SetAlias(ctx, "v1", known); err == nil {
			t.Errorf("SetAlias on an HTML page succeeded")
		}
	})

	t.Run("connection-refused", func(t *testing.T) {
		t.Parallel()
		addr := testutil.RefusedAddr(t)
		r, err := New(addr, "a/b", WithInsecure(true), WithKeychain(nil), WithRetries(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.HasBlob(ctx, known); !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), addr) {
			t.Errorf("HasBlob = %v, want ECONNREFUSED naming %s", err, addr)
		}
	})

	t.Run("dns-failure", func(t *testing.T) {
		t.Parallel()
		r, err := New("nonexistent.invalid", "a/b", WithKeychain(nil), WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.HasBlob(ctx, known)
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || !strings.Contains(err.Error(), "nonexistent.invalid") {
			t.Errorf("HasBlob = %v, want a *net.DNSError", err)
		}
		if transient(err) && dnsErr != nil && dnsErr.IsNotFound {
			t.Errorf("an unknown host is retried")
		}
	})

	t.Run("tls", func(t *testing.T) {
		t.Parallel()
		// httptest's certificate names example.com, 127.0.0.1 and ::1 —
		// not localhost, which is how we reach it.
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
		srv.StartTLS()
		defer srv.Close()
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		host := net.JoinHostPort("localhost", port)
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		r, err := New(host, "a/b", WithKeychain(nil), WithRetries(0), WithTLSConfig(srv.Client().Transport.(*http.Transport).TLSClientConfig))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.HasBlob(ctx, known)
		var he x509.HostnameError
		if !errors.As(err, &he) || !strings.Contains(err.Error(), "localhost") {
			t.Errorf("name mismatch: %v, want an x509.HostnameError", err)
		}
		// Without the CA, by a name the certificate has: unknown authority.
		r, err = New(srv.Listener.Addr().String(), "a/b", WithKeychain(nil), WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.HasBlob(ctx, known)
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Errorf("unknown CA: %v, want an x509.UnknownAuthorityError", err)
		}
	})
}
