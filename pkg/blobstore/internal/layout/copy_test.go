package layout

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
	"github.com/dxf-go/dxf/pkg/blobstore/store/storetest"
)

// TestCopyHashedSizes: around the buffer size and over several buffers, in
// big, half and one-byte reads, the file holds the data and the hash is its.
func TestCopyHashedSizes(t *testing.T) {
	t.Parallel()
	whole := func(b []byte) io.Reader { return bytes.NewReader(b) }
	half := func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }
	oneByte := func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }
	for _, tc := range []struct {
		n      int
		reader func([]byte) io.Reader
		limit  bool
	}{
		{0, whole, false},
		{0, whole, true},
		{1, oneByte, true},
		{copyBufferSize - 1, half, false},
		{copyBufferSize, whole, true},
		{5000, oneByte, false},
		{copyBufferSize + 1, half, true},
		{copyBuffers*copyBufferSize + 7, half, false},
		{3*copyBuffers*copyBufferSize + 5, whole, true},
	} {
		data := storetest.Data("sizes", tc.n)
		limit := int64(-1)
		if tc.limit {
			limit = int64(tc.n)
		}
		f, err := os.Create(filepath.Join(t.TempDir(), "f"))
		if err != nil {
			t.Fatal(err)
		}
		got, h, err := copyHashed(f, tc.reader(data), limit)
		f.Close()
		if err != nil || got != int64(tc.n) {
			t.Fatalf("%d bytes, limit %d: copied %d, %v", tc.n, limit, got, err)
		}
		if hex.EncodeToString(h.Sum(nil)) != storetest.Digest(data).Hex {
			t.Errorf("%d bytes, limit %d: wrong hash", tc.n, limit)
		}
		if out, err := os.ReadFile(f.Name()); err != nil || !bytes.Equal(out, data) {
			t.Errorf("%d bytes, limit %d: the file holds %d bytes, not the data (%v)", tc.n, limit, len(out), err)
		}
	}
}

// TestPutOverlongStopsEarly: a stream longer than the size the blob must
// have is refused after one byte too many, not read to its end.
func TestPutOverlongStopsEarly(t *testing.T) {
	t.Parallel()
	s := New(filepath.Join(t.TempDir(), "layout"))
	src := &countingZeros{left: 1 << 40}
	_, err := s.Put(t.Context(), src, store.Blob{Size: 3 * copyBufferSize})
	if !errors.Is(err, store.ErrSizeMismatch) {
		t.Fatalf("Put of an endless stream = %v, want ErrSizeMismatch", err)
	}
	if src.read != 3*copyBufferSize+1 {
		t.Errorf("Put read %d bytes of an endless stream for a blob of %d", src.read, 3*copyBufferSize)
	}
	assertNoBlobFiles(t, s)
}

// countingZeros gives left zero bytes, counting what was read.
type countingZeros struct{ left, read int64 }

func (z *countingZeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.left))
	clear(p[:n])
	z.left -= int64(n)
	z.read += int64(n)
	return n, nil
}

// assertNoBlobFiles fails if blobs/sha256 holds any file: neither a blob
// nor a temporary file.
func assertNoBlobFiles(t *testing.T, s *Store) {
	t.Helper()
	entries, err := os.ReadDir(s.blobDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("blobs/sha256 holds %s after a failed put", e.Name())
	}
}

