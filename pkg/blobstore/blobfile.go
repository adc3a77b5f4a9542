package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultMaxWholePart is the largest blob a [BlobFile] fetches whole to
// verify it, unless [WithMaxWholePart] says otherwise.
const DefaultMaxWholePart = 64 << 20

// DefaultFileCache is how many bytes of fetched blobs a [BlobFile] keeps,
// unless [WithFileCache] says otherwise (at least two blobs are kept).
const DefaultFileCache = 64 << 20

// ErrLargeBlob says an alias opened with [Repository.OpenAlias] has a blob
// larger than the part a verified read fetches whole (see
// [WithMaxWholePart]); open it [WithVerifyLargeBlobs], or with
// [Repository.OpenAliasUnverified].
var ErrLargeBlob = errors.New("blob too large to fetch whole for a verified read")

// FileOption configures a [BlobFile].
type FileOption func(*fileOptions)

type fileOptions struct {
	maxWhole    int64
	cache       int64
	verifyLarge bool
	unverified  bool
}

// WithMaxWholePart sets the largest blob fetched whole (and verified)
// when a read touches it; larger blobs are read with HTTP Range requests.
func WithMaxWholePart(n int64) FileOption {
	return func(o *fileOptions) { o.maxWhole = n }
}

// WithFileCache bounds the bytes of fetched blobs kept in memory.
func WithFileCache(n int64) FileOption {
	return func(o *fileOptions) { o.cache = n }
}

// WithVerifyLargeBlobs makes [Repository.OpenAlias] accept blobs larger
// than the whole-fetch limit: the first read that touches one streams the
// whole blob through SHA-256 (and discards it) before any of its bytes are
// returned; reads then use Range requests. The registry is trusted to serve
// the same bytes to those requests as it did to the verifying one.
func WithVerifyLargeBlobs() FileOption {
	return func(o *fileOptions) { o.verifyLarge = true }
}

// filePart is one blob of a BlobFile, at offset off of the concatenation.
type filePart struct {
	Blob
	off      int64
	large    bool // read by ranges, not fetched whole
	verified bool // (large) its whole body was hashed and matched
}

// cached is a blob fetched whole (or being fetched).
type cached struct {
	index int
	data  []byte
	err   error
	ready chan struct{}
	used  uint64 // for least-recently-used eviction
}

// BlobFile is an alias (or one blob) opened as a read-only file: the
// concatenation of its blobs, as [Repository.PullAlias] writes it. It implements
// io.ReaderAt (safe for concurrent use), io.ReadSeeker and io.Closer.
//
// A read fetches only the blobs it touches, each whole, and returns none of
// a blob's bytes before the blob matched its digest: every byte is
// verified. A few blobs are kept (see [WithFileCache]); reading on
// sequentially (Read) fetches the next blob ahead. Blobs larger than
// [WithMaxWholePart] need [WithVerifyLargeBlobs], or
// [Repository.OpenAliasUnverified].
type BlobFile struct {
	repo  *Repository
	ctx   context.Context
	stop  context.CancelFunc
	parts []filePart
	size  int64
	o     fileOptions

	mu      sync.Mutex
	cache   map[int]*cached
	held    int64 // bytes in cache
	tick    uint64
	pos     int64 // for Read and Seek
	nextSeq int64 // where a sequential Read would start
	fetches int   // blob GETs made (for tests)
	closed  bool
	bg      sync.WaitGroup
}

// UnverifiedFile is a [BlobFile] whose large blobs (over
// [WithMaxWholePart]) are read with HTTP Range requests and NOT verified:
// no byte of such a blob can be checked without fetching the whole blob.
// Bytes of smaller blobs are still verified. Its type says so wherever it
// is passed.
type UnverifiedFile struct {
	*BlobFile
}

// OpenAlias opens the blobs of alias (an image manifest; with a platform
// for a multi-platform alias) as one verified file. ctx bounds every
// request the file makes; Close the file to release it.
func (r *Repository) OpenAlias(ctx context.Context, alias, platform string, opts ...FileOption) (*BlobFile, error) {
	return r.openAlias(ctx, alias, platform, fileOpts(opts))
}

// OpenAliasUnverified is [Repository.OpenAlias] for aliases with blobs too
// large to fetch whole: reads of those use HTTP Range requests and are not
// verified (see [UnverifiedFile]).
func (r *Repository) OpenAliasUnverified(ctx context.Context, alias, platform string, opts ...FileOption) (*UnverifiedFile, error) {
	o := fileOpts(opts)
	o.unverified = true
	f, err := r.openAlias(ctx, alias, platform, o)
	if err != nil {
		return nil, err
	}
	return &UnverifiedFile{f}, nil
}

// OpenBlob opens one blob as a verified file (see [Repository.OpenAlias]).
func (r *Repository) OpenBlob(ctx context.Context, d v1.Hash, opts ...FileOption) (*BlobFile, error) {
	size, err := r.BlobSize(ctx, d)
	if err != nil {
		return nil, err
	}
	return r.openParts(ctx, "open blob "+d.String(), []Blob{{Digest: d, Size: size}}, fileOpts(opts))
}

