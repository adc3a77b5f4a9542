package blobstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/jobs"
	"github.com/dxf-go/dxf/pkg/internal/placed"
)

// Progress is one report on the transfer of one blob, in either direction.
// For each blob a call transfers, the progress function is called first
// with Done == 0, then as bytes move, and last with Finished set, also for
// a blob the registry already had (then Existed is set and no byte moved).
// It is called from the goroutine doing that blob's transfer: for calls
// that move several blobs at once, from several goroutines.
type Progress struct {
	// Index is the blob's place in the call's list (0 for one-blob calls).
	Index int
	// Blob is the blob's digest and size. The digest is zero while a push
	// is still computing it; the size is -1 while it is not known.
	Blob Blob
	// Done is how many bytes have been transferred: sent to the registry,
	// or written to the output.
	Done int64
	// Present is how many of the Done bytes of a push the registry already
	// had, so that they were not sent: the chunks of a split push found
	// there ([WithSplitAverage]), or all of a blob that Existed. Done -
	// Present bytes were sent. Always 0 for a pull.
	Present int64
	// Existed is set when the registry already had the blob (a push with a
	// known digest): nothing is sent.
	Existed bool
	// Mounted is set when the blob was mounted from another repository of
	// the same registry ([Copy]): nothing is sent.
	Mounted bool
	// Finished is set on a blob's last report: it has been transferred and
	// verified (pushed and committed, or pulled and its digest checked).
	Finished bool
}

// ProgressFunc receives [Progress] reports.
type ProgressFunc func(Progress)

// report calls o.progress, if set.
func (o *transferOptions) report(p Progress) {
	if o.progress != nil {
		o.progress(p)
	}
}

// readAheadMax is the largest blob PullBlobs reads into memory ahead of its
// turn, and readAheadBudget bounds all such blobs together, whatever the
// number of jobs, so memory stays well under 64 MiB. Other blobs are only
// opened ahead, then streamed.
const (
	readAheadMax    = 4 << 20
	readAheadBudget = 16 << 20
)

// outputBuffer is the size of the buffer PullBlobs puts in front of a file it
// writes to in order.
const outputBuffer = 1 << 20

// PullBlobs writes the blobs to w, one after the other in order, each
// verified against its digest. A blob whose size is known (Size >= 0) and is
// not the size the registry sends is refused before any of it is written
// ([ErrSizeMismatch]); a digest mismatch names the blob and both digests
// ([*DigestMismatchError]). On failure, w has received the blobs before the
// failing one, and what arrived of that one.
//
// Up to [WithJobs] blobs are requested ahead of the one being written, so
// the registry's latency overlaps the transfer; small ones are read (and
// verified) ahead into a bounded amount of memory. Memory use does not grow
// with the blobs' sizes.
//
// When w is a regular *os.File (not opened for appending) and neither
// [WithBufferSize] nor [WithBlobHeader] is given, the blobs are instead
// written in parallel, each at its offset from the file's current offset
// (see [Repository.PullBlobsAt]), the space reserved first where the
// system allows; sizes no descriptor gives are asked for first (HEAD).
// The file then ends as an in-order write would leave it: on success, with
// its offset after the last blob; on failure, cut after the blobs before the
// failing one.
func (r *Repository) PullBlobs(ctx context.Context, w io.Writer, blobs []Blob, opts ...TransferOption) error {
	o := makeTransferOptions(opts)
	if f, ok := w.(*os.File); ok && o.bufferSize == 0 && o.header == nil {
		if done, err := r.pullToFile(ctx, f, blobs, o); done {
			return err
		}
	}
	if f, ok := w.(*os.File); ok {
		// Small writes (headers, small read sizes) do not each cost a
		// system call; big ones go straight through, uncopied.
		bw := &coalescingWriter{bw: bufio.NewWriterSize(f, max(o.bufferSize, outputBuffer)), w: f}
		err := r.pullInOrder(ctx, bw, blobs, o)
		if ferr := bw.bw.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("writing the output: %w", ferr)
		}
		return err
	}
	return r.pullInOrder(ctx, w, blobs, o)
}

// coalescingWriter gathers small writes in bw, a buffer in front of w, and
// writes big ones (a hasher buffer's worth of blob data) to w directly, after
// what is buffered: copying them into bw would cost a pass over every byte.
type coalescingWriter struct {
	bw *bufio.Writer
	w  io.Writer
}

// directWrite is the size from which a write bypasses the buffer.
const directWrite = 64 << 10

