package main

import (
	"fmt"
	"strings"
	"testing"
)

// logical is the screen's text as the lines that were written: rows the
// terminal wrapped at its width joined again, trailing blanks dropped.
func (s *screen) logical() []string {
	var out []string
	var cur strings.Builder
	for i, l := range s.lines {
		text := string(l)
		if s.wrapped[i] {
			// A wrapped row is full: pad it to the width it was cut at.
			text += strings.Repeat(" ", max(0, s.cols-len(l)))
			cur.WriteString(text)
			continue
		}
		cur.WriteString(strings.TrimRight(text, " "))
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// TestPrintedDigestsStay pushes files (and chunks, and pulls with
// --blob-info) with standard output and error on the same terminal, at
// two window sizes, and checks that every printed digest is on the final
// screen (or in its scrollback) as a whole line of its own: the progress
// display must never draw over what the command printed.
func TestPrintedDigestsStay(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared).with("DXF_DIGEST_CACHE", "0")
	repo := uniqueRepo("ptydigests")
	var files, digests []string
	for i := range 64 {
		size := 64<<10 + i*1024
		if i < 2 {
			size = 2 << 20
		}
		f, h := d.file(fmt.Sprintf("f%02d.dat", i), randomBytes(t, size))
		files, digests = append(files, f), append(digests, h)
	}
	for _, size := range []struct{ rows, cols int }{{30, 120}, {20, 60}} {
		for _, n := range []int{2, 64} {
			name := fmt.Sprintf("%dx%d/%d", size.cols, size.rows, n)
			t.Run(name, func(t *testing.T) {
				// A repository of its own: every file is sent (none found there).
				args := append(append([]string{"push-blob", "--jobs", "4", fmt.Sprintf("%s/p%d-%d", repo, size.cols, n)}, files[:n]...), "@a")
				r := d.runPTY(size.rows, size.cols, nil, nil, args...)
				checkDigestsShown(t, r, size.rows, size.cols, digests[:n])
			})
		}
		t.Run(fmt.Sprintf("%dx%d/split", size.cols, size.rows), func(t *testing.T) {
			out := d.ok("push-blob", "--split=64K", repo+"/split", files[0])
			chunks := strings.Fields(out)
			// A new repository each time: the chunks are sent again.
			r := d.runPTY(size.rows, size.cols, nil, nil, "push-blob", "--split=64K",
				fmt.Sprintf("%s/split%d", repo, size.cols), files[0], files[1])
			want := append(chunks, strings.Fields(d.ok("push-blob", "--split=64K", repo+"/split", files[1]))...)
			checkDigestsShown(t, r, size.rows, size.cols, want)
		})
		t.Run(fmt.Sprintf("%dx%d/pull", size.cols, size.rows), func(t *testing.T) {
			alias := fmt.Sprintf("@text%d", size.cols)
			var text []string
			for i := range 3 {
				// Lines of text ending in a newline, so that the data
				// itself leaves whole lines on screen.
				f, _ := d.file(fmt.Sprintf("t%d-%d.txt", size.cols, i), []byte(strings.Repeat(fmt.Sprintf("line %d\n", i), 4<<10)))
				text = append(text, f)
			}
			out := d.ok(append(append([]string{"push-blob", repo}, text...), alias)...)
			r := d.runPTY(size.rows, size.cols, nil, nil, "pull-blob", "--progress", "--blob-info", "-o", "-", repo, alias)
			checkDigestsShown(t, r, size.rows, size.cols, strings.Fields(out))
		})
	}
}

// checkDigestsShown checks that the run succeeded and that each digest is
// on a line of the final screen, starting it, whole.
func checkDigestsShown(t *testing.T, r ptyRun, rows, cols int, digests []string) {
	t.Helper()
	s := render(r, rows, cols, nil)
	if r.code != 0 {
		t.Fatalf("exit %d; terminal:\n%s", r.code, s.text())
	}
	shown := map[string]bool{}
	for _, l := range s.logical() {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(l, f[0]) {
			shown[f[0]] = true
		}
	}
	missing := 0
	for i, dg := range digests {
		if !shown[dg] {
			missing++
			t.Errorf("digest %d of %d, %s, is not on the screen, whole", i+1, len(digests), dg)
		}
	}
	if missing > 0 {
		t.Logf("terminal %dx%d:\n%s", cols, rows, s.text())
	}
}
