package main

import (
	"strings"
	"testing"
)

// TestPushSplit: push-blob --split prints one digest per chunk, in order;
// the alias names the chunks; pull-blob @alias gives the files back; a
// second push of the same files prints the same digests.
func TestPushSplit(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("split")
	a := randomBytes(t, 700<<10)
	b := randomBytes(t, 100<<10)
	fa, _ := d.file("a.bin", a)
	fb, _ := d.file("b.bin", b)
	out := d.ok("push-blob", "--split=64K", repo, fa, fb, "@both")
	digests := strings.Fields(out)
	if len(digests) < 5 {
		t.Fatalf("push-blob --split printed %d digests:\n%s", len(digests), out)
	}
	if got := d.ok("get-alias", repo, "both"); got != out {
		t.Fatalf("get-alias printed\n%s\nwant the pushed chunks\n%s", got, out)
	}
	if got := d.ok("pull-blob", repo, "@both"); got != string(a)+string(b) {
		t.Fatalf("pull-blob @both: %d bytes, want %d", len(got), len(a)+len(b))
	}
	if again := d.ok("push-blob", "--split=64K", repo, fa, fb); again != out {
		t.Fatal("a second split push printed other digests")
	}
	// Standard input too, and --split alone (the default average: one chunk here).
	if got := d.okIn(string(b), "push-blob", "--split", repo, "-"); got != digestOf(b)+"\n" {
		t.Fatalf("push-blob --split - printed %q", got)
	}
}

func TestPushSplitUsage(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	f, _ := d.file("x", []byte("x"))
	d.fails(exitUsage, []string{"push-blob", "--split=3M", "r", f}, "--split", "power of two")
	d.fails(exitUsage, []string{"push-blob", "--split=lots", "r", f}, "--split", "not a size")
	d.fails(exitFailure, []string{"push-blob", "--split=1K", "r", f}, "average chunk size")
}

// TestPullRange: pull-blob --range writes bytes START-END of an alias's
// concatenation (or of one blob), verified.
func TestPullRange(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("range")
	data := randomBytes(t, 900<<10)
	f, dgst := d.file("data.bin", data)
	d.ok("push-blob", "--split=64K", repo, f, "@v")
	if got := d.ok("pull-blob", "--range", "100000-400000", repo, "@v"); got != string(data[100000:400001]) {
		t.Fatalf("--range 100000-400000: %d bytes", len(got))
	}
	if got := d.ok("pull-blob", "--range=800000-", repo, "@v"); got != string(data[800000:]) {
		t.Fatalf("--range 800000-: %d bytes", len(got))
	}
	d.ok("push-blob", repo, f)
	if got := d.ok("pull-blob", "--range=5-9", repo, dgst); got != string(data[5:10]) {
		t.Fatalf("--range 5-9 of a blob: %q", got)
	}
	d.fails(exitUsage, []string{"pull-blob", "--range=9-5", repo, "@v"}, "--range", "before")
	d.fails(exitUsage, []string{"pull-blob", "--range=x", repo, "@v"}, "--range")
	d.fails(exitFailure, []string{"pull-blob", "--range=2000000-", repo, "@v"}, "only 921600 bytes")
}
