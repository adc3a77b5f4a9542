package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

var pullBlobCommand = &command{
	name:     "pull-blob",
	synopsis: "<repo> [<digest>|@<alias>]...",
	summary:  "write blobs to standard output",
	help: `Write the blobs to standard output, one after the other, in argument order.
An @alias stands for its blobs, in order (for a multi-platform alias, those of
DXF_PLATFORM; without it the alias's blobs per platform are printed as JSON
instead). Every blob is verified against its digest: on a mismatch dxf exits
with status 1 naming both digests, even though the bytes have been written.
A blob whose size is not the one its alias's manifest gives is refused before
any of it is written.

Into a regular file (> FILE, or --output), blobs are fetched --jobs at a
time, each written to its place as it arrives (with direct I/O where the
file system allows); the file is the same as a pipe would get, also on
failure.

With no arguments, the blobs of the manifest JSON read from standard input
(as set-alias or get-manifest print it) are pulled.

With DXF_BLOB_INFO=1 (--blob-info) each blob is preceded by a line
"<digest> <size>". With --output FILE the data goes to FILE instead, which is
replaced only once every blob has been verified: on failure it is untouched.

Examples:
  dxf pull-blob fred/datalogger @may15-readings > logger.dat
  dxf pull-blob fred/datalogger $(dxf get-alias fred/datalogger may15-readings)
  dxf pull-blob -o logger.dat fred/datalogger sha256:9f86d081884c7d65...
  dxf get-manifest fred/datalogger may15-readings | dxf pull-blob fred/datalogger`,
	aliases:         atAliases,
	maxArgs:         -1,
	manifestOnStdin: true,
	run:             runPullBlob,
}

// pullItem is one thing pull-blob writes: a blob, or the JSON of a
// multi-platform alias the Python tool printed instead of pulling.
type pullItem struct {
	digest v1.Hash
	size   int64 // from the manifest (or a HEAD request); -1 if not known
	headed bool  // size came from a HEAD request
	json   string
}

func runPullBlob(a *app, args []string) error {
	if a.cfg.byteRange != nil {
		return runPullRange(a, args)
	}
	items, err := a.pullItems(args)
	if err != nil {
		return err
	}
	out, commit, discard, err := a.pullOutput()
	if err != nil {
		return err
	}
	p, err := a.placedOutput(out, items)
	if err == nil {
		a.planProgress(items)
	}
	if err == nil && p != nil {
		err = a.pullPlaced(p, items)
	}
	if err != nil {
		discard()
		return err
	}
	if p != nil {
		return commit()
	}
	// A large buffer: big writes of blob data pass through it (mostly
	// without a copy), and small ones (DXF_BLOB_INFO lines) do not each
	// cost a system call.
	// DXF_CHUNK_SIZE, if set, is both the read size and the size of the
	// writes to the output: it finally does what its name says.
	w := bufio.NewWriterSize(out, cmp.Or(a.cfg.chunkSize, defaultChunkSize))
	blobs := a.prefetch(items)
	defer blobs.close()
	for i, it := range items {
		if it.json != "" {
			_, err = w.WriteString(it.json + "\n")
		} else {
			err = a.pullOne(w, it, blobs.next(i))
		}
		if err != nil {
			break
		}
	}
	// Bytes already received are written out even after a failure, as the
	// Python tool did; the exit status says they are not to be trusted.
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("writing the output: %w", ferr)
	}
	if err != nil {
		discard()
		return err
	}
	return commit()
}

