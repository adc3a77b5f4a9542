package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
	"github.com/dxf-go/dxf/pkg/internal/cdc"
)

// DefaultSplitAverage is the average chunk size of a split push unless
// [WithSplitAverage] says otherwise. Chunks are at least a quarter and at
// most four times the average (see docs/chunking.md).
const DefaultSplitAverage = 4 << 20

// ErrTooManyChunks says a split push would make an alias whose manifest is over
// [MaxManifestSize], which registries refuse. Nothing is pointed at the
// chunks; a larger average chunk size makes fewer.
var ErrTooManyChunks = errors.New("too many chunks for one manifest")

// WithSplitAverage sets the average chunk size of a split push
// ([Repository.PushSplit] and the like): a power of two from 4 KiB to 256
// MiB. The same file pushed with the same average is cut at the same
// places, by any version of dxf. A split push reports progress
// ([WithProgress]) as one blob per input: how many bytes of it have been
// chunked and found in the registry or uploaded so far (Done), and how
// many of those were found there (Present), from one goroutine at a time. [WithJobs] bounds the chunks checked and uploaded at once.
func WithSplitAverage(n int) TransferOption {
	return func(o *transferOptions) { o.splitAvg = n }
}

// SplitResult describes a split push.
type SplitResult struct {
	// Chunks are the chunks, in order: their concatenation is the input.
	Chunks []Blob
	// Size is the input's size in bytes.
	Size int64
	// Uploaded counts the chunks the registry did not have, which were sent.
	Uploaded int
	// UploadedBytes is their total size: what the push sent.
	UploadedBytes int64
}

func (s *SplitResult) add(o SplitResult) {
	s.Chunks = append(s.Chunks, o.Chunks...)
	s.Size += o.Size
	s.Uploaded += o.Uploaded
	s.UploadedBytes += o.UploadedBytes
}

// PushSplit cuts what rd yields into content-defined chunks (FastCDC, see
// docs/chunking.md) and uploads each chunk the registry lacks as a blob; a
// chunk it has costs one HEAD request. The data is read once: chunking,
// hashing (on the other cores), existence checks and uploads (WithJobs at a
// time) overlap. Memory is bounded by a few maximum-size chunks. It sets no
// alias: see [Repository.PushFilesSplit], or pass the chunks to
// [Repository.SetAliasBlobs].
func (r *Repository) PushSplit(ctx context.Context, rd io.Reader, opts ...TransferOption) (SplitResult, error) {
	o, p, err := splitParams(opts)
	if err != nil {
		return SplitResult{}, fmt.Errorf("push split: %w", err)
	}
	return r.pushSplit(ctx, rd, -1, o, p, maxChunks())
}

// PushFileSplit is [Repository.PushSplit] for the file at path.
func (r *Repository) PushFileSplit(ctx context.Context, path string, opts ...TransferOption) (SplitResult, error) {
	o, p, err := splitParams(opts)
	if err != nil {
		return SplitResult{}, fmt.Errorf("push %s: %w", path, err)
	}
	return r.pushFileSplit(ctx, path, o, p, maxChunks())
}

// PushFilesSplit pushes each file as [Repository.PushFileSplit] does, in
// order, and, if alias is not empty, points alias at all their chunks in
// order: pulling the alias then yields the files' contents concatenated,
// as for an alias of unsplit files. If the chunks would not fit in one
// manifest ([ErrTooManyChunks]), it says so before uploading anything when
// the sizes tell, and in any case before setting the alias.
func (r *Repository) PushFilesSplit(ctx context.Context, alias string, paths []string, opts ...TransferOption) (SplitResult, error) {
	if alias != "" {
		if err := ValidateAlias(alias); err != nil {
			return SplitResult{}, fmt.Errorf("set alias %s: %w", alias, err)
		}
	}
	o, p, err := splitParams(opts)
	if err != nil {
		return SplitResult{}, fmt.Errorf("push split: %w", err)
	}
	var total int64
	for _, path := range paths {
		if fi, err := os.Stat(path); err == nil {
			total += fi.Size()
		}
	}
	budget := maxChunks()
	if err := checkChunkBudget(total, p, budget); err != nil {
		return SplitResult{}, err
	}
	var res SplitResult
	for _, path := range paths {
		one, err := r.pushFileSplit(ctx, path, o, p, budget-len(res.Chunks))
		if err != nil {
			return SplitResult{}, err
		}
		res.add(one)
	}
	if alias != "" {
		if _, err := r.SetAliasBlobs(ctx, alias, res.Chunks...); err != nil {
			return SplitResult{}, err
		}
	}
	return res, nil
}

