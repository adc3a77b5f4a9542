package main

// The registry matrix for the CLI: the same commands against every target
// of pkg/registrytest/matrix, expecting success or the specific message
// (and exit status) dxf gives for what the registry does not support.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest/matrix"
)

// newMatrixDXF returns a runner for a matrix target, with its CA and
// credentials.
func newMatrixDXF(t *testing.T, s *matrix.Server) *dxf {
	t.Helper()
	d := newDXFAt(t, s.Host, !s.Insecure)
	if s.CAFile != "" {
		d.env["DXF_TLSVERIFY"] = s.CAFile
	}
	if s.Username != "" {
		d.env["DXF_USERNAME"] = s.Username
		d.env["DXF_PASSWORD"] = s.Password
	}
	return d
}

// unsupported runs dxf for an operation the target may not support: it
// must succeed where the target supports op, and otherwise fail with
// status code and the target's message. It reports whether it worked.
func unsupported(t *testing.T, d *dxf, tg *matrix.Target, op matrix.Op, code int, args ...string) (string, bool) {
	t.Helper()
	msg, no := tg.Unsupported[op]
	if !no {
		return d.ok(args...), true
	}
	r := d.fails(code, args, msg)
	t.Logf("%s on %s, as expected: %s", op, tg.Name, strings.TrimSpace(r.stderr))
	return "", false
}

func TestMatrixCLI(t *testing.T) {
	t.Parallel()
	for _, tg := range matrix.Targets() {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			s := matrix.Get(t, tg)
			d := newMatrixDXF(t, s)
			repo := "cli/matrix"

			// push-blob: several files and an alias, then standard input.
			one, h1 := d.file("one", randomBytes(t, 70<<10))
			two, h2 := d.file("two", randomBytes(t, 1234))
			if got := d.ok("push-blob", repo, one, two, "@both"); got != lines(h1, h2) {
				t.Fatalf("push-blob printed %q", got)
			}
			stdin := randomBytes(t, 50<<10)
			h3 := digestOf(stdin)
			if got := d.okIn(string(stdin), "push-blob", repo, "-", "@stdin"); got != lines(h3) {
				t.Fatalf("push-blob - printed %q", got)
			}
			// Aliases, sizes, listing.
			if got := d.ok("get-alias", repo, "both"); got != lines(h1, h2) {
				t.Fatalf("get-alias printed %q", got)
			}
			if got := d.ok("blob-size", repo, h2, "@both"); got != lines("1234", "72914") {
				t.Fatalf("blob-size printed %q", got)
			}
			if got := sortedLines(d.ok("list-aliases", repo)); got != lines("both", "stdin") {
				t.Fatalf("list-aliases printed %q", got)
			}
			// pull-blob into a pipe and into a file.
			want, _ := os.ReadFile(filepath.Join(d.dir, one))
			w2, _ := os.ReadFile(filepath.Join(d.dir, two))
			want = append(want, w2...)
			if got := d.ok("pull-blob", repo, "@both"); got != string(want) {
				t.Fatal("pull-blob @both: wrong data")
			}
			out := filepath.Join(d.dir, "out")
			d.ok("pull-blob", "--output", out, repo, "@both", h3)
			if got, err := os.ReadFile(out); err != nil || string(got) != string(want)+string(stdin) {
				t.Fatalf("pull-blob --output: %v", err)
			}
			// mount-blob.
			if got, ok := unsupported(t, d, tg, matrix.OpMount, exitFailure, "mount-blob", "cli/matrix-mounted", repo, h2); ok && got != lines(h2) {
				t.Fatalf("mount-blob printed %q", got)
			}
			// list-repos.
			if got, ok := unsupported(t, d, tg, matrix.OpCatalog, exitNotFound, "list-repos"); ok && !slices.Contains(strings.Fields(got), repo) {
				t.Fatalf("list-repos printed %q", got)
			}
			// del-alias, then del-blob.
			if got, ok := unsupported(t, d, tg, matrix.OpDeleteManifest, exitFailure, "del-alias", repo, "stdin"); ok {
				if got != lines(h3) {
					t.Fatalf("del-alias printed %q", got)
				}
				d.fails(exitNotFound, []string{"get-alias", repo, "stdin"}, "not found")
			}
			if _, ok := unsupported(t, d, tg, matrix.OpDeleteBlob, exitFailure, "del-blob", "--force", repo, h3); ok {
				d.fails(exitNotFound, []string{"blob-size", repo, h3}, "not found")
			}
			// auth prints a token where the registry issues them.
			if tg.Caps.Token {
				if tok := d.ok("auth", repo, "pull"); strings.Count(tok, ".") != 2 {
					t.Fatalf("auth printed %q", tok)
				}
			}
		})
	}
}

// sortedLines sorts the lines of s (registries list in their own order).
func sortedLines(s string) string {
	l := strings.Fields(s)
	slices.Sort(l)
	return lines(l...)
}
