package termprogress

import (
	"sync"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

// BlobBars turns the library's progress reports into a bar per blob of p.
// name labels blob i (nil: no name); grow says whether its size adds to
// the overall total when its bar starts (nil: never, the plan had it);
// pushing: the bar starts without a digest, which is known only once the
// blob is sent. A blob the registry had, or mounted, counts as skipped;
// if its bar had started, the bar ends saying the bytes were found there.
func (p *Progress) BlobBars(name func(i int) string, grow func(i int) bool, pushing bool) blobstore.ProgressFunc {
	var mu sync.Mutex // guards bars, shared by the blobs' goroutines
	bars := map[int]*Bar{}
	return func(r blobstore.Progress) {
		skip := r.Existed || r.Mounted
		mu.Lock()
		bar, ok := bars[r.Index]
		if !ok && !skip {
			label, digest := "", r.Blob.Digest.String()
			if name != nil {
				label = name(r.Index)
			}
			if pushing {
				digest = ""
			}
			if grow != nil && grow(r.Index) {
				p.Grow(max(r.Blob.Size, 0))
			}
			bars[r.Index] = p.Start(label, digest, r.Blob.Size)
		}
		mu.Unlock()
		switch {
		case skip && ok: // found there once its bar had started
			bar.SetParts(max(r.Blob.Size, 0), max(r.Blob.Size, 0))
			bar.Finish(r.Blob.Digest.String())
		case skip:
			if grow != nil && grow(r.Index) {
				p.Grow(max(r.Blob.Size, 0))
			}
			p.Skipped(r.Blob.Size)
		case !ok: // the bar just started
		case r.Finished:
			bar.Finish(r.Blob.Digest.String())
		default:
			bar.Set(r.Done)
		}
	}
}

// TreeBars draws a progress bar per file of a directory pushed or pulled
// (the library's tree transfers), named after its path, as BlobBars does
// for files and blobs; a file the registry (push) or the directory (pull)
// had counts as skipped. Nil for a nil p.
func (p *Progress) TreeBars() []blobstore.TransferOption {
	if p == nil {
		return nil
	}
	var bars []*Bar
	var names []string
	return []blobstore.TransferOption{
		blobstore.WithPlan(func(files []blobstore.File) {
			bars, names = make([]*Bar, len(files)), make([]string, len(files))
			var n int
			var size int64
			for i, f := range files {
				names[i] = f.Path
				if f.Kind == blobstore.KindFile {
					n++
					size += max(f.Size, 0)
				}
			}
			p.Plan("files", n, size)
		}),
		// Each file's reports come from one goroutine at a time: bars[i]
		// is its own.
		blobstore.WithProgress(func(r blobstore.Progress) {
			bar := bars[r.Index]
			if r.Existed && bar == nil {
				p.Skipped(r.Blob.Size)
				return
			}
			if bar == nil {
				bar = p.Start(names[r.Index], "", r.Blob.Size)
				bars[r.Index] = bar
			}
			if r.Present > 0 {
				bar.SetParts(r.Done, r.Present)
			} else {
				bar.Set(r.Done)
			}
			if r.Finished {
				bar.Finish("")
			}
		}),
	}
}

// SplitBar is the bar of one file pushed in content-defined chunks,
// named name: it appears with the first report, and finish ends it.
func (p *Progress) SplitBar(name string) (report blobstore.ProgressFunc, finish func()) {
	var bar *Bar
	return func(r blobstore.Progress) {
			if bar == nil {
				bar = p.Start(name, "", r.Blob.Size)
			}
			bar.SetParts(r.Done, r.Present)
		}, func() {
			bar.Finish("")
		}
}