func (c *coalescingWriter) Write(p []byte) (int, error) {
	if len(p) < directWrite {
		return c.bw.Write(p)
	}
	if err := c.bw.Flush(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// PullAlias writes the blobs of alias to w in order, verified, as
// [Repository.PullBlobs] does (in parallel into a regular file). A
// multi-platform alias needs [WithPlatform].
func (r *Repository) PullAlias(ctx context.Context, w io.Writer, alias string, opts ...TransferOption) error {
	o := makeTransferOptions(opts)
	al, err := r.GetAlias(ctx, alias, o.platform)
	if err != nil {
		return err
	}
	blobs, err := al.Blobs()
	if err != nil {
		return err
	}
	return r.PullBlobs(ctx, w, blobs, opts...)
}

// PullBlobsAt writes the blobs into w at offset off on, each at its place
// (the sum of the sizes before it), up to [WithJobs] at a time, each
// verified. Sizes no descriptor gives are asked for first (HEAD). On failure
// the bytes of the blobs before the failing one are all in place; what lies
// after is unspecified.
func (r *Repository) PullBlobsAt(ctx context.Context, w io.WriterAt, off int64, blobs []Blob, opts ...TransferOption) error {
	o := makeTransferOptions(opts)
	sizes, _, err := r.knownSizes(ctx, blobs, o.jobs)
	if err != nil {
		return err
	}
	var total int64
	for _, s := range sizes {
		total += s
	}
	_, err = r.pullPlaced(ctx, placed.NewWriterAt(w, off, total), blobs, sizes, nil, o)
	return err
}

// knownSizes returns the blobs' sizes, asking the registry (HEAD) for those
// the descriptors do not give; headed says which.
func (r *Repository) knownSizes(ctx context.Context, blobs []Blob, njobs int) (sizes []int64, headed []bool, err error) {
	sizes, headed = make([]int64, len(blobs)), make([]bool, len(blobs))
	err = jobs.ForEach(ctx, njobs, len(blobs), func(ctx context.Context, i int) error {
		var err error
		if sizes[i] = blobs[i].Size; sizes[i] < 0 {
			sizes[i], err = r.BlobSize(ctx, blobs[i].Digest)
			headed[i] = true
		}
		return err
	})
	return sizes, headed, err
}

// pullToFile pulls the blobs into f in parallel if f allows it. It reports
// false (and does nothing) if it does not, or if a size cannot be had: the
// in-order path then reports that error at the blob's turn, after writing
// the blobs before it.
func (r *Repository) pullToFile(ctx context.Context, f *os.File, blobs []Blob, o transferOptions) (bool, error) {
	if len(blobs) == 0 || !placed.Placeable(f) {
		return false, nil
	}
	sizes, headed, err := r.knownSizes(ctx, blobs, o.jobs)
	if err != nil {
		return false, nil //nolint:nilerr // reported in its turn by the in-order path
	}
	var total int64
	for _, s := range sizes {
		total += s
	}
	p, err := placed.Open(f, total)
	if err != nil || p == nil {
		return err != nil, err
	}
	n, err := r.pullPlaced(ctx, p, blobs, sizes, headed, o)
	if ferr := p.Finish(n); ferr != nil {
		err = errors.Join(err, ferr)
	}
	return true, err
}

// pullPlaced pulls the blobs into p, o.jobs at a time, each written to its
// own place as it arrives and verified. It returns how many bytes from the
// start are in place in order: all of them on success; on failure, those of
// the blobs before the failing one.
func (r *Repository) pullPlaced(ctx context.Context, p *placed.File, blobs []Blob, sizes []int64, headed []bool, o transferOptions) (int64, error) {
	offs := make([]int64, len(blobs)+1)
	for i, s := range sizes {
		offs[i+1] = offs[i] + s
	}
	written := make([]int64, len(blobs))
	ok := make([]bool, len(blobs))
	// One blob at a time: hash it on another core while it is written
	// (BlobReader.WriteTo). Several: each worker hashes its own as it reads.
	stream := min(o.jobs, len(blobs)) <= 1
	err := jobs.ForEachInOrder(ctx, o.jobs, len(blobs), func(ctx context.Context, i int) error {
		s := p.Section(offs[i], sizes[i])
		defer func() { written[i] = s.Written() }()
		b := Blob{Digest: blobs[i].Digest, Size: sizes[i]}
		err := r.pullPlacedOne(ctx, s, i, b, headed != nil && headed[i], stream, o)
		ok[i] = err == nil
		return err
	})
	if err == nil {
		return offs[len(blobs)], nil
	}
	var n int64
	for i := range blobs {
		n += written[i]
		if !ok[i] {
			break
		}
	}
	return n, err
}

// pullPlacedOne pulls blob i into its section of the output, hashing it on
// another core if stream is set.
func (r *Repository) pullPlacedOne(ctx context.Context, s *placed.Section, i int, b Blob, headed, stream bool, o transferOptions) error {
	br, err := r.PullBlobSize(ctx, b.Digest, b.Size)
	if err != nil {
		return err
	}
	defer br.Close()
	if err := checkSize(br, b, headed); err != nil {
		return err
	}
	pr := &progressWriter{w: s, o: &o, p: Progress{Index: i, Blob: b}}
	pr.start()
	if stream {
		_, err = br.WriteTo(pr)
		if err == nil && s.Written() != b.Size {
			err = placed.ErrShort
		}
	} else {
		err = s.Fill(br, pr.add)
	}
	switch {
	case errors.Is(err, placed.ErrFull) || errors.Is(err, placed.ErrShort):
		return fmt.Errorf("pull blob %s: %w: the blob is not the %d bytes %s", b.Digest, ErrSizeMismatch, b.Size, sizeSource(headed))
	case err != nil:
		return namedPullErr(b.Digest, err)
	}
	pr.finish()
	return nil
}

// checkSize fails if the registry announces a size for br that is not the
// one known for it (b.Size, from a descriptor or a HEAD request; -1 if none).
func checkSize(br *BlobReader, b Blob, headed bool) error {
	if b.Size >= 0 && br.Size >= 0 && br.Size != b.Size {
		return fmt.Errorf("pull blob %s: %w: the registry sends %d bytes, %s %d", br.Digest, ErrSizeMismatch, br.Size, sizeSource(headed), b.Size)
	}
	return nil
}

// sizeSource says where a known size came from, for messages.
func sizeSource(headed bool) string {
	if headed {
		return "its HEAD answer said"
	}
	return "the manifest says"
}

// namedPullErr names the blob in a digest mismatch, which names only the
// two digests; other errors already say which blob they are about.
func namedPullErr(d v1.Hash, err error) error {
	var dm *DigestMismatchError
	if errors.As(err, &dm) {
		return fmt.Errorf("pull blob %s: %w", d, err)
	}
	return err
}

// pullInOrder writes the blobs to w in order, reading ahead.
func (r *Repository) pullInOrder(ctx context.Context, w io.Writer, blobs []Blob, o transferOptions) error {
	ahead := r.readAhead(ctx, blobs, o)
	defer ahead.close()
	for i, b := range blobs {
		if err := r.pullOne(w, i, b, ahead.next(i), o); err != nil {
			return err
		}
	}
	return nil
}

// pullOne streams blob i to w, verifying it.
func (r *Repository) pullOne(w io.Writer, i int, b Blob, op opened, o transferOptions) error {
	br, err := op.br, op.err
	if err != nil {
		return err
	}
	defer br.Close()
	if err := checkSize(br, b, false); err != nil {
		return err
	}
	if b.Size < 0 {
		b.Size = br.Size
	}
	// b.Size is now known: the manifest's, the Content-Length, or (for a
	// blob sent without one) what a HEAD request said; the body is held to it.
	if o.header != nil {
		if _, err := w.Write(o.header(b)); err != nil {
			return fmt.Errorf("writing the output: %w", err)
		}
	}
	pw := &progressWriter{w: w, o: &o, p: Progress{Index: i, Blob: b}}
	pw.start()
	switch {
	case op.data != nil:
		// Read ahead: write what arrived (even if it failed verification,
		// as the bytes of a streamed blob would have been), then the verdict.
		_, werr := op.data.WriteTo(pw)
		op.data.Reset()
		readAheadBuffers.Put(op.data)
		if werr != nil {
			return werr
		}
		err = op.readErr
	case o.bufferSize == 0:
		// The fastest path: no copy, hashing on another core.
		_, err = br.WriteTo(pw)
	default:
		err = copyChunks(pw, br, o.bufferSize)
	}
	if err != nil {
		return namedPullErr(b.Digest, err)
	}
	pw.finish()
	return nil
}

// copyChunks copies br to w reading chunk bytes at a time.
func copyChunks(w io.Writer, br *BlobReader, chunk int) error {
	buf := make([]byte, chunk)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// progressWriter writes to w and reports progress; its errors say they are
// the output's, not the registry's.
type progressWriter struct {
	w io.Writer
	o *transferOptions
	p Progress
}

func (pw *progressWriter) start() { pw.o.report(pw.p) }

func (pw *progressWriter) add(n int) {
	pw.p.Done += int64(n)
	pw.o.report(pw.p)
}

func (pw *progressWriter) finish() {
	pw.p.Finished = true
	pw.o.report(pw.p)
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	if n > 0 {
		pw.add(n)
	}
	if err != nil {
		return n, fmt.Errorf("writing the output: %w", err)
	}
	return n, nil
}

// opened is a blob whose GET has been sent ahead of its turn. A small blob
// has been read (and verified) already: data holds it, and readErr what
// reading it ended with.
type opened struct {
	br      *BlobReader
	err     error
	data    *bytes.Buffer
	readErr error
}

// readAheader opens the blobs to pull up to o.jobs ahead of the one being
// written out, so the registry's time to first byte for the next blobs (and
// the socket buffers' worth of their data) overlaps the current transfer.
// Data is still consumed, and verified, strictly in order.
type readAheader struct {
	mu       sync.Mutex
	buffered int64 // bytes read ahead and not yet written out
	cancel   context.CancelFunc
	slots    []chan opened
	taken    []bool
}

func (r *Repository) readAhead(ctx context.Context, blobs []Blob, o transferOptions) *readAheader {
	ctx, cancel := context.WithCancel(ctx)
	p := &readAheader{cancel: cancel, slots: make([]chan opened, len(blobs)), taken: make([]bool, len(blobs))}
	for i := range blobs {
		p.slots[i] = make(chan opened, 1)
	}
	window := make(chan struct{}, max(1, o.jobs))
	go func() {
		for i, b := range blobs {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				p.slots[i] <- opened{err: ctx.Err()}
				continue
			}
			go func() {
				br, err := r.PullBlobSize(ctx, b.Digest, b.Size)
				if br == nil {
					<-window
					p.slots[i] <- opened{err: err}
					return
				}
				// Free the window slot when this blob has been read.
				br = br.whenClosed(func() { <-window })
				op := opened{br: br}
				if o.bufferSize == 0 && br.Size >= 0 && br.Size <= readAheadMax && p.reserve(br.Size) {
					// Small: read it now, verified, so its transfer overlaps
					// the writing out of the blobs before it.
					op.data = readAheadBuffers.Get().(*bytes.Buffer)
					_, op.readErr = op.data.ReadFrom(br)
					size := br.Size
					op.br = br.whenClosed(func() { p.release(size) })
				}
				p.slots[i] <- op
			}()
		}
	}()
	return p
}

// reserve takes n bytes of the read-ahead budget, if they are free.
func (p *readAheader) reserve(n int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buffered+n > readAheadBudget {
		return false
	}
	p.buffered += n
	return true
}

func (p *readAheader) release(n int64) {
	p.mu.Lock()
	p.buffered -= n
	p.mu.Unlock()
}

// readAheadBuffers recycles read-ahead buffers: fresh 4 MiB allocations for
// every blob would cost page faults (and a memory limit makes the runtime
// give freed memory back to the system eagerly).
// The extra bytes.MinRead keep ReadFrom from growing a buffer that a blob
// of readAheadMax bytes has just filled, to look for its end.
var readAheadBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, readAheadMax+bytes.MinRead)) }}