func splitParams(opts []TransferOption) (transferOptions, cdc.Params, error) {
	o := makeTransferOptions(append([]TransferOption{WithSplitAverage(DefaultSplitAverage)}, opts...))
	p, err := cdc.New(o.splitAvg)
	return o, p, err
}

func (r *Repository) pushFileSplit(ctx context.Context, path string, o transferOptions, p cdc.Params, budget int) (SplitResult, error) {
	f, fi, err := openRegular(path)
	if err != nil {
		return SplitResult{}, err
	}
	defer f.Close()
	if err := checkChunkBudget(fi.Size(), p, budget); err != nil {
		return SplitResult{}, fmt.Errorf("push %s: %w", path, err)
	}
	res, err := r.pushSplit(ctx, f, fi.Size(), o, p, budget)
	if err != nil {
		return SplitResult{}, fmt.Errorf("push %s: %w", path, err)
	}
	if res.Size != fi.Size() {
		return SplitResult{}, fmt.Errorf("push %s: %w: read %d bytes, expected %d (the file changed while it was pushed)", path, ErrSizeMismatch, res.Size, fi.Size())
	}
	return res, nil
}

// manifestDescriptorMax is the most bytes one layer adds to a manifest
// written by [MakeManifest]: `{"digest": "sha256:<64 hex>", "mediaType":
// "application/octet-stream", "size": <up to 19 digits>}, `.
const manifestDescriptorMax = len(`{"digest": "`) + 71 + len(`", "mediaType": "`) + len(MediaTypeBlob) + len(`", "size": `) + 19 + len(`}, `)

// maxChunks is how many chunks fit in one manifest, whatever their sizes.
func maxChunks() int {
	const fixed = 512 // the config descriptor, media type, schema version
	return (MaxManifestSize - fixed - manifestDescriptorMax) / manifestDescriptorMax
}

// checkChunkBudget refuses, before anything is sent, an input whose chunks
// are expected to be too many for one manifest.
func checkChunkBudget(size int64, p cdc.Params, budget int) error {
	if size <= 0 {
		return nil
	}
	if expect := size / int64(p.Avg); expect > int64(budget) {
		return fmt.Errorf("%w: %d bytes make about %d chunks of %d bytes on average; one manifest holds at most %d (use a larger average chunk size, at least %d)",
			ErrTooManyChunks, size, expect, p.Avg, budget, nextPow2(size/int64(budget)+1))
	}
	return nil
}

func nextPow2(n int64) int64 {
	p := int64(1)
	for p < n {
		p <<= 1
	}
	return p
}

// splitChunk is one chunk on its way through the pipeline.
type splitChunk struct {
	index int
	data  []byte
	buf   []byte // the buffer data lies in, to give back
}

