package blobstore

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"strings"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
)

// Aliases iterates over the repository's aliases (tags), following the
// registry's pagination. Iteration stops at the first error, which is yielded.
func (r *Repository) Aliases(ctx context.Context) iter.Seq2[string, error] {
	if r.st != nil {
		return r.st.Aliases(ctx)
	}
	return func(yield func(string, error) bool) {
		c, err := r.pullClient(ctx)
		if err != nil {
			yield("", wrapErr("list aliases", subjectRepo, err))
			return
		}
		first := r.url("/tags/list")
		if n := r.reg.o.pageSize; n > 0 {
			first += "?n=" + strconv.Itoa(n)
		}
		listPages.Paginate(ctx, r.reg.t, c, "list aliases of "+r.Name(), subjectRepo, first, "tags", yield)
	}
}

// ListAliases returns all the repository's aliases.
func (r *Repository) ListAliases(ctx context.Context) ([]string, error) {
	return collect(r.Aliases(ctx))
}

// Repositories iterates over the registry's repositories (the catalog),
// following pagination. Iteration stops at the first error, which is yielded.
func (r *Registry) Repositories(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		c, err := r.client(ctx, r.reg, "registry:catalog:*")
		if err != nil {
			yield("", wrapErr("list repositories", subjectOther, err))
			return
		}
		// Without a page size the registry picks one (Distribution: 100, or
		// its catalog.maxentries) and links to the next page, as the Python
		// tool relies on: asking for more than catalog.maxentries fails with
		// 400 PAGINATION_NUMBER_INVALID.
		first := r.url("/v2/_catalog")
		if n := r.o.pageSize; n > 0 {
			first += "?n=" + strconv.Itoa(n)
		}
		firstPage := true
		listPages.Paginate(ctx, r.t, c, "list repositories", subjectOther, first, "repositories", func(s string, err error) bool {
			if err != nil && firstPage && errors.Is(err, ErrNotFound) {
				err = &noCatalogError{err}
			}
			firstPage = false
			return yield(s, err)
		})
	}
}

// noCatalogError is a 404 for the catalog: some registries (olareg, and
// registries that disable it) have none.
type noCatalogError struct{ err error }

func (e *noCatalogError) Error() string {
	status := "404 Not Found"
	var re *Error
	if errors.As(e.err, &re) && len(re.Codes) > 0 {
		status += ": " + strings.Join(re.Codes, ", ")
	}
	return "list repositories: the registry has no catalog (GET /v2/_catalog answered " + status + ")"
}

func (e *noCatalogError) Unwrap() error { return e.err }

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
