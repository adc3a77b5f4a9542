package blobstore

import (
	"context"
	"iter"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
)

// Aliases iterates over the repository's aliases (tags), following the
// registry's pagination. Iteration stops at the first error, which is yielded.
func (r *Repository) Aliases(ctx context.Context) iter.Seq2[string, error] {
	return r.Store().Aliases(ctx)
}

// ListAliases returns all the repository's aliases.
func (r *Repository) ListAliases(ctx context.Context) ([]string, error) {
	return collect(r.Aliases(ctx))
}

// Repositories iterates over the registry's repositories (the catalog),
// following pagination. Iteration stops at the first error, which is yielded.
func (r *Registry) Repositories(ctx context.Context) iter.Seq2[string, error] {
	return remote.Catalog(ctx, r.t, r.reg, r.o.pageSize, listPages)
}

// ListRepositories returns all the registry's repositories.
func (r *Registry) ListRepositories(ctx context.Context) ([]string, error) {
	return collect(r.Repositories(ctx))
}

func collect(seq iter.Seq2[string, error]) ([]string, error) {
	var out []string
	for s, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

// listPages bounds the listings.
var listPages = remote.Pages{
	Max:       MaxPages,
	TooMany:   &LimitError{What: "the number of pages", Limit: MaxPages, Unit: "pages", Name: "MaxPages"},
	PageLimit: limitPage.Limit,
	TooBig:    limitPage,
}
