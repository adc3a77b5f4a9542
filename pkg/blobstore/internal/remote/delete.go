package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// DeleteBlob deletes the blob with digest d; a missing blob gives
// store.ErrBlobNotFound.
func (r *Repo) DeleteBlob(ctx context.Context, d v1.Hash) error {
	return r.Delete(ctx, "delete blob "+d.String(), SubjectBlob, r.BlobURL(d))
}

// DeleteManifest deletes the manifest with digest d, and with it every
// alias that names it.
func (r *Repo) DeleteManifest(ctx context.Context, d v1.Hash) error {
	return r.Delete(ctx, "delete manifest "+d.String(), SubjectManifest, r.URL("/manifests/%s", d))
}

// Delete DELETEs u (a blob or a manifest, by digest or alias) for op; s
// says what a 404 means.
func (r *Repo) Delete(ctx context.Context, op string, s Subject, u string) error {
	c, err := r.PushClient(ctx)
	if err != nil {
		return WrapErr(op, s, err)
	}
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodDelete, URL: u})
	if err != nil {
		return WrapErr(op, s, err)
	}
	defer resp.Body.Close()
	err = CheckResponse(op, s, resp, http.StatusAccepted, http.StatusOK, http.StatusNoContent)
	if errors.Is(err, store.ErrUnsupported) {
		return fmt.Errorf("%w; the registry does not allow deletes (many need them enabled in their configuration, see docs/registries.md)", err)
	}
	return err
}
