package blobstore

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The safe deletes, check and prune on an OCI image layout.
func TestLayoutDeleteCheckPrune(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "fred")
	r, err := Open(t.Context(), "oci:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	blobPath := func(d v1.Hash) string { return filepath.Join(dir, "blobs", d.Algorithm, d.Hex) }
	push := func(n int) Blob { return pushBytes(t, r, randomBytes(t, n)).Blob() }

	// One alias of two on a manifest goes; the other stays.
	shared, own := push(3000), push(1000)
	m := setAliases(t, r, []Blob{shared, own}, "a", "a-copy")
	d, err := r.deleteAlias(ctx, "a", allDeleteMethods, 2)
	if err != nil || d.Method != DeletedTag {
		t.Fatalf("delete a: %v by %v", err, d.Method)
	}
	mustBeGone(t, r, "a")
	mustResolve(t, r, "a-copy", m.Digest)

	// del-blob @b keeps what a-copy uses.
	other := push(500)
	setAliases(t, r, []Blob{shared, other}, "b")
	res, err := r.DeleteBlobs(ctx, []Ref{AliasRef("b")}, DeleteOptions{})
	if err != nil || len(res.Kept) != 1 || res.Kept[0].Digest != shared.Digest {
		t.Fatalf("del-blob @b: %+v, %v", res, err)
	}
	if blobExists(t, r, other.Digest) || !blobExists(t, r, shared.Digest) {
		t.Fatal("wrong blobs deleted")
	}

	// prune: an orphan blob goes, nothing a-copy reaches does.
	orphan := push(700)
	pr, err := r.Prune(ctx, DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pruned []v1.Hash
	for _, b := range pr.Deleted {
		pruned = append(pruned, b.Digest)
	}
	if !slices.Contains(pruned, orphan.Digest) || slices.Contains(pruned, shared.Digest) || slices.Contains(pruned, own.Digest) || slices.Contains(pruned, m.Digest) {
		t.Fatalf("pruned %v", pruned)
	}
	if c, err := r.Check(ctx, nil, CheckOptions{Deep: true}); err != nil || !c.OK() {
		t.Fatalf("check after prune: %+v, %v", c, err)
	}

	// Damage: a deleted blob, changed bytes, an alias whose manifest is gone,
	// a manifest giving a wrong size.
	lost := push(800)
	setAliases(t, r, []Blob{lost}, "lostblob")
	if err := os.Remove(blobPath(lost.Digest)); err != nil {
		t.Fatal(err)
	}
	changed := push(900)
	setAliases(t, r, []Blob{changed}, "changed")
	data, err := os.ReadFile(blobPath(changed.Digest))
	if err != nil {
		t.Fatal(err)
	}
	data[10] ^= 1
	if err := os.Chmod(blobPath(changed.Digest), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blobPath(changed.Digest), data, 0o600); err != nil {
		t.Fatal(err)
	}
	gone := setAliases(t, r, []Blob{push(600)}, "nomanifest")
	if err := os.Remove(blobPath(gone.Digest)); err != nil {
		t.Fatal(err)
	}
	wrong := push(300)
	raw, err := MakeManifest(Blob{Digest: wrong.Digest, Size: wrong.Size + 7})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetManifest(ctx, "wrongsize", raw); err != nil {
		t.Fatal(err)
	}
	shallow, err := r.Check(ctx, nil, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deep, err := r.Check(ctx, nil, CheckOptions{Deep: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := problemKinds(shallow.Problems), []string{"lostblob blob-missing", "nomanifest manifest-invalid", "wrongsize size-mismatch"}; !slices.Equal(got, want) {
		t.Fatalf("shallow check of the layout found %q, want %q", got, want)
	}
	if got, want := problemKinds(deep.Problems), []string{"changed digest-mismatch", "lostblob blob-missing", "nomanifest manifest-invalid", "wrongsize size-mismatch"}; !slices.Equal(got, want) {
		t.Fatalf("deep check of the layout found %q (%v), want %q", got, deep.Problems, want)
	}
}
