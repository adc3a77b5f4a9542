package blobstore

// Integration tests against the real CNCF Distribution registry, started by
// pkg/registrytest. They fail (never skip) if it cannot start.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest"
	"github.com/dxf-go/dxf/pkg/registrytest/matrix"
	"github.com/google/go-containerregistry/pkg/authn"
)

// plain returns the plain-HTTP registry shared by this package's tests
// (started on first use, stopped by TestMain).
func plain(t testing.TB) *registrytest.Registry {
	t.Helper()
	reg, err := registrytest.Shared(context.Background())
	if err != nil {
		t.Fatalf("starting the Distribution registry: %v", err)
	}
	announce.Do(func() {
		fmt.Printf("integration: blobstore tests against the Distribution registry %s at %s\n", registrytest.RegistryVersion, reg.Host)
	})
	return reg
}

var announce sync.Once

func TestMain(m *testing.M) {
	code := m.Run()
	registrytest.StopShared()
	matrix.StopAll()
	os.Exit(code)
}

// plainRepo returns a repository named after the test on the shared registry.
func plainRepo(t testing.TB, opts ...Option) *Repository {
	t.Helper()
	reg := plain(t)
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	opts = append([]Option{WithInsecure(true), WithKeychain(nil)}, opts...)
	r, err := New(reg.Host, "it/"+name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIntegrationPushPullMultiBlobAlias(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	ctx := t.Context()
	var blobs []Blob
	var all []byte
	for i, size := range []int{1 << 20, 2 << 20, 0, 12345} {
		data := randomBytes(t, size)
		if i == 2 {
			data = nil
		}
		res := pushBytes(t, r, data)
		blobs = append(blobs, res.Blob())
		all = append(all, data...)
	}
	raw, err := rawOf(r.SetAlias(ctx, "four", blobs[0].Digest, blobs[1].Digest, blobs[2].Digest, blobs[3].Digest))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := MakeManifest(blobs...)
	if !bytes.Equal(raw, want) {
		t.Fatalf("set-alias manifest differs:\n%s\n%s", raw, want)
	}
	m, err := r.GetManifest(ctx, "four")
	if err != nil || !bytes.Equal(m.Raw, raw) {
		t.Fatalf("registry gave back %s, %v", m.Raw, err)
	}
	al, err := r.GetAlias(ctx, "four", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, l := range al.Image().Layers {
		b, err := pullAll(t, r, l.Digest)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b...)
	}
	if !bytes.Equal(got, all) {
		t.Fatal("pulled data differs")
	}
	if size, err := r.ManifestSize(ctx, al.Image()); err != nil || size != int64(len(all)) {
		t.Fatalf("AliasSize %d, %v", size, err)
	}
	// The alias is readable by ggcr (and so crane): fetch it by digest.
	if _, err := r.GetManifest(ctx, HashBytes(raw).String()); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationStreamOfUnknownSize(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	data := randomBytes(t, 3<<20+1)
	// A reader that is not a *bytes.Reader: sent chunked, hashed on the way.
	res, err := r.PushBlob(t.Context(), io.MultiReader(bytes.NewReader(data[:100]), bytes.NewReader(data[100:])))
	if err != nil || res.Digest != HashBytes(data) || res.Size != int64(len(data)) {
		t.Fatalf("push %+v, %v", res, err)
	}
	if got, err := pullAll(t, r, res.Digest); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pull: %v", err)
	}
}

func TestIntegrationRepushWithDigestCache(t *testing.T) {
	t.Parallel()
	r := plainRepo(t, WithDigestCache(t.TempDir()))
	p := t.TempDir() + "/f"
	writeFile(t, p, randomBytes(t, 1<<20))
	first, err := r.PushFile(t.Context(), p)
	if err != nil || first.Existed {
		t.Fatalf("first %+v %v", first, err)
	}
	second, err := r.PushFile(t.Context(), p)
	if err != nil || !second.Existed || second.Digest != first.Digest || second.Size != first.Size {
		t.Fatalf("second %+v %v", second, err)
	}
}

func TestIntegrationPagination(t *testing.T) {
	t.Parallel()
	r := plainRepo(t, WithPageSize(4))
	res := pushBytes(t, r, []byte("paged"))
	var want []string
	for i := range 23 {
		tag := fmt.Sprintf("tag-%02d", i)
		want = append(want, tag)
		if _, err := r.SetAliasBlobs(t.Context(), tag, res.Blob()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.ListAliases(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("tags %v", got)
	}
}

func TestIntegrationCatalogPagination(t *testing.T) {
	reg := plain(t)
	regc, err := NewRegistry(reg.Host, WithInsecure(true), WithKeychain(nil), WithPageSize(3))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range 7 {
		name := fmt.Sprintf("catalog/r%d", i)
		names = append(names, name)
		r, _ := regc.Repository(name)
		res := pushBytes(t, r, []byte(name))
		// Distribution lists only repositories that hold manifests.
		if _, err := r.SetAliasBlobs(t.Context(), "latest", res.Blob()); err != nil {
			t.Fatal(err)
		}
	}
	repos, err := regc.ListRepositories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range repos {
		have[r] = true
	}
	for _, n := range names {
		if !have[n] {
			t.Fatalf("catalog %v lacks %s", repos, n)
		}
	}
}

// TestIntegrationCatalogMaxEntries lists a registry whose catalog pages hold
// at most 3 repositories (catalog.maxentries below the 1000 dxf used to ask
// for): without a page size dxf follows the registry's pages; a page size
// above the limit gets the registry's PAGINATION_NUMBER_INVALID.
func TestIntegrationCatalogMaxEntries(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{CatalogMaxEntries: 3})
	regc, err := NewRegistry(reg.Host, WithInsecure(true), WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range 8 {
		name := fmt.Sprintf("maxentries/r%d", i)
		names = append(names, name)
		r, _ := regc.Repository(name)
		res := pushBytes(t, r, []byte(name))
		if _, err := r.SetAliasBlobs(t.Context(), "latest", res.Blob()); err != nil {
			t.Fatal(err)
		}
	}
	repos, err := regc.ListRepositories(t.Context())
	if err != nil || strings.Join(repos, ",") != strings.Join(names, ",") {
		t.Fatalf("catalog %v, %v; want %v", repos, err, names)
	}
	big, _ := NewRegistry(reg.Host, WithInsecure(true), WithKeychain(nil), WithPageSize(4))
	if _, err := big.ListRepositories(t.Context()); err == nil || !strings.Contains(err.Error(), "PAGINATION_NUMBER_INVALID") {
		t.Fatalf("page size above catalog.maxentries: %v", err)
	}
}

func TestIntegrationManifestLists(t *testing.T) {
	t.Parallel()
	for _, mt := range []MediaType{MediaTypeOCIIndex, MediaTypeDockerManifestList} {
		r := plainRepo(t)
		amd, _ := pushIndex(t, r, mt)
		al, err := r.GetAlias(t.Context(), "multi", "linux/amd64")
		if err != nil || !bytes.Equal(al.Image().Raw, amd) {
			t.Fatalf("%s: %v", mt, err)
		}
		all, err := r.GetAlias(t.Context(), "multi", "")
		if err != nil || len(all.Platforms) != 2 {
			t.Fatalf("%s: %+v %v", mt, all, err)
		}
		if _, err := r.GetAlias(t.Context(), "multi", "plan9/mips"); !errors.Is(err, ErrPlatformNotFound) {
			t.Fatalf("%s: %v", mt, err)
		}
	}
}

func TestIntegrationDeleteBlob(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	res := pushBytes(t, r, []byte("delete me"))
	if err := r.DeleteBlob(t.Context(), res.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := r.BlobSize(t.Context(), res.Digest); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := r.DeleteBlob(t.Context(), res.Digest); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestIntegrationDeleteAlias(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	res := pushBytes(t, r, []byte("shared"))
	for _, a := range []string{"hello", "fooey"} {
		if _, err := r.SetAliasBlobs(t.Context(), a, res.Blob()); err != nil {
			t.Fatal(err)
		}
	}
	m, err := r.DeleteAlias(t.Context(), "hello")
	if err != nil || m.Layers[0].Digest != res.Digest {
		t.Fatalf("DeleteAlias %+v, %v", m, err)
	}
	// Only that alias goes: the other, naming the same manifest, stays.
	if _, err := r.GetManifest(t.Context(), "hello"); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("hello after delete: %v", err)
	}
	if got, err := r.GetManifest(t.Context(), "fooey"); err != nil || got.Digest != m.Digest {
		t.Fatalf("fooey after deleting hello: %v", err)
	}
	if _, err := r.DeleteAlias(t.Context(), "hello"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if ok, _ := r.HasBlob(t.Context(), res.Digest); !ok {
		t.Fatal("blob was deleted with the alias")
	}
}

func TestIntegrationMount(t *testing.T) {
	t.Parallel()
	reg := plain(t)
	src, _ := New(reg.Host, "mount/src", WithInsecure(true), WithKeychain(nil))
	dst, _ := New(reg.Host, "mount/dst", WithInsecure(true), WithKeychain(nil))
	res := pushBytes(t, src, []byte("mount me"))
	if err := dst.MountBlob(t.Context(), "mount/src", res.Digest); err != nil {
		t.Fatal(err)
	}
	if got, err := pullAll(t, dst, res.Digest); err != nil || string(got) != "mount me" {
		t.Fatalf("pull mounted: %q %v", got, err)
	}
	missing := HashBytes([]byte("not there"))
	if err := dst.MountBlob(t.Context(), "mount/src", missing); !errors.Is(err, ErrMountFailed) {
		t.Fatalf("mount of a missing blob: %v", err)
	}
	if err := dst.MountBlob(t.Context(), "mount/nowhere", res.Digest); !errors.Is(err, ErrMountFailed) {
		t.Fatalf("mount from a missing repo: %v", err)
	}
}

func TestIntegrationNotFound(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	if _, err := r.GetManifest(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing alias in a missing repo: %v", err)
	}
	pushBytes(t, r, []byte("x"))
	res := pushBytes(t, r, []byte("y"))
	if _, err := r.SetAliasBlobs(t.Context(), "exists", res.Blob()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetManifest(t.Context(), "nope"); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("missing alias: %v", err)
	}
}

// TestIntegrationConstantMemory streams a blob much larger than the memory
// budget through push and pull and checks the heap never held it.
func TestIntegrationConstantMemory(t *testing.T) {
	r := plainRepo(t)
	const size = 256 << 20
	peak := watchHeap(t)
	res, err := r.PushBlob(t.Context(), newPatternReader(size))
	if err != nil {
		t.Fatal(err)
	}
	br, err := r.PullBlob(t.Context(), res.Digest)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, br)
	br.Close()
	if err != nil || n != size {
		t.Fatalf("pulled %d, %v", n, err)
	}
	if p := peak(); p > 64<<20 {
		t.Fatalf("heap peaked at %d MiB for a %d MiB blob", p>>20, size>>20)
	} else {
		t.Logf("heap peak %d MiB for a %d MiB round trip", p>>20, size>>20)
	}
}

// watchHeap samples the heap in use until the returned function is called,
// which returns the peak seen.
func watchHeap(t testing.TB) func() uint64 {
	runtime.GC()
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	stop := func() uint64 {
		once.Do(func() { close(done); <-stopped })
		return peak
	}
	t.Cleanup(func() { stop() })
	return stop
}

// patternReader yields n pseudo-random bytes without holding them.
type patternReader struct {
	left  int64
	state uint64
}

func newPatternReader(n int64) *patternReader {
	return &patternReader{left: n, state: 0x9e3779b97f4a7c15}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	i := 0
	for ; i+8 <= len(b); i += 8 {
		p.state ^= p.state << 13
		p.state ^= p.state >> 7
		p.state ^= p.state << 17
		s := p.state
		b[i], b[i+1], b[i+2], b[i+3], b[i+4], b[i+5], b[i+6], b[i+7] = byte(s), byte(s>>8), byte(s>>16), byte(s>>24), byte(s>>32), byte(s>>40), byte(s>>48), byte(s>>56)
	}
	for ; i < len(b); i++ {
		b[i] = byte(p.state >> (i % 8 * 8))
	}
	p.left -= int64(len(b))
	return len(b), nil
}

// BenchmarkRoundTrip1GiB pushes and pulls (verified) a 1 GiB blob through the
// real registry, reporting throughput, allocations and the peak heap.
func BenchmarkRoundTrip1GiB(b *testing.B) {
	r := plainRepo(b)
	const size = 1 << 30
	b.SetBytes(2 * size) // up and down
	b.ReportAllocs()
	var maxPeak uint64
	for b.Loop() {
		peak := watchHeap(b)
		res, err := r.PushBlob(b.Context(), newPatternReader(size))
		if err != nil {
			b.Fatal(err)
		}
		br, err := r.PullBlob(b.Context(), res.Digest)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, br); err != nil || n != size {
			b.Fatalf("pulled %d, %v", n, err)
		}
		br.Close()
		maxPeak = max(maxPeak, peak())
		if err := r.DeleteBlob(b.Context(), res.Digest); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(maxPeak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkPull64MiB measures the verified pull path alone.
func BenchmarkPull64MiB(b *testing.B) {
	r := plainRepo(b)
	const size = 64 << 20
	res, err := r.PushBlob(b.Context(), newPatternReader(size))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		br, err := r.PullBlob(b.Context(), res.Digest)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, br); err != nil {
			b.Fatal(err)
		}
		br.Close()
	}
}

// BenchmarkPush64MiB measures the one-pass push path (hash while sending).
func BenchmarkPush64MiB(b *testing.B) {
	r := plainRepo(b)
	const size = 64 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.PushBlob(b.Context(), newPatternReader(size)); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = json.Marshal
var _ = authn.Anonymous
