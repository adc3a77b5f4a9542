package remote

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
)

// GetBlob GETs the blob, from offset on if offset > 0 (then the answer must
// be 206 Partial Content for that offset).
func (r *Repo) GetBlob(ctx context.Context, d v1.Hash, offset int64) (*http.Response, error) {
	op := "pull blob " + d.String()
	c, err := r.PullClient(ctx)
	if err != nil {
		return nil, WrapErr(op, SubjectBlob, err)
	}
	req := xport.Request{Method: http.MethodGet, URL: r.BlobURL(d)}
	want := http.StatusOK
	if offset > 0 {
		req.Header = http.Header{"Range": {"bytes=" + strconv.FormatInt(offset, 10) + "-"}}
		want = http.StatusPartialContent
	}
	resp, err := r.t.Do(ctx, c, req)
	if err != nil {
		return nil, WrapErr(op, SubjectBlob, err)
	}
	if err := CheckResponse(op, SubjectBlob, resp, want); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// GetRange GETs bytes [off, end] of the blob (one Range request) for op. The
// answer must be 206 Partial Content starting at off; the caller closes its
// body.
func (r *Repo) GetRange(ctx context.Context, op string, d v1.Hash, off, end int64) (*http.Response, error) {
	c, err := r.PullClient(ctx)
	if err != nil {
		return nil, WrapErr(op, SubjectBlob, err)
	}
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodGet, URL: r.BlobURL(d),
		Header: http.Header{"Range": {"bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(end, 10)}}})
	if err != nil {
		return nil, WrapErr(op, SubjectBlob, err)
	}
	if err := CheckResponse(op, SubjectBlob, resp, http.StatusPartialContent); err != nil {
		resp.Body.Close()
		return nil, err
	}
	if cr := resp.Header.Get("Content-Range"); !RangeStartsAt(cr, off) {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: asked for bytes %d-%d, the registry answered Content-Range %q", op, off, end, cr)
	}
	return resp, nil
}

// RangeStartsAt reports whether the Content-Range header cr starts at off.
func RangeStartsAt(cr string, off int64) bool {
	var start, end int64
	var total string
	if _, err := fmt.Sscanf(cr, "bytes %d-%d/%s", &start, &end, &total); err != nil {
		return false
	}
	return start == off
}

// HeadBlob HEADs the blob: (true, size) if it exists, false on 404.
func (r *Repo) HeadBlob(ctx context.Context, d v1.Hash) (bool, int64, error) {
	op := "blob size " + d.String()
	c, err := r.PullClient(ctx)
	if err != nil {
		return false, 0, WrapErr(op, SubjectBlob, err)
	}
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodHead, URL: r.BlobURL(d)})
	if err != nil {
		return false, 0, WrapErr(op, SubjectBlob, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return false, 0, nil
	}
	if err := CheckResponse(op, SubjectBlob, resp, http.StatusOK); err != nil {
		return false, 0, err
	}
	if resp.ContentLength < 0 {
		return false, 0, fmt.Errorf("%s: the registry did not give the size", op)
	}
	// A registry names the blob; a web server answering 200 to anything
	// (an HTML page) is not telling us the blob exists.
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" {
		if got != d.String() {
			return false, 0, fmt.Errorf("%s: the registry answered for %s", op, got)
		}
	} else if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") {
		return false, 0, fmt.Errorf("%s: the answer is a web page (%s), not a registry's", op, ct)
	}
	return true, resp.ContentLength, nil
}
