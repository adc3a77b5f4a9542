package blobstore

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/internal/testutil"
)

func TestUnpackLimit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ n, size, want int64 }{
		{0, 0, DefaultMaxUnpackMin},
		{0, 1 << 20, DefaultMaxUnpackMin},
		{0, 100 << 20, DefaultMaxUnpackRatio * (100 << 20)},
		{0, 1 << 60, -1},
		{5, 1 << 40, 5},
		{-1, 10, -1},
	} {
		if got := unpackLimit(c.n, c.size); got != c.want {
			t.Errorf("unpackLimit(%d, %d) = %d, want %d", c.n, c.size, got, c.want)
		}
	}
}

// setArchive pushes data as an oras directory layer titled "d" (tar+gzip,
// to unpack) and points alias at it.
func setArchive(t *testing.T, r *Repository, alias string, data []byte) Blob {
	t.Helper()
	b := pushBytes(t, r, data).Blob()
	raw := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d,"annotations":{"org.opencontainers.image.title":"d","io.deis.oras.content.unpack":"true"}}]}`,
		emptyJSONBlob.Digest, b.Digest, b.Size)
	if _, err := r.SetManifest(t.Context(), alias, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIntegrationUnpackBomb: an oras directory layer that inflates past the
// bound (a gzip bomb: 64 MiB of zeros in a blob of some 64 KiB) is refused
// with an error naming it, and leaves nothing in the directory, not even
// the members unpacked before the bound was reached; under the default
// bound the same layer unpacks. An archive of more members than
// MaxEntries is refused the same way.
func TestIntegrationUnpackBomb(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t)
	if err := r.ensureEmptyConfig(ctx); err != nil {
		t.Fatal(err)
	}
	// Built as gzip members (a gzip stream may hold several, read as one):
	// one of 1 MiB of zeros, compressed once and repeated, as a bomb is.
	var buf bytes.Buffer
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755}))
	must(tw.WriteHeader(&tar.Header{Name: "d/first", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5}))
	_, err := tw.Write([]byte("first"))
	must(err)
	must(tw.Flush())
	const zeros = 64 << 20
	must(tw.WriteHeader(&tar.Header{Name: "d/zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: zeros}))
	buf.Write(testutil.Gzip(t, tb.Bytes()))
	mib := testutil.Gzip(t, make([]byte, 1<<20))
	for range zeros >> 20 {
		buf.Write(mib)
	}
	buf.Write(testutil.Gzip(t, make([]byte, 1024))) // the tar's end
	bomb := setArchive(t, r, "bomb", buf.Bytes())
	if bomb.Size > 1<<20 {
		t.Fatalf("the bomb is %d bytes", bomb.Size)
	}

	top := t.TempDir()
	dir := filepath.Join(top, "dir")
	_, err = r.PullDir(ctx, "bomb", dir, WithMaxUnpack(8<<20))
	var le *LimitError
	if !errors.As(err, &le) || le.Name != "WithMaxUnpack" || le.Limit != 8<<20 {
		t.Fatalf("PullDir = %v, want a LimitError of WithMaxUnpack", err)
	}
	for _, want := range []string{`"d"`, bomb.Digest.String(), "8 MiB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not name %s", err, want)
		}
	}
	if got := treeOf(t, dir); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
	if entries, _ := os.ReadDir(top); len(entries) != 1 {
		t.Fatalf("written beside the directory: %v", entries)
	}

	// The default bound (1 GiB for so small an archive) lets it through.
	res, err := r.PullDir(ctx, "bomb", dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "d", "zeros")); err != nil || fi.Size() != zeros || res.Transferred != 1 {
		t.Fatalf("unpacked: %v, %v, %d fetched", fi, err, res.Transferred)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "d", "first")); err != nil || string(got) != "first" {
		t.Fatalf("d/first: %q, %v", got, err)
	}

	// Members past MaxEntries (the data set's one entry counts too).
	tb.Reset()
	tw = tar.NewWriter(&tb)
	for range 1000 {
		must(tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755}))
	}
	must(tw.Flush())
	buf.Reset()
	thousand := testutil.Gzip(t, tb.Bytes())
	for range MaxEntries / 1000 {
		buf.Write(thousand)
	}
	buf.Write(testutil.Gzip(t, make([]byte, 1024)))
	setArchive(t, r, "many", buf.Bytes())
	many := filepath.Join(top, "many")
	_, err = r.PullDir(ctx, "many", many)
	if !errors.As(err, &le) || le.Name != "MaxEntries" || !strings.Contains(err.Error(), `"d"`) {
		t.Fatalf("PullDir = %v, want a LimitError of MaxEntries naming d", err)
	}
	if got := treeOf(t, many); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
}

// TestIntegrationUnpackLeftovers: the staging directory of an unpack
// killed half way is removed by the next pull with WithDelete, and the
// archive's files are kept.
func TestIntegrationUnpackLeftovers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t)
	if err := r.ensureEmptyConfig(ctx); err != nil {
		t.Fatal(err)
	}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	if err := tw.WriteHeader(&tar.Header{Name: "d/x", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	setArchive(t, r, "small", testutil.Gzip(t, tb.Bytes()))
	dir := t.TempDir()
	left := filepath.Join(dir, partialPrefix+"0123456789abcdef.d", "d")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "half"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := r.PullDir(ctx, "small", dir, WithDelete(true))
	if err != nil {
		t.Fatal(err)
	}
	if got := treeOf(t, dir); len(got) != 2 || got[0] != "d/" || !strings.HasPrefix(got[1], "d/x 0644 ") || len(res.Deleted) != 1 {
		t.Fatalf("after the pull: %v, deleted %v", got, res.Deleted)
	}
}
