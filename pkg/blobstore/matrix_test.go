package blobstore

// The registry matrix: the same suite against every target of
// pkg/registrytest/matrix, expecting success or the specific error dxf gives
// for what the registry does not support.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/registrytest/matrix"
)

// matrixRepo returns repository name on the target, with its credentials.
func matrixRepo(t testing.TB, s *matrix.Server, name string, opts ...Option) *Repository {
	t.Helper()
	base := []Option{WithKeychain(nil), WithRetries(2)}
	if s.Insecure {
		base = append(base, WithInsecure(true))
	}
	if s.CAFile != "" {
		base = append(base, WithCABundle(s.CAFile))
	}
	if s.Username != "" {
		base = append(base, WithAuth(authn.FromConfig(authn.AuthConfig{Username: s.Username, Password: s.Password})))
	}
	r, err := New(s.Host, name, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// expectUnsupported checks err against what the target says about op:
// nil where it is supported, else an error containing the target's message.
// It reports whether the operation worked.
func expectUnsupported(t *testing.T, tg *matrix.Target, op matrix.Op, err error) bool {
	t.Helper()
	msg, unsupported := tg.Unsupported[op]
	switch {
	case !unsupported && err != nil:
		t.Fatalf("%s: %v", op, err)
	case unsupported && err == nil:
		t.Fatalf("%s worked, but the matrix says %s does not support it (%q): update the target's capabilities and docs/registries.md", op, tg.Name, msg)
	case unsupported && !strings.Contains(err.Error(), msg):
		t.Fatalf("%s: want an error containing %q, got: %v", op, msg, err)
	case unsupported:
		t.Logf("%s on %s, as expected: %v", op, tg.Name, err)
	}
	return err == nil
}

func TestMatrix(t *testing.T) {
	t.Parallel()
	for _, tg := range matrix.Targets() {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			s := matrix.Get(t, tg)
			t.Run("push-pull", func(t *testing.T) { t.Parallel(); matrixPushPull(t, s) })
			t.Run("aliases", func(t *testing.T) { t.Parallel(); matrixAliases(t, s) })
			t.Run("mount", func(t *testing.T) { t.Parallel(); matrixMount(t, s) })
			t.Run("delete", func(t *testing.T) { t.Parallel(); matrixDelete(t, s) })
			t.Run("catalog", func(t *testing.T) { t.Parallel(); matrixCatalog(t, s) })
			if tg.Caps.Redirects {
				t.Run("redirects", func(t *testing.T) { matrixRedirects(t, s) })
			}
		})
	}
}

// matrixPushPull pushes blobs of several sizes — from memory, from a file
// in chunks, and from a stream of unknown size — and pulls them back, whole
// and from an offset.
func matrixPushPull(t *testing.T, s *matrix.Server) {
	r := matrixRepo(t, s, "matrix/pushpull", WithDefaultChunkSize(64<<10))
	for _, n := range []int{0, 1, 100 << 10, 300<<10 + 7} {
		data := randomBytes(t, n)
		res := pushBytes(t, r, data)
		if res.Size != int64(n) {
			t.Fatalf("pushed %d bytes, result says %d", n, res.Size)
		}
		if got, err := pullAll(t, r, res.Digest); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("pull of %d bytes: %v", n, err)
		}
		if size, err := r.BlobSize(t.Context(), res.Digest); err != nil || size != int64(n) {
			t.Fatalf("blob size: %d, %v; want %d", size, err, n)
		}
	}
	// A file, in 64 KiB chunks.
	data := randomBytes(t, 200<<10+3)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := r.PushFile(t.Context(), path)
	if err != nil {
		t.Fatalf("push file: %v", err)
	}
	if got, err := pullAll(t, r, res.Digest); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pull of the file: %v", err)
	}
	// Pushing it again finds it there.
	if again, err := r.PushFile(t.Context(), path, WithDigest(res.Digest)); err != nil || !again.Existed {
		t.Fatalf("second push: %+v, %v", again, err)
	}
	// A stream of unknown size (standard input).
	stream := randomBytes(t, 150<<10)
	res, err = r.PushBlob(t.Context(), io.MultiReader(bytes.NewReader(stream[:1000]), bytes.NewReader(stream[1000:])))
	if err != nil {
		t.Fatalf("push stream: %v", err)
	}
	if got, err := pullAll(t, r, res.Digest); err != nil || !bytes.Equal(got, stream) {
		t.Fatalf("pull of the stream: %v", err)
	}
	// A missing blob.
	missing := randomBytes(t, 10)
	if _, err := pullAll(t, r, pushResultOf(missing).Digest); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("missing blob: %v", err)
	}
}

func pushResultOf(b []byte) PushResult {
	d, _, _ := v1.SHA256(bytes.NewReader(b))
	return PushResult{Digest: d, Size: int64(len(b))}
}

