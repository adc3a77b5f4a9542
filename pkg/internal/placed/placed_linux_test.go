package placed

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/dxf-go/dxf/internal/testutil"
	"github.com/dxf-go/dxf/internal/writeback"
)

func TestOpenPlacedWhen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	open := func(flag int) *os.File {
		f, err := os.OpenFile(path, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()

	for _, c := range []struct {
		name  string
		f     *os.File
		total int64
		want  bool
	}{
		{"write-only file", open(os.O_WRONLY), 10, true},
		{"read-write file", open(os.O_RDWR), 10, true},
		{"nothing to write", open(os.O_WRONLY), 0, false},
		{"appending", open(os.O_WRONLY | os.O_APPEND), 10, false},
		{"pipe", w, 10, false},
		{"/dev/null", devnull, 10, false},
	} {
		p, err := Open(c.f, c.total)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if (p != nil) != c.want {
			t.Errorf("%s: placed %v, want %v", c.name, p != nil, c.want)
		}
		if p == nil {
			continue
		}
		if err := p.Finish(c.total); err != nil {
			t.Errorf("%s: finish: %v", c.name, err)
		}
	}
}

// TestPlacedConcurrentSections fills sections of odd sizes, at an odd
// offset, from as many goroutines, into a new file and over a file's
// content; and checks the file and the offset left behind.
func TestPlacedConcurrentSections(t *testing.T) {
	t.Parallel()
	sizes := []int{placedBuffer + 1, 0, 1, 4095, 4096, 3*placedBuffer - 7, 12345, 8192}
	var parts [][]byte
	var total int64
	for _, n := range sizes {
		parts = append(parts, testutil.RandomBytes(t, n))
		total += int64(n)
	}
	for _, mode := range []string{"new file", "over old content"} {
		path := filepath.Join(t.TempDir(), "out")
		flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if mode == "over old content" {
			// As "1<> file" does: what lies beyond the output stays, and
			// what it overwrites may be in the page cache.
			if err := os.WriteFile(path, bytes.Repeat([]byte{'x'}, int(total)+100), 0o644); err != nil {
				t.Fatal(err)
			}
			flag = os.O_WRONLY
		}
		f, err := os.OpenFile(path, flag, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString("head"); err != nil {
			t.Fatal(err)
		}
		p, err := Open(f, total)
		if err != nil || p == nil {
			t.Fatalf("%s: Open: %v, %v", mode, p, err)
		}
		var wg sync.WaitGroup
		var off int64
		for _, b := range parts {
			s := p.Section(off, int64(len(b)))
			off += int64(len(b))
			wg.Go(func() {
				var progress int
				if err := s.Fill(bytes.NewReader(b), func(n int) { progress += n }); err != nil {
					t.Errorf("%s: %v", mode, err)
				}
				if s.Written() != int64(len(b)) || progress != len(b) {
					t.Errorf("%s: section wrote %d bytes, reported %d, want %d", mode, s.Written(), progress, len(b))
				}
			})
		}
		wg.Wait()
		if err := p.Finish(total); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("tail"); err != nil {
			t.Fatal(err)
		}
		want := append([]byte("head"), bytes.Join(parts, nil)...)
		want = append(want, "tail"...)
		if mode == "over old content" {
			want = append(want, bytes.Repeat([]byte{'x'}, 100-8)...)
		}
		testutil.CheckFile(t, path, want)
	}
}

// TestPlacedSectionSize: a blob longer or shorter than its place is an
// error, and a reader's own error comes through.
func TestPlacedSectionSize(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := Open(f, 30000)
	if err != nil || p == nil {
		t.Fatalf("Open: %v, %v", p, err)
	}
	t.Cleanup(func() { _ = p.Finish(0) })
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		r    io.Reader
		want error
	}{
		{"longer", bytes.NewReader(make([]byte, 10001)), ErrFull},
		{"shorter", bytes.NewReader(make([]byte, 9999)), ErrShort},
		{"failing", io.MultiReader(bytes.NewReader(make([]byte, 5000)), iotest.ErrReader(boom)), boom},
	} {
		s := p.Section(0, 10000)
		if err := s.Fill(c.r, func(int) {}); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestPlacedFailure: finish with less than everything cuts the file there,
// but never below its size before.
func TestPlacedFailure(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		before  string
		written int64
		want    string
	}{
		{"new file", "", 3, "abc"},
		{"longer file", "0123456789", 3, "abc3456789"},
		{"shorter file", "0123", 6, "abcdef"},
	} {
		path := filepath.Join(t.TempDir(), "out")
		if err := os.WriteFile(path, []byte(c.before), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Open(f, 8)
		if err != nil || p == nil {
			t.Fatalf("%s: Open: %v, %v", c.name, p, err)
		}
		s := p.Section(0, 8)
		if err := s.Fill(bytes.NewReader([]byte("abcdefgh")[:c.written]), func(int) {}); !errors.Is(err, ErrShort) {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := p.Finish(s.Written()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("!"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		want := c.want[:c.written] + "!" + c.want[min(len(c.want), int(c.written)+1):]
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("%s: file %q, want %q", c.name, got, want)
		}
	}
}

// countingWriterAt records the size of each WriteAt into its buffer.
type countingWriterAt struct {
	buf    []byte
	writes []int
}

func (c *countingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	c.writes = append(c.writes, len(p))
	return copy(c.buf[off:], p), nil
}

// TestPlacedWritePieces: a buffer bigger than writeback.WriteSize, streamed
// into a section (as BlobReader.WriteTo does), is written to a file in
// pieces, each at its place (the file holds it); an io.WriterAt gets it in
// one write.
func TestPlacedWritePieces(t *testing.T) {
	t.Parallel()
	data := testutil.RandomBytes(t, 3*writeback.WriteSize+5)
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("head"); err != nil {
		t.Fatal(err)
	}
	p, err := Open(f, int64(len(data)))
	if err != nil || p == nil {
		t.Fatalf("Open: %v, %v", p, err)
	}
	s := p.Section(0, int64(len(data)))
	if n, err := s.Write(data[:7]); n != 7 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if n, err := s.Write(data[7:]); n != len(data)-7 || err != nil || s.Written() != int64(len(data)) {
		t.Fatalf("Write = %d, %v; %d written", n, err, s.Written())
	}
	if err := p.Finish(int64(len(data))); err != nil {
		t.Fatal(err)
	}
	testutil.CheckFile(t, path, append([]byte("head"), data...))

	w := &countingWriterAt{buf: make([]byte, 10+len(data))}
	s = NewWriterAt(w, 10, int64(len(data))).Section(0, int64(len(data)))
	if n, err := s.Write(data); n != len(data) || err != nil {
		t.Fatalf("Write to an io.WriterAt = %d, %v", n, err)
	}
	if len(w.writes) != 1 || !bytes.Equal(w.buf[10:], data) {
		t.Errorf("an io.WriterAt got writes of %v bytes, want one of %d, and the data in place", w.writes, len(data))
	}
}
