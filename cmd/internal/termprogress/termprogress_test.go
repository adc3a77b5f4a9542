package termprogress

import (
	"bytes"
	"strings"
	"testing"
)

func TestHumanUnits(t *testing.T) {
	for _, c := range []struct {
		n          int64
		size, rate string
	}{
		{0, "0 B", "0B"},
		{512, "512 B", "512B"},
		{4 << 20, "4.0 MiB", "4.0MiB"},
		{296 << 20, "296 MiB", "296.0MiB"},
	} {
		if got := HumanSize(c.n); got != c.size {
			t.Errorf("HumanSize(%d) = %q, want %q", c.n, got, c.size)
		}
		if got := HumanBytes(float64(c.n)); got != c.rate {
			t.Errorf("HumanBytes(%d) = %q, want %q", c.n, got, c.rate)
		}
	}
	if got := ShortDigest("sha256:cafe"); got != "sha256:c" {
		t.Errorf("ShortDigest = %q", got)
	}
}

func TestOffAndNil(t *testing.T) {
	var buf bytes.Buffer
	if p := New(&buf, "0"); p != nil {
		t.Fatal("mode 0 gave a display")
	}
	if p := New(&buf, "auto"); p != nil {
		t.Fatal("auto into a buffer gave a display")
	}
	// A nil display and bar take every call and draw nothing.
	var p *Progress
	p.Plan("files", 2, 10)
	p.Grow(5)
	p.Skipped(5)
	b := p.Start("f", "", 10)
	b.Set(5)
	b.SetParts(10, 5)
	b.Finish("sha256:00")
	p.Close()
	if w := p.Guard(&buf); w != &buf {
		t.Error("a nil display guarded the writer")
	}
	if buf.Len() != 0 {
		t.Errorf("drew %q", buf.String())
	}
}

// TestLines checks the Python tool's line format into a file or pipe.
func TestLines(t *testing.T) {
	var buf bytes.Buffer
	p := New(&buf, "1")
	p.Plan("files", 1, 1000)
	b := p.Start("data.bin", "", 1000)
	b.Set(1000)
	b.Finish("sha256:c0ffee")
	p.Close()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a line at the start and one at the end, got %q", buf.String())
	}
	if !strings.HasPrefix(lines[0], "data.bin:   0% |") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "sha256:c: 100% |") || !strings.Contains(lines[1], " 1000/1000 ") {
		t.Errorf("last line %q", lines[1])
	}
	if IsTerminal(&buf) {
		t.Error("a buffer is a terminal")
	}
}

func TestVisibleActive(t *testing.T) {
	for rows, want := range map[int]int{1: 1, 5: 2, 24: maxActiveBars, 100: maxActiveBars} {
		if got := visibleActive(rows); got != want {
			t.Errorf("visibleActive(%d) = %d, want %d", rows, got, want)
		}
	}
}
