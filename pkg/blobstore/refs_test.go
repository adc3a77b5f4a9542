package blobstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestGetAliasesAndSizes(t *testing.T) {
	srv := newMemServer(t)
	r := srv.repo(t, "foo/refs")
	ctx := t.Context()
	var ds []v1.Hash
	for _, n := range []int{10, 200, 3000} {
		res, err := r.PushBlob(ctx, bytes.NewReader(randomBytes(t, n)))
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, res.Digest)
	}
	if _, err := r.SetAlias(ctx, "two", ds[0], ds[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetAlias(ctx, "last", ds[2]); err != nil {
		t.Fatal(err)
	}
	refs := []Ref{BlobRef(ds[2]), AliasRef("two"), BlobRef(ds[0]), AliasRef("last")}
	for _, jobs := range []int{1, 3} {
		aliases, err := r.GetAliases(ctx, refs, "", WithJobs(jobs))
		if err != nil {
			t.Fatal(err)
		}
		if len(aliases) != 4 || aliases[0] != nil || aliases[2] != nil ||
			len(aliases[1].Manifest.Layers) != 2 || aliases[3].Manifest.Layers[0].Digest != ds[2] {
			t.Fatalf("jobs %d: aliases %+v", jobs, aliases)
		}
		sizes, err := r.Sizes(ctx, refs, "", WithJobs(jobs))
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{3000, 210, 10, 3000}
		for i, s := range sizes {
			if s.Size != want[i] || s.Platforms != nil {
				t.Fatalf("jobs %d: size %d: %+v, want %d", jobs, i, s, want[i])
			}
		}
	}
	// The error is the first failing ref's, whatever finishes first.
	bad := []Ref{AliasRef("two"), AliasRef("missing"), BlobRef(HashBytes([]byte("absent"))), AliasRef("also-missing")}
	if _, err := r.GetAliases(ctx, bad, "", WithJobs(4)); !errors.Is(err, ErrAliasNotFound) || !bytes.Contains([]byte(err.Error()), []byte("missing")) {
		t.Fatalf("GetAliases: %v", err)
	}
	if _, err := r.Sizes(ctx, bad[:3], "", WithJobs(4)); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("Sizes: %v", err)
	}
	if _, err := r.Sizes(ctx, bad[2:3], ""); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("Sizes of a missing blob: %v", err)
	}
}

func TestHashFiles(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	var want []v1.Hash
	for i, n := range []int{0, 1, 100 << 10} {
		data := randomBytes(t, n)
		p := filepath.Join(dir, string(rune('a'+i)))
		writeFile(t, p, data)
		paths = append(paths, p)
		want = append(want, HashBytes(data))
	}
	got, err := HashFiles(t.Context(), paths, WithJobs(2))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("file %d: %s, want %s", i, got[i], want[i])
		}
	}
	missing := filepath.Join(dir, "missing")
	_, err = HashFiles(t.Context(), append(paths, missing), WithJobs(2))
	if !errors.Is(err, os.ErrNotExist) || !bytes.Contains([]byte(err.Error()), []byte("hashing "+missing)) {
		t.Fatalf("missing file: %v", err)
	}
}
