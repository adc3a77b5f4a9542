package blobstore

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

func TestCheckPath(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"a", "a/b", "dir/file.bin", "名前/ファイル", "a b/c-d_e.f", ".hidden/x", "..a/b.."} {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"", "../x", "/etc/x", "a/../../x", "a/..", "..", ".", "./a", "a//b", "a/", "a\x00b", "a\nb", "a\x1bb", "a\x7fb",
		"a\\..\\x", "\xff", strings.Repeat("a", 256), strings.Repeat("a/", 2100) + "a"} {
		err := CheckPath(p)
		if !errors.Is(err, ErrUnsafePath) {
			t.Errorf("CheckPath(%q) = %v, want ErrUnsafePath", p, err)
		}
	}
}

func TestCheckLinkTarget(t *testing.T) {
	t.Parallel()
	ok := [][2]string{{"l", "a"}, {"d/l", "../a"}, {"d/e/l", "../../a"}, {"l", "./a/b"}}
	for _, c := range ok {
		if err := checkLinkTarget(c[0], c[1]); err != nil {
			t.Errorf("checkLinkTarget(%q, %q) = %v", c[0], c[1], err)
		}
	}
	bad := [][2]string{{"l", "../a"}, {"l", "/etc/passwd"}, {"d/l", "../../a"}, {"l", "a/../../b"}, {"l", ""}, {"l", "a\x00"}}
	for _, c := range bad {
		if err := checkLinkTarget(c[0], c[1]); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("checkLinkTarget(%q, %q) = %v, want ErrUnsafePath", c[0], c[1], err)
		}
	}
}

// FuzzCheckPath: a path CheckPath accepts is local, clean, and joined to a
// directory stays under it.
func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", "/etc/x", "a/../../x", "a\x00", "a//b", "./a", "C:\\x", "a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckPath(p) != nil {
			return
		}
		if !filepath.IsLocal(p) || path.Clean(p) != p || strings.ContainsAny(p, "\x00\n\r\\") {
			t.Fatalf("CheckPath accepted %q", p)
		}
		j := filepath.Join("/top", p)
		if !strings.HasPrefix(j, "/top/") {
			t.Fatalf("CheckPath accepted %q, which joins to %q", p, j)
		}
	})
}

func TestArtifactManifestRoundTrip(t *testing.T) {
	t.Parallel()
	b := func(s string) Blob { return Blob{Digest: HashBytes([]byte(s)), Size: int64(len(s))} }
	files := []File{
		{Path: "a.txt", Mode: 0o644, Size: 1, Digest: b("a").Digest, Parts: []Blob{b("a")}},
		{Path: "d/big", Mode: 0o755, Size: 6, Digest: b("xxxyyy").Digest, Parts: []Blob{b("xxx"), b("yyy")}},
		{Path: "d/link", Kind: KindSymlink, Target: "big"},
		{Path: "empty", Kind: KindDir},
	}
	raw, err := MakeArtifactManifest(files)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != ArtifactTypeData || m.ConfigMediaType != MediaTypeEmptyJSON || m.Config != emptyJSONBlob {
		t.Fatalf("manifest %s", raw)
	}
	if m.LayerInfo[0].Annotations[AnnotationTitle] != "a.txt" || m.LayerInfo[0].Annotations[AnnotationMode] != "0644" {
		t.Fatalf("layer 0: %v", m.LayerInfo[0])
	}
	got, err := Files(m, "alias")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(files) {
		t.Fatalf("Files:\n%v\nwant\n%v", got, files)
	}
	again, _ := MakeArtifactManifest(files)
	if !bytes.Equal(raw, again) {
		t.Fatal("the same files made two manifests")
	}
	// The Docker form is unnamed: one file, named after the alias.
	docker, _ := MakeManifest(b("xxx"), b("yyy"))
	dm, _ := ParseManifest(docker, "")
	got, err = Files(dm, "myalias")
	if err != nil || len(got) != 1 || got[0].Path != "myalias" || got[0].Size != 6 || len(got[0].Parts) != 2 {
		t.Fatalf("Files(docker) = %v, %v", got, err)
	}
}

