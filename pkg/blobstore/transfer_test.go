package blobstore

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dxf-go/dxf/internal/testutil"
)

// pushBlobs pushes blobs of the given sizes and returns them and their
// concatenation.
func pushBlobs(t *testing.T, r *Repository, sizes ...int) ([]Blob, []byte) {
	t.Helper()
	var blobs []Blob
	var all []byte
	for _, n := range sizes {
		b := randomBytes(t, n)
		blobs = append(blobs, pushBytes(t, r, b).Blob())
		all = append(all, b...)
	}
	return blobs, all
}

// progressLog records progress reports from several goroutines.
type progressLog struct {
	mu      sync.Mutex
	reports map[int][]Progress
}

func (l *progressLog) add(p Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reports == nil {
		l.reports = map[int][]Progress{}
	}
	l.reports[p.Index] = append(l.reports[p.Index], p)
}

// check fails unless every blob was reported from 0 to its size, finished.
func (l *progressLog) check(t *testing.T, blobs []Blob) {
	t.Helper()
	for i, b := range blobs {
		rs := l.reports[i]
		if len(rs) < 2 || rs[0].Done != 0 || rs[0].Finished {
			t.Fatalf("blob %d: reports %+v", i, rs)
		}
		last := rs[len(rs)-1]
		if !last.Finished || last.Done != b.Size || last.Blob.Digest != b.Digest {
			t.Fatalf("blob %d: last report %+v, want %d bytes of %s, finished", i, last, b.Size, b.Digest)
		}
	}
}

func TestPullBlobsInOrder(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	blobs, all := pushBlobs(t, r, 10, 5<<20, 0, 300<<10, 1)
	for _, jobs := range []int{1, 3} {
		var out bytes.Buffer
		var log progressLog
		if err := r.PullBlobs(t.Context(), &out, blobs, WithJobs(jobs), WithProgress(log.add)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), all) {
			t.Fatalf("jobs %d: got %d bytes, want %d", jobs, out.Len(), len(all))
		}
		log.check(t, blobs)
	}
	// Unknown sizes, small reads, and a header before each blob.
	unknown := make([]Blob, len(blobs))
	for i, b := range blobs {
		unknown[i] = Blob{Digest: b.Digest, Size: -1}
	}
	var out bytes.Buffer
	err := r.PullBlobs(t.Context(), &out, unknown, WithBufferSize(1000),
		WithBlobHeader(func(b Blob) []byte { return []byte(b.Digest.String() + "\n") }))
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	off := 0
	for _, b := range blobs {
		want = append(want, b.Digest.String()+"\n"...)
		want = append(want, all[off:off+int(b.Size)]...)
		off += int(b.Size)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatal("headers and blobs came out wrong")
	}
}

func TestPullBlobsIntoFile(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	blobs, all := pushBlobs(t, r, 3<<20, 10, 700<<10, 0, 4096)
	blobs[1].Size = -1 // asked for with HEAD
	for _, jobs := range []int{1, 4} {
		path := filepath.Join(t.TempDir(), "out")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("head"); err != nil {
			t.Fatal(err)
		}
		var log progressLog
		if err := r.PullBlobs(t.Context(), f, blobs, WithJobs(jobs), WithProgress(log.add)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("tail"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		testutil.CheckFile(t, path, append(append([]byte("head"), all...), "tail"...))
		blobs[1].Size = 10
		log.check(t, blobs)
		blobs[1].Size = -1
	}
}

func TestPullBlobsAt(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	blobs, all := pushBlobs(t, r, 1<<20, 5, 200<<10)
	buf := make(writerAtBuffer, 7+len(all))
	if err := r.PullBlobsAt(t.Context(), buf, 7, blobs, WithJobs(3)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[7:], all) {
		t.Fatal("PullBlobsAt put the wrong bytes")
	}
}

// writerAtBuffer is an io.WriterAt in memory.
type writerAtBuffer []byte

func (w writerAtBuffer) WriteAt(p []byte, off int64) (int, error) {
	return copy(w[off:], p), nil
}

func TestPullBlobsSizeMismatch(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	blobs, all := pushBlobs(t, r, 100, 200)
	blobs[1].Size = 201
	var out bytes.Buffer
	err := r.PullBlobs(t.Context(), &out, blobs)
	if !errors.Is(err, ErrSizeMismatch) || !strings.Contains(err.Error(), blobs[1].Digest.String()) {
		t.Fatalf("got %v, want a size mismatch naming the blob", err)
	}
	// Refused before any of it is written.
	if !bytes.Equal(out.Bytes(), all[:100]) {
		t.Fatalf("wrote %d bytes, want the first blob's 100", out.Len())
	}
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := r.PullBlobs(t.Context(), f, blobs, WithJobs(2)); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("into a file: got %v", err)
	}
	testutil.CheckFile(t, path, all[:100])
}

func TestPullBlobsDigestMismatchNamesBlob(t *testing.T) {
	srv := newMemServer(t)
	r := srv.repo(t, "foo/bar", WithRetries(0))
	blobs, _ := pushBlobs(t, r, 100, 100)
	data := randomBytes(t, 100)
	srv.setHook(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, blobs[1].Digest.String()) {
			return false
		}
		_, _ = w.Write(data)
		return true
	})
	for _, w := range []func() error{
		func() error { return r.PullBlobs(t.Context(), &bytes.Buffer{}, blobs) },
		func() error { return r.PullBlobsAt(t.Context(), make(writerAtBuffer, 200), 0, blobs, WithJobs(2)) },
	} {
		err := w()
		var dm *DigestMismatchError
		if !errors.As(err, &dm) || dm.Expected != blobs[1].Digest || dm.Got != HashBytes(data) ||
			!strings.Contains(err.Error(), "pull blob "+blobs[1].Digest.String()) {
			t.Fatalf("got %v, want a digest mismatch naming blob 1 and both digests", err)
		}
	}
}

