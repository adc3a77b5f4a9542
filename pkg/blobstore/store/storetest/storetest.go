// Package storetest is the conformance suite every [store.Store]
// implementation runs: blobs put, stat and read by range, wrong digests and
// sizes refused with nothing left behind, manifests put and got by alias and
// digest, aliases listed, and the optional capabilities (delete, untag,
// manifest check, bounded manifest read, describe) where the store has
// them.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// Run runs the conformance suite; newStore returns a new, empty store (one
// fresh repository) each time it is called.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("blobs", func(t *testing.T) { t.Parallel(); testBlobs(t, newStore(t)) })
	t.Run("bad-puts", func(t *testing.T) { t.Parallel(); testBadPuts(t, newStore(t)) })
	t.Run("manifests", func(t *testing.T) { t.Parallel(); testManifests(t, newStore(t)) })
	t.Run("delete", func(t *testing.T) { t.Parallel(); testDelete(t, newStore(t)) })
	t.Run("concurrent-puts", func(t *testing.T) { t.Parallel(); testConcurrentPuts(t, newStore(t)) })
	t.Run("bounded-manifest", func(t *testing.T) { t.Parallel(); testBoundedManifest(t, newStore(t)) })
	t.Run("put-bytes", func(t *testing.T) { t.Parallel(); testPutBytes(t, newStore(t)) })
	t.Run("fetch", func(t *testing.T) { t.Parallel(); testFetch(t, newStore(t)) })
	t.Run("describe", func(t *testing.T) { t.Parallel(); testDescribe(t, newStore(t), newStore(t)) })
}

// testBoundedManifest checks store.GetManifestBounded (through the
// store's own BoundedManifestGetter, if it has one): a manifest within the
// bound is read, one a byte over it refused with the caller's error.
func testBoundedManifest(t *testing.T, s store.Store) {
	ctx := t.Context()
	m := putImage(t, s, Data("bounded", 100))
	if _, err := s.PutManifest(ctx, "bounded", m); err != nil {
		t.Fatal(err)
	}
	tooBig := errors.New("too big for the test")
	n := int64(len(m.Raw))
	for _, ref := range []string{"bounded", m.Digest.String()} {
		got, err := store.GetManifestBounded(ctx, s, ref, n, tooBig)
		if err != nil || !bytes.Equal(got.Raw, m.Raw) || got.Digest != m.Digest {
			t.Errorf("GetManifestBounded(%s, %d bytes) = %v, %v: want the manifest", ref, n, got.Digest, err)
		}
		if _, err := store.GetManifestBounded(ctx, s, ref, n-1, tooBig); !errors.Is(err, tooBig) {
			t.Errorf("GetManifestBounded(%s, %d bytes) of a %d-byte manifest = %v, want the caller's error", ref, n-1, n, err)
		}
	}
	if _, err := store.GetManifestBounded(ctx, s, "missing", n, tooBig); !errors.Is(err, store.ErrAliasNotFound) {
		t.Errorf("GetManifestBounded(missing) = %v, want ErrAliasNotFound", err)
	}
}

// testPutBytes checks store.PutBytes (through the store's own
// BytesPutter, if it has one): data stored under its digest reads back,
// the empty blob too, and data under another digest is refused, leaving
// nothing under either.
func testPutBytes(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, data := range [][]byte{Data("bytes", 3000), nil} {
		d := Digest(data)
		if err := store.PutBytes(ctx, s, d, data); err != nil {
			t.Fatalf("PutBytes(%d bytes): %v", len(data), err)
		}
		b := store.Blob{Digest: d, Size: int64(len(data))}
		if got := read(t, s, b, 0, -1); !bytes.Equal(got, data) {
			t.Errorf("PutBytes(%d bytes) reads back as %d bytes", len(data), len(got))
		}
	}
	data, wrong := Data("bytes-wrong", 1000), Digest([]byte("something else"))
	if err := store.PutBytes(ctx, s, wrong, data); err == nil {
		t.Error("PutBytes under another digest succeeded")
	}
	for _, d := range []v1.Hash{wrong, Digest(data)} {
		if _, err := s.Stat(ctx, d); !errors.Is(err, store.ErrBlobNotFound) {
			t.Errorf("after a refused PutBytes, Stat(%s) = %v, want ErrBlobNotFound", d, err)
		}
	}
}