func TestFilesRefusesHostileManifests(t *testing.T) {
	t.Parallel()
	blob := Blob{Digest: HashBytes([]byte("x")), Size: 1}
	layer := func(title string) string {
		j, _ := json.Marshal(title)
		return fmt.Sprintf(`{"mediaType":"application/octet-stream","digest":%q,"size":1,"annotations":{"org.opencontainers.image.title":%s}}`, blob.Digest, j)
	}
	man := func(layers ...string) []byte {
		return []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` +
			emptyJSONBlob.Digest.String() + `","size":2},"layers":[` + strings.Join(layers, ",") + `]}`)
	}
	for _, c := range []struct{ name, entry string }{
		{"dotdot", "../x"}, {"absolute", "/etc/x"}, {"inner-dotdot", "a/../../x"}, {"nul", "a\x00b"}, {"control", "a\x1b[2Jb"},
	} {
		m, err := ParseManifest(man(layer(c.entry)), "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = Files(m, "a")
		if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), fmt.Sprintf("%q", c.entry)) {
			t.Errorf("%s: Files = %v, want ErrUnsafePath naming %q", c.name, err, c.entry)
		}
	}
	m, _ := ParseManifest(man(layer("same"), layer("same")), "")
	if _, err := Files(m, "a"); !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
	many := &Manifest{MediaType: MediaTypeOCIManifest, Layers: make([]Blob, MaxEntries+1)}
	if _, err := Files(many, "a"); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("%d layers: %v", MaxEntries+1, err)
	}
}