func fileOpts(opts []FileOption) fileOptions {
	o := fileOptions{maxWhole: DefaultMaxWholePart, cache: DefaultFileCache}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

func (r *Repository) openAlias(ctx context.Context, alias, platform string, o fileOptions) (*BlobFile, error) {
	a, err := r.GetAlias(ctx, alias, platform)
	if err != nil {
		return nil, err
	}
	m := a.Image()
	if m == nil {
		return nil, fmt.Errorf("open alias %s: %w: a multi-platform alias needs a platform (one of %v)", alias, ErrPlatformNotFound, a.PlatformNames())
	}
	blobs := make([]Blob, len(m.Layers))
	copy(blobs, m.Layers)
	var unknown []v1.Hash
	for _, b := range blobs {
		if b.Size < 0 {
			unknown = append(unknown, b.Digest)
		}
	}
	if len(unknown) > 0 {
		sized, err := r.blobSizes(ctx, unknown)
		if err != nil {
			return nil, err
		}
		j := 0
		for i := range blobs {
			if blobs[i].Size < 0 {
				blobs[i].Size = sized[j].Size
				j++
			}
		}
	}
	return r.openParts(ctx, "open alias "+alias, blobs, o)
}

func (r *Repository) openParts(ctx context.Context, op string, blobs []Blob, o fileOptions) (*BlobFile, error) {
	f := &BlobFile{repo: r, o: o, cache: map[int]*cached{}}
	for i, b := range blobs {
		if b.Digest.Algorithm != "sha256" {
			return nil, fmt.Errorf("%s: %w: blob %d has digest method %q", op, ErrUnexpectedDigestMethod, i, b.Digest.Algorithm)
		}
		p := filePart{Blob: b, off: f.size, large: b.Size > o.maxWhole}
		if p.large && !o.unverified && !o.verifyLarge {
			return nil, fmt.Errorf("%s: %w: blob %s is %d bytes, over %d (open it with WithVerifyLargeBlobs to hash it whole once, or unverified)", op, ErrLargeBlob, b.Digest, b.Size, o.maxWhole)
		}
		f.parts = append(f.parts, p)
		f.size += b.Size
	}
	f.ctx, f.stop = context.WithCancel(ctx)
	return f, nil
}

// Size returns the file's size: the sum of its blobs' sizes.
func (f *BlobFile) Size() int64 { return f.size }

// Blobs returns the file's blobs, in order.
func (f *BlobFile) Blobs() []Blob {
	out := make([]Blob, len(f.parts))
	for i, p := range f.parts {
		out[i] = p.Blob
	}
	return out
}

// ReadAt implements io.ReaderAt: it fills p from offset off, fetching (and
// verifying) the blobs it needs, and returns io.EOF only when p reaches
// past the end.
func (f *BlobFile) ReadAt(p []byte, off int64) (int, error) {
	return f.readAt(p, off, false)
}

func (f *BlobFile) readAt(p []byte, off int64, ahead bool) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: negative offset", off)
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= f.size {
			return n, io.EOF
		}
		i := sort.Search(len(f.parts), func(i int) bool { return f.parts[i].off+f.parts[i].Size > at })
		part := &f.parts[i]
		within := at - part.off
		want := min(int64(len(p)-n), part.Size-within)
		if part.large {
			m, err := f.readRange(i, p[n:n+int(want)], within)
			n += m
			if err != nil {
				return n, err
			}
			continue
		}
		data, err := f.part(i)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], data[within:within+want])
		if ahead && i+1 < len(f.parts) && !f.parts[i+1].large {
			f.prefetch(i + 1)
		}
	}
	return n, nil
}

// Read implements io.Reader, reading on from the current offset; reading
// sequentially fetches the next blob in the background.
func (f *BlobFile) Read(p []byte) (int, error) {
	f.mu.Lock()
	pos := f.pos
	seq := pos == f.nextSeq
	f.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	if pos >= f.size {
		return 0, io.EOF
	}
	n, err := f.readAt(p, pos, seq)
	f.mu.Lock()
	f.pos = pos + int64(n)
	f.nextSeq = f.pos
	f.mu.Unlock()
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

// Seek implements io.Seeker.
func (f *BlobFile) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	default:
		return f.pos, fmt.Errorf("seek: bad whence %d", whence)
	}
	if offset < 0 {
		return f.pos, fmt.Errorf("seek to %d: negative offset", offset)
	}
	f.pos = offset
	return offset, nil
}

// Close stops read-ahead and releases the cached blobs.
func (f *BlobFile) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	f.mu.Unlock()
	f.stop()
	f.bg.Wait()
	f.mu.Lock()
	f.cache = map[int]*cached{}
	f.held = 0
	f.mu.Unlock()
	return nil
}

