package blobstore

import (
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