// writeTree makes the test tree: nested files, two identical files, a
// symbolic link, an empty directory and a file big enough to split.
func writeTree(t *testing.T, dir string, big []byte) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "empty", "deeper"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "top.txt"), []byte("top\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a", "same1"), []byte("same content"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "same2"), []byte("same content"), 0o600))
	must(os.WriteFile(filepath.Join(dir, "a", "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "big.bin"), big, 0o644))
	must(os.Symlink("../top.txt", filepath.Join(dir, "a", "link")))
}

// treeOf describes a tree: each entry's path, kind, mode and content (or
// target).
func treeOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case rel == ".":
		case d.IsDir():
			out = append(out, rel+"/")
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out = append(out, rel+" -> "+target)
		default:
			d, err := hashFile(t.Context(), p)
			if err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s %04o %s", rel, info.Mode().Perm(), d))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIntegrationDataSetPushPullSync(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t, WithDigestCache(t.TempDir()))
	src := t.TempDir()
	writeTree(t, src, randomBytes(t, 3<<20))
	opts := []TransferOption{WithSplitThreshold(1 << 20), WithSplitAverage(256 << 10)}
	res, err := r.PushDir(ctx, src, "tree", opts...)
	if err != nil {
		t.Fatal(err)
	}
	// Five regular files, two of them identical: four blobs, the big one
	// in several chunks.
	var big File
	for _, f := range res.Files {
		if f.Path == "a/b/big.bin" {
			big = f
		}
	}
	if len(big.Parts) < 2 || big.Size != 3<<20 {
		t.Fatalf("big.bin: %d parts, %d bytes", len(big.Parts), big.Size)
	}
	if res.Transferred != 3+len(big.Parts) || res.Kept != 1 {
		t.Fatalf("first push: %d sent, %d kept", res.Transferred, res.Kept)
	}
	m, err := r.GetManifest(ctx, "tree")
	if err != nil || m.MediaType != MediaTypeOCIManifest || m.ArtifactType != ArtifactTypeData {
		t.Fatalf("manifest %v %v", m, err)
	}
	dst := filepath.Join(t.TempDir(), "out")
	pres, err := r.PullDir(ctx, "tree", dst)
	if err != nil {
		t.Fatal(err)
	}
	if want, got := treeOf(t, src), treeOf(t, dst); !slices.Equal(want, got) {
		t.Fatalf("pulled tree differs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if pres.Transferred != 5 {
		t.Fatalf("first pull fetched %d files", pres.Transferred)
	}

	// Nothing changed: nothing sent, and the same manifest.
	res2, err := r.PushDir(ctx, src, "tree", opts...)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Transferred != 0 || res2.Manifest.Digest != res.Manifest.Digest {
		t.Fatalf("unchanged re-push sent %d blobs, manifest %s then %s", res2.Transferred, res.Manifest.Digest, res2.Manifest.Digest)
	}
	// One file changed, one removed: one blob sent; the pull into the old
	// copy fetches one file and, with WithDelete, removes the other.
	if err := os.WriteFile(filepath.Join(src, "top.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, "a", "run.sh")); err != nil {
		t.Fatal(err)
	}
	res3, err := r.PushDir(ctx, src, "tree", opts...)
	if err != nil {
		t.Fatal(err)
	}
	if res3.Transferred != 1 {
		t.Fatalf("one changed file: %d blobs sent", res3.Transferred)
	}
	pres, err = r.PullDir(ctx, "tree", dst, WithDelete(true))
	if err != nil {
		t.Fatal(err)
	}
	if pres.Transferred != 1 || !slices.Equal(pres.Deleted, []string{"a/run.sh"}) {
		t.Fatalf("sync pull fetched %d, deleted %v", pres.Transferred, pres.Deleted)
	}
	if want, got := treeOf(t, src), treeOf(t, dst); !slices.Equal(want, got) {
		t.Fatalf("synced tree differs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A damaged local file is fetched again; --include pulls only some.
	if err := os.WriteFile(filepath.Join(dst, "a", "same1"), []byte("same contenX"), 0o644); err != nil {
		t.Fatal(err)
	}
	only := filepath.Join(t.TempDir(), "only")
	if _, err := r.PullDir(ctx, "tree", only, WithInclude("same*")); err != nil {
		t.Fatal(err)
	}
	if got := treeOf(t, only); len(got) != 4 { // a/, a/b/, a/same1, a/b/same2
		t.Fatalf("--include same*: %v", got)
	}
	pres, err = r.PullDir(ctx, "tree", dst)
	if err != nil || pres.Transferred != 1 {
		t.Fatalf("damaged file: fetched %d, %v", pres.Transferred, err)
	}
	_, files, err := r.ListFiles(ctx, "tree")
	if err != nil || len(files) != len(res3.Files) {
		t.Fatalf("ListFiles: %d entries, %v", len(files), err)
	}
}

func TestIntegrationDockerFormUnchanged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t)
	a, b := pushBytes(t, r, []byte("one")), pushBytes(t, r, []byte("two"))
	files := []File{{Path: "one", Parts: []Blob{a.Blob()}}, {Path: "two", Parts: []Blob{b.Blob()}}}
	m, err := r.SetAliasFiles(ctx, "d", files)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := MakeManifest(a.Blob(), b.Blob())
	if !bytes.Equal(m.Raw, want) {
		t.Fatalf("Docker form:\n%s\nwant\n%s", m.Raw, want)
	}
	// Pulled into a directory, an unnamed alias is one file named after it.
	dir := t.TempDir()
	if _, err := r.PullDir(ctx, "d", dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "d")); string(got) != "onetwo" {
		t.Fatalf("got %q", got)
	}
	m, err = r.SetAliasFiles(ctx, "o", files, WithFormat(FormatOCI))
	if err != nil || m.LayerInfo[1].Annotations[AnnotationTitle] != "two" {
		t.Fatalf("OCI form %s, %v", m.Raw, err)
	}
}

func TestIntegrationPullDirHostile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t)
	x := pushBytes(t, r, []byte("x")).Blob()
	if err := r.ensureEmptyConfig(ctx); err != nil {
		t.Fatal(err)
	}
	layer := func(title string) string {
		j, _ := json.Marshal(title)
		return fmt.Sprintf(`{"mediaType":"application/octet-stream","digest":%q,"size":1,"annotations":{"org.opencontainers.image.title":%s}}`, x.Digest, j)
	}
	man := func(annotations string, layers ...string) []byte {
		return []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` +
			emptyJSONBlob.Digest.String() + `","size":2},"layers":[` + strings.Join(layers, ",") + `]` + annotations + `}`)
	}
	cases := []struct {
		name, entry string
		raw         []byte
		setup       func(dir, outside string)
	}{
		{"dotdot", "../x", man("", layer("ok"), layer("../x")), nil},
		{"absolute", "/etc/x", man("", layer("/etc/x")), nil},
		{"inner-dotdot", "a/../../x", man("", layer("a/../../x")), nil},
		{"duplicate", "dup", man("", layer("dup"), layer("dup")), nil},
		{"control", "a\nb", man("", layer("a\nb")), nil},
		{"nul", "a\x00b", man("", layer("a\x00b")), nil},
		{"link-out", "evil", man(`,"annotations":{"vnd.dxf.symlinks":"{\"evil\":\"../../outside\"}"}`, layer("ok")), nil},
		{"link-abs", "evil", man(`,"annotations":{"vnd.dxf.symlinks":"{\"evil\":\"/tmp\"}"}`, layer("ok")), nil},
		{"through-symlink", "evil/x", man("", layer("evil/x")), func(dir, outside string) {
			if err := os.Symlink(outside, filepath.Join(dir, "evil")); err != nil {
				t.Fatal(err)
			}
		}},
		{"link-chain", "l2", man(`,"annotations":{"vnd.dxf.symlinks":"{\"l1\":\".\",\"l2\":\"l1/..\"}"}`, layer("ok")), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := t.TempDir()
			dir, outside := filepath.Join(top, "dir"), filepath.Join(top, "outside")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			if c.setup != nil {
				c.setup(dir, outside)
			}
			if _, err := r.SetManifest(ctx, "hostile-"+c.name, c.raw); err != nil {
				t.Fatal(err)
			}
			_, err := r.PullDir(ctx, "hostile-"+c.name, dir)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", c.entry)) {
				t.Fatalf("PullDir = %v, want an error naming %q", err, c.entry)
			}
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("PullDir = %v, want ErrUnsafePath", err)
			}
			if got := treeOf(t, outside); len(got) != 0 {
				t.Fatalf("written outside: %v", got)
			}
			if entries, _ := os.ReadDir(top); len(entries) != 2 {
				t.Fatalf("written beside the directory: %v", entries)
			}
			for _, e := range treeOf(t, dir) {
				if strings.Contains(e, partialPrefix) {
					t.Fatalf("partial file left: %s", e)
				}
			}
		})
	}
}

