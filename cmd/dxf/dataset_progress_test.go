package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDirectoryProgress pushes and pulls a directory of 24 files with the
// progress on a pseudo-terminal and standard output in a file: a bar per
// file, named after its path, and the overall bar, on the terminal; on
// standard output only the digest push-blob prints (nothing for pull-blob
// --dir). With --progress into a pipe, the bars go to standard error only.
func TestDirectoryProgress(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared).with("DXF_DIGEST_CACHE", "0")
	repo := uniqueRepo("dirprogress")
	root := filepath.Join(d.dir, "tree")
	const nfiles = 24
	for i := range nfiles {
		p := filepath.Join(root, fmt.Sprintf("part%d", i%3), fmt.Sprintf("day%02d.dat", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, randomBytes(t, 512<<10+i*4096), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout := func(name string) *os.File {
		f, err := os.Create(filepath.Join(d.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	read := func(f *os.File) string {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	pushOut := stdout("push.out")
	push := d.runPTY(30, 120, pushOut, nil, "push-blob", "--jobs", "4", repo, root, "@v1")
	checkTerminal(t, "push-blob DIR", push, 30, 120, nil, nfiles, "files")
	if !strings.Contains(string(push.out), "part1/day01.dat") {
		t.Errorf("push-blob DIR: no bar named after a file's path:\n%q", push.out)
	}
	if out := read(pushOut); !strings.HasPrefix(out, "sha256:") || strings.Count(out, "\n") != 1 {
		t.Errorf("push-blob DIR: standard output %q, want the manifest's digest alone", out)
	}

	pullOut := stdout("pull.out")
	pull := d.runPTY(30, 120, pullOut, nil, "pull-blob", "--jobs", "4", "--dir", filepath.Join(d.dir, "out"), repo, "@v1")
	checkTerminal(t, "pull-blob --dir", pull, 30, 120, nil, nfiles, "files")
	if out := read(pullOut); out != "" {
		t.Errorf("pull-blob --dir: standard output %q, want nothing", out)
	}
	if !strings.Contains(string(pull.out), "part2/day02.dat") {
		t.Errorf("pull-blob --dir: no bar named after a file's path:\n%q", pull.out)
	}
	got, err := os.ReadFile(filepath.Join(d.dir, "out", "part2", "day05.dat"))
	want, _ := os.ReadFile(filepath.Join(root, "part2", "day05.dat"))
	if err != nil || string(got) != string(want) {
		t.Fatalf("pulled part2/day05.dat: %d bytes, %v", len(got), err)
	}

	// Into pipes: the bars (--progress) on standard error only.
	r := d.run("pull-blob", "--progress", "--dir", filepath.Join(d.dir, "out2"), repo, "@v1")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "part0/day00.dat") {
		t.Fatalf("pull-blob --progress --dir: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = d.run("push-blob", "--progress", repo+"/again", root, "@v1")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "sha256:") || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stderr, "part0/day00.dat") {
		t.Fatalf("push-blob --progress DIR: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestDirectoryOutsideLinks: a symbolic link leaving the tree is pushed as
// it is, with one line on standard error; pull-blob --dir refuses it
// (exit 1, naming it) unless --outside-links, which makes it.
func TestDirectoryOutsideLinks(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("dirlinks")
	root := filepath.Join(d.dir, "tree")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "f"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(root, "host")); err != nil {
		t.Fatal(err)
	}
	r := d.run("push-blob", repo, root, "@v1")
	if r.code != 0 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, `"host" -> "/etc/hostname"`) {
		t.Fatalf("push-blob: exit %d, stderr %q", r.code, r.stderr)
	}
	out := filepath.Join(d.dir, "out")
	d.fails(exitFailure, []string{"pull-blob", "--dir", out, repo, "@v1"}, `"host"`, "--outside-links")
	if _, err := os.Lstat(out); !os.IsNotExist(err) {
		t.Fatalf("the refused pull made the directory: %v", err)
	}
	d.ok("pull-blob", "--dir", out, "--outside-links", repo, "@v1")
	if target, err := os.Readlink(filepath.Join(out, "host")); err != nil || target != "/etc/hostname" {
		t.Fatalf("link: %q, %v", target, err)
	}
}
