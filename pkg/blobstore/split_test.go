package blobstore

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/dxf-go/dxf/pkg/internal/cdc"
)

// seededBytes returns n reproducible pseudo-random bytes.
func seededBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	_, _ = r.Read(b)
	return b
}

// readAlias pulls every blob of alias in order and concatenates them.
func readAlias(t testing.TB, r *Repository, alias string) []byte {
	t.Helper()
	m, err := r.GetManifest(t.Context(), alias)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, l := range m.Layers {
		b, err := pullAll(t, r, l.Digest)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
	}
	return out.Bytes()
}

// TestSplitIncremental pushes 32 MiB split, then again unchanged, with
// 32 KiB changed in the middle, and with 32 KiB inserted at the start: the
// later pushes send only what changed (≤ 3% of the bytes), with no digest
// cache. It is the 1 GiB file, 1 MiB edits and 4 MiB average chunk
// at 1/32 scale (the same number of chunks, the same share edited). The
// in-memory registry counts the bytes it receives.
func TestSplitIncremental(t *testing.T) {
	t.Parallel()
	const size = 32 << 20
	srv := newMemServer(t)
	r := srv.repo(t, "split/incremental")
	ctx := t.Context()
	const edit = 32 << 10
	avg := WithSplitAverage(DefaultSplitAverage / 32)
	data := seededBytes(size, 1)

	push := func(what string, d []byte) SplitResult {
		t.Helper()
		before := srv.received.Load()
		res, err := r.PushFilesSplit(ctx, "v", []string{writeTemp(t, d)}, avg)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		sent := srv.received.Load() - before
		if sent < res.UploadedBytes || sent > res.UploadedBytes+64<<10 {
			t.Fatalf("%s: the registry received %d bytes, the push says it sent %d", what, sent, res.UploadedBytes)
		}
		if got := readAlias(t, r, "v"); !bytes.Equal(got, d) {
			t.Fatalf("%s: the alias reads back %d bytes, not the %d pushed", what, len(got), len(d))
		}
		t.Logf("%s: %d chunks, %d uploaded, %d bytes sent (%.2f%%)", what, len(res.Chunks), res.Uploaded, res.UploadedBytes, 100*float64(res.UploadedBytes)/float64(len(d)))
		return res
	}
	first := push("first", data)
	if first.UploadedBytes != size || first.Size != size {
		t.Fatalf("first push sent %d of %d bytes", first.UploadedBytes, first.Size)
	}
	if again := push("unchanged", data); again.UploadedBytes != 0 || again.Uploaded != 0 {
		t.Fatalf("unchanged: sent %d bytes in %d chunks", again.UploadedBytes, again.Uploaded)
	}
	changed := bytes.Clone(data)
	copy(changed[size/2:], seededBytes(edit, 2))
	inserted := append(seededBytes(edit, 3), data...)
	for what, d := range map[string][]byte{"32 KiB changed in the middle": changed, "32 KiB inserted at the start": inserted} {
		if res := push(what, d); res.UploadedBytes > int64(len(d))*3/100 {
			t.Errorf("%s: sent %d bytes, more than 3%% of %d", what, res.UploadedBytes, len(d))
		}
	}
}

// TestSplitReadsBackEverywhere: a split alias on the Distribution registry
// reads back byte-identically through PullBlob of each chunk and through
// go-containerregistry's remote.Layer (what crane and oras-style tools
// fetch), in manifest order. Several files make one alias, in order.
func TestSplitReadsBackEverywhere(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	ctx := t.Context()
	a, b := seededBytes(3<<20+12345, 4), seededBytes(700<<10, 5)
	res, err := r.PushFilesSplit(ctx, "split", []string{writeTemp(t, a), writeTemp(t, b), writeTemp(t, nil)}, WithSplitAverage(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	want := append(bytes.Clone(a), b...)
	if res.Size != int64(len(want)) || len(res.Chunks) < 20 {
		t.Fatalf("%d bytes in %d chunks", res.Size, len(res.Chunks))
	}
	if got := readAlias(t, r, "split"); !bytes.Equal(got, want) {
		t.Fatal("PullBlob of each chunk: not the pushed bytes")
	}
	m, err := r.GetManifest(ctx, "split")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := name.NewRepository(r.reg.Host()+"/"+r.Name(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for i, l := range m.Layers {
		if l != res.Chunks[i] {
			t.Fatalf("layer %d is %v, chunk %v", i, l, res.Chunks[i])
		}
		layer, err := remote.Layer(repo.Digest(l.Digest.String()), remote.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := layer.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(&got, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("remote.Layer of each layer in order: not the pushed bytes")
	}
}

// TestSplitTooManyChunks: an input whose chunks would not fit in one
// manifest is refused before anything is sent when its size says so, and
// otherwise once the count is passed, before any alias is set.
func TestSplitTooManyChunks(t *testing.T) {
	t.Parallel()
	srv := newMemServer(t)
	r := srv.repo(t, "split/toomany")
	ctx := t.Context()
	// A sparse file: its size alone says 4 KiB chunks would be too many.
	p := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(maxChunks()+1000) * 4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = r.PushFilesSplit(ctx, "big", []string{p}, WithSplitAverage(4096))
	if !errors.Is(err, ErrTooManyChunks) {
		t.Fatalf("got %v, want ErrTooManyChunks", err)
	}
	t.Logf("error: %v", err)
	srv.mu.Lock()
	n := len(srv.requests)
	srv.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d requests made before refusing", n)
	}
	// A stream of unknown size passing the limit stops with the same error.
	pp, _ := cdc.New(4096)
	_, err = r.pushSplit(ctx, bytes.NewReader(seededBytes(1<<20, 6)), -1, transferOptions{splitAvg: 4096, jobs: DefaultJobs}, pp, 10)
	if !errors.Is(err, ErrTooManyChunks) {
		t.Fatalf("stream: got %v, want ErrTooManyChunks", err)
	}
	if n := srv.count("PUT", "/manifests/"); n != 0 {
		t.Fatalf("%d manifest PUTs", n)
	}
	// A bad average is refused.
	if _, err := r.PushSplit(ctx, bytes.NewReader(nil), WithSplitAverage(1000)); err == nil {
		t.Fatal("average 1000 accepted")
	}
}

// TestSplitEmptyAndSmall: an empty input is one empty chunk; an input
// smaller than the minimum chunk is one chunk.
func TestSplitEmptyAndSmall(t *testing.T) {
	t.Parallel()
	r := newMemRepo(t, "split/small")
	ctx := t.Context()
	for _, data := range [][]byte{nil, []byte("hello")} {
		res, err := r.PushSplit(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Chunks) != 1 || res.Chunks[0].Size != int64(len(data)) {
			t.Fatalf("%q: chunks %v", data, res.Chunks)
		}
		got, err := pullAll(t, r, res.Chunks[0].Digest)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%q: read back %q, %v", data, got, err)
		}
	}
}
