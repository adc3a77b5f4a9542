package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ProgressFunc is told how many bytes of a blob have been transferred so far
// and the blob's total size (-1 if unknown). It is called from the goroutine
// doing the transfer, first with done == 0.
type ProgressFunc func(done, total int64)

// PushOption configures one push.
type PushOption func(*pushOptions)

type pushOptions struct {
	digest      *v1.Hash
	size        int64
	progress    ProgressFunc
	checkExists bool
}

// WithDigest gives the blob's digest in advance. The registry then checks it
// is already there before anything is sent (see [WithCheckExists]), and
// verifies the uploaded bytes against it.
func WithDigest(d v1.Hash) PushOption {
	return func(o *pushOptions) { o.digest = &d }
}

// WithSize gives the blob's size in advance (for progress and Content-Length).
func WithSize(n int64) PushOption {
	return func(o *pushOptions) { o.size = n }
}

// WithProgress reports transfer progress to f.
func WithProgress(f ProgressFunc) PushOption {
	return func(o *pushOptions) { o.progress = f }
}

// WithCheckExists says whether to ask the registry if it already has a blob
// of known digest before uploading it (default true). When it has, nothing
// is sent and no progress is reported.
func WithCheckExists(check bool) PushOption {
	return func(o *pushOptions) { o.checkExists = check }
}

// PushResult describes a pushed blob.
type PushResult struct {
	// Digest is the blob's sha256 digest.
	Digest v1.Hash
	// Size is the blob's size in bytes.
	Size int64
	// Existed is true when the registry already had the blob and no data was sent.
	Existed bool
}

// Blob returns the blob's digest and size.
func (p PushResult) Blob() Blob { return Blob{Digest: p.Digest, Size: p.Size} }

// PushBlob uploads the data rd yields as one blob. Without [WithDigest] the
// digest is computed while the data streams to the registry (one pass, no
// existence check); with it, an existing blob is not sent again. Memory use
// is constant whatever the size.
func (r *Repository) PushBlob(ctx context.Context, rd io.Reader, opts ...PushOption) (PushResult, error) {
	o := pushOptions{size: -1, checkExists: true}
	for _, opt := range opts {
		opt(&o)
	}
	return r.push(ctx, rd, o)
}

// PushFile uploads the file at path as one blob. If the registry was made
// [WithDigestCache] and the file is unchanged since it was last pushed, its
// digest comes from the cache and an existing blob costs one HEAD request;
// otherwise the file is read once, hashed while it is sent.
func (r *Repository) PushFile(ctx context.Context, path string, opts ...PushOption) (PushResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return PushResult{}, fmt.Errorf("push %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return PushResult{}, fmt.Errorf("push %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return PushResult{}, fmt.Errorf("push %s: not a regular file", path)
	}
	o := pushOptions{size: fi.Size(), checkExists: true}
	var cache *digestCache
	if r.reg.o.digestCache != "" {
		cache = &digestCache{dir: r.reg.o.digestCache}
		if d, ok := cache.lookup(path, fi); ok {
			o.digest = &d
		}
	}
	for _, opt := range opts {
		opt(&o)
	}
	res, err := r.push(ctx, f, o)
	if err != nil {
		return res, fmt.Errorf("push %s: %w", path, err)
	}
	if cache != nil {
		cache.store(path, fi, res.Digest)
	}
	return res, nil
}

