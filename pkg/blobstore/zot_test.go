package blobstore

import (
	"slices"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// TestIntegrationZot: zot in its default configuration refuses the Docker
// form; SetAliasFiles writes the OCI form once more, and tells; a data set
// round-trips.
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
	src := t.TempDir()
	writeTree(t, src, randomBytes(t, 1<<20))
	if _, err := r.PushDir(ctx, src, "tree", WithSplitThreshold(512<<10), WithSplitAverage(64<<10)); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := r.PullDir(ctx, "tree", dst); err != nil {
		t.Fatal(err)
	}
	if want, got := treeOf(t, src), treeOf(t, dst); !slices.Equal(want, got) {
		t.Fatalf("through zot:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
