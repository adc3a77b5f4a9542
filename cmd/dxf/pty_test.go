package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyRun is one run of dxf with its standard input and error on a
// pseudo-terminal (standard output goes to stdout, if not nil, else to the
// terminal too). resize, if set, is called once the first output has
// arrived, with the terminal to resize.
type ptyRun struct {
	out  []byte // everything written to the terminal
	code int
	// resizedAt is the length of out when the window was resized.
	resizedAt int
}

func (d *dxf) runPTY(rows, cols int, stdout *os.File, resize *pty.Winsize, args ...string) ptyRun {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dxfBin, args...)
	cmd.Env = append(d.environ(), "TERM=xterm")
	cmd.Dir = d.dir
	if stdout != nil {
		cmd.Stdout = stdout
	}
	// A session of its own with the terminal as its controlling one, as a
	// shell in a terminal window gives its commands.
	f, err := pty.StartWithAttrs(cmd, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)},
		&syscall.SysProcAttr{Setsid: true, Setctty: true})
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	var r ptyRun
	r.resizedAt = -1
	var mu sync.Mutex
	var buf bytes.Buffer
	done := make(chan struct{})
	first := make(chan struct{}, 1)
	go func() {
		defer close(done)
		b := make([]byte, 32<<10)
		for {
			n, err := f.Read(b)
			mu.Lock()
			buf.Write(b[:n])
			mu.Unlock()
			if n > 0 {
				select {
				case first <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return // EIO once the process has gone
			}
		}
	}()
	resized := make(chan struct{})
	go func() {
		defer close(resized)
		if resize == nil {
			return
		}
		select {
		case <-first:
		case <-done:
			return
		}
		// The window is resized while the terminal has shown everything
		// written so far, as a terminal emulator reading its output
		// promptly would have: the command is stopped, its output read to
		// the end, the window resized, and the command continued. (On a
		// loaded machine the reader could otherwise lag behind, and output
		// drawn for the old width be taken as drawn after the resize.)
		_ = cmd.Process.Signal(syscall.SIGSTOP)
		time.Sleep(time.Second)
		mu.Lock()
		r.resizedAt = buf.Len()
		if err := pty.Setsize(f, resize); err != nil {
			d.t.Error(err)
		}
		mu.Unlock()
		_ = cmd.Process.Signal(syscall.SIGCONT)
	}()
	err = cmd.Wait()
	<-resized
	// The terminal's buffer is drained before the process is waited for;
	// the reader returns once it is empty.
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		d.t.Fatal("the terminal's output did not end")
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		d.t.Fatal(err)
	}
	r.out = buf.Bytes()
	return r
}

// screen is a small terminal emulator: enough of one to count the lines a
// command's output leaves in a terminal (screen and scrollback), following
// the cursor movements and erasures the progress display uses, with
// automatic wrapping at the window's width and, when the window is
// resized, lines rewrapped to the new width as tmux, VTE, Konsole, iTerm2
// and kitty do.
type screen struct {
	rows, cols int
	lines      [][]rune
	wrapped    []bool // line i continues on line i+1 (automatic wrap)
	row, col   int
}

func newScreen(rows, cols int) *screen {
	return &screen{rows: rows, cols: cols, lines: [][]rune{nil}, wrapped: []bool{false}}
}

// resize rewraps the lines to a new width, keeping the cursor on the
// character it was on.
func (s *screen) resize(rows, cols int) {
	type logical struct {
		text   []rune
		cursor int // offset of the cursor, -1 if not on this line
	}
	var ls []logical
	cur := logical{cursor: -1}
	for i, l := range s.lines {
		if i == s.row {
			cur.cursor = len(cur.text) + s.col
		}
		text := l
		if s.wrapped[i] {
			for len(text) < s.cols {
				text = append(text, ' ')
			}
		}
		cur.text = append(cur.text, text...)
		if !s.wrapped[i] {
			ls = append(ls, cur)
			cur = logical{cursor: -1}
		}
	}
	s.rows, s.cols = rows, cols
	s.lines, s.wrapped = nil, nil
	for _, l := range ls {
		first := len(s.lines)
		for len(l.text) > cols {
			s.lines = append(s.lines, l.text[:cols])
			s.wrapped = append(s.wrapped, true)
			l.text = l.text[cols:]
		}
		s.lines = append(s.lines, l.text)
		s.wrapped = append(s.wrapped, false)
		if l.cursor >= 0 {
			s.row, s.col = first+l.cursor/cols, l.cursor%cols
			for s.row >= len(s.lines) {
				s.lines = append(s.lines, nil)
				s.wrapped = append(s.wrapped, false)
			}
		}
	}
}