// part returns blob i's verified bytes, fetching it (once, whoever asks).
func (f *BlobFile) part(i int) ([]byte, error) {
	c := f.lookup(i)
	select {
	case <-c.ready:
	case <-f.ctx.Done():
		return nil, fmt.Errorf("read blob %s: %w", f.parts[i].Digest, context.Cause(f.ctx))
	}
	return c.data, c.err
}

// prefetch starts fetching blob i in the background, if it is not cached.
func (f *BlobFile) prefetch(i int) {
	f.mu.Lock()
	_, ok := f.cache[i]
	f.mu.Unlock()
	if !ok {
		f.lookup(i)
	}
}

// lookup returns the cache entry of blob i, starting its fetch if needed.
func (f *BlobFile) lookup(i int) *cached {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tick++
	if c, ok := f.cache[i]; ok {
		c.used = f.tick
		return c
	}
	c := &cached{index: i, ready: make(chan struct{}), used: f.tick}
	if f.closed {
		c.err = errors.New("read from a closed file")
		close(c.ready)
		return c
	}
	f.cache[i] = c
	f.held += f.parts[i].Size
	f.evictLocked(i)
	f.fetches++
	f.bg.Add(1)
	go func() {
		defer f.bg.Done()
		data, err := f.fetch(f.parts[i].Blob)
		f.mu.Lock()
		c.data, c.err = data, err
		if err != nil {
			// Not kept: a later read asks again.
			if f.cache[i] == c {
				delete(f.cache, i)
				f.held -= f.parts[i].Size
			}
		}
		f.mu.Unlock()
		close(c.ready)
	}()
	return c
}

// evictLocked drops the least recently used fetched blobs (never keep,
// never one still being fetched) while over the cache bound, keeping two.
func (f *BlobFile) evictLocked(keep int) {
	for f.held > f.o.cache && len(f.cache) > 2 {
		var victim *cached
		for _, c := range f.cache {
			if c.index == keep {
				continue
			}
			select {
			case <-c.ready:
			default:
				continue
			}
			if victim == nil || c.used < victim.used {
				victim = c
			}
		}
		if victim == nil {
			return
		}
		delete(f.cache, victim.index)
		f.held -= f.parts[victim.index].Size
	}
}

// fetch GETs blob b whole and verifies it.
func (f *BlobFile) fetch(b Blob) ([]byte, error) {
	br, err := f.repo.PullBlobSize(f.ctx, b.Digest, b.Size)
	if err != nil {
		return nil, err
	}
	defer br.Close()
	if br.Size >= 0 && br.Size != b.Size {
		return nil, fmt.Errorf("pull blob %s: %w: the registry announces %d bytes, the manifest %d", b.Digest, ErrSizeMismatch, br.Size, b.Size)
	}
	w := &sliceWriter{buf: make([]byte, 0, b.Size)}
	if _, err := br.WriteTo(w); err != nil {
		return nil, err
	}
	if int64(len(w.buf)) != b.Size {
		return nil, fmt.Errorf("pull blob %s: %w: got %d bytes, the manifest says %d", b.Digest, ErrSizeMismatch, len(w.buf), b.Size)
	}
	return w.buf, nil
}

// sliceWriter appends to a buffer of fixed capacity, refusing more.
type sliceWriter struct{ buf []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	if len(p) > cap(w.buf)-len(w.buf) {
		return 0, fmt.Errorf("%w: more data than the manifest announced", ErrSizeMismatch)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// readRange reads len(p) bytes of large blob i from offset within (a
// registry: one Range request), after hashing the whole blob once if the
// file verifies.
func (f *BlobFile) readRange(i int, p []byte, within int64) (int, error) {
	part := &f.parts[i]
	if !f.o.unverified {
		if err := f.verifyWhole(i); err != nil {
			return 0, err
		}
	}
	d := part.Digest
	op := "pull blob " + d.String()
	rc, err := f.repo.Store().Open(f.ctx, part.Blob, within, int64(len(p)))
	if err != nil {
		return 0, withOp(op, err)
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if err != nil {
		return n, fmt.Errorf("%s: bytes %d-%d: %w", op, within, within+int64(len(p))-1, err)
	}
	f.mu.Lock()
	f.fetches++
	f.mu.Unlock()
	return n, nil
}

// verifyWhole streams large blob i once through SHA-256.
func (f *BlobFile) verifyWhole(i int) error {
	f.mu.Lock()
	done := f.parts[i].verified
	f.mu.Unlock()
	if done {
		return nil
	}
	br, err := f.repo.PullBlobSize(f.ctx, f.parts[i].Digest, f.parts[i].Size)
	if err != nil {
		return err
	}
	defer br.Close()
	n, err := br.WriteTo(io.Discard)
	if err != nil {
		return err
	}
	if n != f.parts[i].Size {
		return fmt.Errorf("pull blob %s: %w: got %d bytes, the manifest says %d", f.parts[i].Digest, ErrSizeMismatch, n, f.parts[i].Size)
	}
	f.mu.Lock()
	f.parts[i].verified = true
	f.fetches++
	f.mu.Unlock()
	return nil
}
