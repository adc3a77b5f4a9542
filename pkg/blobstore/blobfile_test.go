package blobstore

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestBlobFileRandomAccess: reading a range at a random offset of a split
// alias fetches at most the two chunks it can touch, and returns the right
// bytes; sequential reading (with read-ahead) and seeking give the whole.
// Scale: 16 MiB with 128 KiB chunks and 32 KiB reads is the 1 GiB,
// 4 MiB chunks and 1 MiB reads with fewer chunks.
func TestBlobFileRandomAccess(t *testing.T) {
	t.Parallel()
	srv := newMemServer(t)
	r := srv.repo(t, "file/random")
	ctx := t.Context()
	data := seededBytes(16<<20, 7)
	res, err := r.PushFilesSplit(ctx, "v", []string{writeTemp(t, data)}, WithSplitAverage(128<<10))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f, err := r.OpenAlias(ctx, "v", "")
		if err != nil {
			t.Fatal(err)
		}
		if f.Size() != int64(len(data)) || len(f.Blobs()) != len(res.Chunks) {
			t.Fatalf("size %d in %d blobs, want %d in %d", f.Size(), len(f.Blobs()), len(data), len(res.Chunks))
		}
		off := rng.Int64N(int64(len(data)) - 32<<10)
		before := srv.count("GET", "/blobs/sha256:")
		buf := make([]byte, 32<<10)
		if n, err := f.ReadAt(buf, off); n != len(buf) || err != nil {
			t.Fatalf("ReadAt(%d): %d, %v", off, n, err)
		}
		if !bytes.Equal(buf, data[off:off+int64(len(buf))]) {
			t.Fatalf("ReadAt(%d): wrong bytes", off)
		}
		if got := srv.count("GET", "/blobs/sha256:") - before; got > 2 || got < 1 {
			t.Fatalf("ReadAt(%d) of 32 KiB fetched %d chunks", off, got)
		}
		f.Close()
	}
	// Read to the end, after a seek, and at the end.
	f, err := r.OpenAlias(ctx, "v", "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll: %d bytes, %v", len(got), err)
	}
	if _, err := f.Seek(-1000, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(f)
	if err != nil || !bytes.Equal(got, data[len(data)-1000:]) {
		t.Fatalf("after Seek: %d bytes, %v", len(got), err)
	}
	if n, err := f.ReadAt(make([]byte, 10), int64(len(data))-5); n != 5 || !errors.Is(err, io.EOF) {
		t.Fatalf("ReadAt past the end: %d, %v", n, err)
	}
	f.mu.Lock()
	held, limit := f.held, f.o.cache
	f.mu.Unlock()
	if held > limit+4*128<<10 {
		t.Fatalf("cache holds %d bytes, bound %d", held, limit)
	}
}

// TestBlobFileBadChunks: a corrupt chunk gives a digest mismatch naming
// both digests and none of its bytes; a missing chunk gives
// ErrBlobNotFound; chunks before them still read.
func TestBlobFileBadChunks(t *testing.T) {
	t.Parallel()
	srv := newMemServer(t)
	r := srv.repo(t, "file/bad")
	ctx := t.Context()
	data := seededBytes(2<<20, 8)
	res, err := r.PushFilesSplit(ctx, "v", []string{writeTemp(t, data)}, WithSplitAverage(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	corrupt, missing := res.Chunks[3], res.Chunks[5]
	srv.setHook(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, corrupt.Digest.String()):
			body := bytes.Repeat([]byte{'x'}, int(corrupt.Size))
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
			return true
		case strings.HasSuffix(req.URL.Path, missing.Digest.String()):
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`)
			return true
		}
		return false
	})
	f, err := r.OpenAlias(ctx, "v", "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	off := res.Chunks[0].Size + res.Chunks[1].Size + res.Chunks[2].Size
	buf := make([]byte, 100)
	n, err := f.ReadAt(buf, off+10)
	var dm *DigestMismatchError
	if !errors.As(err, &dm) || n != 0 || dm.Expected != corrupt.Digest {
		t.Fatalf("corrupt chunk: %d bytes, %v", n, err)
	}
	if !strings.Contains(err.Error(), corrupt.Digest.String()) {
		t.Fatalf("the error does not name the chunk: %v", err)
	}
	off += corrupt.Size + res.Chunks[4].Size
	if n, err := f.ReadAt(buf, off); !errors.Is(err, ErrBlobNotFound) || n != 0 {
		t.Fatalf("missing chunk: %d bytes, %v", n, err)
	}
	if n, err := f.ReadAt(buf, 0); n != len(buf) || err != nil || !bytes.Equal(buf, data[:100]) {
		t.Fatalf("first chunk: %d, %v", n, err)
	}
}

// TestBlobFileLargeBlob: a blob larger than the whole-fetch limit is
// refused by OpenAlias, hashed whole once WithVerifyLargeBlobs, and read by
// Range requests only through OpenAliasUnverified. Distribution registry.
func TestBlobFileLargeBlob(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	ctx := t.Context()
	data := seededBytes(3<<20, 9)
	res := pushBytes(t, r, data)
	if _, err := r.SetAliasBlobs(ctx, "big", res.Blob()); err != nil {
		t.Fatal(err)
	}
	limit := WithMaxWholePart(1 << 20)
	if _, err := r.OpenAlias(ctx, "big", "", limit); !errors.Is(err, ErrLargeBlob) {
		t.Fatalf("OpenAlias of a large blob: %v", err)
	}
	buf := make([]byte, 4096)
	off := int64(2<<20 + 17)
	check := func(what string, f *BlobFile, wantFetches int) {
		t.Helper()
		defer f.Close()
		for range 2 {
			if n, err := f.ReadAt(buf, off); n != len(buf) || err != nil || !bytes.Equal(buf, data[off:off+4096]) {
				t.Fatalf("%s: ReadAt: %d, %v", what, n, err)
			}
		}
		if f.fetches != wantFetches {
			t.Fatalf("%s: %d requests for data, want %d", what, f.fetches, wantFetches)
		}
	}
	f, err := r.OpenAlias(ctx, "big", "", limit, WithVerifyLargeBlobs())
	if err != nil {
		t.Fatal(err)
	}
	check("verified", f, 3) // the whole blob once, then two ranges
	u, err := r.OpenAliasUnverified(ctx, "big", "", limit)
	if err != nil {
		t.Fatal(err)
	}
	check("unverified", u.BlobFile, 2)
}
