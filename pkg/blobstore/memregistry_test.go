package blobstore

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// newMemRepo returns a repository on ggcr's in-memory registry, for fast unit
// tests of the protocol paths that registry implements faithfully.
func newMemRepo(t testing.TB, repo string, opts ...Option) *Repository {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(nilLogger())))
	t.Cleanup(srv.Close)
	opts = append([]Option{WithInsecure(true), WithKeychain(nil)}, opts...)
	r, err := New(strings.TrimPrefix(srv.URL, "http://"), repo, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
