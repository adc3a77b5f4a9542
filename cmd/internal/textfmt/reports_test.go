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

func TestHints(t *testing.T) {
	names := []string{"host", "insecure", "json"}
	for msg, want := range map[string]string{
		"unknown flag: --hots":        " (did you mean --host?)",
		"unknown flag: --plain-http":  " (dxf's is --insecure)",
		"unknown flag: --zzzzzz":      "",
		"unknown shorthand flag: 'v'": " (--debug traces the HTTP exchange, --version shows the version)",
	} {
		if got := FlagHint(msg, names); got != want {
			t.Errorf("FlagHint(%q) = %q, want %q", msg, got, want)
		}
	}
	if got := CommandHint("lst", []string{"ls", "list-repos"}); got != " (did you mean ls?)" {
		t.Errorf("CommandHint(lst) = %q", got)
	}
	if HabitHint("cp") == "" || HabitHint("push-blob") != "" {
		t.Error("HabitHint")
	}
}