// TestIntegrationUnpackHostile: the members of an archive to unpack (as
// oras pushes directories) get the same checks as manifest entries.
func TestIntegrationUnpackHostile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t)
	if err := r.ensureEmptyConfig(ctx); err != nil {
		t.Fatal(err)
	}
	type member struct {
		name, link string
		typ        byte
	}
	archive := func(ms ...member) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for _, m := range ms {
			h := &tar.Header{Name: m.name, Typeflag: m.typ, Mode: 0o644, Linkname: m.link}
			if m.typ == tar.TypeReg {
				h.Size = 1
			}
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if m.typ == tar.TypeReg {
				if _, err := tw.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	cases := []struct {
		name, entry string
		members     []member
	}{
		{"dotdot", "../x", []member{{"d/", "", tar.TypeDir}, {"../x", "", tar.TypeReg}}},
		{"absolute", "/etc/x", []member{{"/etc/x", "", tar.TypeReg}}},
		{"inner-dotdot", "d/../../x", []member{{"d/../../x", "", tar.TypeReg}}},
		{"outside-title", "e/x", []member{{"e/x", "", tar.TypeReg}}},
		{"link-out", "d/l", []member{{"d/l", "../../x", tar.TypeSymlink}}},
		{"write-through-link", "d/l/x", []member{{"d/l", ".", tar.TypeSymlink}, {"d/l", ".", tar.TypeSymlink}}},
		{"device", "d/dev", []member{{"d/dev", "", tar.TypeChar}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := archive(c.members...)
			b := pushBytes(t, r, data).Blob()
			raw := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},`+
				`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d,"annotations":{"org.opencontainers.image.title":"d","io.deis.oras.content.unpack":"true"}}]}`,
				emptyJSONBlob.Digest, b.Digest, b.Size)
			if _, err := r.SetManifest(ctx, "tgz-"+c.name, []byte(raw)); err != nil {
				t.Fatal(err)
			}
			top := t.TempDir()
			dir := filepath.Join(top, "dir")
			_, err := r.PullDir(ctx, "tgz-"+c.name, dir)
			if c.name == "write-through-link" {
				// A duplicate member is refused.
				c.entry = "d/l"
			}
			if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), fmt.Sprintf("%q", c.entry)) {
				t.Fatalf("PullDir = %v, want ErrUnsafePath naming %q", err, c.entry)
			}
			if entries, _ := os.ReadDir(top); len(entries) != 1 {
				t.Fatalf("written beside the directory: %v", entries)
			}
			for _, e := range treeOf(t, dir) {
				if strings.Contains(e, partialPrefix) {
					t.Fatalf("partial file left: %s", e)
				}
			}
		})
	}
}

// TestLayoutDataSet: a data set round-trips through an OCI image layout
// as through a registry, and syncs the same way.
func TestLayoutDataSet(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r, err := OpenLayout(filepath.Join(t.TempDir(), "layout"), WithDigestCache(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeTree(t, src, randomBytes(t, 1<<20))
	opts := []TransferOption{WithSplitThreshold(512 << 10), WithSplitAverage(64 << 10)}
	if _, err := r.PushDir(ctx, src, "tree", opts...); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := r.PullDir(ctx, "tree", dst); err != nil {
		t.Fatal(err)
	}
	if want, got := treeOf(t, src), treeOf(t, dst); !slices.Equal(want, got) {
		t.Fatalf("through the layout:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := os.WriteFile(filepath.Join(src, "top.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := r.PushDir(ctx, src, "tree", opts...)
	if err != nil || res.Transferred != 1 {
		t.Fatalf("re-push: %d sent, %v", res.Transferred, err)
	}
	pres, err := r.PullDir(ctx, "tree", dst)
	if err != nil || pres.Transferred != 1 {
		t.Fatalf("sync pull: %d fetched, %v", pres.Transferred, err)
	}
}

// TestIntegrationDataSetStores: one tree (nested, a symbolic link, an
// empty directory, two identical files, and a 300 MiB file that splits with
// the defaults: 64 MiB threshold, 4 MiB chunks) is pushed and pulled
// through Distribution, the OCI layout store and zot in its default
// configuration, with the same checks: what is sent, the manifest, a
// re-push that sends nothing, and every file, mode, link and directory of
// the tree pulled.
func TestIntegrationDataSetStores(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	writeTree(t, src, nil)
	big := filepath.Join(src, "a", "b", "big.bin")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{22})
	buf := make([]byte, 1<<20)
	for range 300 {
		_, _ = rng.Read(buf)
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := treeOf(t, src)
	stores := []struct {
		name string
		open func(t *testing.T) *Repository
	}{
		{"distribution", func(t *testing.T) *Repository { return plainRepo(t, WithDigestCache(t.TempDir())) }},
		{"layout", func(t *testing.T) *Repository {
			r, err := OpenLayout(filepath.Join(t.TempDir(), "layout"), WithDigestCache(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}},
		{"zot", func(t *testing.T) *Repository {
			z := registrytest.StartZotT(t)
			r, err := New(z.Host, "data/tree", WithInsecure(true), WithKeychain(nil), WithDigestCache(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}},
	}
	// One store after the other: each holds the 300 MiB, and its pull
	// writes them again.
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := t.Context()
			r := st.open(t)
			res, err := r.PushDir(ctx, src, "tree")
			if err != nil {
				t.Fatal(err)
			}
			var bigFile File
			for _, f := range res.Files {
				if f.Path == "a/b/big.bin" {
					bigFile = f
				}
			}
			if n := len(bigFile.Parts); n < 30 || bigFile.Size != 300<<20 {
				t.Fatalf("big.bin: %d chunks, %d bytes", n, bigFile.Size)
			}
			// Four small files, two of them identical: three blobs, and
			// the chunks.
			if res.Transferred != 3+len(bigFile.Parts) || res.Kept != 1 || len(res.Files) != 7 {
				t.Fatalf("push: %d sent, %d kept, %d entries", res.Transferred, res.Kept, len(res.Files))
			}
			m, err := r.GetManifest(ctx, "tree")
			if err != nil || m.MediaType != MediaTypeOCIManifest || m.ArtifactType != ArtifactTypeData {
				t.Fatalf("manifest %v, %v", m, err)
			}
			again, err := r.PushDir(ctx, src, "tree")
			if err != nil || again.Transferred != 0 || again.Manifest.Digest != res.Manifest.Digest {
				t.Fatalf("re-push: %v, %v", again, err)
			}
			dst := filepath.Join(t.TempDir(), "out")
			pres, err := r.PullDir(ctx, "tree", dst)
			if err != nil {
				t.Fatal(err)
			}
			if got := treeOf(t, dst); !slices.Equal(want, got) {
				t.Fatalf("pulled tree differs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if pres.Transferred != 5 || pres.Kept != 0 {
				t.Fatalf("pull: %d fetched, %d kept", pres.Transferred, pres.Kept)
			}
		})
	}
}

// TestIntegrationPullDirInterrupted: a pull that fails part way keeps the
// files it verified and leaves no partial file; pulling again fetches only
// the rest.
func TestIntegrationPullDirInterrupted(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := plainRepo(t)
	src := t.TempDir()
	for i, data := range []string{"first", "second", "third"} {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d", i)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.PushDir(ctx, src, "v"); err != nil {
		t.Fatal(err)
	}
	// The registry loses one blob: the pull of that file fails.
	if err := r.DeleteBlob(ctx, HashBytes([]byte("second"))); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := r.PullDir(ctx, "v", dst, WithJobs(1)); err == nil || !strings.Contains(err.Error(), `"f1"`) {
		t.Fatalf("PullDir = %v, want an error naming f1", err)
	}
	got := treeOf(t, dst)
	if len(got) != 1 || !strings.HasPrefix(got[0], "f0 ") {
		t.Fatalf("after the failure (one job, in order): %v, want f0 kept", got)
	}
	for _, e := range got {
		if strings.Contains(e, partialPrefix) || strings.HasPrefix(e, "f1") {
			t.Fatalf("after the failure: %v", got)
		}
	}
	pushBytes(t, r, []byte("second"))
	res, err := r.PullDir(ctx, "v", dst)
	if err != nil {
		t.Fatal(err)
	}
	if res.Transferred != 3-len(got) || res.Kept != len(got) {
		t.Fatalf("resumed pull fetched %d, kept %d (had %v)", res.Transferred, res.Kept, got)
	}
	if want, got := treeOf(t, src), treeOf(t, dst); !slices.Equal(want, got) {
		t.Fatalf("resumed:\n%v\nwant\n%v", got, want)
	}
}

// TestFilesOfOtherTools: names from other tools' annotations; directories
// to unpack as oras and regctl mark them; unnamed layers by digest.
func TestFilesOfOtherTools(t *testing.T) {
	t.Parallel()
	d := HashBytes([]byte("x")).String()
	raw := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.model.config.v1+json","digest":"` + d + `","size":1},"layers":[` +
		`{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + d + `","size":1,"annotations":{"org.opencontainers.image.title":"regdir/"}},` +
		`{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + d + `","size":1,"annotations":{"org.opencontainers.image.title":"orasdir","io.deis.oras.content.unpack":"true"}},` +
		`{"mediaType":"application/vnd.cncf.model.weight.v1.raw","digest":"` + d + `","size":1,"annotations":{"org.cncf.model.filepath":"model/w.bin"}},` +
		`{"mediaType":"application/octet-stream","digest":"` + d + `","size":1}]}`
	m, err := ParseManifest([]byte(raw), "")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Files(m, "alias")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, fmt.Sprintf("%s unpack=%v", f.Path, f.Unpack))
	}
	want := []string{"regdir unpack=true", "orasdir unpack=true", "model/w.bin unpack=false", HashBytes([]byte("x")).Hex + " unpack=false"}
	if !slices.Equal(got, want) {
		t.Fatalf("Files: %v, want %v", got, want)
	}
}

// TestPullDirDirectoryModes: the directories a pull makes are made as
// mkdir -p and tar make them (the umask applies), so that the files in
// them can be reached as their own modes say.
func TestPullDirDirectoryModes(t *testing.T) {
	t.Parallel()
	top := t.TempDir()
	src := filepath.Join(top, "src")
	for _, d := range []string{"a/b", "empty"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "a", "b", "f"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenLayout(filepath.Join(top, "layout"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.PushDir(t.Context(), src, "v1"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(top, "out")
	if _, err := r.PullDir(t.Context(), "v1", out); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(top, "ref")
	if err := os.Mkdir(ref, 0o777); err != nil {
		t.Fatal(err)
	}
	want, _ := os.Stat(ref)
	for _, d := range []string{"", "a", "a/b", "empty"} {
		fi, err := os.Stat(filepath.Join(out, d))
		if err != nil || fi.Mode().Perm() != want.Mode().Perm() {
			t.Errorf("%q: %v, %v; want the mode of mkdir: %v", d, fi.Mode(), err, want.Mode())
		}
	}
}
