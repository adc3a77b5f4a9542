package blobstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestIntegrationOutsideLinks: a symbolic link whose target is absolute or
// leaves the tree is pushed as an entry, its target kept as text, never
// followed (told once per link); a pull refuses it before writing anything
// unless WithOutsideLinks, which makes it as it is; and nothing, then or
// later, is written through it.
func TestIntegrationOutsideLinks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t)
	top := t.TempDir()
	src, outside := filepath.Join(top, "src"), filepath.Join(top, "outside")
	for _, d := range []string{filepath.Join(src, "a"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "a", "f"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"a/up": "../../outside", "abs": outside, "a/in": "f"}
	for p, target := range links {
		if err := os.Symlink(target, filepath.Join(src, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	var notes []string
	res, err := r.PushDir(ctx, src, "links", WithFormatNotice(func(msg string) { notes = append(notes, msg) }))
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || !strings.Contains(strings.Join(notes, "\n"), `"abs" -> "`+outside+`"`) || !strings.Contains(strings.Join(notes, "\n"), `"a/up" -> "../../outside"`) {
		t.Fatalf("notices: %q", notes)
	}
	got := map[string]string{}
	for _, f := range res.Files {
		if f.Kind == KindSymlink {
			got[f.Path] = f.Target
		}
	}
	if len(got) != 3 || got["abs"] != outside || got["a/up"] != "../../outside" || got["a/in"] != "f" {
		t.Fatalf("links recorded: %v", got)
	}

	// By default the pull is refused, naming a link, before anything is
	// written.
	dst := filepath.Join(t.TempDir(), "dst")
	_, err = r.PullDir(ctx, "links", dst)
	if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), `"a/up"`) {
		t.Fatalf("PullDir = %v, want ErrUnsafePath naming a/up", err)
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the directory was made before the refusal: %v", err)
	}

	// Asked to, it makes them as they were.
	if _, err := r.PullDir(ctx, "links", dst, WithOutsideLinks(true)); err != nil {
		t.Fatal(err)
	}
	if want, got := treeOf(t, src), treeOf(t, dst); !slices.Equal(want, got) {
		t.Fatalf("pulled:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A later data set writing through those links is refused, and
	// nothing reaches the outside.
	x := pushBytes(t, r, []byte("x")).Blob()
	for _, p := range []string{"abs/secret", "a/up/new"} {
		if _, err := r.SetAliasFiles(ctx, "through", []File{{Path: p, Parts: []Blob{x}, Digest: x.Digest, Size: 1}}, WithFormat(FormatOCI)); err != nil {
			t.Fatal(err)
		}
		_, err := r.PullDir(ctx, "through", dst, WithOutsideLinks(true))
		if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), `"`+p+`"`) {
			t.Fatalf("PullDir through %s = %v, want ErrUnsafePath naming it", p, err)
		}
	}
	if got := treeOf(t, outside); len(got) != 1 || !strings.HasPrefix(got[0], "secret 0600 "+HashBytes([]byte("secret")).String()) {
		t.Fatalf("outside: %v", got)
	}
}
