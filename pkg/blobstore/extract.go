package blobstore

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/jobs"
)

// maxTarTrailer bounds the padding read after the end of an archive's tar.
const maxTarTrailer = 1 << 20

// partialPrefix starts the names of files being pulled, renamed into place
// only once verified.
const partialPrefix = ".dxf-partial-"

// ListFiles returns the manifest alias names (for a multi-platform alias,
// that of [WithPlatform]'s platform, or the only one) and the data set's
// entries ([Files]; a wholly unnamed alias is one file named after the
// alias), those [WithInclude] keeps.
func (r *Repository) ListFiles(ctx context.Context, alias string, opts ...TransferOption) (*Manifest, []File, error) {
	o := makeTransferOptions(opts)
	return r.listFiles(ctx, alias, o)
}

func (r *Repository) listFiles(ctx context.Context, alias string, o transferOptions) (*Manifest, []File, error) {
	platform := o.platform
	m, err := r.GetManifest(ctx, alias)
	if err != nil {
		return nil, nil, err
	}
	if m.IsList() && platform == "" && len(m.Manifests) == 1 {
		platform = m.Manifests[0].Platform
		if platform == "" {
			child, err := r.GetManifest(ctx, m.Manifests[0].Digest.String())
			if err != nil {
				return nil, nil, err
			}
			m = child
		}
	}
	if m.IsList() {
		al, err := r.ResolvePlatforms(ctx, m, platform)
		if err != nil {
			return nil, nil, err
		}
		if _, err := al.Blobs(); err != nil {
			return nil, nil, err
		}
		m = al.Image()
	}
	name := alias
	if d, err := ParseDigest(alias); err == nil {
		name = d.Hex
	}
	files, err := Files(m, name)
	if err != nil {
		return nil, nil, fmt.Errorf("alias %s: %w", alias, err)
	}
	if len(o.tree.include) > 0 {
		kept := files[:0]
		for _, f := range files {
			if matchInclude(o.tree.include, f.Path) {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	return m, files, nil
}

// PullDir writes the data set alias names into the directory dir (made if
// missing): each file at its path, an unnamed layer as its digest's hex, a
// wholly unnamed alias (the Docker form) as one file named after the alias
// holding what [Repository.PullAlias] writes (so a split alias is
// reassembled), the chunks of a split file as that file, an oras directory
// (tar+gzip marked for unpacking) unpacked; symbolic links and empty
// directories as recorded; modes where known.
//
// It is safe on hostile input: every path is checked first ([Files],
// [CheckPath]: absolute, "..", control characters, duplicates, too many
// entries fail with [ErrUnsafePath] or a [*LimitError] naming the entry,
// before anything is written), writes go through an [os.Root] so nothing
// lands outside dir, also through symbolic links, and a link whose target
// leaves dir is refused (made, never followed, with [WithOutsideLinks]).
// Each file is written under a temporary name and renamed into place only
// once every byte was verified. An archive unpacked may inflate to at most
// [WithMaxUnpack] bytes, and leaves nothing behind when refused.
//
// [WithPlan] and [WithProgress] report the entries, then each file.
//
// It syncs: a file already in dir with the content the data set gives
// (size, then the digest of each part) is kept, not fetched; after an
// interrupted pull, the files completed are kept. [WithDelete] removes
// what the data set does not have; [WithInclude] pulls only some paths.
func (r *Repository) PullDir(ctx context.Context, alias, dir string, opts ...TransferOption) (*TreeResult, error) {
	o := makeTransferOptions(opts)
	m, files, err := r.listFiles(ctx, alias, o)
	if err != nil {
		return nil, err
	}
	op := "pull " + alias + " into " + dir
	for _, f := range files {
		if f.Kind == KindSymlink && !o.tree.outsideLinks {
			if err := checkLinkTarget(f.Path, f.Target); err != nil {
				return nil, fmt.Errorf("%s: %w (WithOutsideLinks, or dxf pull-blob --outside-links, makes such links)", op, err)
			}
		}
	}
	if o.tree.plan != nil {
		o.tree.plan(files)
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer root.Close()
	res := &TreeResult{Manifest: m, Files: files}
	var entries atomic.Int64
	entries.Add(int64(len(files)))
	var mu sync.Mutex
	err = forEachFile(ctx, o.jobs, len(files), func(i int) bool {
		return files[i].Kind == KindFile && (files[i].Unpack || files[i].Size > smallFile)
	}, func(ctx context.Context, i int) error {
		f := files[i]
		if f.Kind != KindFile {
			return nil
		}
		// Each file's reports come from this goroutine alone.
		var report func(int64)
		if o.progress != nil {
			b := Blob{Digest: f.Digest, Size: f.Size}
			if f.Unpack {
				b = f.Parts[0]
			}
			report = func(n int64) { o.report(Progress{Index: i, Blob: b, Done: n}) }
		}
		var fetched bool
		var n int64
		var err error
		if f.Unpack {
			n, err = r.unpack(ctx, root, f, o, &entries, report)
			fetched = true
		} else {
			fetched, n, err = r.pullFileInto(ctx, root, f, report)
		}
		if err != nil {
			return entryErr(f.Path, err)
		}
		size := max(f.Size, 0)
		if f.Unpack {
			size = n
		}
		o.report(Progress{Index: i, Blob: Blob{Digest: f.Digest, Size: size}, Done: size, Existed: !fetched, Finished: true})
		mu.Lock()
		defer mu.Unlock()
		if fetched {
			res.Transferred++
			res.TransferredBytes += n
		} else {
			res.Kept++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	for _, f := range files {
		switch f.Kind {
		case KindDir:
			if err := root.MkdirAll(f.Path, dirMode); err != nil {
				return nil, fmt.Errorf("%s: %w", op, entryErr(f.Path, err))
			}
		case KindSymlink:
			if err := placeLink(root, dir, f.Path, f.Target, o.tree.outsideLinks); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
		}
	}
	if o.tree.delete {
		if res.Deleted, err = deleteOthers(root, dir, files, o.tree.include); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	return res, nil
}

// entryErr names the entry p in err; an escape that os.Root stopped (a
// path through a symbolic link that leaves the directory) is an
// [ErrUnsafePath].
func entryErr(p string, err error) error {
	if strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%w: %q: leads out of the directory through a symbolic link (%w)", ErrUnsafePath, p, err)
	}
	return fmt.Errorf("%q: %w", p, err)
}

// pullFileInto writes file f under root unless it is there already with
// the right content; it says whether it fetched it, and how many bytes.
func (r *Repository) pullFileInto(ctx context.Context, root *os.Root, f File, report func(int64)) (bool, int64, error) {
	mode := f.Mode
	if mode == 0 {
		mode = 0o644
	}
	if same, err := sameContent(ctx, root, f); err != nil {
		return false, 0, err
	} else if same {
		if fi, err := root.Lstat(f.Path); err == nil && fi.Mode().Perm() != mode && f.Mode != 0 {
			return false, 0, root.Chmod(f.Path, mode)
		}
		return false, 0, nil
	}
	if err := mkdirParent(root, f.Path); err != nil {
		return false, 0, err
	}
	tmp, out, err := createPartial(root, f.Path)
	if err != nil {
		return false, 0, err
	}
	done := false
	defer func() {
		if !done {
			out.Close()
			_ = root.Remove(tmp)
		}
	}()
	h := sha256.New()
	w := io.Writer(out)
	if len(f.Parts) > 1 && f.Digest != (v1.Hash{}) {
		w = io.MultiWriter(out, h)
	}
	if report != nil {
		w = &progressCounter{w: w, f: report}
	}
	if len(f.Parts) == 1 && f.Parts[0].Size >= 0 && f.Parts[0].Size <= smallFile {
		if err := r.pullSmall(ctx, w, f.Parts[0]); err != nil {
			return false, 0, err
		}
	} else if err := r.PullBlobs(ctx, w, f.Parts, WithJobs(1)); err != nil {
		return false, 0, err
	}
	if len(f.Parts) > 1 && f.Digest != (v1.Hash{}) {
		if got := (v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}); got != f.Digest {
			return false, 0, &DigestMismatchError{Expected: f.Digest, Got: got}
		}
	}
	if err := out.Chmod(mode); err != nil {
		return false, 0, err
	}
	if err := out.Close(); err != nil {
		return false, 0, err
	}
	done = true
	if err := root.Rename(tmp, f.Path); err != nil {
		_ = root.Remove(tmp)
		return false, 0, err
	}
	return true, f.Size, nil
}

// dirMode is the mode pulled directories are made with: as mkdir -p and
// tar make them, the umask applies.
const dirMode = 0o777

// mkdirParent makes the directories p (a path under root) is in.
func mkdirParent(root *os.Root, p string) error {
	if d := path.Dir(p); d != "." {
		return root.MkdirAll(d, dirMode)
	}
	return nil
}

// smallFile is the size up to which a data set's file is pulled by
// pullSmall, and pushed with no digest cache entry (see PushDir).
const smallFile = 64 << 10

// smallPerJob is how many of a data set's small files (of at most
// smallFile bytes) are transferred at once for each of the jobs that
// [WithJobs] allows: round trips and the registry's work for each request
// make their time, not bytes, and more of them in flight keep both ends
// busy. Against a local Distribution registry (2 cores), 10,000 files of
// 4 KiB pulled 8 at once took 20.9 s, 32 at once 17.5 s; larger files
// stay at the jobs allowed.
const smallPerJob = 4

// forEachFile calls f for each of a data set's n files as
// [jobs.ForEach] does, njobs at a time, where large(i) says which take a
// whole job; the others, small, take 1/smallPerJob of one. With 1 job,
// one file at a time.
func forEachFile(ctx context.Context, njobs, n int, large func(i int) bool, f func(ctx context.Context, i int) error) error {
	slots, whole := njobs*smallPerJob, smallPerJob
	if njobs <= 1 {
		slots, whole = 1, 1
	}
	return jobs.ForEachWeighted(ctx, slots, n, func(i int) int {
		if large(i) {
			return whole
		}
		return 1
	}, f)
}

// pullSmall writes blob b, of at most smallFile bytes, to w: one read
// buffer of its size, hashed on this goroutine as it is read
// (BlobReader.Read), and verified at its end as every pull is. For such a
// blob, the hashing buffers of the streaming path and the preallocation of
// the parallel one (PullBlobs into a file) cost more than the transfer:
// with thousands of small files pulled at once they made most of the
// work (allocation and garbage collection).
func (r *Repository) pullSmall(ctx context.Context, w io.Writer, b Blob) error {
	br, err := r.PullBlobSize(ctx, b.Digest, b.Size)
	if err != nil {
		return err
	}
	defer br.Close()
	if err := checkSize(br, b, false); err != nil {
		return err
	}
	// One byte more than the blob: Read ends with io.EOF only once the
	// digest matched.
	buf := make([]byte, b.Size+1)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return fmt.Errorf("writing the output: %w", werr)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return namedPullErr(b.Digest, err)
		}
	}
}

// createPartial creates a new temporary file next to p, under root.
func createPartial(root *os.Root, p string) (string, *os.File, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(path.Dir(p), partialPrefix+hex.EncodeToString(rnd[:]))
	out, err := root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	return tmp, out, err
}

// sameContent reports whether root holds f's content at f.Path already: a
// regular file of its size whose parts hash to its parts' digests.
func sameContent(ctx context.Context, root *os.Root, f File) (bool, error) {
	fi, err := root.Lstat(f.Path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != f.Size || f.Size < 0 {
		return false, nil //nolint:nilerr // missing or different: fetch it
	}
	in, err := root.Open(f.Path)
	if err != nil {
		return false, nil //nolint:nilerr // unreadable: fetch it anew
	}
	defer in.Close()
	var off int64
	for _, p := range f.Parts {
		d, err := hashSection(ctx, io.NewSectionReader(in, off, p.Size), p.Size)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, nil
		}
		if d != p.Digest {
			return false, nil
		}
		off += p.Size
	}
	return true, nil
}

// placeLink makes the symbolic link p -> target under root (replacing a
// file or link there), and refuses it if it resolves outside dir unless
// outside says such links are wanted (they are made, never followed).
func placeLink(root *os.Root, dir, p, target string, outside bool) error {
	if fi, err := root.Lstat(p); err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			if t, err := root.Readlink(p); err == nil && t == target {
				return nil
			}
		}
		if fi.IsDir() {
			return fmt.Errorf("%s: a directory is in the way of the symbolic link", p)
		}
		if err := root.Remove(p); err != nil {
			return err
		}
	}
	if err := mkdirParent(root, p); err != nil {
		return entryErr(p, err)
	}
	if err := root.Symlink(target, p); err != nil {
		return entryErr(p, err)
	}
	if outside {
		return nil
	}
	// Links to links can leave dir even when each target, read alone,
	// stays inside: resolve it as the system will.
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if top, err := filepath.EvalSymlinks(abs); err == nil {
		abs = top
	}
	if real, err := filepath.EvalSymlinks(filepath.Join(abs, filepath.FromSlash(p))); err == nil {
		if rel, err := filepath.Rel(abs, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			_ = root.Remove(p)
			return fmt.Errorf("%w: symbolic link %q -> %q: resolves outside the directory", ErrUnsafePath, p, target)
		}
	}
	return nil
}

// deleteOthers removes the files and links under root that are not
// entries of files (nor under an unpacked directory), among the paths
// include keeps, then the directories left empty that are not entries.
func deleteOthers(root *os.Root, dir string, files []File, include []string) ([]string, error) {
	keep := map[string]bool{}
	var unpacked []string
	for _, f := range files {
		keep[f.Path] = true
		if f.Unpack {
			unpacked = append(unpacked, f.Path+"/")
		}
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			keep[d] = true
		}
	}
	under := func(p string) bool {
		for _, u := range unpacked {
			if strings.HasPrefix(p, u) {
				return true
			}
		}
		return false
	}
	var deleted, dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if keep[rel] && !d.IsDir() || under(rel) {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), partialPrefix) {
			// An archive's staging directory, left by a killed pull.
			if err := root.RemoveAll(rel); err != nil {
				return err
			}
			deleted = append(deleted, rel+"/")
			return filepath.SkipDir
		}
		if d.IsDir() {
			if !keep[rel] {
				dirs = append(dirs, rel)
			}
			return nil
		}
		if !matchInclude(include, rel) && !strings.HasPrefix(path.Base(rel), partialPrefix) {
			return nil
		}
		if err := root.Remove(rel); err != nil {
			return err
		}
		deleted = append(deleted, rel)
		return nil
	})
	if err != nil {
		return deleted, err
	}
	// Deepest first; a directory still holding something stays.
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if matchInclude(include, d) && root.Remove(d) == nil {
			deleted = append(deleted, d+"/")
		}
	}
	slices.Sort(deleted)
	return deleted, nil
}