// TestPutInterrupted: a put of several buffers' worth whose source fails,
// or whose context is cancelled, midway leaves no file under a digest name
// and no temporary file.
func TestPutInterrupted(t *testing.T) {
	t.Parallel()
	data := storetest.Data("interrupted", 5*copyBufferSize+123)
	d := storetest.Digest(data)
	boom := errors.New("source broke")
	for _, tc := range []struct {
		name string
		want store.Blob
	}{
		{"digest-known", store.Blob{Digest: d, Size: int64(len(data))}},
		{"digest-unknown", store.Blob{Size: -1}},
	} {
		t.Run(tc.name+"/source-fails", func(t *testing.T) {
			t.Parallel()
			s := New(filepath.Join(t.TempDir(), "layout"))
			r := io.MultiReader(bytes.NewReader(data[:3*copyBufferSize+5]), iotest.ErrReader(boom))
			if _, err := s.Put(t.Context(), r, tc.want); !errors.Is(err, boom) {
				t.Fatalf("Put from a failing source = %v, want %v", err, boom)
			}
			assertNoBlobFiles(t, s)
		})
		t.Run(tc.name+"/cancelled", func(t *testing.T) {
			t.Parallel()
			s := New(filepath.Join(t.TempDir(), "layout"))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &cancelAfter{r: bytes.NewReader(data), n: 2*copyBufferSize + 9, cancel: cancel}
			if _, err := s.Put(ctx, r, tc.want); !errors.Is(err, context.Canceled) {
				t.Fatalf("Put cancelled midway = %v, want context.Canceled", err)
			}
			assertNoBlobFiles(t, s)
		})
	}
}

// cancelAfter reads from r and cancels once n bytes were read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p[:min(len(p), 64<<10)])
	if c.n -= k; c.n <= 0 {
		c.cancel()
	}
	return k, err
}

// TestConcurrentPutsOfOneBlob: writers putting the same big blob at once
// all succeed with its digest, and the layout ends with one file for it,
// holding exactly its bytes, and no temporary file.
func TestConcurrentPutsOfOneBlob(t *testing.T) {
	t.Parallel()
	s := New(filepath.Join(t.TempDir(), "layout"))
	data := storetest.Data("same", 3*copyBufferSize+77)
	d := storetest.Digest(data)
	var wg sync.WaitGroup
	for i := range 8 {
		want := store.Blob{Size: -1}
		if i%2 == 0 {
			want = store.Blob{Digest: d, Size: int64(len(data))}
		}
		wg.Go(func() {
			b, err := s.Put(t.Context(), iotest.HalfReader(bytes.NewReader(data)), want)
			if err != nil || b.Digest != d || b.Size != int64(len(data)) {
				t.Errorf("Put = %v, %v; want %s", b, err, d)
			}
		})
	}
	wg.Wait()
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != d.Hex {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("blobs/sha256 holds %v, want only %s", names, d.Hex)
	}
	if got, err := os.ReadFile(s.blobPath(d)); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the blob's file holds %d bytes, not the blob (%v)", len(got), err)
	}
}

// TestPutPausedStream: what a stream gave before it paused is in the
// temporary file while the put waits for more (a put killed then has
// written all it was given), and the put failing then leaves no file.
func TestPutPausedStream(t *testing.T) {
	t.Parallel()
	s := New(filepath.Join(t.TempDir(), "layout"))
	pr, pw := io.Pipe()
	failed := make(chan error, 1)
	go func() {
		_, err := s.Put(t.Context(), pr, store.Blob{Size: -1})
		failed <- err
	}()
	data := storetest.Data("paused", 3*300_000)
	for i := range 3 {
		if _, err := pw.Write(data[i*300_000 : (i+1)*300_000]); err != nil {
			t.Fatal(err)
		}
	}
	var size int64
	for range 2000 {
		if size = tmpFileSize(t, s); size == int64(len(data)) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if size != int64(len(data)) {
		t.Fatalf("the paused put has %d bytes in its file, want the %d it was given", size, len(data))
	}
	boom := errors.New("source broke")
	pw.CloseWithError(boom)
	if err := <-failed; !errors.Is(err, boom) {
		t.Fatalf("Put = %v, want %v", err, boom)
	}
	assertNoBlobFiles(t, s)
}

// tmpFileSize is the size of the temporary file in blobs/sha256 (0 if none).
func tmpFileSize(t *testing.T, s *Store) int64 {
	t.Helper()
	entries, _ := os.ReadDir(s.blobDir())
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), tmpPrefix) {
			return fi.Size()
		}
	}
	return 0
}
