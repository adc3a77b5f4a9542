package remote

import (
	"context"
	"net/http"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
)

// FetchManifest GETs the manifest ref names (an alias or a digest) for op,
// asking for the media types accept lists, and returns its bytes and the
// answer's headers. A manifest over limit bytes fails with tooBig. The
// bytes are not checked: the caller parses them and checks the digest.
func (r *Repo) FetchManifest(ctx context.Context, op, ref, accept string, limit int64, tooBig error) ([]byte, http.Header, error) {
	c, err := r.PullClient(ctx)
	if err != nil {
		return nil, nil, WrapErr(op, SubjectManifest, err)
	}
	return GetBody(ctx, r.t, c, op, SubjectManifest, xport.Request{Method: http.MethodGet, URL: r.URL("/manifests/%s", ref),
		Header: http.Header{"Accept": {accept}}}, limit, tooBig)
}

// SendManifest PUTs raw, of the given media type, under ref for op. A
// refusal (an answer but 201 or 200) is passed through refused, which may
// explain it. It returns the answer: the caller checks the
// Docker-Content-Digest it names.
func (r *Repo) SendManifest(ctx context.Context, op, ref string, raw []byte, mediaType string, refused func(error) error) (*Answer, error) {
	c, err := r.PushClient(ctx)
	if err != nil {
		return nil, WrapErr(op, SubjectRepo, err)
	}
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodPut, URL: r.URL("/manifests/%s", ref), Body: raw,
		Header: http.Header{"Content-Type": {mediaType}}})
	if err != nil {
		return nil, WrapErr(op, SubjectManifest, err)
	}
	defer resp.Body.Close()
	if err := CheckResponse(op, SubjectBlob, resp, http.StatusCreated, http.StatusOK); err != nil {
		return nil, refused(err)
	}
	return &Answer{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}, nil
}

// Answer is the status and headers of an answer whose body is done with.
type Answer struct {
	StatusCode int
	Status     string
	Header     http.Header
}

// ManifestExists reports whether ref resolves (HEAD answers 200), asking
// for the media types accept lists.
func (r *Repo) ManifestExists(ctx context.Context, op, ref, accept string) (bool, error) {
	c, err := r.PullClient(ctx)
	if err != nil {
		return false, WrapErr(op, SubjectManifest, err)
	}
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodHead, URL: r.URL("/manifests/%s", ref),
		Header: http.Header{"Accept": {accept}}})
	if err != nil {
		return false, WrapErr(op, SubjectManifest, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err := CheckResponse(op, SubjectManifest, resp, http.StatusOK); err != nil {
		return false, err
	}
	return true, nil
}
