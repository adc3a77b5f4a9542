package blobstore

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A first push of a tree of small new files stops asking the registry for
// each (HEAD) once the answers show the data is new; the same tree pushed
// under another alias keeps asking, finds every blob and uploads nothing.
func TestIntegrationPushDirSmallFilesHeads(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	src := t.TempDir()
	const n = 80
	for i := range n {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%03d", i)), fmt.Appendf(nil, "file %d of a new data set\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (heads, uploads int) { return blobRequests(e) }
	e.proxy.ResetStats()
	res, err := e.repo.PushDir(t.Context(), src, "v1")
	if err != nil {
		t.Fatal(err)
	}
	heads, uploads := count()
	// 16 answers decide; up to DefaultJobs*smallPerJob more (small files)
	// were in flight by then; one more for the empty config.
	if heads > 16+DefaultJobs*smallPerJob+1 || uploads < n {
		t.Fatalf("first push: %d HEADs, %d uploads of %d new files (%d sent)", heads, uploads, n, res.Transferred)
	}
	e.proxy.ResetStats()
	res, err = e.repo.PushDir(t.Context(), src, "v2")
	if err != nil {
		t.Fatal(err)
	}
	if heads, uploads := count(); uploads != 0 || res.Transferred != 0 || heads < n {
		t.Fatalf("same tree under a new alias: %d HEADs, %d uploads, %d sent", heads, uploads, res.Transferred)
	}
	dst := filepath.Join(t.TempDir(), "out")
	if _, err := e.direct.PullDir(t.Context(), "v1", dst); err != nil {
		t.Fatal(err)
	}
	if want, got := treeOf(t, src), treeOf(t, dst); len(want) != n || strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("pulled tree differs: %d entries, want %d", len(got), len(want))
	}
}

// PushFiles of many small new files asks for them (HEAD) only until the
// answers show they are new; pushed again, every file is found and none is
// uploaded.
func TestIntegrationPushFilesSmallFilesHeads(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	dir := t.TempDir()
	const n = 80
	paths := make([]string, n)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("f%03d", i))
		if err := os.WriteFile(paths[i], fmt.Appendf(nil, "small file %d\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (heads, uploads int) { return blobRequests(e) }
	e.proxy.ResetStats()
	res, err := e.repo.PushFiles(t.Context(), paths)
	if err != nil {
		t.Fatal(err)
	}
	if heads, uploads := count(); heads > 16+DefaultJobs || uploads != n {
		t.Fatalf("first push: %d HEADs, %d uploads of %d new files", heads, uploads, n)
	}
	e.proxy.ResetStats()
	again, err := e.repo.PushFiles(t.Context(), paths)
	if err != nil {
		t.Fatal(err)
	}
	if heads, uploads := count(); heads != n || uploads != 0 {
		t.Fatalf("second push: %d HEADs, %d uploads", heads, uploads)
	}
	for i := range res {
		if !again[i].Existed || again[i].Digest != res[i].Digest {
			t.Fatalf("file %d: %+v then %+v", i, res[i], again[i])
		}
		if _, err := e.direct.BlobSize(t.Context(), res[i].Digest); err != nil {
			t.Fatal(err)
		}
	}
}

// blobRequests counts the blob HEADs and upload commits (PUT) the proxy of
// e saw since its last ResetStats.
func blobRequests(e *relEnv) (heads, uploads int) {
	for _, rq := range e.proxy.Requests() {
		switch {
		case rq.Method == http.MethodHead && strings.Contains(rq.Path, "/blobs/"):
			heads++
		case rq.Method == http.MethodPut && strings.Contains(rq.Path, "/blobs/uploads/"):
			uploads++
		}
	}
	return heads, uploads
}
