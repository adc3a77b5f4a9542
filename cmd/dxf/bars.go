package main

import (
	"sync"

	"github.com/dxf-go/dxf/internal/termprogress"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// blobBars turns the library's progress reports into a bar per blob of
// a.progress. name labels blob i (nil: no name); grow says whether its size
// adds to the overall total when its bar starts (nil: never, the plan had
// it); pushing: the bar starts without a digest, which is known only once
// the blob is sent. A blob the registry had, or mounted, counts as skipped;
// if its bar had started, the bar ends saying the bytes were found there.
func (a *app) blobBars(name func(i int) string, grow func(i int) bool, pushing bool) blobstore.ProgressFunc {
	var mu sync.Mutex // guards bars, shared by the blobs' goroutines
	bars := map[int]*termprogress.Bar{}
	return func(p blobstore.Progress) {
		skip := p.Existed || p.Mounted
		mu.Lock()
		bar, ok := bars[p.Index]
		if !ok && !skip {
			label, digest := "", p.Blob.Digest.String()
			if name != nil {
				label = name(p.Index)
			}
			if pushing {
				digest = ""
			}
			if grow != nil && grow(p.Index) {
				a.progress.Grow(max(p.Blob.Size, 0))
			}
			bars[p.Index] = a.progress.Start(label, digest, p.Blob.Size)
		}
		mu.Unlock()
		switch {
		case skip && ok: // found there once its bar had started
			bar.SetParts(max(p.Blob.Size, 0), max(p.Blob.Size, 0))
			bar.Finish(p.Blob.Digest.String())
		case skip:
			if grow != nil && grow(p.Index) {
				a.progress.Grow(max(p.Blob.Size, 0))
			}
			a.progress.Skipped(p.Blob.Size)
		case !ok: // the bar just started
		case p.Finished:
			bar.Finish(p.Blob.Digest.String())
		default:
			bar.Set(p.Done)
		}
	}
}
