package blobstore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// TestIntegrationZot: zot in its default configuration refuses the Docker
// form; SetAliasFiles writes the OCI form once more, and tells. (Data sets
// through zot: TestIntegrationDataSetStores.)
func TestIntegrationZot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	z := registrytest.StartZotT(t)
	r, err := New(z.Host, "data/lib", WithInsecure(true), WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	a := pushBytes(t, r, []byte("alpha"))
	var notes []string
	m, err := r.SetAliasFiles(ctx, "a", []File{{Path: "alpha.txt", Parts: []Blob{a.Blob()}}},
		WithFormatNotice(func(msg string) { notes = append(notes, msg) }))
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "Docker") || m.MediaType != MediaTypeOCIManifest || m.LayerInfo[0].Annotations[AnnotationTitle] != "alpha.txt" {
		t.Fatalf("notes %q, manifest %s", notes, m.Raw)
	}
}

// TestIntegrationZotCopy: a copy into zot (default configuration) of an
// alias of the Docker form writes it there in the OCI form, of the same
// blobs, and tells; the alias reads back the same. A manifest of the
// Docker form that dxf did not write (an image) is refused as it was.
func TestIntegrationZotCopy(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	z := registrytest.StartZotT(t)
	dst, err := New(z.Host, "data/copy", WithInsecure(true), WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	src, err := OpenLayout(filepath.Join(t.TempDir(), "src"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := pushBytes(t, src, []byte("alpha")), pushBytes(t, src, []byte("beta"))
	sm, err := src.SetAliasBlobs(ctx, "v1", a.Blob(), b.Blob())
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	res, err := Copy(ctx, src, dst, "v1", "", WithFormatNotice(func(msg string) { notes = append(notes, msg) }))
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "OCI") || !strings.Contains(notes[0], sm.Digest.String()) ||
		res.Manifest.MediaType != MediaTypeOCIManifest || res.Manifest.Digest == sm.Digest {
		t.Fatalf("notes %q, manifest %s", notes, res.Manifest.Raw)
	}
	got, err := dst.GetAlias(ctx, "v1", "")
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := got.Blobs()
	if err != nil || len(blobs) != 2 || blobs[0] != a.Blob() || blobs[1] != b.Blob() {
		t.Fatalf("the copy names %v (%v), want %v %v", blobs, err, a.Blob(), b.Blob())
	}
	var out bytes.Buffer
	if err := dst.PullAlias(ctx, &out, "v1"); err != nil || out.String() != "alphabeta" {
		t.Fatalf("pulled %q, %v", out.String(), err)
	}

	// An image's manifest (not what MakeManifest makes) is not rewritten.
	cfg := pushBytes(t, src, []byte(`{"architecture":"amd64","os":"linux"}`))
	raw := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":%q,"size":%d}]}`,
		cfg.Digest, cfg.Size, a.Digest, a.Size)
	if _, err := src.SetManifest(ctx, "image", []byte(raw)); err != nil {
		t.Fatal(err)
	}
	notes = nil
	if _, err := Copy(ctx, src, dst, "image", "", WithFormatNotice(func(msg string) { notes = append(notes, msg) })); !dockerRefused(err) || len(notes) != 0 {
		t.Fatalf("copy of an image: %v, notes %q", err, notes)
	}
}
