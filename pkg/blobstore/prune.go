package blobstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// ErrCannotListBlobs says the store cannot list its blobs, which
// [Repository.Prune] needs: a registry cannot (the distribution API lists
// tags and repositories, never blobs).
var ErrCannotListBlobs = errors.New("the store cannot list its blobs")

// ListedBlob is a blob as a store that can list its blobs lists it.
type ListedBlob struct {
	Blob
	// Modified is when the blob was stored; zero when the store does not
	// know.
	Modified time.Time
}

// blobLister lists every blob of a store.
type blobLister func(ctx context.Context) ([]ListedBlob, error)

// blobLister returns how to list the store's blobs, or nil when it cannot.
// A registry cannot; an OCI image layout can.
func (r *Repository) blobLister() blobLister {
	bl, ok := r.Store().(store.BlobLister)
	if !ok {
		return nil
	}
	return func(ctx context.Context) ([]ListedBlob, error) {
		var out []ListedBlob
		for b, err := range bl.Blobs(ctx) {
			if err != nil {
				return nil, err
			}
			lb := ListedBlob{Blob: b}
			// The OCI layout keeps each blob in a file of its own: its
			// modification time is when the blob was stored.
			if dir := r.layoutDir(); dir != "" {
				if fi, err := os.Stat(filepath.Join(dir, "blobs", b.Digest.Algorithm, b.Digest.Hex)); err == nil {
					lb.Modified = fi.ModTime()
				}
			}
			out = append(out, lb)
		}
		return out, nil
	}
}

// Prune deletes every blob (and manifest) of the store that no alias
// reaches, reading every alias's manifest first (after listing the blobs,
// so an alias set meanwhile is seen). Blobs stored less than MinAge ago
// stay: they may belong to a push that has not set its alias yet (see
// docs/deleting.md). With DryRun nothing is deleted. On a store that cannot
// list its blobs, a registry, it fails with [ErrCannotListBlobs]: there,
// [Repository.DeleteAliases] with Prune deletes what deleted aliases alone
// used, and the registry's garbage collector the rest.
func (r *Repository) Prune(ctx context.Context, o DeleteOptions) (*DeleteResult, error) {
	list := r.blobLister()
	if list == nil {
		return nil, fmt.Errorf("prune %s: %w: a registry cannot list a repository's blobs; "+
			"use del-alias --prune, which deletes what the deleted aliases alone used, "+
			"or the registry's garbage collector (Distribution: registry garbage-collect)", r, ErrCannotListBlobs)
	}
	return r.pruneListed(ctx, list, o)
}

func (r *Repository) pruneListed(ctx context.Context, list blobLister, o DeleteOptions) (*DeleteResult, error) {
	// A store with a lock (the layout's, which setting an alias takes)
	// keeps aliases from changing between reading them and deleting.
	if l, ok := r.Store().(store.Locker); ok && !o.DryRun {
		unlock, err := l.Lock(ctx)
		if err != nil {
			return nil, fmt.Errorf("prune: %w", err)
		}
		defer unlock() //nolint:errcheck // nothing was written under it
	}
	blobs, err := list(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	u, err := r.inUse(ctx, nil, o.jobs())
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	res := &DeleteResult{}
	young := time.Now().Add(-o.MinAge)
	for _, b := range blobs {
		if len(u.users(b.Digest)) > 0 || (o.MinAge > 0 && b.Modified.After(young)) {
			continue
		}
		if !o.DryRun {
			if err := r.DeleteBlob(ctx, b.Digest); err != nil && !errors.Is(err, ErrBlobNotFound) {
				return res, err
			}
		}
		res.deleted(b.Blob)
	}
	return res, nil
}