// top is the first line on screen: the cursor cannot move above it.
func (s *screen) top() int { return max(0, len(s.lines)-s.rows) }

func (s *screen) newline() {
	s.row++
	if s.row == len(s.lines) {
		s.lines = append(s.lines, nil)
		s.wrapped = append(s.wrapped, false)
	}
}

func (s *screen) write(b []byte) {
	rs := []rune(string(b))
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\n':
			s.newline()
		case c == '\r':
			s.col = 0
		case c == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] == ';' || rs[j] == '?') {
				j++
			}
			if j == len(rs) {
				return
			}
			n := 1
			if j > i+2 {
				_, _ = fmt.Sscan(string(rs[i+2:j]), &n)
			}
			switch rs[j] {
			case 'A':
				s.row = max(s.top(), s.row-n)
			case 'K':
				if s.col < len(s.lines[s.row]) {
					s.lines[s.row] = s.lines[s.row][:s.col]
				}
				s.wrapped[s.row] = false
			case 'J':
				if s.col < len(s.lines[s.row]) {
					s.lines[s.row] = s.lines[s.row][:s.col]
				}
				s.wrapped[s.row] = false
				for k := s.row + 1; k < len(s.lines); k++ {
					s.lines[k], s.wrapped[k] = nil, false
				}
			}
			i = j
		case c < ' ':
		default:
			if s.col >= s.cols {
				s.wrapped[s.row] = true
				s.newline()
				s.col = 0
			}
			l := s.lines[s.row]
			for len(l) <= s.col {
				l = append(l, ' ')
			}
			l[s.col] = c
			s.lines[s.row] = l
			s.col++
		}
	}
}

// used is the number of lines up to the last one with text in it.
func (s *screen) used() int {
	n := 0
	for i, l := range s.lines {
		if strings.TrimSpace(string(l)) != "" {
			n = i + 1
		}
	}
	return n
}

func (s *screen) text() string {
	var b strings.Builder
	for _, l := range s.lines[:s.used()] {
		b.WriteString(strings.TrimRight(string(l), " ") + "\n")
	}
	return b.String()
}

// render plays the output of r on a terminal of rows×cols, resized to
// resize (if not nil) where the run resized it.
func render(r ptyRun, rows, cols int, resize *pty.Winsize) *screen {
	s := newScreen(rows, cols)
	if resize != nil && r.resizedAt >= 0 {
		s.write(r.out[:r.resizedAt])
		s.resize(int(resize.Rows), int(resize.Cols))
		s.write(r.out[r.resizedAt:])
	} else {
		s.write(r.out)
	}
	return s
}

