package blobstore

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// setAliases points each alias at the blobs, failing the test on error, and
// returns the manifest of the last.
func setAliases(t *testing.T, r *Repository, blobs []Blob, aliases ...string) *Manifest {
	t.Helper()
	var m *Manifest
	for _, a := range aliases {
		var err error
		if m, err = r.SetAliasBlobs(t.Context(), a, blobs...); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func mustResolve(t *testing.T, r *Repository, alias string, want v1.Hash) {
	t.Helper()
	m, err := r.GetManifest(t.Context(), alias)
	if err != nil || m.Digest != want {
		t.Fatalf("alias %s: %v (want manifest %s)", alias, err, want)
	}
}

func mustBeGone(t *testing.T, r *Repository, alias string) {
	t.Helper()
	if _, err := r.GetManifest(t.Context(), alias); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("alias %s still resolves (%v)", alias, err)
	}
}

func blobExists(t *testing.T, r *Repository, d v1.Hash) bool {
	t.Helper()
	ok, err := r.HasBlob(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// The rename recipe of the issue: set-alias new $(get-alias old), then
// del-alias old. Distribution deletes the tag by name (202) and keeps new.
func TestIntegrationDeleteAliasRenameKeepsNew(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	ctx := t.Context()
	b := pushBytes(t, r, randomBytes(t, 5000)).Blob()
	old := setAliases(t, r, []Blob{b}, "old")
	al, err := r.GetAlias(ctx, "old", "")
	if err != nil {
		t.Fatal(err)
	}
	blobs, _ := al.Blobs()
	if _, err := r.SetAlias(ctx, "new", blobs[0].Digest); err != nil {
		t.Fatal(err)
	}
	d, err := r.deleteAlias(ctx, "old", allDeleteMethods, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d.Method != DeletedTag || d.Manifest.Digest != old.Digest {
		t.Fatalf("deleted by %v, manifest %s; want the tag deleted by name", d.Method, d.Manifest.Digest)
	}
	mustBeGone(t, r, "old")
	mustResolve(t, r, "new", old.Digest)
	if got, err := pullAll(t, r, b.Digest); err != nil || len(got) != 5000 {
		t.Fatalf("the blob after the rename: %v", err)
	}
}

// Two pushes of the same files under @a and @a-copy: each survives the
// other's deletion, whichever method the registry allows.
func TestIntegrationDeleteAliasSiblingsSurvive(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	b := pushBytes(t, r, randomBytes(t, 3000)).Blob()
	for _, tc := range []struct {
		name    string
		methods []DeleteMethod
		want    DeleteMethod
	}{
		{"tag", allDeleteMethods, DeletedTag},
		{"throwaway", []DeleteMethod{DeletedThrowAway, DeletedManifest}, DeletedThrowAway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := setAliases(t, r, []Blob{b}, "a-"+tc.name, "a-copy-"+tc.name)
			d, err := r.deleteAlias(t.Context(), "a-"+tc.name, tc.methods, 2)
			if err != nil || d.Method != tc.want {
				t.Fatalf("delete a: %v by %v, want %v", err, d.Method, tc.want)
			}
			mustBeGone(t, r, "a-"+tc.name)
			mustResolve(t, r, "a-copy-"+tc.name, m.Digest)

			setAliases(t, r, []Blob{b}, "a-"+tc.name)
			if d, err = r.deleteAlias(t.Context(), "a-copy-"+tc.name, tc.methods, 2); err != nil || d.Method != tc.want {
				t.Fatalf("delete a-copy: %v by %v", err, d.Method)
			}
			mustBeGone(t, r, "a-copy-"+tc.name)
			mustResolve(t, r, "a-"+tc.name, m.Digest)
			if !blobExists(t, r, b.Digest) {
				t.Fatal("the shared blob went")
			}
		})
	}
	// The throw-away manifests and their blobs are gone: only the two
	// aliases' manifest remains reachable, and listing finds no stray tag.
	names, err := r.ListAliases(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if want := []string{"a-tag", "a-throwaway"}; !slices.Equal(names, want) {
		t.Fatalf("aliases %v, want %v", names, want)
	}
}

// A registry that can neither delete a tag nor re-point one: deleting an
// alias that shares its manifest is refused, naming the others; one that
// does not is deleted by digest.
func TestIntegrationDeleteAliasRefusesShared(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	b := pushBytes(t, r, randomBytes(t, 2000)).Blob()
	m := setAliases(t, r, []Blob{b}, "one", "two", "three")
	only := []DeleteMethod{DeletedManifest}
	_, err := r.deleteAlias(t.Context(), "one", only, 2)
	if !errors.Is(err, ErrAliasShared) || !strings.Contains(err.Error(), "three, two") {
		t.Fatalf("delete of a shared alias: %v", err)
	}
	for _, a := range []string{"one", "two", "three"} {
		mustResolve(t, r, a, m.Digest)
	}
	alone := setAliases(t, r, []Blob{b, b}, "alone")
	d, err := r.deleteAlias(t.Context(), "alone", only, 2)
	if err != nil || d.Method != DeletedManifest {
		t.Fatalf("delete of an unshared alias: %v by %v", err, d.Method)
	}
	if _, err := r.GetManifest(t.Context(), alone.Digest.String()); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("its manifest: %v", err)
	}
}

// del-blob @a keeps the blobs @b uses, and says so; a digest @b uses is
// refused, naming b; --force deletes it.
func TestIntegrationDeleteBlobsKeepsShared(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	ctx := t.Context()
	shared := pushBytes(t, r, randomBytes(t, 4000)).Blob()
	own := pushBytes(t, r, randomBytes(t, 3000)).Blob()
	other := pushBytes(t, r, randomBytes(t, 1000)).Blob()
	setAliases(t, r, []Blob{own, shared}, "a")
	setAliases(t, r, []Blob{shared, other}, "b")

	res, err := r.DeleteBlobs(ctx, []Ref{AliasRef("a")}, DeleteOptions{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	mustBeGone(t, r, "a")
	if blobExists(t, r, own.Digest) || !blobExists(t, r, shared.Digest) || !blobExists(t, r, other.Digest) {
		t.Fatal("wrong blobs deleted")
	}
	if len(res.Kept) != 1 || res.Kept[0].Digest != shared.Digest || !slices.Equal(res.Kept[0].UsedBy, []string{"b"}) {
		t.Fatalf("kept %+v", res.Kept)
	}
	var deletedBlobs []v1.Hash
	for _, b := range res.Deleted {
		if b.Digest == own.Digest || b.Digest == shared.Digest {
			deletedBlobs = append(deletedBlobs, b.Digest)
		}
	}
	if !slices.Equal(deletedBlobs, []v1.Hash{own.Digest}) {
		t.Fatalf("deleted %+v", res.Deleted)
	}
	if got, err := pullAll(t, r, shared.Digest); err != nil || len(got) != 4000 {
		t.Fatalf("b's blob: %v", err)
	}

	_, err = r.DeleteBlobs(ctx, []Ref{BlobRef(shared.Digest)}, DeleteOptions{})
	if !errors.Is(err, ErrBlobInUse) || !strings.Contains(err.Error(), ": b ") {
		t.Fatalf("delete of a blob b uses: %v", err)
	}
	if !blobExists(t, r, shared.Digest) {
		t.Fatal("refused, yet deleted")
	}
	if _, err := r.DeleteBlobs(ctx, []Ref{BlobRef(shared.Digest)}, DeleteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if blobExists(t, r, shared.Digest) {
		t.Fatal("--force did not delete")
	}
}

// The Python behaviour with Force: the alias's manifest goes by digest, so
// an alias sharing it goes too.
func TestIntegrationDeleteBlobsForce(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	b := pushBytes(t, r, randomBytes(t, 1500)).Blob()
	setAliases(t, r, []Blob{b}, "x", "y")
	if _, err := r.DeleteBlobs(t.Context(), []Ref{AliasRef("x")}, DeleteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	mustBeGone(t, r, "x")
	mustBeGone(t, r, "y")
	if blobExists(t, r, b.Digest) {
		t.Fatal("blob kept")
	}
}

// del-alias --prune of one of three versions of a split alias that share
// most chunks frees exactly the chunks only it had. The issue asks for
// 1 GiB; 64 MiB keeps make test fast and cuts as many shared and unshared
// chunks per edit.
func TestIntegrationDeleteAliasPruneSplitVersions(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	ctx := t.Context()
	const size = 64 << 20
	base := randomBytes(t, size)
	edit := func(at ...int) []byte {
		v := bytes.Clone(base)
		for _, off := range at {
			copy(v[off:], randomBytes(t, 4096))
		}
		return v
	}
	versions := [][]byte{base, edit(10<<20, 40<<20), edit(25 << 20)}
	chunks := make([]map[v1.Hash]int64, len(versions))
	for i, v := range versions {
		res, err := r.PushSplit(ctx, bytes.NewReader(v), WithJobs(2))
		if err != nil {
			t.Fatal(err)
		}
		chunks[i] = map[v1.Hash]int64{}
		for _, c := range res.Chunks {
			chunks[i][c.Digest] = c.Size
		}
		if _, err := r.SetAliasBlobs(ctx, []string{"v1", "v2", "v3"}[i], res.Chunks...); err != nil {
			t.Fatal(err)
		}
	}
	var unshared []v1.Hash
	var unsharedBytes int64
	for d, n := range chunks[1] {
		if _, ok := chunks[0][d]; ok {
			continue
		}
		if _, ok := chunks[2][d]; ok {
			continue
		}
		unshared = append(unshared, d)
		unsharedBytes += n
	}
	if len(unshared) == 0 || len(unshared) >= len(chunks[1])/2 {
		t.Fatalf("%d of v2's %d chunks are its own: the edits should make a few", len(unshared), len(chunks[1]))
	}
	v2, err := r.GetManifest(ctx, "v2")
	if err != nil {
		t.Fatal(err)
	}

	dry, err := r.DeleteAliases(ctx, []string{"v2"}, DeleteOptions{Prune: true, DryRun: true, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	mustResolve(t, r, "v2", v2.Digest)
	res, err := r.DeleteAliases(ctx, []string{"v2"}, DeleteOptions{Prune: true, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	mustBeGone(t, r, "v2")
	for _, got := range []*DeleteResult{dry, res} {
		var blobs []v1.Hash
		for _, b := range got.Deleted {
			if b.Digest != v2.Digest {
				blobs = append(blobs, b.Digest)
			}
		}
		slices.SortFunc(blobs, func(a, b v1.Hash) int { return strings.Compare(a.Hex, b.Hex) })
		slices.SortFunc(unshared, func(a, b v1.Hash) int { return strings.Compare(a.Hex, b.Hex) })
		if !slices.Equal(blobs, unshared) {
			t.Fatalf("pruned %d blobs, want exactly v2's %d own chunks", len(blobs), len(unshared))
		}
		if got.DeletedBytes != unsharedBytes+v2.Size() {
			t.Fatalf("freed %d bytes, want %d", got.DeletedBytes, unsharedBytes+v2.Size())
		}
		if len(got.Kept) != len(chunks[1])-len(unshared) {
			t.Fatalf("kept %d, want %d", len(got.Kept), len(chunks[1])-len(unshared))
		}
	}
	for _, d := range unshared {
		if blobExists(t, r, d) {
			t.Fatalf("v2's own chunk %s stayed", d)
		}
	}
	for i, name := range map[int]string{0: "v1", 2: "v3"} {
		var out bytes.Buffer
		if err := r.PullAlias(ctx, &out, name); err != nil {
			t.Fatalf("pull %s after the prune: %v", name, err)
		}
		if !bytes.Equal(out.Bytes(), versions[i]) {
			t.Fatalf("%s changed", name)
		}
	}
}
