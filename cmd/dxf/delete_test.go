package main

import (
	"strings"
	"testing"
)

// TestDelete covers del-blob, del-alias and del-blob @alias.
func TestDelete(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("delete")
	f1, h1 := d.file("blob1", randomBytes(t, 4000))
	f2, h2 := d.file("blob2", randomBytes(t, 5000))
	f3, h3 := d.file("blob3", randomBytes(t, 6000))
	d.ok("push-blob", repo, f1, f2, f3)

	// del-alias prints the blobs and removes that alias only: another
	// naming the same manifest stays (unlike the Python tool, which
	// deleted the manifest by digest); the blobs stay.
	d.ok("set-alias", repo, "hello", h1)
	d.ok("set-alias", repo, "fooey", h1)
	d.ok("set-alias", repo, "there", h1, h2)
	if got := d.ok("del-alias", repo, "hello"); got != lines(h1) {
		t.Fatalf("del-alias hello printed %q", got)
	}
	if got := d.ok("list-aliases", repo); got != lines("fooey", "there") {
		t.Fatalf("after del-alias, list-aliases printed %q, want fooey and there", got)
	}
	if got := d.ok("get-alias", repo, "fooey"); got != lines(h1) {
		t.Fatalf("get-alias fooey printed %q", got)
	}
	if got := d.ok("del-alias", repo, "there"); got != lines(h1, h2) {
		t.Fatalf("del-alias there printed %q", got)
	}
	d.fails(exitNotFound, []string{"get-alias", repo, "there"}, "Not Found")
	d.fails(exitNotFound, []string{"del-alias", repo, "there"}, "Not Found")
	if got := d.ok("blob-size", repo, h1, h2); got != lines("4000", "5000") {
		t.Fatalf("blobs gone after del-alias: %q", got)
	}

	// del-blob of a digest an alias uses is refused, naming the alias.
	d.fails(exitFailure, []string{"del-blob", repo, h1}, "used by an alias", "fooey")
	d.ok("del-alias", repo, "fooey")

	// del-blob of a digest; a second time it is not found.
	if got := d.ok("del-blob", repo, h1); got != "" {
		t.Fatalf("del-blob printed %q", got)
	}
	d.fails(exitNotFound, []string{"blob-size", repo, h1}, "Not Found")
	d.fails(exitNotFound, []string{"del-blob", repo, h1}, "Not Found")

	// del-blob @alias deletes the alias too, then the blobs no other alias
	// uses, saying which it kept and why.
	f4, h4 := d.file("blob4", randomBytes(t, 700))
	d.ok("push-blob", repo, f4)
	d.ok("set-alias", repo, "both", h2, h3, h2, h4)
	d.ok("set-alias", repo, "keep", h3, h2) // another manifest: stays
	d.ok("set-alias", repo, "twin", h2, h3, h2, h4)
	r := d.run("del-blob", repo, "@both")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("del-blob @both: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"dxf: kept " + h2 + ": used by keep, twin\n", "dxf: kept " + h3 + ": used by keep, twin\n", h4 + ": used by twin\n"} {
		if !strings.Contains(r.stderr, want) {
			t.Fatalf("del-blob @both said %q, lacking %q", r.stderr, want)
		}
	}
	d.fails(exitNotFound, []string{"get-alias", repo, "both"}, "Not Found")
	if got := d.ok("blob-size", repo, h2, h3, h4); got != lines("5000", "6000", "700") {
		t.Fatalf("blobs other aliases use went: %q", got)
	}
	d.ok("del-alias", repo, "twin")
	r = d.run("del-blob", "--dry-run", repo, "@keep")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "alias keep\n") || !strings.Contains(r.stdout, h2+" 5000\n") ||
		!strings.Contains(r.stderr, "would delete 1 alias and 3 blobs or manifests") {
		t.Fatalf("del-blob --dry-run @keep: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := d.ok("get-alias", repo, "keep"); got != lines(h3, h2) {
		t.Fatalf("--dry-run deleted: %q", got)
	}

	// --force: the Python tool's behaviour, whoever uses the blobs.
	d.ok("set-alias", repo, "both", h2, h3, h2)
	d.ok("del-blob", "--force", repo, "@both")
	d.fails(exitNotFound, []string{"get-alias", repo, "both"}, "Not Found")
	d.fails(exitNotFound, []string{"blob-size", repo, h2}, "Not Found")
	d.fails(exitNotFound, []string{"blob-size", repo, h3}, "Not Found")
	if got := d.ok("list-aliases", repo); got != lines("keep") {
		t.Fatalf("list-aliases after del-blob @both: %q", got)
	}
	d.fails(exitFailure, []string{"del-blob", repo, "sha512:abc"}, "sha512")
	if got := d.ok("del-alias", repo); got != "" {
		t.Fatalf("del-alias with no alias printed %q", got)
	}
	if strings.TrimSpace(d.ok("list-aliases", repo)) != "keep" {
		t.Fatal("del-alias with no alias deleted something")
	}
}

// TestMountBlob covers mount-blob, with and without @alias, and its
// failures (exit status 1 whatever the cause, as DXFMountFailed was).
func TestMountBlob(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	src, dst := uniqueRepo("mount"), uniqueRepo("mount")
	data := randomBytes(t, 9999)
	f, h := d.file("blob", data)
	f2, h2 := d.file("blob2", randomBytes(t, 100))
	d.ok("push-blob", src, f, f2)

	if got := d.ok("mount-blob", dst, src, h); got != lines(h) {
		t.Fatalf("mount-blob printed %q", got)
	}
	if got := d.ok("pull-blob", dst, h); got != string(data) {
		t.Fatal("pull-blob of the mounted blob: wrong data")
	}
	if got := d.ok("mount-blob", dst, src, h2, "@mounted"); got != lines(h2) {
		t.Fatalf("mount-blob @mounted printed %q", got)
	}
	if got := d.ok("get-alias", dst, "mounted"); got != lines(h2) {
		t.Fatalf("get-alias mounted printed %q", got)
	}
	missing := digestOf([]byte("not there"))
	d.fails(exitFailure, []string{"mount-blob", dst, src, missing}, "mount")
	d.fails(exitFailure, []string{"mount-blob", dst, uniqueRepo("nowhere"), h}, "mount")
}
