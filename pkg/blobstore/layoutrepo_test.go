package blobstore

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// layoutRepo opens a new OCI image layout repository in a temporary directory.
func layoutRepo(t *testing.T) *Repository {
	t.Helper()
	r, err := Open(t.Context(), "oci:"+filepath.Join(t.TempDir(), "fred"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLayoutRepository: the public calls of Repository work on an OCI image
// layout as on a registry.
func TestLayoutRepository(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := layoutRepo(t)
	if !r.IsLayout() || r.Registry() != nil || !strings.HasPrefix(r.String(), "oci:") {
		t.Fatalf("IsLayout %v, Registry %v, String %q", r.IsLayout(), r.Registry(), r.String())
	}
	// Reads of a layout that does not exist yet say so.
	if _, err := r.GetManifest(ctx, "week"); !errors.Is(err, ErrAliasNotFound) || !strings.Contains(err.Error(), "no OCI image layout") {
		t.Fatalf("GetManifest on a missing layout = %v", err)
	}
	if _, err := r.ListAliases(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ListAliases on a missing layout = %v", err)
	}

	small := bytes.Repeat([]byte("small"), 1000)
	big := bytes.Repeat([]byte("0123456789abcdefghij"), 500_000) // 10 MB: the speculative path on a registry
	dir := t.TempDir()
	bigFile := filepath.Join(dir, "big")
	if err := os.WriteFile(bigFile, big, 0o600); err != nil {
		t.Fatal(err)
	}
	var seen []Progress
	stream, err := r.PushBlob(ctx, io.MultiReader(bytes.NewReader(small)), WithProgress(func(p Progress) { seen = append(seen, p) }))
	if err != nil || stream.Digest != HashBytes(small) || stream.Existed {
		t.Fatalf("PushBlob = %+v, %v", stream, err)
	}
	if len(seen) == 0 || !seen[len(seen)-1].Finished {
		t.Errorf("progress: %+v", seen)
	}
	again, err := r.PushBlob(ctx, bytes.NewReader(small), WithDigest(stream.Digest))
	if err != nil || !again.Existed {
		t.Fatalf("PushBlob of an existing blob = %+v, %v", again, err)
	}
	if _, err := r.PushBlob(ctx, bytes.NewReader(small), WithDigest(HashBytes(big))); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("PushBlob with a wrong digest = %v", err)
	}
	file, err := r.PushFile(ctx, bigFile)
	if err != nil || file.Digest != HashBytes(big) || file.Size != int64(len(big)) {
		t.Fatalf("PushFile = %+v, %v", file, err)
	}
	if n, err := r.BlobSize(ctx, file.Digest); err != nil || n != int64(len(big)) {
		t.Fatalf("BlobSize = %d, %v", n, err)
	}
	if _, err := r.SetAlias(ctx, "week", stream.Digest, file.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetAlias(ctx, "missing", HashBytes([]byte("never"))); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("SetAlias of a missing blob = %v", err)
	}
	if _, err := r.SetAliasBlobs(ctx, "day", file.Blob()); err != nil {
		t.Fatal(err)
	}
	al, err := r.GetAlias(ctx, "week", "")
	if err != nil {
		t.Fatal(err)
	}
	if bl, _ := al.Blobs(); len(bl) != 2 || bl[1] != file.Blob() {
		t.Fatalf("GetAlias blobs = %v", bl)
	}
	var out bytes.Buffer
	if err := r.PullAlias(ctx, &out, "week"); err != nil || !bytes.Equal(out.Bytes(), append(slices.Clip(small), big...)) {
		t.Fatalf("PullAlias: %v (%d bytes)", err, out.Len())
	}
	// Into a file: the parallel placed write.
	f, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, _ := al.Blobs()
	if err := r.PullBlobs(ctx, f, blobs, WithJobs(4)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, _ := os.ReadFile(filepath.Join(dir, "out")); !bytes.Equal(got, out.Bytes()) {
		t.Fatal("PullBlobs into a file differs")
	}
	// A range of the big blob, verified and unverified.
	for _, verified := range []bool{true, false} {
		var rd io.ReaderAt
		if verified {
			bf, err := r.OpenAlias(ctx, "day", "", WithVerifyLargeBlobs(), WithMaxWholePart(1<<20))
			if err != nil {
				t.Fatal(err)
			}
			defer bf.Close()
			rd = bf
		} else {
			uf, err := r.OpenAliasUnverified(ctx, "day", "", WithMaxWholePart(1<<20))
			if err != nil {
				t.Fatal(err)
			}
			defer uf.Close()
			rd = uf
		}
		p := make([]byte, 1000)
		if _, err := rd.ReadAt(p, 5_000_003); err != nil || !bytes.Equal(p, big[5_000_003:5_001_003]) {
			t.Fatalf("ReadAt (verified %v): %v", verified, err)
		}
	}
	if n, err := r.AliasSize(ctx, "week", ""); err != nil || n != int64(len(small)+len(big)) {
		t.Fatalf("AliasSize = %d, %v", n, err)
	}
	split, err := r.PushSplit(ctx, bytes.NewReader(big), WithSplitAverage(1<<20))
	if err != nil || len(split.Chunks) < 2 {
		t.Fatalf("PushSplit = %d blobs, %v", len(split.Chunks), err)
	}
	if _, err := r.SetAliasBlobs(ctx, "split", split.Chunks...); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := r.PullAlias(ctx, &out, "split"); err != nil || !bytes.Equal(out.Bytes(), big) {
		t.Fatalf("PullAlias of the split alias: %v", err)
	}
	if got, err := r.ListAliases(ctx); err != nil || !slices.Equal(got, []string{"day", "split", "week"}) {
		t.Fatalf("ListAliases = %v, %v", got, err)
	}
	if _, err := r.DeleteAlias(ctx, "day"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetManifest(ctx, "day"); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("after DeleteAlias: %v", err)
	}
	if err := r.DeleteBlob(ctx, stream.Digest); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.HasBlob(ctx, stream.Digest); ok || err != nil {
		t.Fatalf("HasBlob after DeleteBlob = %v, %v", ok, err)
	}
	if _, err := r.PullBlob(ctx, stream.Digest); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("PullBlob of a deleted blob = %v", err)
	}
	if err := r.MountBlob(ctx, "other", file.Digest); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("MountBlob on a layout = %v", err)
	}
}

// TestLayoutCorruptBlob: a blob whose bytes were changed on disk is refused
// when pulled, as a corrupt registry's would be.
func TestLayoutCorruptBlob(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := layoutRepo(t)
	data := bytes.Repeat([]byte("x"), 10_000)
	res, err := r.PushBlob(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(r.Name(), "blobs", "sha256", res.Digest.Hex)
	data[5000] = 'y'
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.PullBlobs(ctx, &out, []Blob{res.Blob()}); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("pulling a corrupt blob = %v, want ErrDigestMismatch", err)
	}
	if err := os.WriteFile(path, data[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.PullBlobs(ctx, &out, []Blob{res.Blob()}); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("pulling a truncated blob = %v, want ErrSizeMismatch", err)
	}
}
