package blobstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/jobs"
	"github.com/dxf-go/dxf/pkg/internal/cdc"
)

// DefaultSplitThreshold is the size from which [Repository.PushDir] cuts a
// file into content-defined chunks, unless [WithSplitThreshold] says
// otherwise.
const DefaultSplitThreshold = 64 << 20

// treeOptions are the options of the calls on data sets.
type treeOptions struct {
	splitThreshold int64 // 0: DefaultSplitThreshold; < 0: never split
	include        []string
	delete         bool
	emptyConfig    bool // the repository is known to have the empty config blob
	maxUnpack      int64
	outsideLinks   bool
	plan           func([]File)
}

// WithMaxUnpack bounds the bytes that each archive [Repository.PullDir]
// unpacks (a directory as oras pushes it, tar+gzip) may inflate to, tar
// headers included: an archive that inflates past it is refused with a
// [*LimitError] naming it, and nothing of it is left in the directory.
// n = 0 (the default): the larger of [DefaultMaxUnpackMin] (1 GiB) and
// [DefaultMaxUnpackRatio] (100) times the archive's size; n < 0: no bound.
func WithMaxUnpack(n int64) TransferOption {
	return func(o *transferOptions) { o.tree.maxUnpack = n }
}

// WithOutsideLinks makes [Repository.PullDir] create the symbolic links of
// a data set whose target is absolute or leaves the directory, as they are
// (tar's way), instead of refusing the data set. Such a link is made after
// every file, and never followed: nothing is written through it, by this
// pull or a later one (all writes go through an [os.Root]).
func WithOutsideLinks(allow bool) TransferOption {
	return func(o *transferOptions) { o.tree.outsideLinks = allow }
}

// WithPlan makes [Repository.PushDir] and [Repository.PullDir] call f once
// with the data set's entries, before any byte is transferred. The Index
// of their [Progress] reports ([WithProgress]) is an index into these
// entries: one report stream per regular file (Blob is the file's digest,
// zero until known, and size; Done counts its bytes sent or written; the
// last report is Finished, and Existed when nothing had to be sent or
// fetched).
func WithPlan(f func(files []File)) TransferOption {
	return func(o *transferOptions) { o.tree.plan = f }
}

// WithSplitThreshold makes [Repository.PushDir] cut files of n bytes or
// more into content-defined chunks ([WithSplitAverage] sets their size);
// n < 0: never.
func WithSplitThreshold(n int64) TransferOption {
	return func(o *transferOptions) { o.tree.splitThreshold = n }
}

// WithInclude makes the calls on data sets ([Repository.PullDir],
// [Repository.ListFiles]) keep only the entries whose path matches one of
// the glob patterns (path.Match syntax; a pattern without "/" is also
// matched against the base name, and a directory matched takes what is
// under it).
func WithInclude(patterns ...string) TransferOption {
	return func(o *transferOptions) { o.tree.include = append(o.tree.include, patterns...) }
}

// WithDelete makes [Repository.PullDir] remove the files and links of the
// directory that the data set (as filtered by [WithInclude]) does not have.
func WithDelete(del bool) TransferOption {
	return func(o *transferOptions) { o.tree.delete = del }
}

// TreeResult describes a directory pushed ([Repository.PushDir]) or pulled
// ([Repository.PullDir]).
type TreeResult struct {
	// Manifest is the manifest set (push) or read (pull).
	Manifest *Manifest
	// Files are the data set's entries, in the manifest's order (for a
	// pull, those [WithInclude] kept).
	Files []File
	// Transferred counts the blobs sent (push) or files fetched (pull).
	Transferred int
	// TransferredBytes is their total size.
	TransferredBytes int64
	// Kept counts the files not transferred: known to be in the
	// registry from the previous alias or found there (push), or
	// already in the directory with the right content (pull).
	Kept int
	// Deleted lists the paths [WithDelete] removed (pull).
	Deleted []string
}

