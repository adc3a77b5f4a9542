package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/hashing"
	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/internal/retry"
)

// TransferOption configures one call that moves blobs: a push
// ([Repository.PushBlob], [Repository.PushFile], [Repository.PushBlobs]) or
// a pull ([Repository.PullBlobs], [Repository.PullAlias],
// [Repository.PullBlobsAt]). Each option says which calls it applies to;
// others ignore it. Registry-wide settings are [Option]s instead.
type TransferOption func(*transferOptions)

type transferOptions struct {
	digest      *v1.Hash
	size        int64
	progress    ProgressFunc
	checkExists bool
	verify      bool
	// probe, shared by the blobs of one call, stops the HEAD before each
	// new small blob once the answers show the data is new (probe.go).
	probe      *existProbe
	jobs       int
	bufferSize int
	chunkSize  int64 // upload chunk size; -1: the registry's default
	header     func(Blob) []byte
	platform   string
	index      int          // of the blob in a call moving several, for Progress
	splitAvg   int          // average chunk size of a split push
	spec       *speculation // set by pushSpeculative
	format     Format       // of an alias set (SetAliasFiles, PushDir)
	notice     FormatNotice // told when the form changes
	tree       treeOptions  // PushDir and PullDir
}

func makeTransferOptions(opts []TransferOption) transferOptions {
	o := transferOptions{size: -1, checkExists: true, jobs: DefaultJobs, chunkSize: -1}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithDigest gives the blob's digest in advance (push). The registry is
// then asked whether it already has the blob before anything is sent (see
// [WithCheckExists]), and the uploaded bytes are verified against it.
func WithDigest(d v1.Hash) TransferOption {
	return func(o *transferOptions) { o.digest = &d }
}

// WithSize gives the blob's size in advance (push): for progress and
// Content-Length. With a reader that is also an [io.ReaderAt], a known size
// makes the push resumable: it is sent in chunks (see [WithChunkSize]), and
// after a failed chunk it carries on from what the registry holds. A reader
// of unknown length is sent in one streamed request, which cannot resume.
func WithSize(n int64) TransferOption {
	return func(o *transferOptions) { o.size = n }
}

// WithProgress reports each blob's progress to f (push and pull).
func WithProgress(f ProgressFunc) TransferOption {
	return func(o *transferOptions) { o.progress = f }
}

// WithCheckExists says whether to ask the registry if it already has a blob
// of known digest before uploading it (push; default true). When it has,
// nothing is sent and progress reports it as Existed.
func WithCheckExists(check bool) TransferOption {
	return func(o *transferOptions) { o.checkExists = check }
}

// WithJobs bounds how many blobs a call moves at once (default
// [DefaultJobs]): pushed in parallel by [Repository.PushBlobs], written in
// parallel into a file by [Repository.PullBlobs] and
// [Repository.PullBlobsAt], or requested ahead of their turn when
// [Repository.PullBlobs] writes in order; likewise how many refs
// [Repository.GetAliases] and [Repository.Sizes] resolve, and how many
// files [HashFiles] hashes, at once. [Repository.PushDir] and
// [Repository.PullDir] move up to 4 times as many files of at most 64 KiB
// at once (each takes a quarter of a job): for files that small the
// round trips make the time, not the bytes. 1 moves one blob (or file) at
// a time. Values below 1 count as 1.
func WithJobs(n int) TransferOption {
	return func(o *transferOptions) { o.jobs = max(1, n) }
}

// WithChunkSize sets how many bytes of a file each upload request of this
// call carries (push; default: the registry's [WithDefaultChunkSize], itself
// [DefaultChunkSize] unless set). After a failed request the upload resumes
// at the last chunk the registry acknowledged, so smaller chunks lose less
// on a bad connection; larger ones cost fewer round trips. 0 sends each file
// in one request; values below 0 count as 0. Only resumable pushes are
// chunked (see [WithSize]).
func WithChunkSize(n int64) TransferOption {
	return func(o *transferOptions) { o.chunkSize = max(0, n) }
}

// WithBufferSize makes a pull read n bytes at a time from the registry and
// write them to the output as they come (pull; default: the largest reads
// the network gives, with hashing on another core). It turns off the
// parallel write into a file and the read-ahead of small blobs.
func WithBufferSize(n int) TransferOption {
	return func(o *transferOptions) { o.bufferSize = max(0, n) }
}

// WithBlobHeader writes f(blob) to the output before each blob (pull), for
// instance a line naming it. The blob's size is known by then (asked of the
// registry if need be). It turns off the parallel write into a file.
func WithBlobHeader(f func(Blob) []byte) TransferOption {
	return func(o *transferOptions) { o.header = f }
}

// WithPlatform selects the platform ("os/architecture[/variant]") of a
// multi-platform alias ([Repository.PullAlias]).
func WithPlatform(p string) TransferOption {
	return func(o *transferOptions) { o.platform = p }
}

// WithVerifyStored says whether to make sure, after the registry accepted an
// upload, that it really has the blob (default false). Worth it when
// something is about to point at the blob, such as an alias: a registry that
// answers 201 Created without storing anything would otherwise leave an
// alias naming a blob it does not have. A commit answered 201 with the
// blob's digest in Docker-Content-Digest and its URL in Location is the
// registry saying it stored it, and is taken as proof; otherwise the
// registry is asked (a HEAD request).
func WithVerifyStored(verify bool) TransferOption {
	return func(o *transferOptions) { o.verify = verify }
}

// PushResult describes a pushed blob.
type PushResult struct {
	// Digest is the blob's sha256 digest.
	Digest v1.Hash
	// Size is the blob's size in bytes.
	Size int64
	// Existed is true when the registry already had the blob and no data was sent.
	Existed bool

	named bool // the commit's answer named the blob (see commitUpload)
}

// Blob returns the blob's digest and size.
func (p PushResult) Blob() Blob { return Blob{Digest: p.Digest, Size: p.Size} }

// PushBlob uploads the data rd yields as one blob. Without [WithDigest] the
// digest is computed while the data streams to the registry (one pass, no
// existence check); with it, an existing blob is not sent again. Memory use
// is constant whatever the size.
func (r *Repository) PushBlob(ctx context.Context, rd io.Reader, opts ...TransferOption) (PushResult, error) {
	return r.push(ctx, rd, makeTransferOptions(opts))
}

// PushFile uploads the file at path as one blob. If the registry was made
// [WithDigestCache] and the file is unchanged since it was last pushed, its
// digest comes from the cache and an existing blob costs one HEAD request;
// otherwise a file of 8 MiB or more is read once, hashed while it is sent
// (and a look-ahead hash asks the registry whether it has the blob, see
// speculate.go), and a smaller one is hashed first, then asked for (HEAD)
// and, if new, sent in the one request that commits it.
func (r *Repository) PushFile(ctx context.Context, path string, opts ...TransferOption) (PushResult, error) {
	return r.pushFile(ctx, path, makeTransferOptions(opts))
}

// pushFile pushes the file at path; o's digest and size are the file's
// unless given.
func (r *Repository) pushFile(ctx context.Context, path string, o transferOptions) (PushResult, error) {
	f, fi, err := openRegular(path)
	if err != nil {
		return PushResult{}, err
	}
	defer f.Close()
	if o.size < 0 {
		o.size = fi.Size()
	}
	var cache *digestCache
	if r.opts().digestCache != "" {
		cache = &digestCache{dir: r.opts().digestCache}
		if d, ok := cache.lookup(path, fi); ok && o.digest == nil {
			o.digest = &d
		}
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

func (r *Repository) push(ctx context.Context, rd io.Reader, o transferOptions) (PushResult, error) {
	if ra, ok := rd.(io.ReaderAt); ok && o.digest == nil && o.size >= 0 && o.size < speculateMin {
		// A small file is hashed first (a quick second read): the registry
		// can then be asked whether it has the blob, and the upload is one
		// PUT that carries the data and the digest, instead of a PATCH
		// with the data and a PUT to commit.
		d, err := hashSection(ctx, ra, o.size)
		if err != nil {
			return PushResult{}, fmt.Errorf("push blob: %w", err)
		}
		o.digest = &d
	}
	if o.digest != nil && o.checkExists && o.probe.ask(o.size) {
		ok, size, err := r.headBlob(ctx, *o.digest)
		if err != nil {
			return PushResult{}, err
		}
		o.probe.record(o.size, ok)
		if ok {
			res := PushResult{Digest: *o.digest, Size: size, Existed: true}
			o.report(Progress{Index: o.index, Blob: res.Blob(), Done: size, Present: size, Existed: true, Finished: true})
			return res, nil
		}
	}
	op := "push blob"
	if o.digest != nil {
		op += " " + o.digest.String()
	}
	if r.up == nil {
		// One Put: the store hashes, checks and commits.
		return r.storePush(ctx, op, rd, o)
	}
	c, err := r.pushClient(ctx)
	if err != nil {
		return PushResult{}, wrapErr(op, subjectRepo, err)
	}
	var known v1.Hash
	if o.digest != nil {
		known = *o.digest
	}
	sent := func(done int64) {
		o.report(Progress{Index: o.index, Blob: Blob{Digest: known, Size: o.size}, Done: done})
	}
	sent(0)
	var res PushResult
	if ra, ok := rd.(io.ReaderAt); ok && o.size >= speculateMin && o.digest == nil && o.checkExists {
		res, err = r.pushSpeculative(ctx, c, op, ra, o, sent)
	} else if ok && o.size >= 0 {
		res, err = r.pushChunked(ctx, c, op, ra, o, sent)
	} else {
		res, err = r.pushStream(ctx, c, op, rd, o, sent)
	}
	if err != nil {
		return PushResult{}, err
	}
	if o.verify && !res.named {
		// A commit answered 201 naming the digest (Docker-Content-Digest
		// and Location) is the registry saying it stored the blob: asking
		// again would cost a request per blob for nothing.
		if err := r.verifyStored(ctx, res); err != nil {
			return PushResult{}, err
		}
	}
	o.report(Progress{Index: o.index, Blob: res.Blob(), Done: res.Size, Finished: true})
	return res, nil
}

// verifyStored checks that the registry has the blob just uploaded, of the
// size sent.
func (r *Repository) verifyStored(ctx context.Context, res PushResult) error {
	ok, size, err := r.headBlob(ctx, res.Digest)
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("push blob %s: the registry accepted the upload but does not have the blob", res.Digest)
	case size != res.Size:
		return fmt.Errorf("push blob %s: %w: the registry holds %d bytes, %d were sent", res.Digest, ErrSizeMismatch, size, res.Size)
	}
	return nil
}

// checkSent compares d, the digest of the bytes sent, with the one
// announced (if any): a file that changed under us is an error.
func checkSent(op string, d v1.Hash, o transferOptions) error {
	if o.digest != nil && d != *o.digest {
		return fmt.Errorf("%s: %w (the data changed while it was pushed)", op, &DigestMismatchError{Expected: *o.digest, Got: d})
	}
	return nil
}

// commit checks the digest computed while sending against the one announced
// — so a file that changed under us never lands under the wrong name — then
// commits the upload.
// It reports whether the registry's answer named the blob (see
// commitUpload).
func (r *Repository) commit(ctx context.Context, c *http.Client, op, loc string, d v1.Hash, o transferOptions) (bool, error) {
	if err := checkSent(op, d, o); err != nil {
		return false, err
	}
	return r.commitUpload(ctx, c, "push blob "+d.String(), loc, d, request{})
}

// pushStream sends data that can only be read once (standard input, a
// pipe): one streamed PATCH, hashed on the way, then the commit. If a token
// refresh needs the request sent again, a seekable reader is rewound.
func (r *Repository) pushStream(ctx context.Context, c *http.Client, op string, rd io.Reader, o transferOptions, sent func(int64)) (PushResult, error) {
	loc, err := r.startUpload(ctx, c, op, "")
	if err != nil {
		return PushResult{}, err
	}
	h := hashing.New()
	defer h.Close()
	body := xport.StreamBody(rd, h, o.size, sent)
	next, err := r.up.PatchStream(ctx, c, op, loc, body)
	if err != nil {
		return PushResult{}, err
	}
	if body.Err() != nil {
		return PushResult{}, fmt.Errorf("%s: reading the data: %w", op, body.Err())
	}
	if o.size >= 0 && body.Sent() != o.size {
		return PushResult{}, fmt.Errorf("%s: %w: read %d bytes, expected %d", op, ErrSizeMismatch, body.Sent(), o.size)
	}
	if next != "" {
		if loc, err = resolveLocation(loc, next); err != nil {
			return PushResult{}, fmt.Errorf("%s: %w", op, err)
		}
	}
	d := h.Digest()
	named, err := r.commit(ctx, c, op, loc, d, o)
	if err != nil {
		return PushResult{}, err
	}
	return PushResult{Digest: d, Size: body.Sent(), named: named}, nil
}

// pushChunked uploads data of known size that can be read again (a file)
// in chunks of WithChunkSize (or the registry's default) bytes, hashing as
// it goes. When a chunk fails, it asks the registry how much it holds (GET
// on the upload URL) and carries on from there; if the session cannot continue, it starts a new one. The
// number of recoveries is bounded by WithRetries.
func (r *Repository) pushChunked(ctx context.Context, c *http.Client, op string, ra io.ReaderAt, o transferOptions, sent func(int64)) (PushResult, error) {
	size := o.size
	chunk := o.chunkSize
	if chunk < 0 {
		chunk = r.reg.o.chunkSize
	}
	if chunk <= 0 || chunk > size {
		chunk = size
	}
	h := hashing.New()
	h.Off = o.spec != nil // the digest comes from the speculation's hasher
	defer h.Close()
	var (
		loc      string
		off      int64  // bytes the registry has acknowledged
		saved    []byte // hash state at off
		failures = retry.NewCounter(r.reg.o.retries)
	)
	start := func() error {
		var err error
		loc, err = r.startUpload(ctx, c, op, "")
		o.spec.session(loc)
		off, saved = 0, nil
		if err == nil {
			err = h.Restore(nil)
		}
		return err
	}
	if err := start(); err != nil {
		return PushResult{}, err
	}
	committed, named := false, false
	for off < size {
		n := min(chunk, size-off)
		var next string
		var err error
		if o.digest != nil && off == 0 && n == size {
			// The digest is known and the blob fits in one request: it goes
			// in the commit (a monolithic upload, which every registry
			// takes; a last chunk after PATCHes is not read at the right
			// offset by all).
			named, err = r.putWhole(ctx, c, loc, ra, n, h, *o.digest, sent)
			if err == nil {
				committed = true
				break
			}
		} else {
			next, err = r.patchChunk(ctx, c, op, loc, ra, off, n, h, saved, sent)
		}
		if err == nil {
			loc, off = next, off+n
			saved = h.State()
			o.spec.session(loc)
			continue
		}
		if !failures.Again() || !pushRecoverable(err) || ctx.Err() != nil {
			return PushResult{}, err
		}
		var after time.Duration
		if e := (*Error)(nil); errors.As(err, &e) {
			after = r.reg.askedWait(e.StatusCode, remote.RetryAfter(e))
		}
		if err := failures.Wait(ctx, after); err != nil {
			return PushResult{}, err
		}
		// Where does the upload stand? A registry restarting may refuse
		// connections for longer than one request's retries last: ask
		// again, within the recoveries allowed.
		got, statusLoc, serr := r.uploadStatus(ctx, c, loc, off)
		for serr != nil && registryDown(serr) && ctx.Err() == nil && failures.Again() {
			if err := failures.Wait(ctx, 0); err != nil {
				return PushResult{}, err
			}
			got, statusLoc, serr = r.uploadStatus(ctx, c, loc, off)
		}
		if serr != nil || got < off || got > size {
			// The session is gone or unusable (Distribution refuses a session
			// whose data moved past the offset signed into its URL): restart.
			err := start()
			for err != nil && registryDown(err) && ctx.Err() == nil && failures.Again() {
				if werr := failures.Wait(ctx, 0); werr != nil {
					return PushResult{}, werr
				}
				err = start()
			}
			if err != nil {
				return PushResult{}, err
			}
			continue
		}
		if err := h.Restore(saved); err != nil {
			return PushResult{}, fmt.Errorf("%s: %w", op, err)
		}
		if got > off {
			// The registry kept part of the failed chunk: hash that part too.
			if _, err := io.Copy(h, io.NewSectionReader(ra, off, got-off)); err != nil {
				return PushResult{}, fmt.Errorf("%s: %w", op, err)
			}
		}
		loc, off, saved = statusLoc, got, h.State()
		o.spec.session(loc)
	}
	d := h.Digest()
	if committed {
		// The registry checked the digest it was given; this checks the
		// bytes that were sent, whatever the registry says.
		if err := checkSent(op, d, o); err != nil {
			return PushResult{}, err
		}
		return PushResult{Digest: d, Size: size, named: named}, nil
	}
	if o.spec != nil {
		var err error
		if d, err = o.spec.digest(ctx); err != nil {
			return PushResult{}, fmt.Errorf("%s: %w", op, err)
		}
	}
	named, err := r.commit(ctx, c, op, loc, d, o)
	if err != nil {
		return PushResult{}, err
	}
	return PushResult{Digest: d, Size: size, named: named}, nil
}

// patchChunk sends bytes [off, off+n) of ra and returns the next upload URL.
func (r *Repository) patchChunk(ctx context.Context, c *http.Client, op, loc string, ra io.ReaderAt, off, n int64, h *hashing.Hasher, saved []byte, sent func(int64)) (string, error) {
	body := xport.SectionBody(ra, off, n, h, saved, sent)
	return r.up.PatchChunk(ctx, c, op, loc, body, off, n, body.Err)
}

// putWhole sends the n bytes of ra, the whole blob, in the request that
// commits the upload with digest d (PUT): a monolithic upload.
func (r *Repository) putWhole(ctx context.Context, c *http.Client, loc string, ra io.ReaderAt, n int64, h *hashing.Hasher, d v1.Hash, sent func(int64)) (bool, error) {
	body := xport.SectionBody(ra, 0, n, h, nil, sent)
	return r.commitUpload(ctx, c, "push blob "+d.String(), loc, d, request{upload: body})
}

// uploadStatus asks the registry how many bytes an upload session holds
// (see [remote.Repo.UploadStatus]).
func (r *Repository) uploadStatus(ctx context.Context, c *http.Client, loc string, acked int64) (int64, string, error) {
	return r.up.UploadStatus(ctx, c, loc, acked)
}

// pushRecoverable reports whether a failed chunk is worth a recovery: a
// network failure, a transient status, or an upload session the registry
// lost or refuses.
func pushRecoverable(err error) bool {
	if transient(err) {
		return true
	}
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if e.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		return true
	}
	for _, code := range e.Codes {
		switch code {
		case "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "RANGE_INVALID":
			return true
		}
	}
	return false
}

// startUpload opens an upload session (POST) and returns its URL (see
// [remote.Repo.StartUpload]).
func (r *Repository) startUpload(ctx context.Context, c *http.Client, op, query string) (string, error) {
	return r.up.StartUpload(ctx, c, op, query)
}

// commitUpload commits the upload at loc with digest d (PUT). data is the
// request's body, if any: req.upload (the blob's last bytes, or all of it,
// sent once) or req.body (bytes that can be sent again); its method, URL and
// headers are set here. Every commit of a blob goes through here, so every
// one is checked (see [remote.Repo.CommitUpload]). It reports whether the
// answer named d, which [WithVerifyStored] takes as proof.
func (r *Repository) commitUpload(ctx context.Context, c *http.Client, op, loc string, d v1.Hash, req request) (bool, error) {
	readErr := func() error { return nil }
	if req.upload != nil {
		readErr = req.upload.Err
	}
	return r.up.CommitUpload(ctx, c, op, loc, d, req.wire(), readErr)
}

// resolveLocation resolves a Location header against the request URL.
func resolveLocation(base, loc string) (string, error) { return remote.ResolveLocation(base, loc) }

// openRegular opens the regular file at path for a push; errors name it.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("push %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("push %s: %w", path, err)
	}
	return f, fi, nil
}