// TestProgressTerminal pushes and pulls 64 files with the progress on a
// pseudo-terminal, at two window sizes and with a resize in the middle:
// the bars must stay a small block (the active few and an overall bar with
// an ETA), in human units, never wider than the window.
func TestProgressTerminal(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("ptyprogress")
	const nfiles = 64
	files := make([]string, nfiles)
	for i := range files {
		files[i], _ = d.file(fmt.Sprintf("day%02d.dat", i), randomBytes(t, 512<<10+i*4096))
	}

	for _, tc := range []struct {
		name       string
		rows, cols int
		resize     *pty.Winsize
	}{
		{"120x30", 30, 120, nil},
		{"60x12", 12, 60, nil},
		{"120x30 narrowed to 50x20", 30, 120, &pty.Winsize{Rows: 20, Cols: 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alias := "@many" + strings.NewReplacer(" ", "", "x", "").Replace(tc.name)
			digests, err := os.Create(filepath.Join(d.dir, "digests.txt"))
			if err != nil {
				t.Fatal(err)
			}
			defer digests.Close()
			// Each run pushes anew: no blob is skipped as already there.
			fresh := d.with("DXF_DIGEST_CACHE", "0")
			name := repo + "/" + strings.ReplaceAll(tc.name, " ", "")
			args := append(append([]string{"push-blob", "--jobs", "8", name}, files...), alias)
			push := fresh.runPTY(tc.rows, tc.cols, digests, tc.resize, args...)
			checkTerminal(t, "push-blob", push, tc.rows, tc.cols, tc.resize, nfiles, "files")

			out, err := os.Create(filepath.Join(d.dir, "pulled.dat"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			pull := d.runPTY(tc.rows, tc.cols, out, tc.resize, "pull-blob", name, alias)
			checkTerminal(t, "pull-blob", pull, tc.rows, tc.cols, tc.resize, nfiles, "blobs")
			// Pull bars are labelled with the alias and the blob's place in it.
			if !strings.Contains(string(pull.out), alias+" ") || !strings.Contains(string(pull.out), "/64") {
				t.Errorf("pull-blob bars lack the alias label %q", alias+" N/64")
			}
			if fi, err := out.Stat(); err != nil || fi.Size() < nfiles*512<<10 {
				t.Errorf("pull-blob wrote %v bytes (%v)", fi.Size(), err)
			}
		})
	}
}

func checkTerminal(t *testing.T, what string, r ptyRun, rows, cols int, resize *pty.Winsize, n int, unit string) {
	t.Helper()
	s := render(r, rows, cols, resize)
	if r.code != 0 {
		t.Fatalf("%s: exit %d; terminal:\n%s", what, r.code, s.text())
	}
	limit := 40
	if used := s.used(); used > limit || used == 0 {
		t.Errorf("%s of %d files left %d lines in a %dx%d terminal, want 1 to %d:\n%s", what, n, used, cols, rows, limit, s.text())
	}
	final := s.text()
	t.Logf("%s: %d lines, %d bytes written; screen:\n%s", what, s.used(), len(r.out), final)
	total := fmt.Sprintf("%d/%d %s", n, n, unit)
	if !strings.Contains(final, total) {
		t.Errorf("%s: the final overall bar lacks %q:\n%s", what, total, final)
	}
	raw := string(r.out)
	if !strings.Contains(raw, "ETA") || !strings.Contains(raw, "MiB") {
		t.Errorf("%s: the bars never showed an ETA in MiB:\n%q", what, raw)
	}
	if strings.Contains(raw, "524288/") {
		t.Errorf("%s: raw byte counts on a terminal:\n%q", what, raw)
	}
	// Every line drawn fits the window: all of them, or after a resize
	// those of the last frame (drawn at the new size).
	width, part := cols, raw
	if resize != nil && r.resizedAt >= 0 {
		width = int(resize.Cols)
		frames := strings.Split(strings.TrimRight(raw, "\r\n"), "\x1b[J")
		part = frames[len(frames)-2]
	}
	for _, line := range strings.Split(stripCSI(part), "\n") {
		line = line[strings.LastIndex(line, "\r")+1:]
		if c := len([]rune(line)); c >= width {
			t.Errorf("%s: a line of %d cells in a window %d wide: %q", what, c, width, line)
		}
	}
}

// stripCSI removes the escape sequences the progress display writes.
func stripCSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestPullToTerminal checks that pull-blob does not write blob data to a
// terminal unless -o - says to, while the JSON of a multi-platform alias
// and output into a pipe are unchanged.
func TestPullToTerminal(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("ttyout")
	data := "binary\x1b[2J\x07data"
	f, h := d.file("blob", []byte(data))
	d.ok("push-blob", repo, f, "@b")

	r := d.runPTY(24, 80, nil, nil, "pull-blob", repo, "@b")
	s := render(r, 24, 80, nil).text()
	if r.code != exitFailure || !strings.Contains(s, "not writing blob data to the terminal") || !strings.Contains(s, "-o -") || strings.Contains(string(r.out), "binary") {
		t.Errorf("pull-blob to a terminal: exit %d, terminal:\n%s", r.code, s)
	}
	for _, args := range [][]string{{"pull-blob", "-o", "-", repo, h}, {"pull-blob", "--output=-", repo, "@b"}} {
		r = d.runPTY(24, 80, nil, nil, args...)
		if r.code != 0 || !strings.Contains(string(r.out), "binary") {
			t.Errorf("dxf %s on a terminal: exit %d, output %q", strings.Join(args, " "), r.code, r.out)
		}
	}
	// Not a terminal: as before.
	if got := d.ok("pull-blob", repo, "@b"); got != data {
		t.Errorf("pull-blob into a pipe printed %q", got)
	}
}
