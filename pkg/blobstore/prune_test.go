package blobstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// distributionLister lists the blobs linked into a repository of the real
// registry, from its storage directory: what a store that can list its
// blobs offers Prune.
func distributionLister(root, repo string) blobLister {
	return func(context.Context) ([]ListedBlob, error) {
		dir := filepath.Join(root, "docker", "registry", "v2", "repositories", repo, "_layers", "sha256")
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		var out []ListedBlob
		for _, e := range entries {
			d, err := ParseDigest("sha256:" + e.Name())
			if err != nil {
				return nil, err
			}
			fi, err := os.Stat(filepath.Join(dir, e.Name(), "link"))
			if err != nil {
				return nil, err
			}
			data, err := os.Stat(distributionBlobPath(root, d))
			size := int64(-1)
			if err == nil {
				size = data.Size()
			}
			out = append(out, ListedBlob{Blob: Blob{Digest: d, Size: size}, Modified: fi.ModTime()})
		}
		return out, nil
	}
}

// Prune deletes the blobs no alias reaches (an orphan, and those of an
// alias removed without its blobs), never one an alias reaches, and keeps
// young blobs when asked to.
func TestIntegrationPrune(t *testing.T) {
	t.Parallel()
	reg := plain(t)
	r := plainRepo(t)
	ctx := t.Context()
	push := func(n int) Blob { return pushBytes(t, r, randomBytes(t, n)).Blob() }
	x, y, z, orphan := push(1000), push(2000), push(3000), push(400)
	setAliases(t, r, []Blob{x, y}, "a")
	setAliases(t, r, []Blob{y, z}, "b")
	if _, err := r.DeleteAlias(ctx, "a"); err != nil {
		t.Fatal(err)
	}

	if _, err := r.Prune(ctx, DeleteOptions{}); !errors.Is(err, ErrCannotListBlobs) {
		t.Fatalf("Prune on a registry: %v", err)
	}
	list := distributionLister(reg.RootDir, r.Name())
	young, err := r.pruneListed(ctx, list, DeleteOptions{DryRun: true, MinAge: time.Hour})
	if err != nil || len(young.Deleted) != 0 {
		t.Fatalf("young blobs pruned: %+v, %v", young, err)
	}
	dry, err := r.pruneListed(ctx, list, DeleteOptions{DryRun: true, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.pruneListed(ctx, list, DeleteOptions{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*DeleteResult{dry, res} {
		var ds []v1.Hash
		for _, b := range got.Deleted {
			ds = append(ds, b.Digest)
		}
		if len(ds) != 2 || !slices.Contains(ds, x.Digest) || !slices.Contains(ds, orphan.Digest) || got.DeletedBytes != 1400 {
			t.Fatalf("pruned %v (%d bytes), want x and the orphan", ds, got.DeletedBytes)
		}
	}
	if blobExists(t, r, x.Digest) || blobExists(t, r, orphan.Digest) || !blobExists(t, r, y.Digest) || !blobExists(t, r, z.Digest) {
		t.Fatal("wrong blobs pruned")
	}
	if c, err := r.Check(ctx, nil, CheckOptions{}); err != nil || !c.OK() {
		t.Fatalf("check after prune: %+v, %v", c, err)
	}
}
