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
//
// The tests are split by theme: this file holds their environment and
// helpers; reliability_matrix_test.go runs each operation under each fault,
// reliability_push_test.go checks the resumption of uploads, and
// reliability_input_test.go bad input.

import (
	"bytes"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

// relEnv is a repository of the shared registry reached through a fresh
// fault proxy, and the same repository reached directly.
type relEnv struct {
	proxy  *faultproxy.Proxy
	repo   *Repository // through the proxy
	direct *Repository // straight to the registry, to check what it holds
	name   string
}

// relRepoName turns a test's name into a valid repository name.
func relRepoName(testName string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(testName) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return "rel/" + strings.TrimSuffix(b.String(), "-")
}

func newRelEnv(t *testing.T, opts ...Option) *relEnv {
	t.Helper()
	reg := plain(t)
	e := &relEnv{proxy: faultproxy.StartT(t, reg.URL), name: relRepoName(t.Name())}
	base := []Option{WithInsecure(true), WithKeychain(nil)}
	var err error
	if e.repo, err = New(e.proxy.Host, e.name, append(base, opts...)...); err != nil {
		t.Fatal(err)
	}
	if e.direct, err = New(reg.Host, e.name, base...); err != nil {
		t.Fatal(err)
	}
	return e
}

// pushDirect pushes data straight to the registry.
func (e *relEnv) pushDirect(t *testing.T, data []byte) Blob {
	t.Helper()
	res, err := e.direct.PushBlob(t.Context(), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("pushing the fixture: %v", err)
	}
	return res.Blob()
}

// checkNoWrongBlob checks that the registry either lacks the blob with the
// digest of data, or holds exactly data under it; it reports which.
func (e *relEnv) checkNoWrongBlob(t *testing.T, data []byte) bool {
	t.Helper()
	d := HashBytes(data)
	ok, size, err := e.direct.headBlob(t.Context(), d)
	if err != nil {
		t.Fatalf("HEAD %s on the registry: %v", d, err)
	}
	if !ok {
		return false
	}
	if size != int64(len(data)) {
		t.Fatalf("the registry holds %s with %d bytes, want %d", d, size, len(data))
	}
	got, err := pullAll(t, e.direct, d)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the registry holds a wrong blob under %s: %v", d, err)
	}
	return true
}

// checkAlias checks what the registry holds under alias: nothing (want
// nil), or exactly want, every blob of which it has.
func (e *relEnv) checkAlias(t *testing.T, alias string, want []byte) {
	t.Helper()
	m, err := e.direct.GetManifest(t.Context(), alias)
	if want == nil {
		if !errors.Is(err, ErrAliasNotFound) {
			t.Fatalf("alias %s should not exist: %v", alias, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("alias %s on the registry: %v", alias, err)
	}
	if !bytes.Equal(m.Raw, want) {
		t.Fatalf("alias %s holds\n%s\nwant\n%s", alias, m.Raw, want)
	}
	for _, b := range append(m.Layers, m.Config) {
		if ok, err := e.direct.HasBlob(t.Context(), b.Digest); !ok || err != nil {
			t.Fatalf("alias %s points at %s, which the registry lacks (%v)", alias, b.Digest, err)
		}
	}
}

// checkAliasBlobs checks that alias, if the registry has it, points only at
// blobs the registry has.
func (e *relEnv) checkAliasBlobs(t *testing.T, alias string) {
	t.Helper()
	m, err := e.direct.GetManifest(t.Context(), alias)
	if errors.Is(err, ErrAliasNotFound) {
		return
	}
	if err != nil {
		t.Fatalf("alias %s on the registry: %v", alias, err)
	}
	e.checkAlias(t, alias, m.Raw)
}

// noAlias checks the operation left no alias v1 behind.
func noAlias(t *testing.T, e *relEnv, _ *faultproxy.Injection) {
	t.Helper()
	e.checkAlias(t, "v1", nil)
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data")
	writeFile(t, p, data)
	return p
}

// onlyReader hides every method but Read, so the data can be read once.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// outcome is what an operation under a fault is expected to do.
type outcome struct {
	ok   bool
	what string           // the expected error, in words
	is   func(error) bool // recognises it
}

var succeeds = outcome{ok: true}

func failsWith(what string, is func(error) bool) outcome { return outcome{what: what, is: is} }

func isStatus(code int) func(error) bool {
	return func(err error) bool {
		var e *Error
		return errors.As(err, &e) && e.StatusCode == code
	}
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// isNetErr recognises a broken connection: a reset, or a response cut short.
func isNetErr(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
