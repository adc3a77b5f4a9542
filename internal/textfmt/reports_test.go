package textfmt

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

func TestFiles(t *testing.T) {
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	files := []blobstore.File{
		{Path: "data/a.bin", Kind: blobstore.KindFile, Size: 12, Digest: d, Mode: 0o644, Parts: []blobstore.Blob{{Digest: d, Size: 12}}},
		{Path: "data/big", Kind: blobstore.KindFile, Size: 7},
		{Path: "empty", Kind: blobstore.KindDir},
		{Path: "link", Kind: blobstore.KindSymlink, Target: "data/a.bin"},
	}
	table, err := Files(files, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "data/a.bin          12  " + d.String() + "\ndata/big            7   -\nempty/                  \nlink -> data/a.bin      \n"
	if table != want {
		t.Errorf("table:\n%q\nwant\n%q", table, want)
	}
	lines, err := Files(files[:1], true)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"path":"data/a.bin","type":"file","size":12,"digest":"` + d.String() + `","mode":"0644","blobs":1}` + "\n"; lines != want {
		t.Errorf("JSON: %q, want %q", lines, want)
	}
}

func TestPlural(t *testing.T) {
	if Plural(1)+PluralES(1) != "" || Plural(0) != "s" || PluralES(2) != "es" {
		t.Error("Plural, PluralES")
	}
}
