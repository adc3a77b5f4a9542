package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// makeTree writes a small tree under d's directory and returns its path.
func makeTree(t *testing.T, d *dxf) string {
	t.Helper()
	root := filepath.Join(d.dir, "tree")
	for p, data := range map[string]string{"a.txt": "alpha\n", "sub/b.txt": "beta\n", "sub/deeper/c.bin": "gamma"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/b.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestDirectoryWorkflow: push-blob DIR @alias, ls, pull-blob --dir, an
// edit pushed and pulled again with --delete.
func TestDirectoryWorkflow(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("dataset")
	root := makeTree(t, d)
	dgst := d.ok("push-blob", repo, root, "@v1")
	if !strings.HasPrefix(dgst, "sha256:") {
		t.Fatalf("push-blob DIR printed %q", dgst)
	}
	ls := d.ok("ls", repo, "@v1")
	for _, want := range []string{"a.txt", "sub/deeper/c.bin", "link -> sub/b.txt", "empty/", digestOf([]byte("alpha\n"))} {
		if !strings.Contains(ls, want) {
			t.Fatalf("ls lacks %q:\n%s", want, ls)
		}
	}
	var e struct {
		Path   string `json:"path"`
		Size   int64  `json:"size"`
		Digest string `json:"digest"`
	}
	first, _, _ := strings.Cut(d.ok("ls", "--json", "--include", "*.txt", repo, "@v1"), "\n")
	if err := json.Unmarshal([]byte(first), &e); err != nil || e.Path != "a.txt" || e.Size != 6 || e.Digest != digestOf([]byte("alpha\n")) {
		t.Fatalf("ls --json: %s (%v)", first, err)
	}
	out := filepath.Join(d.dir, "out")
	d.ok("pull-blob", "--dir", out, repo, "@v1")
	if got, _ := os.ReadFile(filepath.Join(out, "sub", "deeper", "c.bin")); string(got) != "gamma" {
		t.Fatalf("pulled c.bin: %q", got)
	}
	if target, err := os.Readlink(filepath.Join(out, "link")); err != nil || target != "sub/b.txt" {
		t.Fatalf("pulled link: %q %v", target, err)
	}
	if fi, err := os.Stat(filepath.Join(out, "empty")); err != nil || !fi.IsDir() {
		t.Fatalf("empty directory: %v", err)
	}
	if err := os.Remove(filepath.Join(root, "a.txt")); err != nil {
		t.Fatal(err)
	}
	d.ok("push-blob", repo, root, "@v1")
	d.ok("pull-blob", "--dir", out, "--delete", repo, "@v1")
	if _, err := os.Stat(filepath.Join(out, "a.txt")); !os.IsNotExist(err) {
		t.Fatalf("--delete left a.txt: %v", err)
	}
	d.fails(exitUsage, []string{"pull-blob", "--dir", out, repo, "@v1", "@v2"}, "one @alias")
}

// TestFormatOCI: --format oci (DXF_FORMAT=oci) names the files pushed;
// the default stays the Python tool's form.
func TestFormatOCI(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("format")
	f, _ := d.file("notes.txt", []byte("notes"))
	d.ok("push-blob", "--format", "oci", repo, f, "@o")
	m := d.ok("get-manifest", repo, "o")
	for _, want := range []string{`"artifactType":"application/vnd.dxf.data.v1"`, `"org.opencontainers.image.title":"notes.txt"`, "application/vnd.oci.empty.v1+json"} {
		if !strings.Contains(m, want) {
			t.Fatalf("manifest lacks %s:\n%s", want, m)
		}
	}
	d.with("DXF_FORMAT", "oci").ok("push-blob", repo, f, "@o2")
	if m2 := d.ok("get-manifest", repo, "o2"); m2 != m {
		t.Fatalf("DXF_FORMAT=oci wrote\n%s\nnot\n%s", m2, m)
	}
	d.ok("push-blob", repo, f, "@dk")
	if m := d.ok("get-manifest", repo, "dk"); !strings.Contains(m, `"mediaType": "application/vnd.docker.distribution.manifest.v2+json"`) {
		t.Fatalf("default form:\n%s", m)
	}
	d.fails(exitFailure, []string{"--format", "zip", "push-blob", repo, f}, "--format", "docker or oci")
}

// TestZotFallback: zot in its default configuration refuses the Docker
// form; push-blob writes the alias as an OCI artifact instead, saying so
// in one line, and a directory round-trips.
func TestZotFallback(t *testing.T) {
	t.Parallel()
	z := registrytest.StartZotT(t)
	d := newDXFAt(t, z.Host, false)
	f, dgst := d.file("data.bin", []byte("zot data"))
	r := d.run("push-blob", "data/x", f, "@a")
	if r.code != 0 || r.stdout != dgst+"\n" {
		t.Fatalf("push-blob: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.Contains(r.stderr, "OCI artifact") {
		t.Fatalf("want one line on stderr, got %q", r.stderr)
	}
	if got := d.ok("pull-blob", "data/x", "@a"); got != "zot data" {
		t.Fatalf("pull-blob: %q", got)
	}
	root := makeTree(t, d)
	d.ok("push-blob", "data/x", root, "@tree")
	out := filepath.Join(d.dir, "out")
	d.ok("pull-blob", "--dir", out, "data/x", "@tree")
	if got, _ := os.ReadFile(filepath.Join(out, "sub", "b.txt")); string(got) != "beta\n" {
		t.Fatalf("pulled from zot: %q", got)
	}
	if target, _ := os.Readlink(filepath.Join(out, "link")); target != "sub/b.txt" {
		t.Fatalf("link from zot: %q", target)
	}

	// A copy of a Docker-form alias into zot: written as an OCI artifact
	// of the same blobs, with one line saying so.
	d.ok("push-blob", "oci:./lay", f, "@a")
	r = d.run("copy", "oci:./lay@a", "data/copied")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "sha256:") || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "OCI artifact") {
		t.Fatalf("copy into zot: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := d.ok("pull-blob", "data/copied", "@a"); got != "zot data" {
		t.Fatalf("pull-blob of the copy: %q", got)
	}
}
