package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// layoutDXF is a runner with no registry at all.
func layoutDXF(t *testing.T) *dxf {
	t.Helper()
	return newDXFAt(t, "", false).with("DXF_HOST", "", "DXF_INSECURE", "")
}

// TestLayoutCLI: every blob and alias command works on an OCI image layout,
// addressed as oci:DIR or through DXF_HOST=oci:ROOT.
func TestLayoutCLI(t *testing.T) {
	t.Parallel()
	d := layoutDXF(t)
	data := randomBytes(t, 300_000)
	f, fd := d.file("data.bin", data)
	repo := "oci:./data/fred"

	if got := d.ok("push-blob", repo, f, "@week"); got != lines(fd) {
		t.Fatalf("push-blob = %q", got)
	}
	if got := d.okIn("from stdin\n", "push-blob", repo, "-", "@stdin"); got != lines(digestOf([]byte("from stdin\n"))) {
		t.Fatalf("push-blob - = %q", got)
	}
	d.ok("push-blob", "--split", repo, f, "@split")
	if got := d.ok("list-aliases", repo); got != lines("split", "stdin", "week") {
		t.Fatalf("list-aliases = %q", got)
	}
	// The same layout through DXF_HOST=oci:ROOT and a repository name.
	h := d.with("DXF_HOST", "oci:./data")
	if got := h.ok("get-alias", "fred", "week"); got != lines(fd) {
		t.Fatalf("get-alias = %q", got)
	}
	var out bytes.Buffer
	if r := h.runTo(&out, "", "pull-blob", "fred", "@split"); r.code != 0 || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("pull-blob @split: exit %d, %s", r.code, r.stderr)
	}
	if got := d.ok("pull-blob", "--range", "1000-1099", repo, "@week"); got != string(data[1000:1100]) {
		t.Fatalf("pull-blob --range gave %d bytes", len(got))
	}
	d.ok("pull-blob", "-o", "out.bin", repo, fd)
	if got, err := os.ReadFile(filepath.Join(d.dir, "out.bin")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pull-blob -o: %v", err)
	}
	if got := d.ok("blob-size", repo, fd, "@week"); got != lines("300000", "300000") {
		t.Fatalf("blob-size = %q", got)
	}
	m := d.ok("get-manifest", repo, "week")
	if !strings.Contains(m, fd) {
		t.Fatalf("get-manifest = %q", m)
	}
	dg := strings.TrimSpace(d.ok("get-digest", repo, "week"))
	if !strings.HasPrefix(dg, "sha256:") {
		t.Fatalf("get-digest = %q", dg)
	}
	d.ok("set-alias", repo, "again", fd)
	if got := d.ok("get-alias", repo, "again"); got != lines(fd) {
		t.Fatalf("get-alias after set-alias = %q", got)
	}
	d.ok("del-alias", repo, "stdin")
	d.fails(exitNotFound, []string{"get-alias", repo, "stdin"}, "stdin", "not found")
	d.ok("del-blob", repo, digestOf([]byte("from stdin\n")))
	d.fails(exitNotFound, []string{"blob-size", repo, digestOf([]byte("from stdin\n"))}, "not found")

	// Completion lists the layout's aliases.
	if got := d.ok("__complete", "get-alias", repo, "w"); !strings.Contains(got, "week") {
		t.Errorf("completion of a layout's aliases = %q", got)
	}

	// Errors say what is wrong.
	d.fails(exitNotFound, []string{"get-alias", "oci:./nothing", "week"}, "no OCI image layout at nothing")
	d.fails(exitFailure, []string{"mount-blob", repo, "other", fd}, "OCI image layout")
	h.fails(exitFailure, []string{"login"}, "OCI image layouts on disk", "need no login")
	// list-repos lists the layouts under DXF_HOST's root, not what a
	// layout holds in its blobs (nor a directory that is not a layout).
	d.ok("push-blob", "oci:./data/team/bob", f, "@x")
	if err := os.MkdirAll(filepath.Join(d.dir, "data", "notalayout", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := h.ok("list-repos"); got != lines("fred", "team/bob") {
		t.Fatalf("list-repos = %q", got)
	}
	d.with("DXF_HOST", "oci:./nothing").fails(exitNotFound, []string{"list-repos"}, "oci:./nothing", "not found")
	h.fails(exitFailure, []string{"get-alias", "../escape", "week"}, "invalid name")

	// The layout is a plain OCI image layout: go-containerregistry reads it.
	p, err := layout.FromPath(filepath.Join(d.dir, "data", "fred"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	if im, err := idx.IndexManifest(); err != nil || len(im.Manifests) != 3 {
		t.Fatalf("ggcr reads the index: %v", err)
	}
}

// TestLayoutPullCorruptToFile: a blob changed on disk in the layout,
// pulled with -o over an existing file, is written out in full before its
// last byte shows the digest wrong; the pull fails naming both digests, the
// file keeps its old data, and no temporary file is left beside it.
func TestLayoutPullCorruptToFile(t *testing.T) {
	t.Parallel()
	d := layoutDXF(t)
	data := randomBytes(t, 3<<20+5)
	f, fd := d.file("data.bin", data)
	repo := "oci:./data/fred"
	d.ok("push-blob", repo, f)
	bad := bytes.Clone(data)
	bad[len(bad)-1] ^= 1
	blob := filepath.Join(d.dir, "data", "fred", "blobs", "sha256", strings.TrimPrefix(fd, "sha256:"))
	if err := os.WriteFile(blob, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(d.dir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outDir, "out.bin")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.fails(exitFailure, []string{"pull-blob", "-o", out, repo, fd}, fd, digestOf(bad))
	checkFile(t, out, []byte("old"))
	checkDirHolds(t, outDir, 1)
}

// TestLayoutConcurrentAliases: two dxf processes at a time setting 50 aliases
// each on one layout keep all 100 (index.json is changed under a lock file
// and replaced atomically).
func TestLayoutConcurrentAliases(t *testing.T) {
	t.Parallel()
	d := layoutDXF(t)
	f, fd := d.file("blob", []byte("shared blob"))
	repo := "oci:./store"
	d.ok("push-blob", repo, f)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				args := []string{"set-alias", repo, fmt.Sprintf("w%d-%02d", w, i), fd}
				if r := d.run(args...); r.code != 0 {
					t.Errorf("dxf %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := strings.Fields(d.ok("list-aliases", repo))
	if len(got) != 100 {
		t.Fatalf("after two writers set 50 aliases each, the layout has %d", len(got))
	}
	raw, err := os.ReadFile(filepath.Join(d.dir, "store", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Manifests []struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	var names []string
	for _, m := range idx.Manifests {
		names = append(names, m.Annotations["org.opencontainers.image.ref.name"])
	}
	slices.Sort(names)
	if !slices.Equal(names, got) {
		t.Fatalf("index.json names %v, list-aliases %v", names, got)
	}
}

// TestLayoutKilledPush: a push killed halfway (kill -9 while it reads
// standard input) leaves no file under any digest, and the same push run
// again succeeds.
func TestLayoutKilledPush(t *testing.T) {
	t.Parallel()
	d := layoutDXF(t)
	repo := "oci:./killed"
	d.ok("push-blob", repo, "-") // creates the layout (an empty blob)
	ctx := t.Context()
	cmd := exec.CommandContext(ctx, dxfBin, "push-blob", repo, "-")
	cmd.Env, cmd.Dir = d.environ(), d.dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 1<<20)
	if _, err := stdin.Write(data[:600_000]); err != nil {
		t.Fatal(err)
	}
	// Wait until the partial blob is on disk, then kill.
	blobs := filepath.Join(d.dir, "killed", "blobs", "sha256")
	for range 2000 {
		if tmp := tmpSize(t, blobs); tmp >= 500_000 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if tmp := tmpSize(t, blobs); tmp < 500_000 {
		t.Fatalf("the killed push left a temporary file of %d bytes, want the partial blob", tmp)
	}
	entries, err := os.ReadDir(blobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".tmp-") && e.Name() != strings.TrimPrefix(digestOf(nil), "sha256:") {
			t.Errorf("after the killed push, blobs/sha256 holds %s", e.Name())
		}
	}
	if got := d.okIn(string(data), "push-blob", repo, "-", "@whole"); got != lines(digestOf(data)) {
		t.Fatalf("the push run again = %q", got)
	}
	var out bytes.Buffer
	if r := d.runTo(&out, "", "pull-blob", repo, "@whole"); r.code != 0 || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("pull after the re-run: exit %d: %s", r.code, r.stderr)
	}
}

// tmpSize is the size of the largest temporary file in dir.
func tmpSize(t *testing.T, dir string) int64 {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var n int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), ".tmp-") {
			n = max(n, fi.Size())
		}
	}
	return n
}