// pullItems expands the arguments (or the manifest on standard input) into
// the blobs to pull, resolving aliases --jobs at a time before any output.
func (a *app) pullItems(args []string) ([]pullItem, error) {
	if len(args) == 0 {
		al, err := a.stdinAlias(a.cfg.platform)
		if err != nil {
			return nil, err
		}
		return aliasPullItems(al), nil
	}
	expanded := make([][]pullItem, len(args))
	err := forEach(a.ctx, a.cfg.jobs, len(args), func(ctx context.Context, i int) error {
		name, isAlias := aliasArg(args[i])
		if !isAlias {
			d, err := parseDigestArg(name)
			expanded[i] = []pullItem{{digest: d, size: -1}}
			return err
		}
		al, err := a.repo.GetAlias(ctx, name, a.cfg.platform)
		if err != nil {
			return err
		}
		expanded[i] = aliasPullItems(al)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var items []pullItem
	for _, e := range expanded {
		items = append(items, e...)
	}
	return items, nil
}

// planProgress tells the progress display how many blobs and bytes are
// to come.
func (a *app) planProgress(items []pullItem) {
	var n int
	var bytes int64
	for _, it := range items {
		if it.json == "" {
			n++
			bytes += max(it.size, 0)
		}
	}
	a.progress.plan("blobs", n, bytes)
}

func aliasPullItems(al *blobstore.Alias) []pullItem {
	if m := al.Image(); m != nil {
		items := make([]pullItem, len(m.Layers))
		for i, l := range m.Layers {
			items[i] = pullItem{digest: l.Digest, size: l.Size}
		}
		return items
	}
	return []pullItem{{json: pyJSON(platformDigests(al))}}
}

// opened is a blob whose GET has been sent ahead of its turn. A small blob
// has been read (and verified) already: data holds it, and readErr what
// reading it ended with.
type opened struct {
	br      *blobstore.BlobReader
	err     error
	data    *bytes.Buffer
	readErr error
}

// prefetchMax is the largest blob read into memory ahead of its turn, and
// prefetchBudget bounds all such blobs together, whatever --jobs says, so
// memory stays well under 64 MiB. Other blobs are only opened ahead, then
// streamed.
const (
	prefetchMax    = 4 << 20
	prefetchBudget = 16 << 20
)

// prefetcher opens the blobs to pull up to --jobs ahead of the one being
// written out, so the registry's time to first byte for the next blobs (and
// the socket buffers' worth of their data) overlaps the current transfer.
// Data is still consumed, and verified, strictly in order.
type prefetcher struct {
	mu       sync.Mutex
	buffered int64 // bytes read ahead and not yet written out
	cancel   context.CancelFunc
	slots    []chan opened
	taken    []bool
}

func (a *app) prefetch(items []pullItem) *prefetcher {
	ctx, cancel := context.WithCancel(a.ctx)
	p := &prefetcher{cancel: cancel, slots: make([]chan opened, len(items)), taken: make([]bool, len(items))}
	for i := range items {
		p.slots[i] = make(chan opened, 1)
	}
	window := make(chan struct{}, max(1, a.cfg.jobs))
	go func() {
		for i, it := range items {
			if it.json != "" {
				p.slots[i] <- opened{}
				continue
			}
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				p.slots[i] <- opened{err: ctx.Err()}
				continue
			}
			go func() {
				br, err := a.repo.PullBlob(ctx, it.digest)
				if br == nil {
					<-window
					p.slots[i] <- opened{err: err}
					return
				}
				// Free the window slot when this blob has been read.
				br = br.OnClose(func() { <-window })
				o := opened{br: br}
				if a.cfg.chunkSize == 0 && br.Size >= 0 && br.Size <= prefetchMax && p.reserve(br.Size) {
					// Small: read it now, verified, so its transfer overlaps
					// the writing out of the blobs before it.
					o.data = readAheadBuffers.Get().(*bytes.Buffer)
					_, o.readErr = o.data.ReadFrom(br)
					size := br.Size
					br = br.OnClose(func() { p.release(size) })
					o.br = br
				}
				p.slots[i] <- o
			}()
		}
	}()
	return p
}

// reserve takes n bytes of the read-ahead budget, if they are free.
func (p *prefetcher) reserve(n int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buffered+n > prefetchBudget {
		return false
	}
	p.buffered += n
	return true
}

func (p *prefetcher) release(n int64) {
	p.mu.Lock()
	p.buffered -= n
	p.mu.Unlock()
}

// readAheadBuffers recycles read-ahead buffers: fresh 4 MiB allocations for
// every blob would cost page faults (and the memory limit makes the runtime
// give freed memory back to the system eagerly).
// The extra bytes.MinRead keep ReadFrom from growing a buffer that a blob
// of prefetchMax bytes has just filled, to look for its end.
var readAheadBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, prefetchMax+bytes.MinRead)) }}