// matrixAliases sets multi-blob aliases, reads them back, and lists them a
// page of two at a time.
func matrixAliases(t *testing.T, s *matrix.Server) {
	r := matrixRepo(t, s, "matrix/aliases", WithPageSize(2))
	var blobs []Blob
	var all []byte
	for i := range 3 {
		data := randomBytes(t, 1000*(i+1))
		all = append(all, data...)
		blobs = append(blobs, pushBytes(t, r, data).Blob())
	}
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("v%d", i)
		want = append(want, name)
		if _, err := r.SetAliasBlobs(t.Context(), name, blobs...); err != nil {
			t.Fatalf("set alias %s: %v", name, err)
		}
	}
	al, err := r.GetAlias(t.Context(), "v3", "")
	if err != nil {
		t.Fatalf("get alias: %v", err)
	}
	m := al.Image()
	if m == nil || len(m.Digests()) != 3 {
		t.Fatalf("alias names %v", m)
	}
	var got []byte
	for i, d := range m.Digests() {
		if d != blobs[i].Digest {
			t.Fatalf("blob %d of the alias is %s, want %s", i, d, blobs[i].Digest)
		}
		b, err := pullAll(t, r, d)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b...)
	}
	if !bytes.Equal(got, all) {
		t.Fatal("the alias's blobs differ from those pushed")
	}
	if size, err := r.AliasSize(t.Context(), "v3", ""); err != nil || size != int64(len(all)) {
		t.Fatalf("alias size %d, %v; want %d", size, err, len(all))
	}
	tags, err := r.ListAliases(t.Context())
	slices.Sort(tags)
	if err != nil || !slices.Equal(tags, want) {
		t.Fatalf("list aliases: %v, %v; want %v", tags, err, want)
	}
	if _, err := r.GetAlias(t.Context(), "nope", ""); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("missing alias: %v", err)
	}
}

func matrixMount(t *testing.T, s *matrix.Server) {
	src := matrixRepo(t, s, "matrix/mount-src")
	dst := matrixRepo(t, s, "matrix/mount-dst")
	data := randomBytes(t, 5000)
	res := pushBytes(t, src, data)
	err := dst.MountBlob(t.Context(), src.Name(), res.Digest)
	if err != nil && !errors.Is(err, ErrMountFailed) {
		t.Fatalf("a failed mount is not ErrMountFailed: %v", err)
	}
	if expectUnsupported(t, s.Target, matrix.OpMount, err) {
		if got, err := pullAll(t, dst, res.Digest); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("pull of the mounted blob: %v", err)
		}
	}
}

func matrixDelete(t *testing.T, s *matrix.Server) {
	r := matrixRepo(t, s, "matrix/delete")
	keep := pushBytes(t, r, randomBytes(t, 3000))
	var m *Manifest
	for _, a := range []string{"doomed", "sibling"} {
		var err error
		if m, err = r.SetAliasBlobs(t.Context(), a, keep.Blob()); err != nil {
			t.Fatal(err)
		}
	}
	d, err := r.deleteAlias(t.Context(), "doomed", allDeleteMethods, 2)
	if expectUnsupported(t, s.Target, matrix.OpDeleteManifest, err) {
		t.Logf("del-alias on %s: %v", s.Target.Name, d.Method)
		if _, err := r.GetManifest(t.Context(), "doomed"); !errors.Is(err, ErrAliasNotFound) {
			t.Fatalf("the deleted alias still resolves: %v", err)
		}
		// Only that alias: another naming the same manifest stays.
		if got, err := r.GetManifest(t.Context(), "sibling"); err != nil || got.Digest != m.Digest {
			t.Fatalf("the other alias of the manifest went too: %v", err)
		}
	}
	// The blob stays.
	if ok, err := r.HasBlob(t.Context(), keep.Digest); err != nil || !ok {
		t.Fatalf("the alias's blob went with it: %v %v", ok, err)
	}
	err = r.DeleteBlob(t.Context(), keep.Digest)
	if expectUnsupported(t, s.Target, matrix.OpDeleteBlob, err) {
		if ok, err := r.HasBlob(t.Context(), keep.Digest); err != nil || ok {
			t.Fatalf("the deleted blob is still there: %v %v", ok, err)
		}
	}
}

// matrixCatalog lists the catalog two repositories a page at a time.
func matrixCatalog(t *testing.T, s *matrix.Server) {
	var names []string
	for i := range 3 {
		name := fmt.Sprintf("matrix/catalog%d", i)
		names = append(names, name)
		r := matrixRepo(t, s, name)
		res := pushBytes(t, r, []byte(name))
		// Distribution lists only repositories holding manifests.
		if _, err := r.SetAliasBlobs(t.Context(), "latest", res.Blob()); err != nil {
			t.Fatal(err)
		}
	}
	sizes := []int{0, 2}
	if s.Target.Caps.CatalogNoPages {
		sizes = sizes[:1]
	}
	for _, pageSize := range sizes {
		r := matrixRepo(t, s, "matrix/catalog0")
		if pageSize > 0 {
			r = matrixRepo(t, s, "matrix/catalog0", WithPageSize(pageSize))
		}
		repos, err := r.Registry().ListRepositories(t.Context())
		if !expectUnsupported(t, s.Target, matrix.OpCatalog, err) {
			return
		}
		for _, n := range names {
			if !slices.Contains(repos, n) {
				t.Fatalf("page size %d: catalog %v lacks %s", pageSize, repos, n)
			}
		}
	}
}

// matrixRedirects checks that blob downloads went to the object store by
// presigned URLs, and that it never received the client's credentials.
func matrixRedirects(t *testing.T, s *matrix.Server) {
	r := matrixRepo(t, s, "matrix/redirect")
	data := randomBytes(t, 70<<10)
	res := pushBytes(t, r, data)
	before := presigned(s)
	if got, err := pullAll(t, r, res.Digest); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pull: %v", err)
	}
	if presigned(s) == before {
		t.Fatal("the download was not redirected to the object store")
	}
	for _, req := range s.S3.Requests() {
		if req.AuthScheme != "" && req.AuthScheme != "AWS4-HMAC-SHA256" {
			t.Fatalf("the object store received an Authorization header (%s) on %s %s", req.AuthScheme, req.Method, req.Path)
		}
	}
}

func presigned(s *matrix.Server) int {
	n := 0
	for _, req := range s.S3.Requests() {
		if req.Presigned && req.Method == "GET" && req.Status == 200 {
			n++
		}
	}
	return n
}
