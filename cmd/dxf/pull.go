package main

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"

	"github.com/dxf-go/dxf/cmd/internal/termprogress"
	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/internal/atomicfile"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// defaultChunkSize is the size of pull-blob's output buffer unless
// DXF_CHUNK_SIZE says otherwise; reads are then the library's (1 MiB, with
// no copy). The Python tool read and wrote 8192 bytes at a time; larger
// chunks move big blobs with far fewer system calls.
const defaultChunkSize = 1 << 20

var pullBlobCommand = &command{
	name:            "pull-blob",
	flags:           []string{"output", "platform", "blob-info", "chunk-size", "range", "progress", "jobs", "dir", "include", "delete", "outside-links", "max-unpack"},
	synopsis:        "<repo> [<digest>|@<alias>]...",
	summary:         "write blobs to standard output",
	aliases:         atAliases,
	maxArgs:         -1,
	manifestOnStdin: true,
	run:             runPullBlob,
}

// pullItem is one thing pull-blob writes: a blob, or the JSON of a
// multi-platform alias the Python tool printed instead of pulling.
type pullItem struct {
	blob  blobstore.Blob // size -1 if no manifest gave it
	json  string
	label string // "@alias 3/64" for a blob of an alias, for its progress bar
}

func runPullBlob(a *app, args []string) error {
	if a.cfg.ByteRange != nil {
		return runPullRange(a, args)
	}
	if a.cfg.Dir != "" {
		return runPullDir(a, args)
	}
	items, err := a.pullItems(args)
	if err != nil {
		return err
	}
	if err := a.refuseTerminal(items); err != nil {
		return err
	}
	out, commit, discard, err := atomicfile.Output(a.cfg.Output, a.stdout)
	if err != nil {
		return err
	}
	a.planProgress(items)
	err = a.pullAll(out, items)
	if err != nil {
		discard()
		return err
	}
	return commit()
}

// pullAll writes the items to out in order: runs of blobs by the library
// (in parallel into a regular file, unless lines are printed between or
// around blobs), JSON lines in between.
func (a *app) pullAll(out io.Writer, items []pullItem) error {
	w := out
	var bw *bufio.Writer
	if a.cfg.BlobInfo || a.cfg.ChunkSize != 0 || hasJSON(items) {
		// A large buffer: big writes of blob data pass through it (mostly
		// without a copy), and small ones (DXF_BLOB_INFO lines) do not each
		// cost a system call. DXF_CHUNK_SIZE, if set, is both the read size
		// and the size of the writes to the output.
		bw = bufio.NewWriterSize(out, cmp.Or(a.cfg.ChunkSize, defaultChunkSize))
		w = bw
	}
	var err error
	for start := 0; start < len(items) && err == nil; {
		if items[start].json != "" {
			_, err = io.WriteString(w, items[start].json+"\n")
			start++
			continue
		}
		end := start
		var blobs []blobstore.Blob
		for end < len(items) && items[end].json == "" {
			blobs = append(blobs, items[end].blob)
			end++
		}
		err = a.repo.PullBlobs(a.ctx, w, blobs, a.pullOptions(items[start:end])...)
		start = end
	}
	// Bytes already received are written out even after a failure, as the
	// Python tool did; the exit status says they are not to be trusted.
	if bw != nil {
		if ferr := bw.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("writing the output: %w", ferr)
		}
	}
	return err
}

func hasJSON(items []pullItem) bool {
	for _, it := range items {
		if it.json != "" {
			return true
		}
	}
	return false
}

// pullOptions are the library options for pulling items: --jobs,
// DXF_CHUNK_SIZE, DXF_BLOB_INFO lines, and a progress bar per blob.
func (a *app) pullOptions(items []pullItem) []blobstore.TransferOption {
	opts := []blobstore.TransferOption{
		blobstore.WithJobs(a.cfg.Jobs),
		blobstore.WithBufferSize(a.cfg.ChunkSize),
		blobstore.WithProgress(a.progress.BlobBars(func(i int) string { return items[i].label },
			func(i int) bool { return items[i].blob.Size < 0 }, false)),
	}
	if a.cfg.BlobInfo {
		opts = append(opts, blobstore.WithBlobHeader(func(b blobstore.Blob) []byte {
			return fmt.Appendf(nil, "%s %d\n", b.Digest, b.Size)
		}))
	}
	return opts
}

// pullItems expands the arguments (or the manifest on standard input) into
// the blobs to pull, resolving aliases --jobs at a time before any output.
func (a *app) pullItems(args []string) ([]pullItem, error) {
	if len(args) == 0 {
		al, err := a.stdinAlias(a.cfg.Platform)
		if err != nil {
			return nil, err
		}
		return aliasPullItems(al, ""), nil
	}
	refs, bad := blobRefs(args)
	aliases, err := a.repo.GetAliases(a.ctx, refs, a.cfg.Platform, blobstore.WithJobs(a.cfg.Jobs))
	if err != nil {
		return nil, err
	}
	if bad < len(args) {
		return nil, a.badRef(args[bad])
	}
	var items []pullItem
	for i, ref := range refs {
		if aliases[i] == nil {
			items = append(items, pullItem{blob: blobstore.Blob{Digest: ref.Digest, Size: -1}})
			continue
		}
		items = append(items, aliasPullItems(aliases[i], "@"+ref.Alias)...)
	}
	return items, nil
}

// planProgress tells the progress display how many blobs and bytes are
// to come (sizes no manifest gives are added as they become known).
func (a *app) planProgress(items []pullItem) {
	var n int
	var bytes int64
	for _, it := range items {
		if it.json == "" {
			n++
			bytes += max(it.blob.Size, 0)
		}
	}
	a.progress.Plan("blobs", n, bytes)
}

func aliasPullItems(al *blobstore.Alias, name string) []pullItem {
	blobs, err := al.Blobs()
	if err != nil {
		return []pullItem{{json: textfmt.PlatformDigests(al)}}
	}
	items := make([]pullItem, len(blobs))
	for i, b := range blobs {
		items[i] = pullItem{blob: b}
		if name != "" {
			items[i].label = fmt.Sprintf("%s %d/%d", name, i+1, len(blobs))
		}
	}
	return items
}

// refuseTerminal refuses to write blob data to a terminal (it could be
// anything, and binary data sprayed on a terminal can leave it unusable)
// unless --output - says to. Scripts, whose output is not a terminal, see
// no change.
func (a *app) refuseTerminal(items []pullItem) error {
	if a.cfg.Output != "" || !termprogress.IsTerminal(a.stdout) {
		return nil
	}
	for _, it := range items {
		if it.json == "" {
			return errors.New("pull-blob: not writing blob data to the terminal: redirect it (> FILE), use -o FILE, or -o - to write it here anyway")
		}
	}
	return nil
}
