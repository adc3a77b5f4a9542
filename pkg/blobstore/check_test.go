package blobstore

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// distributionPath is where the Distribution registry's filesystem driver
// keeps a blob's bytes, under its root directory.
func distributionBlobPath(root string, d v1.Hash) string {
	return filepath.Join(root, "docker", "registry", "v2", "blobs", d.Algorithm, d.Hex[:2], d.Hex, "data")
}

// distributionRevision is the link that makes a manifest part of a
// repository.
func distributionRevision(root, repo string, d v1.Hash) string {
	return filepath.Join(root, "docker", "registry", "v2", "repositories", repo, "_manifests", "revisions", d.Algorithm, d.Hex)
}

func problemKinds(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Alias+" "+string(p.Kind))
	}
	return out
}

// Check finds each kind of damage done to the real registry's storage: a
// deleted blob, a manifest giving a wrong size, an alias whose manifest was
// deleted, and (deep only) a blob whose bytes were changed on disk.
func TestIntegrationCheckFindsDamage(t *testing.T) {
	t.Parallel()
	reg := plain(t)
	r := plainRepo(t)
	ctx := t.Context()
	push := func(n int) Blob { return pushBytes(t, r, randomBytes(t, n)).Blob() }

	shared := push(3000)
	setAliases(t, r, []Blob{push(1000), shared}, "healthy")

	lost := push(2000)
	setAliases(t, r, []Blob{shared, lost}, "lostblob")
	if err := os.Remove(distributionBlobPath(reg.RootDir, lost.Digest)); err != nil {
		t.Fatal(err)
	}

	changed := push(4000)
	setAliases(t, r, []Blob{changed}, "changed")
	p := distributionBlobPath(reg.RootDir, changed.Digest)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[100] ^= 0xff
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// A manifest giving the wrong size for its second layer: the registry
	// stores it as given.
	wrong := push(500)
	raw, err := MakeManifest(shared, Blob{Digest: wrong.Digest, Size: wrong.Size + 7})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetManifest(ctx, "wrongsize", raw); err != nil {
		t.Fatal(err)
	}

	gone := setAliases(t, r, []Blob{push(600)}, "nomanifest")
	if err := os.RemoveAll(distributionRevision(reg.RootDir, r.Name(), gone.Digest)); err != nil {
		t.Fatal(err)
	}

	shallow, err := r.Check(ctx, nil, CheckOptions{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lostblob blob-missing", "nomanifest manifest-missing", "wrongsize size-mismatch"}
	if got := problemKinds(shallow.Problems); !slices.Equal(got, want) {
		t.Fatalf("shallow check found %q, want %q", got, want)
	}
	if shallow.Aliases != 5 || shallow.OK() {
		t.Fatalf("shallow: %+v", shallow)
	}
	for _, p := range shallow.Problems {
		if p.Alias == "lostblob" && p.Digest != lost.Digest || p.Alias == "wrongsize" && p.Digest != wrong.Digest {
			t.Fatalf("problem names the wrong digest: %v", p)
		}
	}

	deep, err := r.Check(ctx, nil, CheckOptions{Deep: true, Jobs: 3})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"changed digest-mismatch", "lostblob blob-missing", "nomanifest manifest-missing", "wrongsize size-mismatch"}
	if got := problemKinds(deep.Problems); !slices.Equal(got, want) {
		t.Fatalf("deep check found %q, want %q", got, want)
	}

	// Named aliases only; a healthy one passes, shallow and deep.
	for _, d := range []bool{false, true} {
		res, err := r.Check(ctx, []string{"healthy"}, CheckOptions{Deep: d})
		if err != nil || !res.OK() || res.Aliases != 1 || res.Blobs != 2 || res.Bytes != 4000 {
			t.Fatalf("check healthy (deep %v): %+v, %v", d, res, err)
		}
	}
	// The JSON of a problem names the digest.
	b, _ := json.Marshal(deep.Problems[0])
	if !bytes.Contains(b, []byte(changed.Digest.Hex)) {
		t.Fatalf("JSON %s", b)
	}
}
