package layout

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
	"github.com/dxf-go/dxf/pkg/blobstore/store/storetest"
)

// hostileLayout writes a layout with one alias "week" naming a manifest,
// and returns the store and the manifest.
func hostileLayout(t *testing.T) (*Store, store.Manifest) {
	t.Helper()
	s := New(filepath.Join(t.TempDir(), "layout"))
	b, err := s.Put(t.Context(), bytes.NewReader([]byte("data")), store.Blob{Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	m := storetest.Manifest(b)
	if _, err := s.PutManifest(t.Context(), "week", m); err != nil {
		t.Fatal(err)
	}
	return s, m
}

func writeIndex(t *testing.T, s *Store, index string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, indexFile), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostileLayout: a layout whose files contradict each other or name
// paths is refused with an error saying what is wrong, never read past its
// limits.
func TestHostileLayout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	entry := func(_ *Store, m store.Manifest, digest string, size int64, name string) string {
		return `{"schemaVersion":2,"manifests":[{"mediaType":"` + m.MediaType + `","digest":"` + digest + `","size":` + strconv.FormatInt(size, 10) + `,"annotations":{"org.opencontainers.image.ref.name":"` + name + `"}}]}`
	}
	for _, tc := range []struct {
		name  string
		index func(s *Store, m store.Manifest) string
		want  string
	}{
		{"path-in-digest", func(s *Store, m store.Manifest) string {
			return entry(s, m, "sha256:../../../etc/passwd", int64(len(m.Raw)), "week")
		}, "digest"},
		{"other-algorithm", func(s *Store, m store.Manifest) string {
			return entry(s, m, "sha512:"+strings.Repeat("a", 128), int64(len(m.Raw)), "week")
		}, "sha256"},
		{"wrong-size", func(s *Store, m store.Manifest) string {
			return entry(s, m, m.Digest.String(), int64(len(m.Raw))+1, "week")
		}, "size"},
		{"negative-size", func(s *Store, m store.Manifest) string { return entry(s, m, m.Digest.String(), -1, "week") }, "size"},
		{"huge-size", func(s *Store, m store.Manifest) string {
			return entry(s, m, m.Digest.String(), store.MaxManifestSize+1, "week")
		}, "size"},
		{"missing-blob", func(s *Store, m store.Manifest) string {
			return entry(s, m, storetest.Digest([]byte("nothing")).String(), 10, "week")
		}, "does not hold"},
		{"not-json", func(*Store, store.Manifest) string { return `{"schemaVersion":2,"manifests":[` }, "JSON"},
		{"schema-1", func(*Store, store.Manifest) string { return `{"schemaVersion":1,"manifests":[]}` }, "schemaVersion"},
		{"duplicate-alias", func(s *Store, m store.Manifest) string {
			e := strings.TrimSuffix(strings.TrimPrefix(entry(s, m, m.Digest.String(), int64(len(m.Raw)), "week"), `{"schemaVersion":2,"manifests":[`), `]}`)
			return `{"schemaVersion":2,"manifests":[` + e + `,` + e + `]}`
		}, "two entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, m := hostileLayout(t)
			writeIndex(t, s, tc.index(s, m))
			_, err := s.GetManifest(ctx, "week")
			if !errors.Is(err, store.ErrInvalidLayout) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("GetManifest = %v, want ErrInvalidLayout saying %q", err, tc.want)
			}
			// Writes refuse to build on a malformed index too, rather than
			// dropping entries (an entry naming a missing or other-sized
			// blob is only found when read).
			if tc.want == "size" || tc.want == "does not hold" {
				return
			}
			if _, err := s.PutManifest(ctx, "day", m); !errors.Is(err, store.ErrInvalidLayout) {
				t.Fatalf("PutManifest on a bad index = %v", err)
			}
		})
	}

	t.Run("changed-manifest", func(t *testing.T) {
		t.Parallel()
		s, m := hostileLayout(t)
		if err := os.WriteFile(s.blobPath(m.Digest), bytes.ToUpper(m.Raw), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"week", m.Digest.String()} {
			if _, err := s.GetManifest(ctx, ref); !errors.Is(err, store.ErrDigestMismatch) {
				t.Fatalf("GetManifest(%s) of a changed manifest = %v", ref, err)
			}
		}
	})
	t.Run("symlinked-blob", func(t *testing.T) {
		t.Parallel()
		s, m := hostileLayout(t)
		target := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.WriteFile(target, m.Raw, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(s.blobPath(m.Digest)); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, s.blobPath(m.Digest)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, m.Digest); !errors.Is(err, store.ErrInvalidLayout) {
			t.Fatalf("Stat of a symlink = %v", err)
		}
		if _, err := s.GetManifest(ctx, "week"); !errors.Is(err, store.ErrInvalidLayout) {
			t.Fatalf("GetManifest through a symlink = %v", err)
		}
	})
	t.Run("huge-index", func(t *testing.T) {
		t.Parallel()
		s, _ := hostileLayout(t)
		if err := os.Truncate(filepath.Join(s.dir, indexFile), MaxIndexSize+1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetManifest(ctx, "week"); !errors.Is(err, store.ErrInvalidLayout) || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("GetManifest with a huge index = %v", err)
		}
	})
	t.Run("huge-manifest-by-digest", func(t *testing.T) {
		t.Parallel()
		s, _ := hostileLayout(t)
		d := storetest.Digest([]byte("huge"))
		if err := os.WriteFile(s.blobPath(d), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(s.blobPath(d), store.MaxManifestSize+1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetManifest(ctx, d.String()); !errors.Is(err, store.ErrInvalidManifest) {
			t.Fatalf("GetManifest of a huge blob = %v", err)
		}
	})
	t.Run("no-layout", func(t *testing.T) {
		t.Parallel()
		s := New(filepath.Join(t.TempDir(), "nothing"))
		if _, err := s.GetManifest(ctx, "week"); !errors.Is(err, store.ErrAliasNotFound) || !strings.Contains(err.Error(), "no OCI image layout") {
			t.Fatalf("GetManifest without a layout = %v", err)
		}
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, layoutFile), []byte(`{"imageLayoutVersion":"2.0.0"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, bytes.NewReader(nil), store.Blob{Size: -1}); !errors.Is(err, store.ErrInvalidLayout) {
			t.Fatalf("Put into a layout of version 2 = %v", err)
		}
	})
	t.Run("interrupted-put-leaves-no-stub", func(t *testing.T) {
		t.Parallel()
		s, _ := hostileLayout(t)
		// A temporary file left by a killed writer is not a blob.
		if err := os.WriteFile(filepath.Join(s.blobDir(), tmpPrefix+"123"), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
		for b, err := range s.Blobs(ctx) {
			if err != nil || strings.HasPrefix(b.Digest.Hex, tmpPrefix) {
				t.Fatalf("Blobs yields %v, %v", b, err)
			}
		}
	})
}