// testFetch checks store.Fetch (through the store's own Fetcher, if it has
// one): the whole blob with its size known or not, the rest of it from an
// offset, a wrong size refused, a missing blob not found.
func testFetch(t *testing.T, s store.Store) {
	ctx := t.Context()
	data := Data("fetch", 70_000)
	b := put(t, s, data, store.Blob{Size: -1})
	fetch := func(want store.Blob, off int64) ([]byte, int64, error) {
		rc, size, err := store.Fetch(ctx, s, want, off)
		if err != nil {
			return nil, 0, err
		}
		defer rc.Close()
		got, err := io.ReadAll(io.LimitReader(rc, int64(len(data))+1))
		return got, size, err
	}
	for _, tc := range []struct {
		want store.Blob
		off  int64
	}{{b, 0}, {store.Blob{Digest: b.Digest, Size: -1}, 0}, {b, 1000}, {b, b.Size - 1}} {
		got, size, err := fetch(tc.want, tc.off)
		if err != nil || size != b.Size || !bytes.Equal(got, data[tc.off:]) {
			t.Errorf("Fetch(size %d, from %d) = %d bytes, size %d, %v; want %d bytes, size %d", tc.want.Size, tc.off, len(got), size, err, b.Size-tc.off, b.Size)
		}
	}
	if _, _, err := fetch(store.Blob{Digest: b.Digest, Size: b.Size + 1}, 0); !errors.Is(err, store.ErrSizeMismatch) {
		t.Errorf("Fetch with the wrong size = %v, want ErrSizeMismatch", err)
	}
	for _, size := range []int64{-1, 10} {
		if _, _, err := fetch(store.Blob{Digest: Digest([]byte("not there")), Size: size}, 0); !errors.Is(err, store.ErrBlobNotFound) {
			t.Errorf("Fetch of a missing blob (size %d) = %v, want ErrBlobNotFound", size, err)
		}
	}
}

// testDescribe checks that a store naming itself gives a name, a full name
// ending with it, and other names to another store.
func testDescribe(t *testing.T, s, other store.Store) {
	d, ok := s.(store.Describer)
	if !ok {
		return
	}
	name, full := d.Describe()
	if name == "" || !strings.HasSuffix(full, name) || full == name {
		t.Errorf("Describe() = %q, %q: want a name and a longer full name ending with it", name, full)
	}
	if on, ofull := other.(store.Describer).Describe(); on == name || ofull == full {
		t.Errorf("two stores both describe themselves as %q, %q", on, ofull)
	}
}

// Digest returns the sha256 digest of b.
func Digest(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// Data returns n bytes of test data, different for each seed.
func Data(seed string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	s := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, s[:]...)
		s = sha256.Sum256(s[:])
	}
	return out[:n]
}

func put(t *testing.T, s store.Store, data []byte, want store.Blob) store.Blob {
	t.Helper()
	b, err := s.Put(t.Context(), bytes.NewReader(data), want)
	if err != nil {
		t.Fatalf("Put(%d bytes): %v", len(data), err)
	}
	if b.Digest != Digest(data) || b.Size != int64(len(data)) {
		t.Fatalf("Put(%d bytes) = %v, want %s %d", len(data), b, Digest(data), len(data))
	}
	return b
}

