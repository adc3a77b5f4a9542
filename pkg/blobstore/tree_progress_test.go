package blobstore

import (
	"path/filepath"
	"sync"
	"testing"
)

// treeReports collects the plan and progress reports of a data set call.
type treeReports struct {
	mu       sync.Mutex
	plan     []File
	finished map[int][]Progress
	other    int // reports for entries that are not files
}

func (c *treeReports) options() []TransferOption {
	c.finished = map[int][]Progress{}
	return []TransferOption{
		WithPlan(func(files []File) { c.plan = files }),
		WithProgress(func(p Progress) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if p.Index < 0 || p.Index >= len(c.plan) || c.plan[p.Index].Kind != KindFile {
				c.other++
				return
			}
			if p.Finished {
				c.finished[p.Index] = append(c.finished[p.Index], p)
			}
		}),
	}
}

// check says that each file of files (the call's result) had one last
// report, of its digest and size, Existed as existed says.
func (c *treeReports) check(t *testing.T, what string, files []File, existed func(File) bool) {
	t.Helper()
	if len(c.plan) != len(files) || c.other != 0 {
		t.Fatalf("%s: plan of %d entries for %d, %d reports for other entries", what, len(c.plan), len(files), c.other)
	}
	for i, f := range files {
		if c.plan[i].Path != f.Path {
			t.Fatalf("%s: entry %d planned as %q, is %q", what, i, c.plan[i].Path, f.Path)
		}
		got := c.finished[i]
		if f.Kind != KindFile {
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%s: %s: %d last reports", what, f.Path, len(got))
		}
		p := got[0]
		if p.Blob.Digest != f.Digest || p.Blob.Size != f.Size || p.Done != f.Size || p.Existed != existed(f) {
			t.Errorf("%s: %s: last report %+v (digest %s, size %d)", what, f.Path, p, f.Digest, f.Size)
		}
	}
}

// TestLayoutDataSetProgress: PushDir and PullDir announce the entries
// (WithPlan), then report each file, ending with one Finished report
// (Existed when nothing had to move).
func TestLayoutDataSetProgress(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r, err := OpenLayout(filepath.Join(t.TempDir(), "layout"))
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeTree(t, src, randomBytes(t, 1<<20))
	opts := []TransferOption{WithSplitThreshold(512 << 10), WithSplitAverage(64 << 10), WithJobs(3)}
	var push treeReports
	res, err := r.PushDir(ctx, src, "tree", append(opts, push.options()...)...)
	if err != nil {
		t.Fatal(err)
	}
	// Of the two identical files, the second is found queued already.
	push.check(t, "push", res.Files, func(f File) bool { return f.Path == "a/same1" })
	var again treeReports
	res, err = r.PushDir(ctx, src, "tree", append(opts, again.options()...)...)
	if err != nil {
		t.Fatal(err)
	}
	again.check(t, "re-push", res.Files, func(File) bool { return true })

	dst := t.TempDir()
	var pull treeReports
	pres, err := r.PullDir(ctx, "tree", dst, pull.options()...)
	if err != nil {
		t.Fatal(err)
	}
	pull.check(t, "pull", pres.Files, func(File) bool { return false })
	var repull treeReports
	pres, err = r.PullDir(ctx, "tree", dst, repull.options()...)
	if err != nil {
		t.Fatal(err)
	}
	repull.check(t, "re-pull", pres.Files, func(File) bool { return true })
}
