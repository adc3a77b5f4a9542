package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckAndPrune covers check (exit status, lines, --json, --deep),
// del-alias --prune, prune on a registry, and flags given to the wrong
// command.
func TestCheckAndPrune(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("check")
	f1, h1 := d.file("one", randomBytes(t, 3000))
	f2, h2 := d.file("two", randomBytes(t, 2000))
	f3, h3 := d.file("three", randomBytes(t, 1000))
	d.ok("push-blob", repo, f1, f2, f3)
	d.ok("set-alias", repo, "a", h1, h2)
	d.ok("set-alias", repo, "b", h2, h3)

	if got := d.ok("check", repo); got != "checked 2 aliases, 2 manifests, 3 blobs (5.9KiB, shallow): 0 problems\n" {
		t.Fatalf("check printed %q", got)
	}
	if got := d.ok("check", "--deep", repo, "a"); !strings.HasSuffix(got, "(4.9KiB, deep): 0 problems\n") {
		t.Fatalf("check --deep a printed %q", got)
	}
	r := d.run("check", "--deep", "--progress=1", repo, "a")
	if r.code != 0 || !strings.HasSuffix(r.stdout, ": 0 problems\n") || !strings.Contains(r.stderr, "sha256:") {
		t.Fatalf("check --deep --progress: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// h3's bytes go from the registry's disk: b is damaged, a is not.
	hex := strings.TrimPrefix(h3, "sha256:")
	if err := os.Remove(filepath.Join(shared.RootDir, "docker/registry/v2/blobs/sha256", hex[:2], hex, "data")); err != nil {
		t.Fatal(err)
	}
	r = d.run("check", repo)
	if r.code != exitProblems || r.stderr != "dxf: check: 1 problem found\n" {
		t.Fatalf("check of damage: exit %d, stderr %q", r.code, r.stderr)
	}
	if want := "b " + h3 + " blob-missing: the blob is not in the store\nchecked 2 aliases"; !strings.HasPrefix(r.stdout, want) {
		t.Fatalf("check printed %q, want it to start %q", r.stdout, want)
	}
	r = d.run("check", "--json", repo)
	var out struct {
		OK       bool
		Problems []struct{ Alias, Digest, Problem string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != exitProblems || out.OK ||
		len(out.Problems) != 1 || out.Problems[0].Alias != "b" || out.Problems[0].Digest != h3 || out.Problems[0].Problem != "blob-missing" {
		t.Fatalf("check --json: exit %d, %q (%v)", r.code, r.stdout, err)
	}
	d.ok("check", repo, "a")

	// del-alias --prune b: h3 (already gone) and b's manifest go, h2 stays
	// for a.
	r = d.run("del-alias", "--prune", repo, "b")
	if r.code != 0 || r.stdout != lines(h2, h3) || !strings.Contains(r.stderr, "dxf: kept "+h2+": used by a\n") ||
		!strings.Contains(r.stderr, "dxf: pruned 2 blobs or manifests") {
		t.Fatalf("del-alias --prune: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := d.ok("blob-size", repo, h2); got != lines("2000") {
		t.Fatalf("a's blob: %q", got)
	}
	r = d.run("del-alias", "--prune", "--dry-run", repo, "a")
	if r.code != 0 || !strings.Contains(r.stdout, h1+" 3000\n") || !strings.Contains(r.stdout, h2+" 2000\n") ||
		!strings.Contains(r.stderr, "would delete 1 alias and 3 blobs or manifests") {
		t.Fatalf("del-alias --prune --dry-run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	d.ok("check", repo)

	d.fails(exitFailure, []string{"prune", repo}, "cannot list", "del-alias --prune")
	d.fails(exitUsage, []string{"get-alias", "--force", repo, "a"}, "--force does not apply to get-alias")
	d.fails(exitUsage, []string{"check", "--prune", repo}, "--prune does not apply to check")
}

// TestLayoutCheckPrune: check, del-alias --prune and prune on an OCI image
// layout (prune lists the layout's blobs; young ones are kept).
func TestLayoutCheckPrune(t *testing.T) {
	t.Parallel()
	d := layoutDXF(t)
	repo := "oci:./data/safe"
	f1, h1 := d.file("one", randomBytes(t, 3000))
	f2, h2 := d.file("two", randomBytes(t, 2000))
	f3, h3 := d.file("three", randomBytes(t, 1000))
	d.ok("push-blob", repo, f1, f2, "@a")
	d.ok("push-blob", repo, f2, f3, "@b")
	d.ok("set-alias", repo, "a-copy", h1, h2)
	if got := d.ok("check", "--deep", repo); !strings.HasSuffix(got, "3 blobs (5.9KiB, deep): 0 problems\n") {
		t.Fatalf("check printed %q", got)
	}
	// a goes, a-copy (same manifest) stays.
	if got := d.ok("del-alias", repo, "a"); got != lines(h1, h2) {
		t.Fatalf("del-alias printed %q", got)
	}
	if got := d.ok("list-aliases", repo); got != lines("a-copy", "b") {
		t.Fatalf("aliases %q", got)
	}
	// --prune b: h3 and b's manifest go; h2 stays for a-copy.
	r := d.run("del-alias", "--prune", repo, "b")
	if r.code != 0 || !strings.Contains(r.stderr, "kept "+h2+": used by a-copy") || !strings.Contains(r.stderr, "pruned 2 blobs or manifests") {
		t.Fatalf("del-alias --prune: exit %d, stderr %q", r.code, r.stderr)
	}
	d.fails(exitNotFound, []string{"blob-size", repo, h3}, "not found")
	// An orphan blob: prune keeps it while young, deletes it once old.
	f4, h4 := d.file("four", randomBytes(t, 700))
	d.ok("push-blob", repo, f4)
	r = d.run("prune", "--dry-run", repo)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "would delete 0 aliases and 0 blobs") {
		t.Fatalf("prune --dry-run of a young orphan: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(d.dir, "data/safe/blobs/sha256", strings.TrimPrefix(h4, "sha256:")), old, old); err != nil {
		t.Fatal(err)
	}
	r = d.run("prune", repo)
	if r.code != 0 || !strings.Contains(r.stderr, "pruned 1 blob or manifest") {
		t.Fatalf("prune: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	d.fails(exitNotFound, []string{"blob-size", repo, h4}, "not found")
	if got := d.ok("blob-size", repo, h1, h2); got != lines("3000", "2000") {
		t.Fatalf("a-copy's blobs after prune: %q", got)
	}
	d.ok("check", "--deep", repo)
}