func read(t *testing.T, s store.Store, b store.Blob, off, n int64) []byte {
	t.Helper()
	rc, err := s.Open(t.Context(), b, off, n)
	if err != nil {
		t.Fatalf("Open(%s, %d, %d): %v", b.Digest, off, n, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(io.LimitReader(rc, 1<<30))
	if err != nil {
		t.Fatalf("reading %s [%d,+%d): %v", b.Digest, off, n, err)
	}
	return got
}

func testBlobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	data := Data("blobs", 100_000)
	d := Digest(data)
	if _, err := s.Stat(ctx, d); !errors.Is(err, store.ErrBlobNotFound) {
		t.Fatalf("Stat of a blob never put = %v, want ErrBlobNotFound", err)
	}
	if _, err := s.Open(ctx, store.Blob{Digest: d, Size: -1}, 0, -1); !errors.Is(err, store.ErrBlobNotFound) {
		t.Fatalf("Open of a blob never put = %v, want ErrBlobNotFound", err)
	}
	// Digest computed (unknown size), then known digest and size: both give
	// the same blob.
	b := put(t, s, data, store.Blob{Size: -1})
	put(t, s, data, store.Blob{Digest: d, Size: int64(len(data))})
	// A reader that yields one byte at a time changes nothing.
	if b2, err := s.Put(ctx, iotest.OneByteReader(bytes.NewReader(data[:1000])), store.Blob{Size: -1}); err != nil || b2.Digest != Digest(data[:1000]) {
		t.Fatalf("Put(one byte at a time) = %v, %v", b2, err)
	}
	st, err := s.Stat(ctx, d)
	if err != nil || st.Digest != d || st.Size != int64(len(data)) {
		t.Fatalf("Stat = %v, %v; want %s %d", st, err, d, len(data))
	}
	for _, r := range []struct{ off, n int64 }{{0, -1}, {0, 100_000}, {1, 1}, {99_999, 1}, {4096, 10_000}, {50_000, -1}, {100_000, -1}, {10, 0}} {
		want := data[r.off:]
		if r.n >= 0 {
			want = want[:r.n]
		}
		for _, size := range []int64{-1, b.Size} {
			if got := read(t, s, store.Blob{Digest: d, Size: size}, r.off, r.n); !bytes.Equal(got, want) {
				t.Errorf("Open(size %d, %d, %d) gave %d bytes, want %d (equal: %v)", size, r.off, r.n, len(got), len(want), bytes.Equal(got, want))
			}
		}
	}
	if _, err := s.Open(ctx, store.Blob{Digest: d, Size: b.Size + 1}, 0, -1); !errors.Is(err, store.ErrSizeMismatch) {
		t.Errorf("Open with the wrong size = %v, want ErrSizeMismatch", err)
	}
	empty := put(t, s, nil, store.Blob{Size: -1})
	if got := read(t, s, empty, 0, -1); len(got) != 0 {
		t.Errorf("the empty blob reads as %d bytes", len(got))
	}
}

func testBadPuts(t *testing.T, s store.Store) {
	ctx := t.Context()
	data := Data("bad", 70_000)
	other := Digest([]byte("something else"))
	_, err := s.Put(ctx, bytes.NewReader(data), store.Blob{Digest: other, Size: -1})
	if !errors.Is(err, store.ErrDigestMismatch) {
		t.Fatalf("Put with a wrong digest = %v, want ErrDigestMismatch", err)
	}
	_, err = s.Put(ctx, bytes.NewReader(data), store.Blob{Digest: Digest(data), Size: int64(len(data)) + 5})
	if !errors.Is(err, store.ErrSizeMismatch) {
		t.Fatalf("Put with a wrong size = %v, want ErrSizeMismatch", err)
	}
	// A reader failing halfway.
	boom := errors.New("source broke")
	_, err = s.Put(ctx, io.MultiReader(bytes.NewReader(data[:30_000]), iotest.ErrReader(boom)), store.Blob{Digest: Digest(data), Size: int64(len(data))})
	if err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	for _, d := range []v1.Hash{other, Digest(data)} {
		if b, err := s.Stat(ctx, d); !errors.Is(err, store.ErrBlobNotFound) {
			t.Errorf("after the refused puts, Stat(%s) = %v, %v; want ErrBlobNotFound", d, b, err)
		}
	}
	if l, ok := s.(store.BlobLister); ok {
		for b, err := range l.Blobs(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			t.Errorf("after the refused puts the store holds %v", b)
		}
	}
	// And the right data still goes in afterwards.
	put(t, s, data, store.Blob{Digest: Digest(data), Size: int64(len(data))})
}

// Manifest returns a Docker schema 2 manifest naming blobs, as dxf makes
// them.
func Manifest(blobs ...store.Blob) store.Manifest {
	config := []byte(`{}`)
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[`, len(config), Digest(config))
	for i, bl := range blobs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"mediaType":"application/octet-stream","size":%d,"digest":"%s"}`, bl.Size, bl.Digest)
	}
	b.WriteString("]}")
	return store.Manifest{Raw: b.Bytes(), MediaType: "application/vnd.docker.distribution.manifest.v2+json", Digest: Digest(b.Bytes())}
}

