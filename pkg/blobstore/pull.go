package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/hashing"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
	"github.com/dxf-go/dxf/pkg/internal/retry"
)

// BlobReader streams one blob from the registry and verifies it: when the
// last byte has been read, Read returns a [*DigestMismatchError] instead of
// io.EOF if the data does not hash to the digest, and an error wrapping
// [ErrSizeMismatch] if its length differs from the announced size. Callers
// must Close it.
type BlobReader struct {
	// Digest is the digest the blob was asked for by.
	Digest v1.Hash
	// Size is the blob's size: as the caller knew it ([Repository.PullBlobSize]),
	// else as the registry announced it (Content-Length, or its answer to a
	// HEAD request when the GET carried none). The body is held to it: a
	// byte past it is an error, and never handed out.
	Size int64

	ctx  context.Context
	repo *Repository
	body io.ReadCloser
	h    *hashing.Hasher
	n    int64
	err  error
	// resumes counts reconnections after a broken body, against the limit
	// WithRetries sets.
	resumes *retry.Counter
	onClose []func()
	closed  bool
	// unhashed: the reader's consumer hashes the data and checks the
	// digest itself ([Copy], whose push does): only the size is checked.
	unhashed bool
}

// whenClosed arranges for f to run when b is first closed, and returns b.
func (b *BlobReader) whenClosed(f func()) *BlobReader {
	b.onClose = append(b.onClose, f)
	return b
}

// PullBlob opens the blob with digest d for reading. The registry's answer
// must be 200; a missing blob gives an error matching [ErrBlobNotFound].
// The blob is held to the size the registry gives: its Content-Length, or,
// for an answer without one, the size a HEAD request gives. A registry that
// gives no size at all is refused: an endless body could not be told from
// a large blob.
func (r *Repository) PullBlob(ctx context.Context, d v1.Hash) (*BlobReader, error) {
	return r.PullBlobSize(ctx, d, -1)
}

// PullBlobSize is [Repository.PullBlob] for a blob whose size is known (from
// a manifest): the blob must be exactly size bytes. An answer announcing
// another Content-Length fails with [ErrSizeMismatch] before any byte is
// read, and one without Content-Length is read up to size bytes and no
// further. A negative size means unknown.
func (r *Repository) PullBlobSize(ctx context.Context, d v1.Hash, size int64) (*BlobReader, error) {
	if d.Algorithm != "sha256" {
		return nil, fmt.Errorf("%w: expected digest method sha256, got %q", ErrUnexpectedDigestMethod, d.Algorithm)
	}
	body, size, err := store.Fetch(ctx, r.Store(), Blob{Digest: d, Size: size}, 0)
	if err != nil {
		return nil, withOp("pull blob "+d.String(), err)
	}
	return &BlobReader{Digest: d, Size: size, ctx: ctx, repo: r, h: hashing.New(), body: body,
		resumes: retry.NewCounter(r.opts().retries)}, nil
}

// Read implements io.Reader, verifying the digest at the end. It hashes
// what it reads on the calling goroutine, straight from p: no copy, no
// buffers held, which suits many blobs read at once, each by its own
// goroutine. For one stream at full speed use WriteTo (io.Copy does), which
// hashes on another core while writing.
func (b *BlobReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.Size >= 0 && int64(len(p)) > b.Size-b.n {
		// Read at most one byte past the end, to tell an overlong body.
		p = p[:b.Size-b.n+1]
	}
	n, err := b.body.Read(p)
	if n > 0 && !b.unhashed {
		b.h.WriteInline(p[:n])
	}
	if n > 0 {
		b.n += int64(n)
	}
	if b.overran() {
		// The byte past the end is not handed out.
		return n - int(b.n-b.Size), b.err
	}
	if err == nil {
		return n, nil
	}
	if errors.Is(err, io.EOF) {
		b.err = b.verify()
		return n, b.err
	}
	// A broken body: try to carry on from where it broke.
	if rerr := b.resume(err); rerr != nil {
		b.err = rerr
		return n, b.err
	}
	return n, nil
}

// overran reports (and records as b.err) a body longer than announced.
func (b *BlobReader) overran() bool {
	if b.Size >= 0 && b.n > b.Size {
		b.err = fmt.Errorf("pull blob %s: %w: got more than the announced %d bytes", b.Digest, ErrSizeMismatch, b.Size)
		return true
	}
	return false
}

