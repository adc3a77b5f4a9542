package blobstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dxf-go/dxf/internal/testutil"
)

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(t testing.TB, n int) []byte { return testutil.RandomBytes(t, n) }

func pullAll(t testing.TB, r *Repository, d v1.Hash) ([]byte, error) {
	t.Helper()
	br, err := r.PullBlob(t.Context(), d)
	if err != nil {
		return nil, err
	}
	defer br.Close()
	var buf bytes.Buffer
	_, err = io.Copy(&buf, br)
	return buf.Bytes(), err
}

func TestPushPullRoundTrip(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	for _, size := range []int{0, 1, 8191, 8192, 3<<20 + 7} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			data := randomBytes(t, size)
			res := pushBytes(t, r, data)
			if res.Digest != HashBytes(data) || res.Size != int64(size) || res.Existed {
				t.Fatalf("push result %+v", res)
			}
			got, err := pullAll(t, r, res.Digest)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("pull: %v (%d bytes, want %d)", err, len(got), size)
			}
			n, err := r.BlobSize(t.Context(), res.Digest)
			if err != nil || n != int64(size) {
				t.Fatalf("BlobSize = %d, %v", n, err)
			}
		})
	}
}

func TestPushWithKnownDigestSkipsExisting(t *testing.T) {
	srv := newMemServer(t)
	r := srv.repo(t, "foo/bar")
	data := randomBytes(t, 4096)
	d := HashBytes(data)
	var calls []int64
	res, err := r.PushBlob(t.Context(), bytes.NewReader(data), WithDigest(d), WithSize(4096),
		WithProgress(func(p Progress) { calls = append(calls, p.Done, p.Blob.Size) }))
	if err != nil || res.Existed || res.Digest != d {
		t.Fatalf("first push %+v, %v", res, err)
	}
	if len(calls) < 4 || calls[0] != 0 || calls[len(calls)-2] != 4096 || calls[len(calls)-1] != 4096 {
		t.Fatalf("progress calls %v", calls)
	}
	before := srv.received.Load()
	var reports []Progress
	res, err = r.PushBlob(t.Context(), bytes.NewReader(data), WithDigest(d), WithProgress(func(p Progress) { reports = append(reports, p) }))
	if err != nil || !res.Existed || res.Size != 4096 {
		t.Fatalf("second push %+v, %v", res, err)
	}
	// An existing blob is reported once, as existing and finished.
	want := []Progress{{Blob: Blob{Digest: d, Size: 4096}, Done: 4096, Present: 4096, Existed: true, Finished: true}}
	if sent := srv.received.Load() - before; sent != 0 || !slices.Equal(reports, want) {
		t.Fatalf("re-push sent %d bytes and reported progress %+v", sent, reports)
	}
}

func TestPushWrongKnownDigestFails(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	_, err := r.PushBlob(t.Context(), strings.NewReader("abc"), WithDigest(HashBytes([]byte("abd"))))
	if err == nil {
		t.Fatal("push with a wrong digest succeeded")
	}
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("got %v, want a digest mismatch", err)
	}
	// Nothing was committed under either digest.
	for _, d := range []string{"abc", "abd"} {
		if ok, _ := r.HasBlob(t.Context(), HashBytes([]byte(d))); ok {
			t.Fatalf("blob %q was committed", d)
		}
	}
}

func TestPushFileDigestCache(t *testing.T) {
	srv := newMemServer(t)
	r := srv.repo(t, "foo/bar", WithDigestCache(t.TempDir()))
	p := t.TempDir() + "/data"
	data := randomBytes(t, 1<<20)
	writeFile(t, p, data)

	res, err := r.PushFile(t.Context(), p)
	if err != nil || res.Existed || res.Digest != HashBytes(data) {
		t.Fatalf("first push %+v, %v", res, err)
	}
	// A small file is hashed first: one HEAD, then one PUT carrying the data.
	if srv.count("PATCH", "/blobs/uploads/") != 0 || srv.count("PUT", "/blobs/uploads/") != 1 || srv.count("HEAD", "/blobs/") != 1 {
		t.Fatalf("first push of a small unknown file should be a HEAD and one PUT with the data, requests: %v", srv.requests)
	}
	before := srv.received.Load()
	res, err = r.PushFile(t.Context(), p)
	if err != nil || !res.Existed {
		t.Fatalf("second push %+v, %v", res, err)
	}
	if sent := srv.received.Load() - before; sent != 0 {
		t.Fatalf("re-push of an unchanged file sent %d bytes", sent)
	}
	// Changing the file invalidates the cache entry.
	data[0] ^= 0xff
	writeFile(t, p, data)
	res, err = r.PushFile(t.Context(), p)
	if err != nil || res.Existed || res.Digest != HashBytes(data) {
		t.Fatalf("push after change %+v, %v", res, err)
	}
}