func (r *Repository) push(ctx context.Context, rd io.Reader, o pushOptions) (PushResult, error) {
	if o.digest != nil && o.checkExists {
		ok, size, err := r.headBlob(ctx, *o.digest)
		if err != nil {
			return PushResult{}, err
		}
		if ok {
			return PushResult{Digest: *o.digest, Size: size, Existed: true}, nil
		}
	}
	op := "push blob"
	if o.digest != nil {
		op += " " + o.digest.String()
	}
	c, err := r.pushClient(ctx)
	if err != nil {
		return PushResult{}, wrapErr(op, subjectRepo, err)
	}
	loc, err := r.startUpload(ctx, c, op, "")
	if err != nil {
		return PushResult{}, err
	}

	body := &countingReader{r: rd, total: o.size, progress: o.progress}
	if o.progress != nil {
		o.progress(0, o.size)
	}
	rewind := body.rewinder()
	if o.digest != nil {
		// Digest known: one monolithic PUT; the registry verifies the bytes.
		if err := r.finishUpload(ctx, c, op, loc, *o.digest, body, o.size, rewind); err != nil {
			return PushResult{}, err
		}
		return PushResult{Digest: *o.digest, Size: body.n}, nil
	}

	// Digest unknown: stream the data in a PATCH while hashing it, then
	// commit with the digest we computed.
	h := sha256.New()
	body.h = h
	resp, err := r.reg.do(ctx, c, request{method: http.MethodPatch, url: loc, stream: body, length: o.size, rewind: rewind,
		header: http.Header{"Content-Type": {"application/octet-stream"}}})
	if err != nil {
		return PushResult{}, wrapErr(op, subjectRepo, err)
	}
	err = checkResponse(op, subjectRepo, resp, http.StatusAccepted, http.StatusNoContent, http.StatusCreated)
	next := resp.Header.Get("Location")
	resp.Body.Close()
	if err != nil {
		return PushResult{}, err
	}
	if o.size >= 0 && body.n != o.size {
		return PushResult{}, fmt.Errorf("%s: %w: read %d bytes, expected %d", op, ErrSizeMismatch, body.n, o.size)
	}
	if next != "" {
		if loc, err = resolveLocation(loc, next); err != nil {
			return PushResult{}, fmt.Errorf("%s: %w", op, err)
		}
	}
	d := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	if err := r.finishUpload(ctx, c, "push blob "+d.String(), loc, d, nil, 0, nil); err != nil {
		return PushResult{}, err
	}
	return PushResult{Digest: d, Size: body.n}, nil
}

// startUpload opens an upload session (POST) and returns its URL. With a
// query (e.g. a mount request) the answer may also be 201.
func (r *Repository) startUpload(ctx context.Context, c *http.Client, op, query string) (string, error) {
	u := r.url("/blobs/uploads/") + query
	resp, err := r.reg.do(ctx, c, request{method: http.MethodPost, url: u})
	if err != nil {
		return "", wrapErr(op, subjectRepo, err)
	}
	defer resp.Body.Close()
	if err := checkResponse(op, subjectRepo, resp, http.StatusAccepted); err != nil {
		return "", err
	}
	loc, err := resolveLocation(u, resp.Header.Get("Location"))
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	return loc, nil
}

// finishUpload commits the upload at loc with digest d, sending body (which
// may be nil) with it.
func (r *Repository) finishUpload(ctx context.Context, c *http.Client, op, loc string, d v1.Hash, body io.Reader, size int64, rewind func() error) error {
	u, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("%s: bad upload location: %w", op, err)
	}
	q := u.Query()
	q.Set("digest", d.String())
	u.RawQuery = q.Encode()
	req := request{method: http.MethodPut, url: u.String(), header: http.Header{"Content-Type": {"application/octet-stream"}}}
	if body != nil {
		req.stream, req.length, req.rewind = body, size, rewind
	}
	resp, err := r.reg.do(ctx, c, req)
	if err != nil {
		return wrapErr(op, subjectBlob, err)
	}
	defer resp.Body.Close()
	return checkResponse(op, subjectBlob, resp, http.StatusCreated)
}

// resolveLocation resolves a Location header against the request URL.
func resolveLocation(base, loc string) (string, error) {
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

// countingReader counts (and optionally hashes) what passes through it and
// reports progress.
type countingReader struct {
	r        io.Reader
	h        hash.Hash
	n        int64
	total    int64
	progress ProgressFunc
}

// rewinder returns a function that restarts the data from where it began,
// if the underlying reader can seek (a file); otherwise nil.
func (c *countingReader) rewinder() func() error {
	s, ok := c.r.(io.Seeker)
	if !ok {
		return nil
	}
	start, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	return func() error {
		if _, err := s.Seek(start, io.SeekStart); err != nil {
			return err
		}
		c.n = 0
		if c.h != nil {
			c.h.Reset()
		}
		if c.progress != nil {
			c.progress(0, c.total)
		}
		return nil
	}
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		if c.h != nil {
			c.h.Write(p[:n])
		}
		c.n += int64(n)
		if c.progress != nil {
			c.progress(c.n, c.total)
		}
	}
	return n, err
}