// resume reopens the blob at the current offset with a Range request after
// the body failed with cause, at once (the connection broke; the registry
// did not ask to wait), at most as often as WithRetries allows. A reopening
// that fails transiently (the registry restarting: connections refused for
// longer than the request's own retries last) counts as another failure
// and is tried again after a back-off. The hash carries on, so the whole
// blob is still verified.
func (b *BlobReader) resume(cause error) error {
	if b.ctx.Err() != nil || !transient(cause) || !b.resumes.Again() {
		return fmt.Errorf("pull blob %s: after %d bytes: %w", b.Digest, b.n, cause)
	}
	_ = b.body.Close()
	fetch := func() (io.ReadCloser, error) {
		body, _, err := store.Fetch(b.ctx, b.repo.Store(), Blob{Digest: b.Digest, Size: b.Size}, b.n)
		return body, err
	}
	body, err := fetch()
	for err != nil && registryDown(err) && b.ctx.Err() == nil && b.resumes.Again() {
		if werr := b.resumes.Wait(b.ctx, 0); werr != nil {
			break
		}
		body, err = fetch()
	}
	if err != nil {
		return fmt.Errorf("pull blob %s: resuming after %d bytes (%w): %w", b.Digest, b.n, cause, err)
	}
	b.body = body
	return nil
}

func (b *BlobReader) verify() error {
	var got v1.Hash
	if !b.unhashed {
		got = b.h.Digest()
	}
	if b.Size >= 0 && b.n != b.Size {
		return fmt.Errorf("pull blob %s: %w: got %d bytes, announced %d", b.Digest, ErrSizeMismatch, b.n, b.Size)
	}
	if !b.unhashed && got != b.Digest {
		return &DigestMismatchError{Expected: b.Digest, Got: got}
	}
	return io.EOF
}

// WriteTo copies the whole blob to w, verifying it; it returns nil only if
// the blob was complete and matched its digest. It implements io.WriterTo,
// so io.Copy uses it: data is read into the hasher's own buffers, hashed on
// another goroutine while it is written to w, and never copied in between.
func (b *BlobReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for b.err == nil {
		buf := b.h.Buffer()
		n, err := io.ReadFull(b.body, buf)
		if n > 0 {
			b.n += int64(n)
			b.h.Submit(buf[:n])
			if b.overran() {
				return total, b.err
			}
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				b.err = werr
				return total, werr
			}
		} else {
			b.h.Submit(buf[:0])
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) && b.Size >= 0 && b.n == b.Size:
			b.err = b.verify()
		case errors.Is(err, io.ErrUnexpectedEOF) && b.Size < 0:
			// ReadFull's short read at the end of a body of unknown length.
			b.err = b.verify()
		default:
			if rerr := b.resume(err); rerr != nil {
				b.err = rerr
			}
		}
	}
	if errors.Is(b.err, io.EOF) {
		return total, nil
	}
	return total, b.err
}

// Close releases the connection.
func (b *BlobReader) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	defer func() {
		for _, f := range b.onClose {
			f()
		}
	}()
	b.h.Close()
	if b.err == nil {
		b.err = errors.New("blob reader closed")
	}
	return b.body.Close()
}

// BlobSize returns the size of the blob with digest d (a HEAD request).
func (r *Repository) BlobSize(ctx context.Context, d v1.Hash) (int64, error) {
	op := "blob size " + d.String()
	b, err := r.Store().Stat(ctx, d)
	var answer *Error
	switch {
	case err == nil:
		return b.Size, nil
	case errors.Is(err, ErrBlobNotFound) && !errors.As(err, &answer):
		// No registry's answer to quote (a layout): say where it is not.
		return 0, fmt.Errorf("%s: %w in %s", op, ErrBlobNotFound, r)
	}
	return 0, withOp(op, err)
}

// HasBlob reports whether the registry has the blob with digest d.
func (r *Repository) HasBlob(ctx context.Context, d v1.Hash) (bool, error) {
	ok, _, err := r.headBlob(ctx, d)
	return ok, err
}

// headBlob asks the store for the blob's size (a registry: HEAD): (true,
// size) if it has it, false if not.
func (r *Repository) headBlob(ctx context.Context, d v1.Hash) (bool, int64, error) {
	b, err := r.Store().Stat(ctx, d)
	if errors.Is(err, ErrBlobNotFound) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, withOp("blob size "+d.String(), err)
	}
	return true, b.Size, nil
}