// next waits for blob i to be opened.
func (p *prefetcher) next(i int) opened {
	p.taken[i] = true
	return <-p.slots[i]
}

// close cancels what is still in flight and closes blobs opened but never
// read.
func (p *prefetcher) close() {
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

// pullOne streams one blob to w, verifying it.
func (a *app) pullOne(w io.Writer, it pullItem, o opened) error {
	d := it.digest
	br, err := o.br, o.err
	if err != nil {
		return err
	}
	defer br.Close()
	if err := checkSize(br, it); err != nil {
		return err
	}
	size := br.Size
	if a.cfg.blobInfo {
		if size < 0 {
			// Sent without Content-Length (chunked): ask for the size.
			if size, err = a.repo.BlobSize(a.ctx, d); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "%s %d\n", d, size); err != nil {
			return fmt.Errorf("writing the output: %w", err)
		}
	}
	if it.size < 0 {
		a.progress.grow(size)
	}
	bar := a.progress.start("", d.String(), size)
	pw := &progressWriter{w: w, bar: bar}
	if o.data != nil {
		// Read ahead: write what arrived (even if it failed verification,
		// as the bytes of a streamed blob would have been), then the verdict.
		_, werr := o.data.WriteTo(pw)
		o.data.Reset()
		readAheadBuffers.Put(o.data)
		if werr != nil {
			return werr
		}
		err = o.readErr
	} else if a.cfg.chunkSize == 0 {
		// The library's fastest path: no copy, hashing on another core.
		_, err = br.WriteTo(pw)
	} else {
		err = copyChunks(pw, br, a.cfg.chunkSize)
	}
	if err != nil {
		return pullErr(d, err)
	}
	bar.finish("")
	return nil
}

// pullErr names the blob in a digest mismatch, which names only the two
// digests; other errors already say which blob they are about.
func pullErr(d v1.Hash, err error) error {
	var dm *blobstore.DigestMismatchError
	if errors.As(err, &dm) {
		return fmt.Errorf("pull blob %s: %w", d, err)
	}
	return err
}

// checkSize fails if the registry announces a size for br that is not the
// one known for it (it.size, from the manifest or a HEAD request; -1 if
// none).
func checkSize(br *blobstore.BlobReader, it pullItem) error {
	if it.size >= 0 && br.Size >= 0 && br.Size != it.size {
		return fmt.Errorf("pull blob %s: %w: the registry sends %d bytes, %s %d", br.Digest, blobstore.ErrSizeMismatch, br.Size, it.sizeSource(), it.size)
	}
	return nil
}

// sizeSource says where it.size came from, for messages.
func (it pullItem) sizeSource() string {
	if it.headed {
		return "its HEAD answer said"
	}
	return "the manifest says"
}

// placedOutput returns a placed output for pulling items to out if that is
// possible: out is a regular file (standard output redirected to one, or
// --output), every item is a blob whose size is known or can be had with
// HEAD, and nothing else (no DXF_BLOB_INFO lines, no DXF_CHUNK_SIZE) is
// asked for. It records the sizes it asked for in items.
func (a *app) placedOutput(out io.Writer, items []pullItem) (*placed, error) {
	f, ok := out.(*os.File)
	if !ok || a.cfg.blobInfo || a.cfg.chunkSize != 0 || !placeable(f) {
		return nil, nil
	}
	for _, it := range items {
		if it.json != "" {
			return nil, nil
		}
	}
	// Sizes no manifest gave (digest arguments) are asked for with HEAD. If
	// one cannot be had, the ordinary path reports the error at that blob's
	// turn, after writing the blobs before it, as it always has.
	sizes := make([]int64, len(items))
	err := forEach(a.ctx, a.cfg.jobs, len(items), func(ctx context.Context, i int) error {
		var err error
		if sizes[i] = items[i].size; sizes[i] < 0 {
			sizes[i], err = a.repo.BlobSize(ctx, items[i].digest)
		}
		return err
	})
	if err != nil {
		return nil, nil //nolint:nilerr // reported in its turn by the ordinary path
	}
	var total int64
	for i := range items {
		if items[i].size < 0 {
			items[i].size, items[i].headed = sizes[i], true
		}
		total += sizes[i]
	}
	return openPlaced(f, total)
}

// pullPlaced pulls items into p, --jobs blobs at a time, each written to its
// own place in the file as it arrives and verified. On failure the file
// holds what an in-order write would have left.
func (a *app) pullPlaced(p *placed, items []pullItem) error {
	offs := make([]int64, len(items)+1)
	for i, it := range items {
		offs[i+1] = offs[i] + it.size
	}
	written := make([]int64, len(items))
	ok := make([]bool, len(items))
	// One blob at a time: hash it on another core while it is written
	// (BlobReader.WriteTo). Several: each worker hashes its own as it reads.
	stream := min(a.cfg.jobs, len(items)) <= 1
	err := forEachInOrder(a.ctx, a.cfg.jobs, len(items), func(ctx context.Context, i int) error {
		s := p.section(offs[i], items[i].size)
		defer func() { written[i] = s.written() }()
		err := a.pullPlacedOne(ctx, s, items[i], stream)
		ok[i] = err == nil
		return err
	})
	if err == nil {
		return p.finish(offs[len(items)])
	}
	var n int64
	for i := range items {
		n += written[i]
		if !ok[i] {
			break
		}
	}
	if ferr := p.finish(n); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

// pullPlacedOne pulls one blob into its section of the output, hashing it
// on another core if stream is set.
func (a *app) pullPlacedOne(ctx context.Context, s *placedSection, it pullItem, stream bool) error {
	br, err := a.repo.PullBlob(ctx, it.digest)
	if err != nil {
		return err
	}
	defer br.Close()
	if err := checkSize(br, it); err != nil {
		return err
	}
	bar := a.progress.start("", it.digest.String(), it.size)
	if stream {
		_, err = br.WriteTo(&progressWriter{w: s, bar: bar})
		if err == nil && s.written() != it.size {
			err = errSectionShort
		}
	} else {
		err = s.readFrom(br, bar.add)
	}
	switch {
	case errors.Is(err, errSectionFull) || errors.Is(err, errSectionShort):
		return fmt.Errorf("pull blob %s: %w: the blob is not the %d bytes %s", it.digest, blobstore.ErrSizeMismatch, it.size, it.sizeSource())
	case err != nil:
		return pullErr(it.digest, err)
	}
	bar.finish("")
	return nil
}

// copyChunks copies br to w reading chunk bytes at a time (DXF_CHUNK_SIZE).
func copyChunks(w io.Writer, br *blobstore.BlobReader, chunk int) error {
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

// progressWriter writes to w and moves bar; its errors say they are the
// output's, not the registry's.
type progressWriter struct {
	w   io.Writer
	bar *blobBar
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.bar.add(n)
	if err != nil {
		return n, fmt.Errorf("writing the output: %w", err)
	}
	return n, nil
}

// pullOutput returns where pull-blob writes: standard output, or for
// --output a temporary file beside the target that commit renames into
// place and discard removes.
func (a *app) pullOutput() (w io.Writer, commit func() error, discard func(), err error) {
	path := a.cfg.output
	if path == "" || path == "-" {
		return a.stdout, func() error { return nil }, func() {}, nil
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, nil, nil, fmt.Errorf("output %s: not a regular file", path)
		}
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".dxf-*")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("output %s: %w", path, err)
	}
	discard = func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	commit = func() error {
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), mode)
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
		if err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("output %s: %w", path, err)
		}
		return nil
	}
	return f, commit, discard, nil
}
