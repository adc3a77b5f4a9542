package blobstore

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

func oras(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := registrytest.Oras(t.Context())
	if err != nil {
		t.Fatalf("installing oras: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestLayoutInterop: what dxf writes into an OCI image layout, oras and
// go-containerregistry's layout package read; what oras writes, dxf reads.
func TestLayoutInterop(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "fred")
	r, err := Open(ctx, "oci:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	one, two := bytes.Repeat([]byte("one "), 3000), bytes.Repeat([]byte("two "), 5000)
	var blobs []Blob
	for _, data := range [][]byte{one, two} {
		res, err := r.PushBlob(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, res.Blob())
	}
	m, err := r.SetAliasBlobs(ctx, "week", blobs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetAliasBlobs(ctx, "day", blobs[1]); err != nil {
		t.Fatal(err)
	}

	t.Run("ggcr-layout-reads-dxf", func(t *testing.T) {
		p, err := layout.FromPath(dir)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := p.ImageIndex()
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		var tags []string
		for _, d := range im.Manifests {
			tags = append(tags, d.Annotations["org.opencontainers.image.ref.name"])
			if d.Annotations["org.opencontainers.image.ref.name"] != "week" {
				continue
			}
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := img.RawManifest()
			if err != nil || !bytes.Equal(raw, m.Raw) {
				t.Fatalf("ggcr reads the manifest as %q, %v", raw, err)
			}
			for i, data := range [][]byte{one, two} {
				rc, err := p.Blob(blobs[i].Digest)
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				_, err = got.ReadFrom(rc)
				rc.Close()
				if err != nil || !bytes.Equal(got.Bytes(), data) {
					t.Fatalf("ggcr reads blob %d: %v", i, err)
				}
			}
		}
		slices.Sort(tags)
		if !slices.Equal(tags, []string{"day", "week"}) {
			t.Fatalf("ggcr sees tags %v", tags)
		}
	})

	t.Run("oras-reads-dxf", func(t *testing.T) {
		tags := strings.Fields(oras(t, "repo", "tags", "--oci-layout", dir))
		if !slices.Equal(tags, []string{"day", "week"}) {
			t.Fatalf("oras repo tags = %v", tags)
		}
		if got := oras(t, "manifest", "fetch", "--oci-layout", dir+":week"); got != string(m.Raw) {
			t.Fatalf("oras manifest fetch = %q, want %q", got, m.Raw)
		}
		out := filepath.Join(t.TempDir(), "blob")
		oras(t, "blob", "fetch", "--oci-layout", dir+"@"+blobs[1].Digest.String(), "--output", out)
		if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, two) {
			t.Fatalf("oras blob fetch: %v", err)
		}
		oras(t, "pull", "--oci-layout", dir+":week", "-o", t.TempDir())
	})

	t.Run("dxf-reads-oras", func(t *testing.T) {
		odir := filepath.Join(t.TempDir(), "oras")
		work := t.TempDir()
		data := bytes.Repeat([]byte("written by oras "), 4000)
		if err := os.WriteFile(filepath.Join(work, "data.bin"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		bin, err := registrytest.Oras(ctx)
		if err != nil {
			t.Fatal(err)
		}
		push := exec.CommandContext(ctx, bin, "push", "--oci-layout", odir+":v1", "data.bin")
		push.Dir = work
		push.Env = append(os.Environ(), "HOME="+t.TempDir())
		if out, err := push.CombinedOutput(); err != nil {
			t.Fatalf("oras push: %v\n%s", err, out)
		}
		or, err := Open(ctx, "oci:"+odir)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := or.ListAliases(ctx); err != nil || !slices.Equal(got, []string{"v1"}) {
			t.Fatalf("dxf lists %v, %v", got, err)
		}
		var out bytes.Buffer
		if err := or.PullAlias(ctx, &out, "v1"); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("dxf pulls what oras pushed: %v (%d bytes)", err, out.Len())
		}
	})
}