// pushSplit is the pipeline: this goroutine reads and cuts; workers hash,
// check and upload. Buffers (each the maximum chunk size) circulate through
// a fixed pool, which bounds memory.
func (r *Repository) pushSplit(ctx context.Context, rd io.Reader, size int64, o transferOptions, p cdc.Params, budget int) (SplitResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := o.jobs
	nbuf := min(max(64<<20/p.Max, 2), jobs+1)
	pool := make(chan []byte, nbuf)
	for range nbuf {
		pool <- nil // allocated on first use
	}
	take := func() ([]byte, error) {
		select {
		case b := <-pool:
			if b == nil {
				b = make([]byte, p.Max)
			}
			return b, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	var (
		mu       sync.Mutex
		res      SplitResult
		chunks   []Blob
		done     int64
		present  int64
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel(err)
	}
	o.report(Progress{Blob: Blob{Size: size}})
	work := make(chan splitChunk)
	var wg sync.WaitGroup
	for range min(jobs, nbuf) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				b, sent, err := r.pushSplitChunk(ctx, c.data)
				pool <- c.buf
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				chunks[c.index] = b
				if sent {
					res.Uploaded++
					res.UploadedBytes += b.Size
				} else {
					present += b.Size
				}
				done += b.Size
				o.report(Progress{Blob: Blob{Size: size}, Done: done, Present: present})
				mu.Unlock()
			}
		}()
	}
	readErr := func() error {
		defer close(work)
		buf, err := take()
		if err != nil {
			return err
		}
		// Data is read in steps, only as far as the chunk's end needs: what
		// lies past the cut (less than a step) moves to the next buffer.
		step := max(p.Avg/4, 64<<10)
		filled, eof := 0, false
		for index := 0; ; index++ {
			var st cdc.State
			n, found := p.Find(buf[:filled], &st, eof)
			for !found {
				m, err := io.ReadFull(rd, buf[filled:min(filled+step, len(buf))])
				filled += m
				switch {
				case err == io.EOF || err == io.ErrUnexpectedEOF:
					eof = true
				case err != nil:
					pool <- buf
					return fmt.Errorf("reading the data: %w", err)
				}
				n, found = p.Find(buf[:filled], &st, eof)
			}
			if filled == 0 && index > 0 {
				pool <- buf
				return nil
			}
			// (Empty input makes one empty chunk, as an unsplit push makes
			// one empty blob.)
			if index >= budget {
				pool <- buf
				return fmt.Errorf("%w: more than %d chunks of %d bytes on average (use a larger average chunk size)", ErrTooManyChunks, budget, p.Avg)
			}
			next, err := take()
			if err != nil {
				pool <- buf
				return err
			}
			rest := copy(next, buf[n:filled])
			mu.Lock()
			chunks = append(chunks, Blob{})
			res.Size += int64(n)
			mu.Unlock()
			select {
			case work <- splitChunk{index: index, data: buf[:n], buf: buf}:
			case <-ctx.Done():
				pool <- buf
				pool <- next
				return context.Cause(ctx)
			}
			buf, filled = next, rest
		}
	}()
	wg.Wait()
	if firstErr != nil {
		return SplitResult{}, firstErr
	}
	if readErr != nil {
		return SplitResult{}, readErr
	}
	res.Chunks = chunks
	return res, nil
}

// pushSplitChunk hashes one chunk, asks the registry for it, and uploads it
// if it is missing. It reports whether it was sent.
func (r *Repository) pushSplitChunk(ctx context.Context, data []byte) (Blob, bool, error) {
	sum := sha256.Sum256(data)
	d := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	b := Blob{Digest: d, Size: int64(len(data))}
	ok, size, err := r.headBlob(ctx, d)
	if err != nil {
		return b, false, err
	}
	if ok {
		if size != b.Size {
			return b, false, fmt.Errorf("blob size %s: %w: the registry has %d bytes, the chunk %d", d, ErrSizeMismatch, size, b.Size)
		}
		return b, false, nil
	}
	return b, true, r.putBlob(ctx, d, data)
}

// putBlob stores data, whose digest is d, as cheaply as the store can
// ([store.PutBytes]; a registry: in one request, an upload session (POST),
// then one PUT carrying the data and the digest, which the registry checks
// before storing it).
func (r *Repository) putBlob(ctx context.Context, d v1.Hash, data []byte) error {
	return store.PutBytes(ctx, r.Store(), d, data)
}
