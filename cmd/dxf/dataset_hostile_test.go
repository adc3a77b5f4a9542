package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/internal/testutil"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// TestDirHostileEntries: pull-blob --dir of a data set whose manifest
// names a path that could leave the directory, a duplicate, a control
// character or NUL, or a path through a link out of the directory, exits
// 1 with an error naming the entry, and writes nothing, in the directory
// or beside it.
func TestDirHostileEntries(t *testing.T) {
	t.Parallel()
	d := layoutDXF(t)
	repo := "oci:./hostile"
	_, fx := d.file("x", []byte("x"))
	d.ok("push-blob", repo, filepath.Join(d.dir, "x"))
	d.okIn("{}", "push-blob", repo, "-") // the empty config
	r, err := blobstore.OpenLayout(filepath.Join(d.dir, "hostile"))
	if err != nil {
		t.Fatal(err)
	}
	layer := func(title string) string {
		j, _ := json.Marshal(title)
		return fmt.Sprintf(`{"mediaType":"application/octet-stream","digest":%q,"size":1,"annotations":{"org.opencontainers.image.title":%s}}`, fx, j)
	}
	set := func(alias, annotations string, layers ...string) {
		t.Helper()
		raw := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dxf.data.v1",` +
			`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + blobstore.HashBytes([]byte("{}")).String() + `","size":2},` +
			`"layers":[` + strings.Join(layers, ",") + `]` + annotations + `}`
		if _, err := r.SetManifest(t.Context(), alias, []byte(raw)); err != nil {
			t.Fatalf("set %s: %v", alias, err)
		}
	}
	outside := filepath.Join(d.dir, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	links, _ := json.Marshal(map[string]string{"l": outside})
	cases := []struct {
		alias, annotations string
		layers             []string
		want               string
	}{
		{"dotdot", "", []string{layer("../x")}, `"../x"`},
		{"absolute", "", []string{layer("/etc/x")}, `"/etc/x"`},
		{"inner", "", []string{layer("a/../../x")}, `"a/../../x"`},
		{"nul", "", []string{layer("a\x00b")}, `"a\x00b"`},
		{"control", "", []string{layer("a\x1b[2Jb")}, `"a\x1b[2Jb"`},
		{"duplicate", "", []string{layer("same"), layer("same")}, `"same"`},
		{"throughlink", fmt.Sprintf(`,"annotations":{"vnd.dxf.symlinks":%q}`, links), []string{layer("l/x")}, `"l`},
	}
	for _, c := range cases {
		set(c.alias, c.annotations, c.layers...)
	}
	for _, c := range cases {
		out := filepath.Join("out", c.alias)
		d.fails(exitFailure, []string{"pull-blob", "--dir", out, repo, "@" + c.alias}, c.want)
		if entries, _ := os.ReadDir(filepath.Join(d.dir, out)); len(entries) != 0 {
			t.Errorf("%s: written into the directory: %v", c.alias, entries)
		}
	}
	// Allowed to make the link, the pull still writes nothing through it.
	d.fails(exitFailure, []string{"pull-blob", "--dir", "out/allowed", "--outside-links", repo, "@throughlink"}, `l`, "in the way")
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written through the link: %v", entries)
	}
	var names []string
	entries, _ := os.ReadDir(d.dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "hostile out outside x" {
		t.Errorf("written beside the directories: %v", names)
	}
}

// TestDirUnpackBound: an oras directory (tar+gzip) that inflates past
// --max-unpack (DXF_MAX_UNPACK) is refused with exit 1 naming the layer
// and the bound, and leaves nothing; "none" lifts the bound; a bound that
// is not a size is a usage error.
func TestDirUnpackBound(t *testing.T) {
	t.Parallel()
	d := layoutDXF(t)
	repo := "oci:./bomb"
	d.okIn("{}", "push-blob", repo, "-") // the empty config

	// 32 MiB of zeros in some 32 KiB: one gzip member of 1 MiB of zeros,
	// repeated (a gzip stream may hold several, read as one).
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb) // the header is written at once, the data follows
	const zeros = 32 << 20
	if err := tw.WriteHeader(&tar.Header{Name: "d/zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: zeros}); err != nil {
		t.Fatal(err)
	}
	var bomb bytes.Buffer
	bomb.Write(testutil.Gzip(t, tb.Bytes()))
	mib := testutil.Gzip(t, make([]byte, 1<<20))
	for range zeros >> 20 {
		bomb.Write(mib)
	}
	bomb.Write(testutil.Gzip(t, make([]byte, 1024))) // the tar's end
	_, fb := d.file("bomb.tgz", bomb.Bytes())
	d.ok("push-blob", repo, filepath.Join(d.dir, "bomb.tgz"))
	r, err := blobstore.OpenLayout(filepath.Join(d.dir, "bomb"))
	if err != nil {
		t.Fatal(err)
	}
	raw := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d,"annotations":{"org.opencontainers.image.title":"d","io.deis.oras.content.unpack":"true"}}]}`,
		blobstore.HashBytes([]byte("{}")), fb, bomb.Len())
	if _, err := r.SetManifest(t.Context(), "bomb", []byte(raw)); err != nil {
		t.Fatal(err)
	}

	d.fails(exitFailure, []string{"pull-blob", "--dir", "out", "--max-unpack", "8M", repo, "@bomb"}, `"d"`, fb, "8 MiB")
	d.with("DXF_MAX_UNPACK", "4M").fails(exitFailure, []string{"pull-blob", "--dir", "out", repo, "@bomb"}, `"d"`, "4 MiB")
	if entries, _ := os.ReadDir(filepath.Join(d.dir, "out")); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
	d.fails(exitUsage, []string{"pull-blob", "--dir", "out", "--max-unpack", "0", repo, "@bomb"}, "--max-unpack")
	d.with("DXF_MAX_UNPACK", "lots").fails(exitUsage, []string{"pull-blob", "--dir", "out", repo, "@bomb"}, "DXF_MAX_UNPACK")
	// The variable is read by pull-blob --dir only.
	d.with("DXF_MAX_UNPACK", "lots").ok("list-aliases", repo)

	d.with("DXF_MAX_UNPACK", "8M").ok("pull-blob", "--dir", "out", "--max-unpack", "none", repo, "@bomb")
	if fi, err := os.Stat(filepath.Join(d.dir, "out", "d", "zeros")); err != nil || fi.Size() != zeros {
		t.Fatalf("unpacked: %v, %v", fi, err)
	}
}
