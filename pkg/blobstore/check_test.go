package blobstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// Check walks what an alias reaches as Reach does: an index of indexes
// down to its images, and an artifact's subject; a child manifest that is
// gone is a problem naming it (and its platform), not a failed check.
func TestIntegrationCheckNestedIndexAndSubject(t *testing.T) {
	t.Parallel()
	reg := plain(t)
	r := plainRepo(t)
	ctx := t.Context()
	push := func(n int) Blob { return pushBytes(t, r, randomBytes(t, n)).Blob() }
	desc := func(m *Manifest, platform string) string {
		s := fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d`, m.MediaType, m.Digest, m.Size())
		if os, arch, ok := strings.Cut(platform, "/"); ok {
			s += fmt.Sprintf(`,"platform":{"os":%q,"architecture":%q}`, os, arch)
		}
		return s + "}"
	}
	set := func(alias, raw string) *Manifest {
		m, err := r.SetManifest(ctx, alias, []byte(raw))
		if err != nil {
			t.Fatalf("set %s: %v", alias, err)
		}
		return m
	}
	amd := setAliases(t, r, []Blob{push(1000)}, "part-amd64")
	arm := setAliases(t, r, []Blob{push(1100)}, "part-arm64")
	inner := set("part-inner", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+
		desc(amd, "linux/amd64")+","+desc(arm, "linux/arm64")+`]}`)
	set("nested", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+desc(inner, "")+`]}`)

	pushBytes(t, r, []byte("{}")) // the empty config
	subjectBlob := push(1200)
	subject := setAliases(t, r, []Blob{subjectBlob}, "part-subject")
	set("signed", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sig",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},`+
		`"layers":[`+fmt.Sprintf(`{"mediaType":"application/octet-stream","digest":%q,"size":%d}`, push(1300).Digest, 1300)+`],"subject":`+desc(subject, "")+`}`)

	res, err := r.Check(ctx, []string{"nested", "signed"}, CheckOptions{Deep: true})
	if err != nil || !res.OK() {
		t.Fatalf("check: %+v, %v", res, err)
	}
	// nested: 2 indexes, 2 images; signed: itself and its subject. Blobs:
	// the two images' layers, the subject's, the artifact's layer and the
	// empty config.
	if res.Manifests != 6 || res.Blobs != 5 {
		t.Fatalf("checked %d manifests and %d blobs, want 6 and 5", res.Manifests, res.Blobs)
	}

	if err := os.RemoveAll(distributionRevision(reg.RootDir, r.Name(), arm.Digest)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(distributionBlobPath(reg.RootDir, subjectBlob.Digest)); err != nil {
		t.Fatal(err)
	}
	res, err = r.Check(ctx, []string{"nested", "signed"}, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"nested manifest-missing", "signed blob-missing"}
	if got := problemKinds(res.Problems); !slices.Equal(got, want) {
		t.Fatalf("found %q, want %q", got, want)
	}
	if p := res.Problems[0]; p.Digest != arm.Digest || !strings.HasPrefix(p.Detail, "platform linux/arm64: ") {
		t.Fatalf("problem %v, want one naming %s and its platform", p, arm.Digest)
	}
	if p := res.Problems[1]; p.Digest != subjectBlob.Digest {
		t.Fatalf("problem %v, want one naming %s", p, subjectBlob.Digest)
	}
}
