package remote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
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
		return nil, opErrorf(op, "asked for bytes %d-%d, the registry answered Content-Range %q", off, end, cr)
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
		return false, 0, opErrorf(op, "the registry did not give the size")
	}
	// A registry names the blob; a web server answering 200 to anything
	// (an HTML page) is not telling us the blob exists.
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" {
		if got != d.String() {
			return false, 0, opErrorf(op, "the registry answered for %s", got)
		}
	} else if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") {
		return false, 0, opErrorf(op, "the answer is a web page (%s), not a registry's", ct)
	}
	return true, resp.ContentLength, nil
}

// Stat implements [store.Store] (HEAD).
func (r *Repo) Stat(ctx context.Context, d v1.Hash) (store.Blob, error) {
	ok, size, err := r.HeadBlob(ctx, d)
	if err != nil {
		return store.Blob{}, err
	}
	if !ok {
		return store.Blob{}, NotFound("blob size "+d.String(), store.ErrBlobNotFound)
	}
	return store.Blob{Digest: d, Size: size}, nil
}

// Open implements [store.Store]: a GET of the whole blob, or of a range.
func (r *Repo) Open(ctx context.Context, b store.Blob, off, n int64) (io.ReadCloser, error) {
	op := "pull blob " + b.Digest.String()
	if off == 0 && n < 0 {
		resp, err := r.GetBlob(ctx, b.Digest, 0)
		if err != nil {
			return nil, err
		}
		size := resp.ContentLength
		if b.Size >= 0 && size >= 0 && size != b.Size {
			resp.Body.Close()
			return nil, opErrorf(op, "%w: the registry sends %d bytes, %d expected", store.ErrSizeMismatch, size, b.Size)
		}
		if size < 0 {
			size = b.Size
		}
		if size < 0 {
			return resp.Body, nil
		}
		return readCloser{io.LimitReader(resp.Body, size), resp.Body}, nil
	}
	if b.Size < 0 {
		st, err := r.Stat(ctx, b.Digest)
		if err != nil {
			return nil, err
		}
		b.Size = st.Size
	}
	if off < 0 || off > b.Size {
		return nil, opErrorf(op, "offset %d outside its %d bytes", off, b.Size)
	}
	if n < 0 || off+n > b.Size {
		n = b.Size - off
	}
	if n == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	resp, err := r.GetRange(ctx, op, b.Digest, off, off+n-1)
	if err != nil {
		return nil, err
	}
	cr := resp.Header.Get("Content-Range")
	if _, total, ok := strings.Cut(cr, "/"); ok && total != "*" && total != strconv.FormatInt(b.Size, 10) {
		resp.Body.Close()
		return nil, opErrorf(op, "%w: the registry holds %s bytes, %d expected", store.ErrSizeMismatch, total, b.Size)
	}
	return readCloser{io.LimitReader(resp.Body, n), resp.Body}, nil
}

// Fetch implements [store.Fetcher]: one GET of the blob (from off on: a
// Range request, answered 206 from off). The size is the answer's
// Content-Length, or, for an answer without one (chunked), what a HEAD
// request gives; a registry that gives no size at all is refused. Its
// errors are named "pull blob DIGEST", but for a resumed read's answer
// starting elsewhere, which the caller names (it says how far it got).
func (r *Repo) Fetch(ctx context.Context, want store.Blob, off int64) (io.ReadCloser, int64, error) {
	d, size := want.Digest, want.Size
	resp, err := r.GetBlob(ctx, d, off)
	if err != nil {
		return nil, 0, err
	}
	if off > 0 {
		if cr := resp.Header.Get("Content-Range"); !RangeStartsAt(cr, off) {
			resp.Body.Close()
			return nil, 0, fmt.Errorf("registry answered Content-Range %q", cr)
		}
		return resp.Body, size, nil
	}
	op := "pull blob " + d.String()
	switch {
	case size >= 0 && resp.ContentLength >= 0 && resp.ContentLength != size:
		resp.Body.Close()
		return nil, 0, opErrorf(op, "%w: the registry sends %d bytes, %d expected", store.ErrSizeMismatch, resp.ContentLength, size)
	case size < 0 && resp.ContentLength >= 0:
		size = resp.ContentLength
	case size < 0:
		// Sent without Content-Length (chunked): ask for the size, and
		// hold the body to it.
		ok, n, herr := r.HeadBlob(ctx, d)
		if herr == nil && !ok {
			herr = NotFound(op, store.ErrBlobNotFound)
		}
		if herr != nil {
			resp.Body.Close()
			return nil, 0, opErrorf(op, "sent without Content-Length, and its size cannot be had: %w", herr)
		}
		size = n
	}
	return resp.Body, size, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
