package remote

import (
	"context"
	"iter"
	"strconv"
)

// Aliases implements [store.Store]: it iterates over the repository's tags,
// following the registry's pagination. Iteration stops at the first error,
// which is yielded.
func (r *Repo) Aliases(ctx context.Context) iter.Seq2[string, error] {
	pageSize, p := r.pageSize, r.pages
	return func(yield func(string, error) bool) {
		c, err := r.PullClient(ctx)
		if err != nil {
			yield("", WrapErr("list aliases", SubjectRepo, err))
			return
		}
		first := r.URL("/tags/list")
		if n := pageSize; n > 0 {
			first += "?n=" + strconv.Itoa(n)
		}
		p.Paginate(ctx, r.t, c, "list aliases of "+r.repo.RepositoryStr(), SubjectRepo, first, "tags", yield)
	}
}
