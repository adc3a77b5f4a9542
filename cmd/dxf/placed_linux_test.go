//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
		p, err := openPlaced(c.f, c.total)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if (p != nil) != c.want {
			t.Errorf("%s: placed %v, want %v", c.name, p != nil, c.want)
		}
		if p != nil {
			if err := p.finish(c.total); err != nil {
				t.Errorf("%s: finish: %v", c.name, err)
			}
		}
	}
}

// TestPlacedConcurrentSections writes sections of odd sizes from as many
// goroutines, in pieces of odd sizes, and checks the file and the offset
// left behind.
func TestPlacedConcurrentSections(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("head"); err != nil {
		t.Fatal(err)
	}
	sizes := []int{placedWindow + 1, 0, 1, 4095, 3*placedWindow - 7, 12345}
	var parts [][]byte
	var total int64
	for _, n := range sizes {
		parts = append(parts, randomBytes(t, n))
		total += int64(n)
	}
	p, err := openPlaced(f, total)
	if err != nil || p == nil {
		t.Fatalf("openPlaced: %v, %v", p, err)
	}
	var wg sync.WaitGroup
	var off int64
	for _, b := range parts {
		s := p.section(off, int64(len(b)))
		off += int64(len(b))
		wg.Go(func() {
			defer s.close()
			for rest := b; len(rest) > 0; {
				n := min(len(rest), 100_003)
				if _, err := s.Write(rest[:n]); err != nil {
					t.Error(err)
					return
				}
				rest = rest[n:]
			}
			if s.written() != int64(len(b)) {
				t.Errorf("section wrote %d bytes, want %d", s.written(), len(b))
			}
			if _, err := s.Write([]byte{0}); !errors.Is(err, errSectionFull) {
				t.Errorf("writing past a section's end: %v, want errSectionFull", err)
			}
		})
	}
	wg.Wait()
	if err := p.finish(total); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("tail"); err != nil {
		t.Fatal(err)
	}
	want := append([]byte("head"), bytes.Join(parts, nil)...)
	checkFile(t, path, append(want, "tail"...))
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
		p, err := openPlaced(f, 8)
		if err != nil || p == nil {
			t.Fatalf("%s: openPlaced: %v, %v", c.name, p, err)
		}
		s := p.section(0, 8)
		if _, err := s.Write([]byte("abcdefgh")[:c.written]); err != nil {
			t.Fatal(err)
		}
		s.close()
		if err := p.finish(s.written()); err != nil {
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

// TestPlacedTruncatedUnderneath: another process cutting the file while it
// is written through a mapping is an error, not a crash.
func TestPlacedTruncatedUnderneath(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := openPlaced(f, placedWindow)
	if err != nil || p == nil {
		t.Fatalf("openPlaced: %v, %v", p, err)
	}
	s := p.section(0, placedWindow)
	defer s.close()
	if _, err := s.Write(make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.Write(make([]byte, placedWindow-4096))
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("writing into a truncated file: %v, want an error saying so", err)
	}
}
