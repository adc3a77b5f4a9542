package blobstore

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestSchema2Refused: a registry that accepts only OCI manifests (zot
// without compat: ["docker2s2"]) answers 415 MANIFEST_INVALID; dxf says what
// the registry needs.
func TestSchema2Refused(t *testing.T) {
	t.Parallel()
	m := newMemServer(t)
	m.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnsupportedMediaType)
		_, _ = w.Write([]byte(`{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}`))
		return true
	})
	r := m.repo(t, "zot/repo")
	res := pushBytes(t, r, []byte("data"))
	_, err := r.SetAliasBlobs(t.Context(), "latest", res.Blob())
	if err == nil || !strings.Contains(err.Error(), "415") || !strings.Contains(err.Error(), `zot needs "compat": ["docker2s2"]`) {
		t.Fatalf("schema-2 refused: %v", err)
	}
}

// TestDeleteAliasKeptByRegistry: a registry that keeps tags after their
// manifest is deleted and refuses to delete them by name: del-alias fails
// saying so, instead of succeeding while the alias still resolves.
func TestDeleteAliasKeptByRegistry(t *testing.T) {
	t.Parallel()
	m := newMemServer(t)
	r := m.repo(t, "keeps/tags")
	res := pushBytes(t, r, []byte("data"))
	if _, err := r.SetAliasBlobs(t.Context(), "v1", res.Blob()); err != nil {
		t.Fatal(err)
	}
	// go-containerregistry's registry keeps the tag; dxf deletes it by name.
	if _, err := r.DeleteAlias(t.Context(), "v1"); err != nil {
		t.Fatalf("delete alias: %v", err)
	}
	if _, err := r.GetManifest(t.Context(), "v1"); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("the alias still resolves: %v", err)
	}
	// Now refuse deleting tags by name.
	if _, err := r.SetAliasBlobs(t.Context(), "v2", res.Blob()); err != nil {
		t.Fatal(err)
	}
	m.setHook(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodDelete && strings.HasSuffix(req.URL.Path, "/manifests/v2") {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return true
		}
		return false
	})
	_, err := r.DeleteAlias(t.Context(), "v2")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "keeps the alias") {
		t.Fatalf("kept alias: %v", err)
	}
}
