package blobstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/jobs"
)

// usage is what the aliases of a repository reach: each manifest (the
// alias's own and, for a list, each platform's) and each blob (configs and
// layers), with the aliases that reach it, sorted.
type usage struct {
	aliases   []string
	manifests map[v1.Hash][]string
	blobs     map[v1.Hash][]string
}

// users returns the aliases reaching d, as a blob or as a manifest.
func (u *usage) users(d v1.Hash) []string {
	if a := u.blobs[d]; len(a) > 0 {
		return a
	}
	return u.manifests[d]
}

// inUse lists the repository's aliases and walks what each but those in
// skip reaches ([Repository.Reach]: platform manifests, subjects, configs,
// layers), njobs aliases at a time. An alias listed whose manifest is gone
// reaches nothing. Any other failure to read an
// alias fails the whole: what it reaches cannot be known, so nothing may
// be deleted on the strength of the answer.
func (r *Repository) inUse(ctx context.Context, skip map[string]bool, njobs int) (*usage, error) {
	all, err := r.ListAliases(ctx)
	if err != nil {
		return nil, err
	}
	u := &usage{manifests: map[v1.Hash][]string{}, blobs: map[v1.Hash][]string{}}
	for _, a := range all {
		if !skip[a] {
			u.aliases = append(u.aliases, a)
		}
	}
	var mu sync.Mutex
	err = jobs.ForEach(ctx, max(njobs, 1), len(u.aliases), func(ctx context.Context, i int) error {
		name := u.aliases[i]
		reach, err := r.Reach(ctx, name, WithJobs(1))
		if errors.Is(err, ErrAliasNotFound) && !r.aliasResolves(ctx, name) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cannot tell what alias %s uses, so nothing is deleted: %w", name, err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, m := range reach.Manifests {
			addUse(u.manifests, m.Digest, name)
		}
		for _, b := range reach.Blobs {
			addUse(u.blobs, b.Digest, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, m := range []map[v1.Hash][]string{u.manifests, u.blobs} {
		for d, names := range m {
			slices.Sort(names)
			m[d] = slices.Compact(names)
		}
	}
	return u, nil
}

func addUse(m map[v1.Hash][]string, d v1.Hash, alias string) {
	m[d] = append(m[d], alias)
}

// aliasImages returns the image manifests of an alias: its own, or each
// platform's (sorted by platform) for a list.
func aliasImages(al *Alias) []*Manifest {
	if !al.Manifest.IsList() {
		return []*Manifest{al.Manifest}
	}
	ms := make([]*Manifest, 0, len(al.Platforms))
	for _, p := range al.PlatformNames() {
		ms = append(ms, al.Platforms[p])
	}
	return ms
}

// aliasResolves reports whether alias still names a manifest: an error
// from a walk that says "not found" may be about a platform manifest or a
// subject the alias names, which does not make the alias reach nothing.
func (r *Repository) aliasResolves(ctx context.Context, alias string) bool {
	_, err := r.GetManifest(ctx, alias)
	return !errors.Is(err, ErrAliasNotFound)
}
