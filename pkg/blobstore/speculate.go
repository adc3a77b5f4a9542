package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/hashing"
)

// speculateMin is the smallest file pushed speculatively: below it the
// upload is over about as soon as an existence check could stop it.
const speculateMin = 8 << 20

// errAlreadyThere cancels an upload whose blob the registry turned out to
// have.
var errAlreadyThere = errors.New("the registry already has the blob")

// speculation is the state shared by a speculative push's upload and its
// hasher: the digest once known, and the upload session to delete if the
// upload is cancelled. A nil *speculation does nothing.
type speculation struct {
	done chan struct{} // closed when d or err is set
	d    v1.Hash
	err  error

	mu  sync.Mutex
	loc string
}

// session records the upload session's current URL.
func (s *speculation) session(loc string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.loc = loc
	s.mu.Unlock()
}

// digest waits for the hasher's digest.
func (s *speculation) digest(ctx context.Context) (v1.Hash, error) {
	select {
	case <-s.done:
		return s.d, s.err
	case <-ctx.Done():
		return v1.Hash{}, context.Cause(ctx)
	}
}

// pushSpeculative pushes a file whose digest is not known yet: the upload
// starts at once (without hashing), while another goroutine reads the
// file ahead of it and hashes it. As soon as the digest is known one HEAD
// asks the registry for the blob; if it is there, the upload is cancelled
// and its session deleted, and the push reports the blob as existing. If
// not, the upload carries on and commits under that digest, which the
// registry checks against what it received (a file changed meanwhile fails
// the commit rather than landing under a wrong name).
func (r *Repository) pushSpeculative(ctx context.Context, c *http.Client, op string, ra io.ReaderAt, o transferOptions, sent func(int64)) (PushResult, error) {
	spec := &speculation{done: make(chan struct{})}
	o.spec = spec
	upCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	var existed bool
	go func() {
		defer wg.Done()
		defer close(spec.done)
		d, err := hashSection(upCtx, ra, o.size)
		if err != nil {
			spec.err = err
			return
		}
		// The upload gets the digest (to commit with) only once the
		// registry said it lacks the blob: a commit never races the
		// cancellation.
		ok, size, herr := r.headBlob(upCtx, d)
		if herr == nil && ok && size == o.size {
			existed = true
			spec.d, spec.err = d, errAlreadyThere
			cancel(errAlreadyThere)
			return
		}
		spec.d = d
	}()
	res, err := r.pushChunked(upCtx, c, op, ra, o, sent)
	if err == nil {
		cancel(nil)
		wg.Wait()
		return res, nil
	}
	wg.Wait()
	if !existed {
		if cause := context.Cause(upCtx); cause != nil && ctx.Err() == nil && !errors.Is(cause, context.Canceled) {
			return PushResult{}, fmt.Errorf("%s: %w", op, cause)
		}
		return PushResult{}, err
	}
	r.abandonUpload(ctx, c, spec)
	sent(o.size)
	return PushResult{Digest: spec.d, Size: o.size, Existed: true}, nil
}

// hashSection hashes the first size bytes of ra, in large reads into a
// recycled buffer (many small files are hashed this way, see push.go).
func hashSection(ctx context.Context, ra io.ReaderAt, size int64) (v1.Hash, error) {
	h := sha256.New()
	bp := hashing.GetBuffer()
	defer hashing.PutBuffer(bp)
	buf := (*bp)[:cap(*bp)]
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return v1.Hash{}, context.Cause(ctx)
		}
		n, err := ra.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		h.Write(buf[:n])
		off += int64(n)
		if err != nil && (!errors.Is(err, io.EOF) || off != size) {
			return v1.Hash{}, fmt.Errorf("reading the data: %w", err)
		}
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, nil
}

// abandonUpload deletes a cancelled upload's session (best effort: a
// registry drops abandoned sessions anyway, later).
func (r *Repository) abandonUpload(ctx context.Context, c *http.Client, spec *speculation) {
	spec.mu.Lock()
	loc := spec.loc
	spec.mu.Unlock()
	if loc == "" {
		return
	}
	r.up.CancelUpload(ctx, c, loc)
}