// next waits for blob i to be opened.
func (p *readAheader) next(i int) opened {
	p.taken[i] = true
	return <-p.slots[i]
}

// close cancels what is still in flight and closes blobs opened but never
// read.
func (p *readAheader) close() {
	p.cancel()
	for i, s := range p.slots {
		if p.taken[i] {
			continue
		}
		go func() {
			if o := <-s; o.br != nil {
				o.br.Close()
			}
		}()
	}
}

// Source is the data of one blob to push: the file at Path, or else what
// Reader yields (Name, if set, says what it is in error messages).
type Source struct {
	Path   string
	Reader io.Reader
	Name   string
}

// PushBlobs pushes the sources, up to [WithJobs] at a time, and returns
// their results in the sources' order. Files are pushed as
// [Repository.PushFile] does, readers as [Repository.PushBlob] does. After
// a failure no new push starts and those under way are cancelled; the error
// is that of the first source (in order) that failed. [WithDigest] and
// [WithSize] do not apply (they describe one blob).
func (r *Repository) PushBlobs(ctx context.Context, srcs []Source, opts ...TransferOption) ([]PushResult, error) {
	o := makeTransferOptions(opts)
	o.digest, o.size = nil, -1
	if len(srcs) > 1 {
		o.probe = r.newProbe()
	}
	results := make([]PushResult, len(srcs))
	err := jobs.ForEach(ctx, o.jobs, len(srcs), func(ctx context.Context, i int) error {
		oi := o
		oi.index = i
		var err error
		src := srcs[i]
		if src.Reader == nil {
			results[i], err = r.pushFile(ctx, src.Path, oi)
			return err
		}
		results[i], err = r.push(ctx, src.Reader, oi)
		if err != nil && src.Name != "" {
			err = fmt.Errorf("push %s: %w", src.Name, err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// PushFiles pushes the files at paths as [Repository.PushBlobs] does.
func (r *Repository) PushFiles(ctx context.Context, paths []string, opts ...TransferOption) ([]PushResult, error) {
	srcs := make([]Source, len(paths))
	for i, p := range paths {
		srcs[i] = Source{Path: p}
	}
	return r.PushBlobs(ctx, srcs, opts...)
}