func TestPullAlias(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	blobs, all := pushBlobs(t, r, 1000, 2000)
	if _, err := r.SetAliasBlobs(t.Context(), "both", blobs...); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.PullAlias(t.Context(), &out, "both"); err != nil || !bytes.Equal(out.Bytes(), all) {
		t.Fatalf("PullAlias: %v", err)
	}
	if err := r.PullAlias(t.Context(), &out, "neither"); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("a missing alias: %v", err)
	}
}

func TestPushBlobs(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	dir := t.TempDir()
	var srcs []Source
	var want []Blob
	for i, n := range []int{5000, 0, 1 << 20} {
		b := randomBytes(t, n)
		p := filepath.Join(dir, string(rune('a'+i)))
		writeFile(t, p, b)
		srcs = append(srcs, Source{Path: p})
		want = append(want, Blob{Digest: HashBytes(b), Size: int64(n)})
	}
	stdin := randomBytes(t, 70000)
	srcs = append(srcs, Source{Reader: bytes.NewReader(stdin), Name: "standard input"})
	want = append(want, Blob{Digest: HashBytes(stdin), Size: int64(len(stdin))})
	var log progressLog
	res, err := r.PushBlobs(t.Context(), srcs, WithJobs(2), WithProgress(log.add))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if res[i].Blob() != want[i] {
			t.Fatalf("result %d: %+v, want %+v", i, res[i], want[i])
		}
	}
	log.check(t, want)

	// A missing file fails the call, naming it.
	_, err = r.PushFiles(t.Context(), []string{srcs[0].Path, filepath.Join(dir, "missing")})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("got %v", err)
	}
}

func TestAliasBlobsOfList(t *testing.T) {
	a := &Alias{Manifest: &Manifest{MediaType: MediaTypeOCIIndex}, Platforms: map[string]*Manifest{"linux/amd64": {}, "linux/arm64": {}}}
	if a.Image() != nil {
		t.Fatal("Image of a list without a platform")
	}
	if _, err := a.Blobs(); !errors.Is(err, ErrPlatformNotFound) || !strings.Contains(err.Error(), "linux/amd64, linux/arm64") {
		t.Fatalf("Blobs of a list: %v", err)
	}
}

// countingWriter counts the writes it gets.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

// TestCoalescingWriter: small writes are gathered, big ones pass through
// after them, and everything comes out in order.
func TestCoalescingWriter(t *testing.T) {
	t.Parallel()
	var out countingWriter
	c := &coalescingWriter{bw: bufio.NewWriterSize(&out, 1<<20), w: &out}
	var want bytes.Buffer
	for i := range 20 {
		var p []byte
		if i%4 == 3 {
			p = testutil.RandomBytes(t, directWrite+i)
		} else {
			p = []byte(strings.Repeat("h", i+1))
		}
		want.Write(p)
		if n, err := c.Write(p); n != len(p) || err != nil {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	if err := c.bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want.Bytes()) {
		t.Fatal("the output is not the writes in order")
	}
	// 5 big writes, each after one flush of the small ones before it.
	if out.writes != 10 {
		t.Errorf("%d writes reached the output, want 10", out.writes)
	}
}