func TestPushFileBadInput(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	dir := t.TempDir()
	if _, err := r.PushFile(t.Context(), dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("pushing a directory: %v", err)
	}
	if _, err := r.PushFile(t.Context(), dir+"/missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pushing a missing file: %v", err)
	}
	empty := dir + "/empty"
	writeFile(t, empty, nil)
	res, err := r.PushFile(t.Context(), empty)
	if err != nil || res.Size != 0 || res.Digest.String() != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("pushing an empty file: %+v, %v", res, err)
	}
}

func TestBlobNotFoundErrors(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	d := HashBytes([]byte("never pushed"))
	_, err := r.PullBlob(t.Context(), d)
	if !errors.Is(err, ErrBlobNotFound) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("PullBlob of a missing blob: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusNotFound {
		t.Fatalf("not an *Error with 404: %#v", err)
	}
	var terr *transport.Error
	if !errors.As(err, &terr) {
		t.Fatalf("does not unwrap to *transport.Error: %v", err)
	}
	if !strings.Contains(err.Error(), d.String()) {
		t.Fatalf("message does not name the digest: %v", err)
	}
	if _, err := r.BlobSize(t.Context(), d); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("BlobSize of a missing blob: %v", err)
	}
	if ok, err := r.HasBlob(t.Context(), d); ok || err != nil {
		t.Fatalf("HasBlob = %v, %v", ok, err)
	}
}

// blobServer serves /v2/ and one blob with whatever body the test wants.
func blobServer(t *testing.T, d v1.Hash, serve func(w http.ResponseWriter, r *http.Request)) *Repository {
	srv := newMemServer(t)
	srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/blobs/"+d.String()) {
			serve(w, r)
			return true
		}
		return false
	})
	return srv.repo(t, "foo/bar", WithRetries(1))
}

func TestPullDigestMismatch(t *testing.T) {
	good := []byte("the right bytes")
	d := HashBytes(good)
	bad := bytes.Clone(good)
	bad[3] ^= 1
	r := blobServer(t, d, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(bad) })
	got, err := pullAll(t, r, d)
	var dm *DigestMismatchError
	if !errors.As(err, &dm) || !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("got %v, want a digest mismatch", err)
	}
	if dm.Expected != d || dm.Got != HashBytes(bad) {
		t.Fatalf("mismatch names %s / %s", dm.Expected, dm.Got)
	}
	if !strings.Contains(err.Error(), d.String()) || !strings.Contains(err.Error(), HashBytes(bad).String()) {
		t.Fatalf("message does not name both digests: %v", err)
	}
	if len(got) != len(bad) {
		t.Fatalf("read %d bytes", len(got))
	}
}

func TestPullResumesWithRange(t *testing.T) {
	data := randomBytes(t, 256<<10)
	d := HashBytes(data)
	var mu sync.Mutex
	var ranges []string
	r := blobServer(t, d, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		first := len(ranges) == 1
		mu.Unlock()
		if first {
			// Announce everything, send a third, then drop the connection.
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			_, _ = w.Write(data[:len(data)/3])
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		var start int
		if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &start); err != nil {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(data[start:])
	})
	got, err := pullAll(t, r, d)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pull after a dropped connection: %v (%d bytes)", err, len(got))
	}
	if len(ranges) != 2 || ranges[0] != "" || ranges[1] != fmt.Sprintf("bytes=%d-", len(data)/3) {
		t.Fatalf("requests had ranges %q", ranges)
	}
}

