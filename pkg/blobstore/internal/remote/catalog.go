package remote

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// Catalog iterates over the repositories of the registry reg, reached
// through t (the catalog), following pagination within the bounds of p,
// asking for pageSize names a page if it is positive. Iteration stops at
// the first error, which is yielded.
func Catalog(ctx context.Context, t *xport.Client, reg name.Registry, pageSize int, p Pages) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		c, err := t.Client(ctx, reg, func(err error) error {
			return WrapErr("contacting registry "+t.Host(), SubjectOther, err)
		}, "registry:catalog:*")
		if err != nil {
			yield("", WrapErr("list repositories", SubjectOther, err))
			return
		}
		// Without a page size the registry picks one (Distribution: 100, or
		// its catalog.maxentries) and links to the next page, as the Python
		// tool relies on: asking for more than catalog.maxentries fails with
		// 400 PAGINATION_NUMBER_INVALID.
		first := t.URL("/v2/_catalog")
		if n := pageSize; n > 0 {
			first += "?n=" + strconv.Itoa(n)
		}
		firstPage := true
		p.Paginate(ctx, t, c, "list repositories", SubjectOther, first, "repositories", func(s string, err error) bool {
			if err != nil && firstPage && errors.Is(err, store.ErrNotFound) {
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
