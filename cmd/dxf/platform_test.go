package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

// platformFixture is a repository holding two single-platform manifests
// (stored by digest only) and lists naming them.
type platformFixture struct {
	repo           string
	a1, a2, b      []byte // blobs: amd64 has a1 and a2, arm64/v8 has b
	ha1, ha2, hb   string
	rawA, rawB     string // child manifests
	childA, childB string // their digests
	lib            *blobstore.Repository
}

func newPlatformFixture(t *testing.T, d *dxf) *platformFixture {
	t.Helper()
	p := &platformFixture{repo: uniqueRepo("platform"), a1: randomBytes(t, 1000), a2: randomBytes(t, 2000), b: randomBytes(t, 3000)}
	fa1, ha1 := d.file("a1", p.a1)
	fa2, ha2 := d.file("a2", p.a2)
	fb, hb := d.file("b", p.b)
	p.ha1, p.ha2, p.hb = ha1, ha2, hb
	d.ok("push-blob", p.repo, fa1, fa2, fb)

	var err error
	p.lib, err = blobstore.New(shared.Host, p.repo, blobstore.WithInsecure(true), blobstore.WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	child := func(blobs ...blobstore.Blob) (string, string) {
		raw, err := blobstore.MakeManifest(blobs...)
		if err != nil {
			t.Fatal(err)
		}
		dg := blobstore.HashBytes(raw)
		if _, err := p.lib.SetManifest(t.Context(), dg.String(), raw); err != nil {
			t.Fatal(err)
		}
		return string(raw), dg.String()
	}
	blob := func(digest string, size int64) blobstore.Blob {
		dg, err := blobstore.ParseDigest(digest)
		if err != nil {
			t.Fatal(err)
		}
		return blobstore.Blob{Digest: dg, Size: size}
	}
	p.rawA, p.childA = child(blob(ha1, 1000), blob(ha2, 2000))
	p.rawB, p.childB = child(blob(hb, 3000))
	return p
}

// setList stores a list (Docker manifest list or OCI index, by mediaType)
// of the two children under alias, and returns it.
func (p *platformFixture) setList(t *testing.T, alias, mediaType string) string {
	t.Helper()
	raw := fmt.Sprintf(`{"schemaVersion": 2, "mediaType": %q, "manifests": [`+
		`{"mediaType": %q, "digest": %q, "size": %d, "platform": {"architecture": "amd64", "os": "linux"}}, `+
		`{"mediaType": %q, "digest": %q, "size": %d, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}]}`,
		mediaType, blobstore.MediaTypeDockerManifest, p.childA, len(p.rawA), blobstore.MediaTypeDockerManifest, p.childB, len(p.rawB))
	if _, err := p.lib.SetManifest(t.Context(), alias, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestMultiPlatform checks the JSON the Python tool printed for manifest
// lists and OCI indexes, and DXF_PLATFORM selection.
func TestMultiPlatform(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	p := newPlatformFixture(t, d)
	p.setList(t, "list", string(blobstore.MediaTypeDockerManifestList))
	p.setList(t, "index", string(blobstore.MediaTypeOCIIndex))
	repo := p.repo

	quoted := func(raw string) string { return `"` + strings.ReplaceAll(raw, `"`, `\"`) + `"` }
	wantAlias := `{"linux/amd64": ["` + p.ha1 + `", "` + p.ha2 + `"], "linux/arm64/v8": ["` + p.hb + `"]}` + "\n"
	wantSize := `{"linux/amd64": 3000, "linux/arm64/v8": 3000}` + "\n"
	wantDigest := `{"linux/amd64": "` + p.ha1 + `", "linux/arm64/v8": "` + p.hb + `"}` + "\n"
	wantManifest := `{"linux/amd64": ` + quoted(p.rawA) + `, "linux/arm64/v8": ` + quoted(p.rawB) + `}`

	d.ok("set-alias", repo, "single", p.hb)
	for _, alias := range []string{"list", "index"} {
		if got := d.ok("get-alias", repo, alias); got != wantAlias {
			t.Errorf("%s: get-alias printed\n%s\nwant\n%s", alias, got, wantAlias)
		}
		if got := d.ok("get-alias", repo, alias, alias); got != wantAlias+wantAlias {
			t.Errorf("%s: get-alias of 2 lists printed %q", alias, got)
		}
		if got := d.ok("blob-size", repo, "@"+alias); got != wantSize {
			t.Errorf("%s: blob-size printed %q, want %q", alias, got, wantSize)
		}
		if got := d.ok("get-digest", repo, alias); got != wantDigest {
			t.Errorf("%s: get-digest printed %q, want %q", alias, got, wantDigest)
		}
		if got := d.ok("get-manifest", repo, alias); got != wantManifest {
			t.Errorf("%s: get-manifest printed\n%s\nwant\n%s", alias, got, wantManifest)
		}
		// pull-blob prints what get-alias does instead of pulling.
		if got := d.ok("pull-blob", repo, "@"+alias); got != wantAlias {
			t.Errorf("%s: pull-blob printed %q, want %q", alias, got, wantAlias)
		}

		arm := d.with("DXF_PLATFORM", "linux/arm64/v8")
		if got := arm.ok("get-alias", repo, alias); got != lines(p.hb) {
			t.Errorf("%s: DXF_PLATFORM get-alias printed %q", alias, got)
		}
		if got := arm.ok("blob-size", repo, "@"+alias); got != lines("3000") {
			t.Errorf("%s: DXF_PLATFORM blob-size printed %q", alias, got)
		}
		if got := arm.ok("get-digest", repo, alias); got != lines(p.hb) {
			t.Errorf("%s: DXF_PLATFORM get-digest printed %q", alias, got)
		}
		if got := arm.ok("get-manifest", repo, alias); got != p.rawB {
			t.Errorf("%s: DXF_PLATFORM get-manifest printed %q", alias, got)
		}
		if got := arm.ok("pull-blob", repo, "@"+alias); got != string(p.b) {
			t.Errorf("%s: DXF_PLATFORM pull-blob: wrong data", alias)
		}
		// The flag wins over the variable.
		if got := arm.ok("pull-blob", "--platform", "linux/amd64", repo, "@"+alias); got != string(p.a1)+string(p.a2) {
			t.Errorf("%s: --platform pull-blob: wrong data", alias)
		}
		if got := arm.ok("blob-size", "--platform=linux/amd64", repo, "@"+alias); got != lines("3000") {
			t.Errorf("%s: --platform blob-size printed %q", alias, got)
		}
		unknown := d.with("DXF_PLATFORM", "linux/s390x")
		for _, args := range [][]string{
			{"get-alias", repo, alias}, {"blob-size", repo, "@" + alias}, {"get-digest", repo, alias},
			{"get-manifest", repo, alias}, {"pull-blob", repo, "@" + alias},
		} {
			unknown.fails(exitFailure, args, "data not found for platform: linux/s390x (the alias has linux/amd64, linux/arm64/v8)")
		}
		// What people type: linux/arm64 for linux/arm64/v8, aarch64.
		for _, pl := range []string{"linux/arm64", "linux/aarch64"} {
			if got := d.with("DXF_PLATFORM", pl).ok("get-alias", repo, alias); got != lines(p.hb) {
				t.Errorf("%s: DXF_PLATFORM=%s get-alias printed %q", alias, pl, got)
			}
		}

		// A single manifest ignores DXF_PLATFORM.
		if got := unknown.ok("get-alias", repo, "single"); got != lines(p.hb) {
			t.Errorf("%s: DXF_PLATFORM on a single manifest: %q", alias, got)
		}
	}
}

// TestMultiPlatformStdin feeds a manifest list on standard input.
func TestMultiPlatformStdin(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	p := newPlatformFixture(t, d)
	list := p.setList(t, "list", string(blobstore.MediaTypeDockerManifestList))
	repo := p.repo
	wantAlias := `{"linux/amd64": ["` + p.ha1 + `", "` + p.ha2 + `"], "linux/arm64/v8": ["` + p.hb + `"]}` + "\n"

	if got := d.okIn(list, "get-alias", repo); got != wantAlias {
		t.Errorf("get-alias < list printed %q", got)
	}
	if got := d.okIn(list, "blob-size", repo); got != `{"linux/amd64": 3000, "linux/arm64/v8": 3000}`+"\n" {
		t.Errorf("blob-size < list printed %q", got)
	}
	amd := d.with("DXF_PLATFORM", "linux/amd64")
	if got := amd.okIn(list, "get-digest", repo); got != lines(p.ha1) {
		t.Errorf("get-digest < list printed %q", got)
	}
	if got := d.okIn(list, "pull-blob", repo); got != wantAlias {
		t.Errorf("pull-blob < list printed %q", got)
	}
	// Python ignored DXF_PLATFORM here (an oversight); we apply it.
	if got := amd.okIn(list, "pull-blob", repo); got != string(p.a1)+string(p.a2) {
		t.Errorf("DXF_PLATFORM pull-blob < list: wrong data")
	}
	// del-blob deletes the blobs of every platform, whatever DXF_PLATFORM
	// (--force: the alias "list" still uses them).
	amd.okIn(list, "del-blob", "--force", repo)
	for _, h := range []string{p.ha1, p.ha2, p.hb} {
		d.fails(exitNotFound, []string{"blob-size", repo, h}, "Not Found")
	}
}

// TestMultiPlatformDelete checks del-alias and del-blob on lists.
func TestMultiPlatformDelete(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	p := newPlatformFixture(t, d)
	p.setList(t, "list", string(blobstore.MediaTypeDockerManifestList))
	p.setList(t, "index", string(blobstore.MediaTypeOCIIndex))
	repo := p.repo

	// del-alias deletes only the list and prints platform → child.
	want := `{"linux/amd64": "` + p.childA + `", "linux/arm64/v8": "` + p.childB + `"}` + "\n"
	if got := d.with("DXF_PLATFORM", "linux/amd64").ok("del-alias", repo, "list"); got != want {
		t.Fatalf("del-alias of a list printed %q, want %q", got, want)
	}
	d.fails(exitNotFound, []string{"get-alias", repo, "list"}, "Not Found")
	if got := d.ok("get-manifest", repo, p.childA); got != p.rawA {
		t.Fatalf("del-alias deleted a child manifest")
	}

	// del-blob @index deletes the index, each child manifest and each
	// child's blobs.
	d.ok("del-blob", repo, "@index")
	d.fails(exitNotFound, []string{"get-alias", repo, "index"}, "Not Found")
	for _, child := range []string{p.childA, p.childB} {
		d.fails(exitNotFound, []string{"get-manifest", repo, child}, "Not Found")
	}
	for _, h := range []string{p.ha1, p.ha2, p.hb} {
		d.fails(exitNotFound, []string{"blob-size", repo, h}, "Not Found")
	}
}
