package blobstore

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// orasBin returns the pinned oras CLI (installed on first use).
func orasBin(t *testing.T) string {
	t.Helper()
	bin, err := registrytest.Oras(t.Context())
	if err != nil {
		t.Fatalf("installing oras: %v", err)
	}
	return bin
}

func runOras(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), orasBin(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user config
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// regularFiles lists the regular files of a tree with their content
// digests (no modes, links or directories: what oras restores).
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, e := range treeOf(t, dir) {
		if strings.HasSuffix(e, "/") || strings.Contains(e, " -> ") {
			continue
		}
		f := strings.Fields(e)
		out = append(out, f[0]+" "+f[2])
	}
	return out
}

// TestIntegrationOrasPullsDataSet: oras restores the files of a dxf data
// set (OCI form) under their paths.
func TestIntegrationOrasPullsDataSet(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t)
	src := t.TempDir()
	writeTree(t, src, randomBytes(t, 100<<10))
	if _, err := r.PushDir(ctx, src, "v1"); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	runOras(t, out, "pull", "--plain-http", r.String()+":v1", "-o", out)
	if want, got := regularFiles(t, src), regularFiles(t, out); !slices.Equal(want, got) {
		t.Fatalf("oras pull restored:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Files pushed with --format oci are titled with their base names.
	a, b := pushBytes(t, r, []byte("alpha")), pushBytes(t, r, []byte("beta"))
	if _, err := r.SetAliasFiles(ctx, "files", []File{{Path: "alpha.txt", Parts: []Blob{a.Blob()}}, {Path: "beta.txt", Parts: []Blob{b.Blob()}}}, WithFormat(FormatOCI)); err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	runOras(t, out2, "pull", "--plain-http", r.String()+":files", "-o", out2)
	if got, _ := os.ReadFile(filepath.Join(out2, "beta.txt")); string(got) != "beta" {
		t.Fatalf("oras pull of files: beta.txt = %q", got)
	}
}

// TestIntegrationPullDirOfOrasPush: dxf restores what oras pushed: one
// file, several files in directories, and a directory (a tar+gzip layer
// oras marks for unpacking).
func TestIntegrationPullDirOfOrasPush(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t)
	src := t.TempDir()
	for p, data := range map[string]string{"one.txt": "one\n", "sub/two.bin": "two", "tree/x/y.txt": "deep", "tree/z.txt": "z"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runOras(t, src, "push", "--plain-http", r.String()+":single", "one.txt")
	runOras(t, src, "push", "--plain-http", r.String()+":many", "one.txt", "sub/two.bin", "tree")

	dir := t.TempDir()
	if _, err := r.PullDir(ctx, "single", dir); err != nil {
		t.Fatal(err)
	}
	if got := regularFiles(t, dir); !slices.Equal(got, []string{"one.txt " + HashBytes([]byte("one\n")).String()}) {
		t.Fatalf("single: %v", got)
	}
	dir = t.TempDir()
	res, err := r.PullDir(ctx, "many", dir)
	if err != nil {
		t.Fatal(err)
	}
	if want, got := regularFiles(t, src), regularFiles(t, dir); !slices.Equal(want, got) {
		t.Fatalf("many:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Files) != 3 || !res.Files[2].Unpack || res.Files[2].UnpackDigest == "" {
		t.Fatalf("entries: %+v", res.Files)
	}
	_, files, err := r.ListFiles(ctx, "many", WithInclude("two.bin"))
	if err != nil || len(files) != 1 || files[0].Path != "sub/two.bin" {
		t.Fatalf("ListFiles --include two.bin: %+v, %v", files, err)
	}
}