func TestPullTruncatedWithoutRangeSupportFails(t *testing.T) {
	data := randomBytes(t, 64<<10)
	d := HashBytes(data)
	r := blobServer(t, d, func(w http.ResponseWriter, _ *http.Request) {
		// Ignores Range and always drops the connection half way.
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	if _, err := pullAll(t, r, d); err == nil {
		t.Fatal("a truncated blob was reported as success")
	}
}

func TestPullOversizedBodyFails(t *testing.T) {
	data := []byte("0123456789")
	d := HashBytes(data)
	r := blobServer(t, d, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "5")
		_, _ = w.Write(data[:5])
	})
	if _, err := pullAll(t, r, d); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("short blob: %v", err)
	}
}

func TestDeleteBlobMem(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	res := pushBytes(t, r, []byte("to delete"))
	if err := r.DeleteBlob(t.Context(), res.Digest); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.HasBlob(t.Context(), res.Digest); ok || err != nil {
		t.Fatalf("blob still there: %v %v", ok, err)
	}
}

func TestConcurrentPushesOfTheSameBlob(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	data := randomBytes(t, 512<<10)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = r.PushBlob(t.Context(), bytes.NewReader(data))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, err := pullAll(t, r, HashBytes(data)); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pull: %v", err)
	}
}

func TestPushFileInChunksRecoversFromAFailedChunk(t *testing.T) {
	srv := newMemServer(t)
	var patches atomic.Int32
	srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPatch && patches.Add(1) == 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	r := srv.repo(t, "foo/bar", WithDefaultChunkSize(64<<10))
	p := t.TempDir() + "/f"
	data := randomBytes(t, 300<<10)
	writeFile(t, p, data)
	var last int64
	res, err := r.PushFile(t.Context(), p, WithProgress(func(pr Progress) {
		done, total := pr.Done, pr.Blob.Size
		if total != int64(len(data)) || done > total {
			t.Errorf("progress %d/%d", done, total)
		}
		last = done
	}))
	if err != nil || res.Digest != HashBytes(data) || last != int64(len(data)) {
		t.Fatalf("push %+v, %v (progress ended at %d)", res, err, last)
	}
	if got, err := pullAll(t, r, res.Digest); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pull: %v", err)
	}
	if n := srv.count("PATCH", "/blobs/uploads/"); n < 6 {
		t.Fatalf("%d PATCH requests for 5 chunks and a failure", n)
	}
}

func TestPushFileChunkSizePerCallOverridesRegistryDefault(t *testing.T) {
	srv := newMemServer(t)
	r := srv.repo(t, "foo/chunks", WithDefaultChunkSize(64<<10))
	p := t.TempDir() + "/f"
	data := randomBytes(t, 300<<10)
	writeFile(t, p, data)
	// The registry default: 5 chunks of at most 64 KiB.
	if _, err := r.PushFile(t.Context(), p, WithCheckExists(false)); err != nil {
		t.Fatal(err)
	}
	if n := srv.count("PATCH", "/blobs/uploads/"); n != 5 {
		t.Fatalf("registry default: %d PATCH requests, want 5", n)
	}
	// Per call: 3 chunks of at most 128 KiB.
	if _, err := r.PushFile(t.Context(), p, WithCheckExists(false), WithChunkSize(128<<10)); err != nil {
		t.Fatal(err)
	}
	if n := srv.count("PATCH", "/blobs/uploads/"); n != 5+3 {
		t.Fatalf("per call: %d PATCH requests in all, want 8", n)
	}
	// 0 per call: one request, whatever the registry's default: the
	// committing PUT carries the data (the digest is known, the file small).
	puts := srv.count("PUT", "/blobs/uploads/")
	res, err := r.PushFile(t.Context(), p, WithCheckExists(false), WithChunkSize(0))
	if err != nil || res.Digest != HashBytes(data) {
		t.Fatalf("push %+v, %v", res, err)
	}
	if n, m := srv.count("PATCH", "/blobs/uploads/"), srv.count("PUT", "/blobs/uploads/"); n != 5+3 || m != puts+1 {
		t.Fatalf("chunk size 0: %d PATCH requests in all, want 8, and %d PUTs, want %d", n, m, puts+1)
	}
}
