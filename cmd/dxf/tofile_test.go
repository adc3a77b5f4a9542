package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/internal/testutil"
	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

// pushAlias pushes blobs of the given sizes as alias "all" of repo and
// returns them.
func pushAlias(t *testing.T, d *dxf, repo string, sizes ...int) [][]byte {
	t.Helper()
	var blobs [][]byte
	args := []string{"push-blob", repo}
	for i, n := range sizes {
		b := randomBytes(t, n)
		name, _ := d.file(fmt.Sprintf("blob%d", i), b)
		blobs = append(blobs, b)
		args = append(args, name)
	}
	d.ok(append(args, "@all")...)
	return blobs
}

// openOutput creates path with content, then opens it with flag, as a
// shell's redirection would.
func openOutput(t *testing.T, path string, content []byte, flag int) *os.File {
	t.Helper()
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func checkFile(t *testing.T, path string, want []byte) { t.Helper(); testutil.CheckFile(t, path, want) }

// TestPullBlobToFile pulls an alias with standard output redirected to a
// file in every way a shell can (blobs are then written in place, several
// at a time, on Linux): the file ends up as a sequential write would leave
// it, whatever its offset, mode and earlier content, and the descriptor's
// offset is left after the data.
func TestPullBlobToFile(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("tofile")
	// Sizes off page boundaries, an empty blob, and blobs larger than a
	// mapping window.
	blobs := pushAlias(t, d, repo, 3<<20+5, 0, 1, 4096, 2<<20+1, 777, 5<<20)
	want := bytes.Join(blobs, nil)
	dir := t.TempDir()
	pull := func(f *os.File) {
		t.Helper()
		if r := d.runTo(f, "", "pull-blob", repo, "@all"); r.code != 0 || r.stderr != "" {
			t.Fatalf("pull-blob > file: exit %d, stderr:\n%s", r.code, r.stderr)
		}
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	t.Run("truncated", func(t *testing.T) { // dxf pull-blob ... > out
		path := filepath.Join(dir, "truncated")
		f := openOutput(t, path, []byte("old content"), os.O_WRONLY|os.O_TRUNC)
		pull(f)
		checkFile(t, path, want)
	})
	t.Run("after other output", func(t *testing.T) { // { echo head; dxf ...; echo tail; } > out
		path := filepath.Join(dir, "between")
		f := openOutput(t, path, nil, os.O_WRONLY|os.O_TRUNC)
		if _, err := f.WriteString("head\n"); err != nil {
			t.Fatal(err)
		}
		pull(f)
		if _, err := f.WriteString("tail\n"); err != nil {
			t.Fatal(err)
		}
		checkFile(t, path, cat([]byte("head\n"), want, []byte("tail\n")))
	})
	t.Run("append", func(t *testing.T) { // dxf ... >> out
		path := filepath.Join(dir, "append")
		f := openOutput(t, path, []byte("old\n"), os.O_WRONLY|os.O_APPEND)
		pull(f)
		if _, err := f.WriteString("!"); err != nil {
			t.Fatal(err)
		}
		checkFile(t, path, cat([]byte("old\n"), want, []byte("!")))
	})
	t.Run("overwrite in place", func(t *testing.T) { // dxf ... 1<> out
		path := filepath.Join(dir, "inplace")
		old := bytes.Repeat([]byte("x"), len(want)+3<<20)
		f := openOutput(t, path, old, os.O_RDWR)
		pull(f)
		checkFile(t, path, cat(want, old[len(want):]))
	})
	t.Run("digests", func(t *testing.T) { // sizes from HEAD requests
		args := []string{"pull-blob", repo}
		for _, b := range blobs {
			args = append(args, digestOf(b))
		}
		for _, n := range []int{1, 2, len(blobs)} {
			path := filepath.Join(dir, fmt.Sprintf("digests%d", n))
			f := openOutput(t, path, nil, os.O_WRONLY|os.O_TRUNC)
			if r := d.runTo(f, "", args[:2+n]...); r.code != 0 || r.stderr != "" {
				t.Fatalf("pull-blob of %d digests > file: exit %d, stderr:\n%s", n, r.code, r.stderr)
			}
			checkFile(t, path, bytes.Join(blobs[:n], nil))
		}
		// A blob the registry lacks: the blobs before it are written, as
		// in a pipe, then dxf exits 3.
		path := filepath.Join(dir, "missing")
		f := openOutput(t, path, nil, os.O_WRONLY|os.O_TRUNC)
		missing := append(args[:3:3], digestOf([]byte("not pushed")), args[3])
		checkFailure(t, d.runTo(f, "", missing...), exitNotFound, missing, "Not Found")
		checkFile(t, path, blobs[0])
	})
	t.Run("twice into one file", func(t *testing.T) { // { dxf ...; dxf ...; } > out
		path := filepath.Join(dir, "twice")
		f := openOutput(t, path, nil, os.O_WRONLY|os.O_TRUNC)
		pull(f)
		pull(f)
		checkFile(t, path, cat(want, want))
	})
}

// TestPullBlobToFileFailure: a blob of an alias that fails verification
// leaves the same bytes in a file as in a pipe: the blobs before it, then
// its own bytes, and nothing of the blobs after it (which, written in
// place, may well have arrived first). --output leaves no file at all.
func TestPullBlobToFileFailure(t *testing.T) {
	t.Parallel()
	proxy := faultproxy.StartT(t, shared.URL)
	d := newDXF(t, shared).with("DXF_HOST", proxy.Host)
	repo := uniqueRepo("tofilefail")
	blobs := pushAlias(t, d, repo, 3<<20, 1<<20+3, 2<<20, 4096)
	bad := bytes.Clone(blobs[1])
	bad[1000] ^= 1
	proxy.Inject(faultproxy.Rule{Method: "GET", Path: "/blobs/" + digestOf(blobs[1]) + "$"}, faultproxy.FlipResponseByte(1000))
	want := bytes.Join([][]byte{blobs[0], bad}, nil)
	args := []string{"pull-blob", repo, "@all"}
	wants := []string{digestOf(blobs[1]), digestOf(bad)}

	r := d.run(args...)
	if r.code != exitFailure || !bytes.Equal([]byte(r.stdout), want) {
		t.Fatalf("pull-blob | ...: exit %d and %d bytes, want %d and %d", r.code, len(r.stdout), exitFailure, len(want))
	}
	r.stdout = ""
	checkFailure(t, r, exitFailure, args, wants...)

	path := filepath.Join(t.TempDir(), "out")
	f := openOutput(t, path, nil, os.O_WRONLY|os.O_TRUNC)
	r = d.runTo(f, "", args...)
	checkFailure(t, r, exitFailure, args, wants...)
	checkFile(t, path, want)

	out := filepath.Join(t.TempDir(), "o")
	d.fails(exitFailure, []string{"pull-blob", repo, "-o", out, "@all"}, wants...)
	checkDirHolds(t, filepath.Dir(out), 0)
}

// checkDirHolds fails unless dir holds n entries: what a failed pull-blob
// --output leaves (nothing of its own) is checked this way.
func checkDirHolds(t *testing.T, dir string, n int) {
	t.Helper()
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != n {
		t.Errorf("%s holds %v (%v), want %d entries", filepath.Base(dir), ents, err, n)
	}
}

// TestPullBlobSizeMismatch: a manifest whose layer size is not the blob's
// is refused at that blob, before any of its bytes are written, into a pipe
// or a file alike.
func TestPullBlobSizeMismatch(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("sizelie")
	blobs := pushAlias(t, d, repo, 100<<10, 1<<20+3, 5000)
	manifest := d.ok("get-manifest", repo, "all")
	n := strconv.Itoa(len(blobs[1]))
	if strings.Count(manifest, `"size": `+n+"}") != 1 {
		t.Fatalf("manifest does not list size %s once:\n%s", n, manifest)
	}
	manifest = strings.Replace(manifest, `"size": `+n+"}", `"size": `+strconv.Itoa(len(blobs[1])+1)+"}", 1)
	wants := []string{"size mismatch", digestOf(blobs[1]), n}

	r := d.runIn(manifest, "pull-blob", repo)
	if r.stdout != string(blobs[0]) {
		t.Fatalf("pull-blob < manifest | ...: %d bytes, want the first blob's %d", len(r.stdout), len(blobs[0]))
	}
	r.stdout = ""
	checkFailure(t, r, exitFailure, []string{"pull-blob", "<manifest"}, wants...)

	path := filepath.Join(t.TempDir(), "out")
	f := openOutput(t, path, nil, os.O_WRONLY|os.O_TRUNC)
	r = d.runTo(f, manifest, "pull-blob", repo)
	checkFailure(t, r, exitFailure, []string{"pull-blob", "<manifest", ">file"}, wants...)
	checkFile(t, path, blobs[0])
}
