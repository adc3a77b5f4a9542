package termprogress

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a terminal stand-in that the display and the command both
// write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPrintedLineStays checks, on a terminal of fixed size, that a line the
// command prints while bars are drawn comes after the block is erased, and
// that no later redraw moves the cursor up over it.
func TestPrintedLineStays(t *testing.T) {
	term := &syncBuffer{}
	p := &Progress{w: term, terminal: true, size: func() (int, int) { return 24, 100 }}
	p.total.Store(-1)
	out := &output{p: p, w: term}

	p.Plan("files", 2, 200)
	a := p.Start("a.bin", "", 100)
	b := p.Start("b.bin", "", 100)
	a.Set(100)
	a.Finish("sha256:aaaa")
	if _, err := fmt.Fprintln(out, "sha256:aaaa"); err != nil {
		t.Fatal(err)
	}
	b.Set(50)
	b.Finish("sha256:bbbb")
	p.Close()

	s := term.String()
	i := strings.Index(s, "sha256:aaaa\n")
	if i < 0 {
		t.Fatalf("the printed line is missing:\n%q", s)
	}
	if before := s[:i]; !strings.HasSuffix(before, "\x1b[J") {
		t.Errorf("the block was not erased before the printed line: %q", before[max(0, len(before)-40):])
	}
	after := s[i+len("sha256:aaaa\n"):]
	if !strings.Contains(after, "total 2/2 files") {
		t.Errorf("no final overall bar after the printed line: %q", after)
	}
	// A redraw moves up over the rows it drew itself: the first one after
	// the printed line drew none, so it does not move up at all.
	if moveUp.MatchString(after) {
		t.Errorf("the first redraw after the printed line moves up over it: %q", after)
	}
}

// moveUp matches output starting with a move of the cursor up.
var moveUp = regexp.MustCompile(`^\r\x1b\[[0-9]+A`)

// TestPartialLine checks that nothing is drawn while the command's line is
// unfinished.
func TestPartialLine(t *testing.T) {
	term := &syncBuffer{}
	p := &Progress{w: term, terminal: true, size: func() (int, int) { return 24, 100 }}
	p.total.Store(-1)
	out := &output{p: p, w: term}
	p.Plan("files", 1, 10)
	bar := p.Start("f", "", 10)
	if _, err := out.Write([]byte("half a line")); err != nil {
		t.Fatal(err)
	}
	n := len(term.String())
	bar.Set(10)
	bar.Finish("sha256:ffff")
	if got := term.String()[n:]; got != "" {
		t.Errorf("drawn while a line was unfinished: %q", got)
	}
	if _, err := out.Write([]byte(" ends\n")); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if !strings.Contains(term.String(), "half a line ends\n") {
		t.Errorf("the line was broken: %q", term.String())
	}
}