// unpack fetches f's blob (a tar+gzip archive, as oras pushes a
// directory) to a temporary file, verified, then unpacks it under root at
// f.Path with the same checks as every other path. Its members are first
// written into a temporary directory beside f.Path, and moved into place
// only once the whole archive was read and found sound: an archive refused
// (a hostile member, a digest mismatch, over [WithMaxUnpack] or
// [MaxEntries]) leaves nothing behind. entries counts the data set's
// entries and members so far, against [MaxEntries].
func (r *Repository) unpack(ctx context.Context, root *os.Root, f File, o transferOptions, entries *atomic.Int64, report func(int64)) (int64, error) {
	if len(f.Parts) != 1 {
		return 0, fmt.Errorf("%w: an archive to unpack must be one blob", ErrInvalidManifest)
	}
	if err := mkdirParent(root, f.Path); err != nil {
		return 0, err
	}
	tmp, out, err := createPartial(root, f.Path)
	if err != nil {
		return 0, err
	}
	defer func() {
		out.Close()
		_ = root.Remove(tmp)
	}()
	var w io.Writer = out
	if report != nil {
		w = &progressCounter{w: out, f: report}
	}
	if err := r.PullBlobs(ctx, w, f.Parts, WithJobs(1)); err != nil {
		return 0, err
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	stage := tmp + ".d"
	if err := root.Mkdir(stage, 0o700); err != nil {
		return 0, err
	}
	defer func() { _ = root.RemoveAll(stage) }()
	members, err := untar(root, stage, out, f, unpackLimit(o.tree.maxUnpack, f.Parts[0].Size), entries, o.tree.outsideLinks)
	if err != nil {
		return 0, err
	}
	for _, m := range members {
		switch {
		case m.dir:
			if err := root.MkdirAll(m.name, dirMode); err != nil {
				return 0, fmt.Errorf("archive member %w", entryErr(m.name, err))
			}
		case m.target == "":
			if err := mkdirParent(root, m.name); err != nil {
				return 0, fmt.Errorf("archive member %w", entryErr(m.name, err))
			}
			if err := root.Rename(path.Join(stage, m.name), m.name); err != nil {
				return 0, fmt.Errorf("archive member %w", entryErr(m.name, err))
			}
		}
	}
	for _, m := range members {
		if m.target != "" {
			if err := placeLink(root, root.Name(), m.name, m.target, o.tree.outsideLinks); err != nil {
				return 0, err
			}
		}
	}
	return f.Parts[0].Size, nil
}

// progressCounter passes writes on to w and tells f the bytes written so
// far.
type progressCounter struct {
	w io.Writer
	n int64
	f func(int64)
}

func (c *progressCounter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.f(c.n)
	return n, err
}

// DefaultMaxUnpackRatio and DefaultMaxUnpackMin make the default bound on
// what one archive may unpack to ([WithMaxUnpack]): the larger of
// DefaultMaxUnpackMin and DefaultMaxUnpackRatio times the archive's size.
const (
	DefaultMaxUnpackRatio = 100
	DefaultMaxUnpackMin   = 1 << 30
)

// unpackLimit is the bound on the bytes an archive of size bytes (its
// blob) may inflate to, given [WithMaxUnpack]'s n; -1: none.
func unpackLimit(n, size int64) int64 {
	switch {
	case n > 0:
		return n
	case n < 0:
		return -1
	}
	if size > (1<<62)/DefaultMaxUnpackRatio {
		return -1
	}
	return max(DefaultMaxUnpackMin, DefaultMaxUnpackRatio*size)
}

// errInflated is what boundedReader returns once its bound is passed.
var errInflated = errors.New("inflated past the bound")

// boundedReader reads r until more than left bytes came out of it.
type boundedReader struct {
	r    io.Reader
	left int64 // < 0: no bound
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left < 0 {
		return b.r.Read(p)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errInflated
	}
	return n, err
}

// member is an archive member unpacked into the staging directory: a
// file (moved into place), a directory, or a link (made last).
type member struct {
	name   string
	dir    bool
	target string
}

// untar unpacks the tar+gzip archive rd into the directory stage under
// root, the members' paths kept: members must lie at or under f.Path;
// regular files, directories and symbolic links only (links are returned,
// not made); at most limit bytes inflated (limit < 0: no bound), and at
// most MaxEntries entries counted in entries.
func untar(root *os.Root, stage string, rd io.Reader, f File, limit int64, entries *atomic.Int64, outsideLinks bool) ([]member, error) {
	zr, err := gzip.NewReader(rd)
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip: %w", ErrInvalidManifest, err)
	}
	br := &boundedReader{r: zr, left: limit}
	over := func(err error) error {
		if errors.Is(err, errInflated) {
			return &LimitError{What: fmt.Sprintf("what the archive %s (%d bytes) unpacks to", f.Parts[0].Digest, f.Parts[0].Size),
				Limit: limit, Unit: "bytes", Name: "WithMaxUnpack"}
		}
		return err
	}
	h := sha256.New()
	tee := io.TeeReader(br, h)
	tr := tar.NewReader(tee)
	seen := map[string]bool{}
	var members []member
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("archive: %w", over(err))
		}
		if entries.Add(1) > MaxEntries {
			return nil, &LimitError{What: fmt.Sprintf("the data set's entries with the members of the archive %q", f.Path), Limit: MaxEntries, Unit: "entries", Name: "MaxEntries"}
		}
		name := strings.TrimSuffix(strings.TrimPrefix(hdr.Name, "./"), "/")
		if err := CheckPath(name); err != nil {
			return nil, fmt.Errorf("archive member: %w", err)
		}
		if name != f.Path && !strings.HasPrefix(name, f.Path+"/") {
			return nil, fmt.Errorf("%w: archive member %q is not under %q", ErrUnsafePath, name, f.Path)
		}
		if seen[name] && hdr.Typeflag != tar.TypeDir {
			return nil, fmt.Errorf("%w: archive member %q: named twice", ErrUnsafePath, name)
		}
		seen[name] = true
		mode := fs.FileMode(hdr.Mode).Perm() //nolint:gosec // masked to the permission bits
		staged := path.Join(stage, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(staged, dirMode); err != nil {
				return nil, fmt.Errorf("archive member %w", entryErr(name, err))
			}
			members = append(members, member{name: name, dir: true})
		case tar.TypeReg:
			if err := writeMember(root, staged, tr, mode); err != nil {
				return nil, fmt.Errorf("archive member %w", entryErr(name, over(err)))
			}
			members = append(members, member{name: name})
		case tar.TypeSymlink:
			if err := checkLinkTarget(name, hdr.Linkname); err != nil && !outsideLinks {
				return nil, fmt.Errorf("archive member: %w", err)
			}
			if hdr.Linkname == "" {
				return nil, fmt.Errorf("%w: archive member %q: a symbolic link without a target", ErrUnsafePath, name)
			}
			members = append(members, member{name: name, target: hdr.Linkname})
		default:
			return nil, fmt.Errorf("%w: archive member %q: type %q is not unpacked (only files, directories and symbolic links)", ErrUnsafePath, name, hdr.Typeflag)
		}
	}
	// What follows the tar's end is padding: bounded, so that a hostile
	// archive cannot make us inflate without end.
	if n, err := io.CopyN(io.Discard, tee, maxTarTrailer+1); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("archive: %w", over(err))
	} else if n > maxTarTrailer {
		return nil, fmt.Errorf("%w: archive: more than %d bytes after the end of the tar", ErrInvalidManifest, maxTarTrailer)
	}
	if f.UnpackDigest != "" {
		want, err := ParseDigest(f.UnpackDigest)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidManifest, AnnotationUnpackDigest, err)
		}
		if got := (v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}); got != want {
			return nil, fmt.Errorf("archive: %w", &DigestMismatchError{Expected: want, Got: got})
		}
	}
	return members, nil
}

// writeMember writes one archive member at name under root (in the
// staging directory: no temporary name needed).
func writeMember(root *os.Root, name string, rd io.Reader, mode fs.FileMode) error {
	if err := mkdirParent(root, name); err != nil {
		return err
	}
	if mode == 0 {
		mode = 0o644
	}
	out, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, rd); err != nil {
		out.Close()
		return err
	}
	if err := out.Chmod(mode); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
