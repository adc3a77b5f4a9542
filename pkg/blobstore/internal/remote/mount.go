package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
)

// ErrMountFailed is returned when the registry did not mount the blob (it
// answered anything but 201 Created). The blobstore package exports it under the same name.
var ErrMountFailed = errors.New("cross repository blob mount failed")

// MountFrom makes the blob d of src, a repository of the same registry,
// available in r without transferring it (a cross-repository mount), for
// op. Any answer but 201 Created fails with ErrMountFailed; when the
// registry instead opened an upload session, that session is cancelled.
func (r *Repo) MountFrom(ctx context.Context, op string, src *Repo, d v1.Hash) error {
	// The token must allow pulling from the source as well as pushing here.
	c, err := r.client(ctx, r.repo.Scope(transport.PushScope), src.repo.Scope(transport.PullScope))
	if err != nil {
		return WrapErr(op, SubjectRepo, err)
	}
	u := r.URL("/blobs/uploads/") + "?mount=" + url.QueryEscape(d.String()) + "&from=" + url.QueryEscape(src.repo.RepositoryStr())
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodPost, URL: u})
	if err != nil {
		return WrapErr(op, SubjectBlob, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
		if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != d.String() {
			return opErrorf(op, "%w: registry mounted %s", ErrMountFailed, got)
		}
		return nil
	case http.StatusAccepted:
		// The registry fell back to a plain upload: cancel it, so no session leaks.
		if loc, err := ResolveLocation(u, resp.Header.Get("Location")); err == nil {
			if cr, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodDelete, URL: loc, NoRetry: true}); err == nil {
				cr.Body.Close()
			}
		}
		// Tell a registry that does not mount from a missing source.
		if has, _, herr := src.HeadBlob(ctx, d); herr == nil && has {
			return opErrorf(op, "%w (the registry answered 202 Accepted although %s holds the blob: it may not support cross-repository mounts; push the blob instead)", ErrMountFailed, src.repo.RepositoryStr())
		}
		return opErrorf(op, "%w (the registry answered 202 Accepted: the blob or repository is unknown there, or the registry does not support mounting)", ErrMountFailed)
	}
	err = CheckResponse(op, SubjectBlob, resp, http.StatusCreated)
	return fmt.Errorf("%w: %w", ErrMountFailed, err)
}

// ResolveLocation resolves a Location header against the request URL.
func ResolveLocation(base, loc string) (string, error) {
	if loc == "" {
		return "", fmt.Errorf("the registry gave no upload location")
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	l, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("bad upload location %q: %w", loc, err)
	}
	return b.ResolveReference(l).String(), nil
}
