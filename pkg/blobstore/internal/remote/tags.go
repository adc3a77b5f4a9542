package remote

import (
	"context"
	"iter"
	"strconv"
)

// Tags iterates over the repository's aliases (tags), following the
// registry's pagination within the bounds of p, asking for pageSize tags a
// page if it is positive. Iteration stops at the first error, which is
// yielded.
func (r *Repo) Tags(ctx context.Context, pageSize int, p Pages) iter.Seq2[string, error] {
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
