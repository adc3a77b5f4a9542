package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/internal/retry"
)

// Repo is one repository of a registry, over the registry's transport
// client. It is safe for concurrent use.
type Repo struct {
	t        *xport.Client
	repo     name.Repository
	pageSize int
	pages    Pages
	codec    Codec
}

// New returns the Repo for repo, whose requests go through t. Its tag
// listing asks for pageSize tags a page if that is positive, within the
// bounds of pages. codec supplies the grammar of names, digests and
// manifests.
func New(t *xport.Client, repo name.Repository, pageSize int, pages Pages, codec Codec) *Repo {
	return &Repo{t: t, repo: repo, pageSize: pageSize, pages: pages, codec: codec}
}

// Name returns the repository as go-containerregistry names it.
func (r *Repo) Name() name.Repository { return r.repo }

// Transport returns the registry's transport client.
func (r *Repo) Transport() *xport.Client { return r.t }

// client returns the cached authenticated client for scopes.
func (r *Repo) client(ctx context.Context, scopes ...string) (*http.Client, error) {
	return r.t.Client(ctx, r.repo, func(err error) error {
		return WrapErr("contacting registry "+r.t.Host(), SubjectOther, err)
	}, scopes...)
}

// PullClient is the client for reads: a pull-scoped token, or the push
// client if one already exists (it can read too).
func (r *Repo) PullClient(ctx context.Context) (*http.Client, error) {
	if c := r.t.ReadyClient(r.repo.Scope(transport.PushScope)); c != nil {
		return c, nil
	}
	return r.client(ctx, r.repo.Scope(transport.PullScope))
}

// PushClient is the client for writes (pull and push actions). The registry
// may ask for more (delete); go-containerregistry then widens the scope.
func (r *Repo) PushClient(ctx context.Context) (*http.Client, error) {
	return r.client(ctx, r.repo.Scope(transport.PushScope))
}

// URL returns the absolute URL of the repository's path format.
func (r *Repo) URL(format string, args ...any) string {
	return r.t.URL("/v2/" + r.repo.RepositoryStr() + fmt.Sprintf(format, args...))
}

// BlobURL returns the URL of blob d.
func (r *Repo) BlobURL(d v1.Hash) string { return r.URL("/blobs/%s", d) }

// GetBody GETs a small document (a manifest, a page of a listing), and
// retries the whole request when reading the body fails transiently (a
// dropped or truncated answer). It returns the body and the answer's
// headers. A body over limit bytes is an error (tooBig).
func GetBody(ctx context.Context, t *xport.Client, c *http.Client, op string, s Subject, req xport.Request, limit int64, tooBig error) ([]byte, http.Header, error) {
	var (
		raw []byte
		hdr http.Header
	)
	err := t.Retry(ctx, func() error {
		resp, err := t.Do(ctx, c, req)
		if err != nil {
			return &retry.Permanent{Err: WrapErr(op, s, err)}
		}
		defer resp.Body.Close()
		if err := CheckResponse(op, s, resp, http.StatusOK); err != nil {
			return &retry.Permanent{Err: err}
		}
		hdr = resp.Header
		if resp.ContentLength > limit {
			return &retry.Permanent{Err: opErrorf(op, "%w", tooBig)}
		}
		raw, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return opErrorf(op, "%w", xport.CleanURLError(err))
		}
		if int64(len(raw)) > limit {
			return &retry.Permanent{Err: opErrorf(op, "%w", tooBig)}
		}
		return nil
	})
	var p *retry.Permanent
	if errors.As(err, &p) {
		return nil, nil, p.Err
	}
	return raw, hdr, err
}