// putImage puts a blob of data and the config, and returns a manifest
// naming them.
func putImage(t *testing.T, s store.Store, data []byte) store.Manifest {
	t.Helper()
	put(t, s, []byte(`{}`), store.Blob{Size: -1})
	return Manifest(put(t, s, data, store.Blob{Size: -1}))
}

func aliases(t *testing.T, s store.Store) []string {
	t.Helper()
	var out []string
	for a, err := range s.Aliases(t.Context()) {
		if errors.Is(err, store.ErrNotFound) && len(out) == 0 {
			return nil // a repository without aliases may not exist yet
		}
		if err != nil {
			t.Fatalf("Aliases: %v", err)
		}
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func getManifest(t *testing.T, s store.Store, ref string, want store.Manifest) {
	t.Helper()
	m, err := s.GetManifest(t.Context(), ref)
	if err != nil {
		t.Fatalf("GetManifest(%s): %v", ref, err)
	}
	if !bytes.Equal(m.Raw, want.Raw) || m.Digest != want.Digest || m.MediaType != want.MediaType {
		t.Fatalf("GetManifest(%s) = %s %s %q, want %s %s %q", ref, m.Digest, m.MediaType, m.Raw, want.Digest, want.MediaType, want.Raw)
	}
}

func testManifests(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got := aliases(t, s); len(got) != 0 {
		t.Fatalf("a new store has aliases %v", got)
	}
	if _, err := s.GetManifest(ctx, "week"); !errors.Is(err, store.ErrAliasNotFound) {
		t.Fatalf("GetManifest of a missing alias = %v, want ErrAliasNotFound", err)
	}
	m1 := putImage(t, s, Data("one", 1000))
	m2 := putImage(t, s, Data("two", 2000))
	for ref, m := range map[string]store.Manifest{"week": m1, "day": m1, "month": m2} {
		if d, err := s.PutManifest(ctx, ref, m); err != nil || d != m.Digest {
			t.Fatalf("PutManifest(%s) = %s, %v", ref, d, err)
		}
	}
	getManifest(t, s, "week", m1)
	getManifest(t, s, "day", m1)
	getManifest(t, s, "month", m2)
	getManifest(t, s, m2.Digest.String(), m2)
	if got, want := aliases(t, s), []string{"day", "month", "week"}; !slices.Equal(got, want) {
		t.Fatalf("Aliases = %v, want %v", got, want)
	}
	// Moving an alias.
	if _, err := s.PutManifest(ctx, "week", m2); err != nil {
		t.Fatal(err)
	}
	getManifest(t, s, "week", m2)
	getManifest(t, s, "day", m1)
	if got, want := aliases(t, s), []string{"day", "month", "week"}; !slices.Equal(got, want) {
		t.Fatalf("after moving an alias, Aliases = %v, want %v", got, want)
	}
	// By digest only.
	m3 := putImage(t, s, Data("three", 3000))
	if d, err := s.PutManifest(ctx, m3.Digest.String(), m3); err != nil || d != m3.Digest {
		t.Fatalf("PutManifest(by digest) = %s, %v", d, err)
	}
	getManifest(t, s, m3.Digest.String(), m3)
	if _, err := s.PutManifest(ctx, m1.Digest.String(), m3); err == nil {
		t.Error("PutManifest under another manifest's digest succeeded")
	}
	hasManifest(t, s, map[string]bool{"week": true, "month": true, m3.Digest.String(): true, "never": false, Digest([]byte("never")).String(): false})
	if u, ok := s.(store.Untagger); ok {
		if err := u.Untag(ctx, "week"); err != nil {
			t.Fatalf("Untag: %v", err)
		}
		if _, err := s.GetManifest(ctx, "week"); !errors.Is(err, store.ErrAliasNotFound) {
			t.Errorf("after Untag, GetManifest = %v, want ErrAliasNotFound", err)
		}
		getManifest(t, s, "day", m1)
		getManifest(t, s, "month", m2)
		getManifest(t, s, m2.Digest.String(), m2)
		hasManifest(t, s, map[string]bool{"week": false, "day": true, m1.Digest.String(): true})
		if got, want := aliases(t, s), []string{"day", "month"}; !slices.Equal(got, want) {
			t.Fatalf("after Untag, Aliases = %v, want %v", got, want)
		}
		if err := u.Untag(ctx, "week"); !errors.Is(err, store.ErrAliasNotFound) {
			t.Errorf("Untag of a missing alias = %v, want ErrAliasNotFound", err)
		}
	}
}

// hasManifest checks, for a store with a ManifestChecker, whether each ref
// names a manifest.
func hasManifest(t *testing.T, s store.Store, want map[string]bool) {
	t.Helper()
	c, ok := s.(store.ManifestChecker)
	if !ok {
		return
	}
	for ref, w := range want {
		if got, err := c.HasManifest(t.Context(), "check "+ref, ref); err != nil || got != w {
			t.Errorf("HasManifest(%s) = %v, %v, want %v", ref, got, err, w)
		}
	}
}

func testDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	del, ok := s.(store.Deleter)
	if !ok {
		// Without the capability, deleting is the caller's ErrUnsupported:
		// nothing more to check than that the store still works.
		put(t, s, Data("nodelete", 10), store.Blob{Size: -1})
		return
	}
	data := Data("delete", 5000)
	m := putImage(t, s, data)
	if _, err := s.PutManifest(ctx, "doomed", m); err != nil {
		t.Fatal(err)
	}
	if err := del.DeleteManifest(ctx, m.Digest); err != nil {
		t.Fatalf("DeleteManifest: %v", err)
	}
	if _, err := s.GetManifest(ctx, "doomed"); !errors.Is(err, store.ErrAliasNotFound) {
		t.Errorf("after DeleteManifest, GetManifest(alias) = %v, want ErrAliasNotFound", err)
	}
	if _, err := s.GetManifest(ctx, m.Digest.String()); !errors.Is(err, store.ErrAliasNotFound) {
		t.Errorf("after DeleteManifest, GetManifest(digest) = %v, want ErrAliasNotFound", err)
	}
	if got := aliases(t, s); slices.Contains(got, "doomed") {
		t.Errorf("after DeleteManifest, Aliases = %v", got)
	}
	if err := del.DeleteBlob(ctx, Digest(data)); err != nil {
		t.Fatalf("DeleteBlob: %v", err)
	}
	if _, err := s.Stat(ctx, Digest(data)); !errors.Is(err, store.ErrBlobNotFound) {
		t.Errorf("after DeleteBlob, Stat = %v, want ErrBlobNotFound", err)
	}
	if err := del.DeleteBlob(ctx, Digest([]byte("never there"))); !errors.Is(err, store.ErrBlobNotFound) {
		t.Errorf("DeleteBlob of a missing blob = %v, want ErrBlobNotFound", err)
	}
	// The config, not deleted, is still there.
	if _, err := s.Stat(ctx, Digest([]byte(`{}`))); err != nil {
		t.Errorf("DeleteBlob removed another blob: %v", err)
	}
}

func testConcurrentPuts(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	data := Data("concurrent", 300_000)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := store.Blob{Size: -1}
			if i%2 == 0 {
				want = store.Blob{Digest: Digest(data), Size: int64(len(data))}
			}
			b, err := s.Put(ctx, bytes.NewReader(data), want)
			if err == nil && (b.Digest != Digest(data) || b.Size != int64(len(data))) {
				err = fmt.Errorf("put gave %v", b)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Put: %v", err)
		}
	}
	if got := read(t, s, store.Blob{Digest: Digest(data), Size: int64(len(data))}, 0, -1); !bytes.Equal(got, data) {
		t.Errorf("after concurrent puts the blob reads back as %d different bytes", len(got))
	}
}
