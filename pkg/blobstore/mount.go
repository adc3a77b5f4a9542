package blobstore

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// MountBlob makes the blob with digest d, held by repository from on the same
// registry, available in r without transferring it (a cross-repository
// mount). Any answer but 201 Created fails with [ErrMountFailed]; when the
// registry instead opened an upload session, that session is cancelled.
func (r *Repository) MountBlob(ctx context.Context, from string, d v1.Hash) error {
	op := fmt.Sprintf("mount blob %s from %s", d, from)
	if r.st != nil {
		return fmt.Errorf("%s: %w: %s is an OCI image layout, not a registry repository (copy the blob instead)", op, ErrUnsupported, r)
	}
	src, err := r.reg.Repository(from)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	// The token must allow pulling from the source as well as pushing here.
	c, err := r.reg.client(ctx, r.repo, r.repo.Scope(transport.PushScope), src.repo.Scope(transport.PullScope))
	if err != nil {
		return wrapErr(op, subjectRepo, err)
	}
	u := r.url("/blobs/uploads/") + "?mount=" + url.QueryEscape(d.String()) + "&from=" + url.QueryEscape(src.Name())
	resp, err := r.reg.do(ctx, c, request{method: http.MethodPost, url: u})
	if err != nil {
		return wrapErr(op, subjectBlob, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
		if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != d.String() {
			return fmt.Errorf("%s: %w: registry mounted %s", op, ErrMountFailed, got)
		}
		return nil
	case http.StatusAccepted:
		// The registry fell back to a plain upload: cancel it, so no session leaks.
		if loc, err := resolveLocation(u, resp.Header.Get("Location")); err == nil {
			if cr, err := r.reg.do(ctx, c, request{method: http.MethodDelete, url: loc, noRetry: true}); err == nil {
				cr.Body.Close()
			}
		}
		// Tell a registry that does not mount from a missing source.
		if has, herr := src.HasBlob(ctx, d); herr == nil && has {
			return fmt.Errorf("%s: %w (the registry answered 202 Accepted although %s holds the blob: it may not support cross-repository mounts; push the blob instead)", op, ErrMountFailed, src.Name())
		}
		return fmt.Errorf("%s: %w (the registry answered 202 Accepted: the blob or repository is unknown there, or the registry does not support mounting)", op, ErrMountFailed)
	}
	err = checkResponse(op, subjectBlob, resp, http.StatusCreated)
	return fmt.Errorf("%w: %w", ErrMountFailed, err)
}
