package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// sentThere matches the note of a split re-push of 2 MiB with one small
// change: some KiB sent, the rest (1.5 to 2.0 MiB) already there.
var sentThere = regexp.MustCompile(`\b\d+ KiB sent, (1\.[5-9]|2\.0) MiB already there\b`)

// TestSplitProgressSentAndThere: the progress of a --split re-push of a
// changed file says how much was sent and how much found already there,
// not the whole file as transferred: in the Python-style lines into a pipe
// (the last one too), and on a terminal at 120x30 and 60x20, where the
// final line stays on screen above the printed digests.
func TestSplitProgressSentAndThere(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared).with("DXF_DIGEST_CACHE", "0")
	repo := uniqueRepo("splitprogress")
	data := randomBytes(t, 2<<20)
	f, _ := d.file("disk.img", data)
	d.ok("push-blob", "--split=64K", repo, f)

	// Each push changes another 4 KiB: a chunk or two are new.
	change := func(i int) {
		copy(data[(i+1)*300<<10:], randomBytes(t, 4096))
		d.file("disk.img", data)
	}
	change(0)
	r := d.with("DXF_PROGRESS", "1").run("push-blob", "--split=64K", repo, f)
	if r.code != 0 {
		t.Fatalf("push-blob --split: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	t.Logf("last progress line: %q", lines[len(lines)-1])
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "disk.img: 100%") || !sentThere.MatchString(last) {
		t.Errorf("the last progress line of a split re-push is %q, want what was sent and found there", last)
	}

	for i, size := range []struct{ rows, cols int }{{30, 120}, {20, 60}} {
		t.Run(fmt.Sprintf("%dx%d", size.cols, size.rows), func(t *testing.T) {
			change(i + 1)
			r := d.runPTY(size.rows, size.cols, nil, nil, "push-blob", "--split=64K", repo, f)
			s := render(r, size.rows, size.cols, nil)
			if r.code != 0 {
				t.Fatalf("exit %d; terminal:\n%s", r.code, s.text())
			}
			var final string
			for _, l := range s.logical() {
				if strings.HasPrefix(l, "disk.img") {
					final = l
				}
			}
			t.Logf("final progress line: %q", final)
			if !sentThere.MatchString(final) || !strings.Contains(final, "100%") || len(final) >= size.cols {
				t.Errorf("the final progress line is %q, want what was sent and found there within %d columns; terminal:\n%s", final, size.cols, s.text())
			}
		})
	}
}
