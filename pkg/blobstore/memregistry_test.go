package blobstore

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// memServer is ggcr's in-memory registry behind httptest, with a hook that
// may answer a request itself (to inject faults) and request counters.
type memServer struct {
	*httptest.Server
	hook     atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
	mu       sync.Mutex
	requests []string // "METHOD path"
	received atomic.Int64
}

func newMemServer(t testing.TB) *memServer {
	t.Helper()
	m := &memServer{}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests = append(m.requests, r.Method+" "+r.URL.Path)
		m.mu.Unlock()
		if h := m.hook.Load(); h != nil && (*h)(w, r) {
			return
		}
		if r.Body != nil {
			r.Body = countingBody{r.Body, &m.received}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (m *memServer) host() string { return strings.TrimPrefix(m.URL, "http://") }

func (m *memServer) setHook(f func(w http.ResponseWriter, r *http.Request) bool) { m.hook.Store(&f) }

// count returns how many requests had the method and a path containing part.
func (m *memServer) count(method, part string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.requests {
		if strings.HasPrefix(r, method+" ") && strings.Contains(r, part) {
			n++
		}
	}
	return n
}

func (m *memServer) repo(t testing.TB, name string, opts ...Option) *Repository {
	t.Helper()
	opts = append([]Option{WithInsecure(true), WithKeychain(nil)}, opts...)
	r, err := New(m.host(), name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// newMemRepo returns a repository on a fresh in-memory registry.
func newMemRepo(t testing.TB, name string, opts ...Option) *Repository {
	t.Helper()
	return newMemServer(t).repo(t, name, opts...)
}

// rawOf is the raw bytes of the manifest an alias write returns.
func rawOf(m *Manifest, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return m.Raw, nil
}

// pushBytes pushes b and fails the test on error.
func pushBytes(t testing.TB, r *Repository, b []byte) PushResult {
	t.Helper()
	res, err := r.PushBlob(t.Context(), bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PushBlob: %v", err)
	}
	return res
}
