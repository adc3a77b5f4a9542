package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// StartUpload opens an upload session (POST) and returns its URL. With a
// query (e.g. a mount request) the answer may also be 201. Opening a session
// is retried on transient failures, as an idempotent request is: a registry
// restarting (connection refused or reset, 502, 503) is waited for with the
// usual back-off.
func (r *Repo) StartUpload(ctx context.Context, c *http.Client, op, query string) (string, error) {
	u := r.URL("/blobs/uploads/") + query
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodPost, URL: u, RetrySafe: true})
	if err != nil {
		return "", WrapErr(op, SubjectRepo, err)
	}
	defer resp.Body.Close()
	if err := CheckResponse(op, SubjectRepo, resp, http.StatusAccepted); err != nil {
		return "", err
	}
	loc, err := ResolveLocation(u, resp.Header.Get("Location"))
	if err != nil {
		return "", opErrorf(op, "%w", err)
	}
	return loc, nil
}

// CommitUpload commits the upload at loc with digest d (PUT). data is the
// request's body, if any: req.Upload (the blob's last bytes, or all of it,
// sent once) or req.Body (bytes that can be sent again); its method, URL and
// headers are set here. Every commit of a blob goes through here, so every
// one is checked: a Docker-Content-Digest naming another digest than d is a
// [store.DigestMismatchError]. It reports whether the answer named d, in
// its Docker-Content-Digest and its Location: the registry then says it stored
// the blob under that name, which blobstore.WithVerifyStored takes as proof.
func (r *Repo) CommitUpload(ctx context.Context, c *http.Client, op, loc string, d v1.Hash, req xport.Request, readErr func() error) (bool, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return false, opErrorf(op, "bad upload location: %w", err)
	}
	q := u.Query()
	q.Set("digest", d.String())
	u.RawQuery = q.Encode()
	req.Method, req.URL = http.MethodPut, u.String()
	// No Content-Range: the specification gives the closing PUT none, and
	// registries read its body as the data after what they hold.
	req.Header = http.Header{"Content-Type": {"application/octet-stream"}}
	resp, err := r.t.Do(ctx, c, req)
	if err == nil {
		err = CheckResponse(op, SubjectBlob, resp, http.StatusCreated, http.StatusNoContent)
		resp.Body.Close()
	}
	if rerr := readErr(); err == nil && rerr != nil {
		return false, opErrorf(op, "reading the data: %w", rerr)
	}
	if err == nil {
		// The registry names what it stored: anything but d means it
		// stored other bytes (or is not a registry); as for manifests.
		got := resp.Header.Get("Docker-Content-Digest")
		if got != "" {
			gd, perr := r.codec.ParseDigest(got)
			if perr != nil {
				return false, opErrorf(op, "the commit's Docker-Content-Digest: %w", perr)
			}
			if gd != d {
				return false, opErrorf(op, "the registry stored something else: %w", &store.DigestMismatchError{Expected: d, Got: gd})
			}
		}
		return resp.StatusCode == http.StatusCreated && got != "" && namesBlob(resp.Header.Get("Location"), d), nil
	}
	// The commit may have succeeded with its answer lost: a retry then finds
	// the session gone. The registry holding the blob under its digest says
	// the upload landed (it verified the digest when committing).
	if ok, _, herr := r.HeadBlob(ctx, d); herr == nil && ok {
		return false, nil
	}
	return false, WrapErr(op, SubjectBlob, err)
}

// namesBlob reports whether loc, a commit's Location, is the URL of blob d
// (".../blobs/<d>", as the specification has it).
func namesBlob(loc string, d v1.Hash) bool {
	u, err := url.Parse(loc)
	return err == nil && strings.HasSuffix(u.Path, "/blobs/"+d.String())
}

// CancelUpload deletes the upload session at loc (best effort: a registry
// drops abandoned sessions anyway, later), even if ctx is done.
func (r *Repo) CancelUpload(ctx context.Context, c *http.Client, loc string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodDelete, URL: loc, NoRetry: true})
	if err == nil {
		resp.Body.Close()
	}
}

// PatchChunk sends body, bytes [off, off+n) of the blob, to the upload
// session at loc (one PATCH with its Content-Range) and returns the next
// upload URL. readErr tells a failure to read the data after the answer.
func (r *Repo) PatchChunk(ctx context.Context, c *http.Client, op, loc string, body xport.Upload, off, n int64, readErr func() error) (string, error) {
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	if n > 0 {
		hdr.Set("Content-Range", fmt.Sprintf("%d-%d", off, off+n-1))
	}
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodPatch, URL: loc, Upload: body, Header: hdr})
	if err != nil {
		return "", WrapErr(op, SubjectRepo, err)
	}
	defer resp.Body.Close()
	// 202 is the specification's answer; ECR answers 201 (as streamed
	// PATCHes are taken with it, see blobstore's pushStream).
	if err := CheckResponse(op, SubjectRepo, resp, http.StatusAccepted, http.StatusNoContent, http.StatusCreated); err != nil {
		return "", err
	}
	if err := readErr(); err != nil {
		return "", opErrorf(op, "reading the data: %w", err)
	}
	if next := resp.Header.Get("Location"); next != "" {
		return ResolveLocation(loc, next)
	}
	return loc, nil
}

// UploadStatus asks the registry how many bytes an upload session holds
// (GET on its URL; the answer's Range header is "0-<last byte>"). acked is
// what the client believes, to read Distribution's ambiguous "0-0".
func (r *Repo) UploadStatus(ctx context.Context, c *http.Client, loc string, acked int64) (int64, string, error) {
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodGet, URL: loc})
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if err := CheckResponse("upload status", SubjectRepo, resp, http.StatusNoContent, http.StatusOK); err != nil {
		return 0, "", err
	}
	var first, last int64
	if _, err := fmt.Sscanf(resp.Header.Get("Range"), "%d-%d", &first, &last); err != nil || first != 0 {
		return 0, "", fmt.Errorf("upload status: bad Range %q", resp.Header.Get("Range"))
	}
	got := last + 1
	if last == 0 && acked == 0 {
		// "0-0" means one byte or none (Distribution writes both so): we
		// cannot tell, so the caller starts over in a new session.
		return 0, "", errors.New("upload status: ambiguous Range 0-0")
	}
	next := loc
	if l := resp.Header.Get("Location"); l != "" {
		if next, err = ResolveLocation(loc, l); err != nil {
			return 0, "", err
		}
	}
	return got, next, nil
}

// PatchStream sends body, the whole blob as a stream, to the upload session
// at loc (one PATCH without Content-Range) and returns the Location the
// answer names, if any.
func (r *Repo) PatchStream(ctx context.Context, c *http.Client, op, loc string, body xport.Upload) (string, error) {
	resp, err := r.t.Do(ctx, c, xport.Request{Method: http.MethodPatch, URL: loc, Upload: body,
		Header: http.Header{"Content-Type": {"application/octet-stream"}}})
	if err != nil {
		return "", WrapErr(op, SubjectRepo, err)
	}
	err = CheckResponse(op, SubjectRepo, resp, http.StatusAccepted, http.StatusNoContent, http.StatusCreated)
	next := resp.Header.Get("Location")
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	return next, nil
}