// PushDir pushes the directory tree at dir as a data set and points alias
// at it, in the OCI form whatever [WithFormat] says (the Docker form has
// no names). Each regular file is one blob (identical files are stored
// once), and a file of [WithSplitThreshold] bytes or more is cut into
// content-defined chunks; symbolic links are recorded, never followed (one
// whose target is absolute or leaves the tree too, and [WithFormatNotice]
// is told); empty directories are kept. [WithPlan] and [WithProgress]
// report the entries, then each file. See docs/format.md.
//
// It syncs: the data set alias named before, and the digest cache
// ([WithDigestCache]), say which files the registry already has, so
// re-pushing a tree where one file changed sends one blob and the
// manifest, and asks nothing about the others. A file they say nothing of
// is hashed, and sent unless the registry has it (one HEAD).
func (r *Repository) PushDir(ctx context.Context, dir, alias string, opts ...TransferOption) (*TreeResult, error) {
	o := makeTransferOptions(opts)
	progress := o.progress
	o.progress = nil
	op := "push " + dir
	if err := ValidateAlias(alias); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	files, paths, err := walkTree(dir, o.notice)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if o.tree.plan != nil {
		o.tree.plan(slices.Clone(files))
	}
	// Each file's reports come from one goroutine at a time.
	report := func(i int, p Progress) {
		if progress != nil {
			p.Index = i
			progress(p)
		}
	}
	kept := func(i int) {
		f := files[i]
		report(i, Progress{Blob: Blob{Digest: f.Digest, Size: f.Size}, Done: f.Size, Present: f.Size, Existed: true, Finished: true})
	}
	// through passes a file's push reports on, without their end: the
	// file's last report is made once its blobs are all there.
	through := func(i int) ProgressFunc {
		if progress == nil {
			return nil
		}
		return func(p Progress) {
			if p.Finished || p.Existed {
				return
			}
			report(i, Progress{Blob: Blob{Digest: files[i].Digest, Size: files[i].Size}, Done: p.Done, Present: p.Present})
		}
	}
	prev, emptyConfig := r.previousFiles(ctx, alias)
	o.tree.emptyConfig = emptyConfig
	known := map[v1.Hash]int64{}
	for _, f := range prev {
		for _, p := range f.Parts {
			known[p.Digest] = p.Size
		}
	}
	threshold := o.tree.splitThreshold
	if threshold == 0 {
		threshold = DefaultSplitThreshold
	}
	var cache *digestCache
	if r.opts().digestCache != "" {
		cache = &digestCache{dir: r.opts().digestCache}
	}
	res := &TreeResult{}
	var mu sync.Mutex
	// Phase 1: each file's digest (from the cache, else by reading it),
	// and whether the registry is known to have it.
	big := make([]bool, len(files))
	err = jobs.ForEach(ctx, o.jobs, len(files), func(ctx context.Context, i int) error {
		f := &files[i]
		if f.Kind != KindFile {
			return nil
		}
		fi, err := os.Stat(paths[i])
		if err != nil {
			return err
		}
		var d v1.Hash
		ok := false
		if cache != nil && fi.Size() > smallFile {
			// A small file is hashed sooner than its cache entry is read.
			d, ok = cache.lookup(paths[i], fi)
		}
		if f.Size >= threshold && threshold > 0 {
			big[i] = true
			if p, had := prev[f.Path]; ok && had && p.Digest == d && p.Size == f.Size && len(p.Parts) > 0 {
				f.Digest, f.Parts = d, p.Parts
				kept(i)
				mu.Lock()
				res.Kept++
				mu.Unlock()
			}
			return nil
		}
		if !ok {
			if d, err = hashFile(ctx, paths[i]); err != nil {
				return err
			}
		}
		f.Digest = d
		f.Parts = []Blob{{Digest: d, Size: f.Size}}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	// Phase 2: send what the registry is not known to have, each blob
	// once.
	var todo []int
	queued := map[v1.Hash]bool{}
	for i, f := range files {
		size, had := known[f.Digest]
		switch {
		case f.Kind != KindFile:
		case big[i]:
			if f.Parts == nil {
				todo = append(todo, i)
			}
		case had && size == f.Size:
			res.Kept++
			kept(i)
		case queued[f.Digest]:
			res.Kept++
			kept(i)
		default:
			queued[f.Digest] = true
			todo = append(todo, i)
		}
	}
	p, err := splitParamsOf(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	o.probe = r.newProbe()
	err = forEachFile(ctx, o.jobs, len(todo), func(k int) bool {
		return big[todo[k]] || files[todo[k]].Size > smallFile
	}, func(ctx context.Context, k int) error {
		i := todo[k]
		f := &files[i]
		oi := o
		oi.progress = through(i)
		if big[i] {
			parts, d, sr, err := r.pushSplitHashed(ctx, paths[i], f.Size, oi, p)
			if err != nil {
				return err
			}
			f.Parts, f.Digest = parts, d
			report(i, Progress{Blob: Blob{Digest: d, Size: f.Size}, Done: f.Size, Present: f.Size - sr.UploadedBytes, Existed: sr.Uploaded == 0, Finished: true})
			mu.Lock()
			res.Transferred += sr.Uploaded
			res.TransferredBytes += sr.UploadedBytes
			mu.Unlock()
		} else {
			oi.digest, oi.size = &f.Digest, f.Size
			pr, err := r.pushTreeFile(ctx, paths[i], oi)
			if err != nil {
				return err
			}
			if pr.Existed {
				kept(i)
			} else {
				report(i, Progress{Blob: Blob{Digest: f.Digest, Size: f.Size}, Done: f.Size, Finished: true})
			}
			mu.Lock()
			if pr.Existed {
				res.Kept++
			} else {
				res.Transferred++
				res.TransferredBytes += pr.Size
			}
			mu.Unlock()
		}
		if cache != nil && f.Size > smallFile {
			if fi, err := os.Stat(paths[i]); err == nil && fi.Size() == f.Size {
				cache.store(paths[i], fi, f.Digest)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	o.format = FormatOCI
	m, err := r.SetAliasFiles(ctx, alias, files, func(t *transferOptions) { *t = o })
	if err != nil {
		return nil, err
	}
	res.Manifest, res.Files = m, files
	return res, nil
}

// pushTreeFile pushes the file at p, of o.size bytes and digest *o.digest,
// as pushFile does; a small one (smallFile bytes at most) without the
// digest cache: writing its entry (a temporary file, renamed) cost more
// than the upload itself, and reading it back more than hashing the file.
func (r *Repository) pushTreeFile(ctx context.Context, p string, o transferOptions) (PushResult, error) {
	if o.size > smallFile {
		return r.pushFile(ctx, p, o)
	}
	f, _, err := openRegular(p)
	if err != nil {
		return PushResult{}, err
	}
	defer f.Close()
	res, err := r.push(ctx, f, o)
	if err != nil {
		return res, fmt.Errorf("push %s: %w", p, err)
	}
	return res, nil
}

func splitParamsOf(o transferOptions) (cdc.Params, error) {
	if o.splitAvg == 0 {
		o.splitAvg = DefaultSplitAverage
	}
	return cdc.New(o.splitAvg)
}

// pushSplitHashed pushes the file at p as content-defined chunks and
// returns them, with the digest of the whole file (hashed as it is read).
func (r *Repository) pushSplitHashed(ctx context.Context, p string, size int64, o transferOptions, params cdc.Params) ([]Blob, v1.Hash, SplitResult, error) {
	f, fi, err := openRegular(p)
	if err != nil {
		return nil, v1.Hash{}, SplitResult{}, err
	}
	defer f.Close()
	if fi.Size() != size {
		return nil, v1.Hash{}, SplitResult{}, fmt.Errorf("push %s: %w: the file changed while it was pushed", p, ErrSizeMismatch)
	}
	if err := checkChunkBudget(size, params, maxChunks()); err != nil {
		return nil, v1.Hash{}, SplitResult{}, fmt.Errorf("push %s: %w", p, err)
	}
	h := sha256.New()
	sr, err := r.pushSplit(ctx, io.TeeReader(f, h), size, o, params, maxChunks())
	if err != nil {
		return nil, v1.Hash{}, SplitResult{}, fmt.Errorf("push %s: %w", p, err)
	}
	if sr.Size != size {
		return nil, v1.Hash{}, SplitResult{}, fmt.Errorf("push %s: %w: read %d bytes, expected %d (the file changed while it was pushed)", p, ErrSizeMismatch, sr.Size, size)
	}
	return sr.Chunks, v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}, sr, nil
}

// hashFile returns the digest of the file at p.
func hashFile(ctx context.Context, p string) (v1.Hash, error) {
	f, fi, err := openRegular(p)
	if err != nil {
		return v1.Hash{}, err
	}
	defer f.Close()
	return hashSection(ctx, f, fi.Size())
}

// previousFiles returns the files of the data set alias names now, by
// path; nil if there is none or it cannot be read (then nothing is
// assumed to be in the registry). It also says whether that manifest's
// config is the empty blob (which the registry then has).
func (r *Repository) previousFiles(ctx context.Context, alias string) (map[string]File, bool) {
	m, err := r.GetManifest(ctx, alias)
	if err != nil || m.IsList() {
		return nil, false
	}
	files, err := Files(m, alias)
	if err != nil {
		return nil, false
	}
	out := make(map[string]File, len(files))
	for _, f := range files {
		if f.Kind == KindFile && !f.Unpack {
			out[f.Path] = f
		}
	}
	return out, m.Config == emptyJSONBlob
}

// walkTree lists the entries of the tree at dir, in lexical order, with
// each regular file's local path beside it.
//
// A symbolic link is an entry, its target kept as text and never followed;
// one whose target is absolute or leaves the tree is recorded all the same,
// and notice (if set) is told in one line.
func walkTree(dir string, notice FormatNotice) ([]File, []string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("not a directory")
	}
	var files []File
	var paths []string
	nonEmpty := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if err := CheckPath(rel); err != nil {
			return err
		}
		nonEmpty[path.Dir(rel)] = true
		if len(files) >= MaxEntries {
			return &LimitError{What: "the tree's entries", Limit: MaxEntries, Unit: "entries", Name: "MaxEntries"}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			files = append(files, File{Path: rel, Kind: KindDir, Mode: info.Mode().Perm()})
		case info.Mode().IsRegular():
			files = append(files, File{Path: rel, Mode: info.Mode().Perm(), Size: info.Size()})
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			target = filepath.ToSlash(target)
			if target == "" {
				return fmt.Errorf("%w: symbolic link %q: empty target", ErrUnsafePath, rel)
			}
			if err := checkLinkTarget(rel, target); err != nil && notice != nil {
				notice(fmt.Sprintf("symbolic link %q -> %q points out of the tree: recorded as it is (pulls make it only if asked to: WithOutsideLinks, dxf pull-blob --outside-links)", rel, target))
			}
			files = append(files, File{Path: rel, Kind: KindSymlink, Target: target})
		default:
			return fmt.Errorf("%s: not a regular file, directory or symbolic link (%s)", rel, info.Mode().Type())
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Only empty directories are entries; the others are implied by
	// what is in them.
	var outF []File
	var outP []string
	for i, f := range files {
		if f.Kind == KindDir && nonEmpty[f.Path] {
			continue
		}
		outF, outP = append(outF, f), append(outP, paths[i])
	}
	if len(outF) == 0 {
		return nil, nil, errors.New("nothing to push: the directory is empty")
	}
	return outF, outP, nil
}

// matchInclude reports whether path p is kept by the patterns (all are
// kept when there are none).
func matchInclude(patterns []string, p string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, pat := range patterns {
		pat = strings.TrimSuffix(pat, "/")
		for q := p; q != "." && q != ""; q = path.Dir(q) {
			if ok, _ := path.Match(pat, q); ok {
				return true
			}
			if !strings.Contains(pat, "/") {
				if ok, _ := path.Match(pat, path.Base(q)); ok {
					return true
				}
			}
		}
	}
	return false
}
