// Package termprogress draws the progress of blob transfers on standard
// error: on a terminal a block of pb bars redrawn in place at the bottom of
// the screen (which never draws over what the command prints, see
// [Progress.Guard]); into a file or pipe one line per bar now and then, in
// the Python tool's format.
package termprogress

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cheggaaa/pb/v3"
	"github.com/mattn/go-isatty"
)

// lineTemplate draws a bar going to a file or pipe the way the Python
// tool's tqdm bars read, so that what scripts looked for is still there:
// the description ("sha256:c", a file name), the percentage (" 0%",
// " 100%") and raw byte counters (" 1048576/1048576").
//
// A push that finds data already there (a --split push's chunks) ends the
// line with what was sent and what was found: "4.0 MiB sent, 296 MiB
// already there".
const lineTemplate = `{{string . "prefix"}}: {{pct . }} {{bar . "|" "#" "#" " " "|"}} {{counters . "%s/%s" "%s"}} {{rate . }}{{note . " " ""}}`

// Templates of the bars on a terminal, for people: the file name and short
// digest, human units, rate and time left. The overall bar of a command
// moving several blobs has the files or blobs done, bytes, rate, elapsed
// time and time left. A window narrower than wideColumns gets the compact
// forms, without the bar itself or the rate. Bars of pushes that find data
// already there (--split) say what was sent and what was found (the note);
// the compact forms then show that instead of the counters.
const (
	termTemplate             = `{{string . "prefix"}} {{pct . }} {{bar . "[" "=" ">" " " "]"}} {{counters . "%s/%s" "%s"}} {{note . "(" ") "}}{{rate . }} {{eta . }}`
	termCompactTemplate      = `{{string . "prefix"}} {{pct . }} {{counters . "%s/%s" "%s"}} {{eta . }}`
	termNoteCompactTemplate  = `{{string . "prefix"}} {{pct . }} {{note . "" " "}}{{eta . }}`
	totalTemplate            = `total {{string . "items"}} {{pct . }} {{bar . "[" "=" ">" " " "]"}} {{counters . "%s/%s" "%s"}} {{note . "(" ") "}}{{rate . }} {{etime . "%s"}} {{eta . }}`
	totalCompactTemplate     = `{{string . "items"}} {{pct . }} {{counters . "%s/%s" "%s"}} {{eta . }}`
	totalNoteCompactTemplate = `{{string . "items"}} {{pct . }} {{note . "" " "}}{{eta . }}`
	wideColumns              = 80
)

// redraw is how often bars on a terminal are redrawn; logLines how often a
// bar going to a file or pipe writes a line while it moves.
const (
	redraw   = 200 * time.Millisecond
	logLines = 2 * time.Second
)

// nonTerminalWidth is the width bars are drawn at when stderr is not a
// terminal; defaultRows and defaultCols the terminal size assumed when it
// cannot be read.
const (
	nonTerminalWidth = 100
	defaultRows      = 24
	defaultCols      = 80
)

// maxActiveBars caps the bars of transfers under way shown at once on a
// terminal; fewer are shown on a short one (see visibleActive).
const maxActiveBars = 8

// endKey is the bar variable holding the time a transfer finished;
// noteKey the bar's note on bytes sent and found already there ("" for
// none).
type barKey int

const (
	endKey barKey = iota
	noteKey
)

func init() {
	// pb's own percent element shows "?%" for an empty blob even once done.
	pb.RegisterElement("pct", pb.ElementFunc(func(s *pb.State, _ ...string) string {
		switch {
		case s.Total() > 0:
			return fmt.Sprintf("%3.0f%%", float64(s.Value())*100/float64(s.Total()))
		case s.IsFinished():
			return "100%"
		}
		return "  ?%"
	}), false)
	// The average rate since the start; a finished bar keeps its final one.
	pb.RegisterElement("rate", pb.ElementFunc(func(s *pb.State, _ ...string) string {
		end := s.Time()
		if t, ok := s.Get(endKey).(time.Time); ok {
			end = t
		}
		secs := end.Sub(s.StartTime()).Seconds()
		if secs <= 0 {
			return "[?B/s]"
		}
		return "[" + HumanBytes(float64(s.Value())/secs) + "/s]"
	}), false)
	pb.RegisterElement("eta", pb.ElementFunc(func(s *pb.State, _ ...string) string { return eta(s) }), false)
	// The note, between the two strings given (before, after), or nothing.
	pb.RegisterElement("note", pb.ElementFunc(func(s *pb.State, args ...string) string {
		note, _ := s.Get(noteKey).(string)
		if note == "" || len(args) < 2 {
			return ""
		}
		return args[0] + note + args[1]
	}), false)
}

// sentNote says how many bytes of a push were sent and how many the
// registry already had: "4.0 MiB sent, 296 MiB already there".
func sentNote(sent, present int64) string {
	return HumanSize(sent) + " sent, " + HumanSize(present) + " already there"
}

// HumanSize formats n bytes with a binary unit and about three significant
// digits: "512 B", "4.0 MiB", "296 MiB".
func HumanSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%d B", n)
	case v < 10:
		return fmt.Sprintf("%.1f %s", v, units[i])
	}
	return fmt.Sprintf("%.0f %s", v, units[i])
}

// eta is the time left at the average rate so far: "ETA 12s", "ETA ?"
// before there is a rate, "done" once finished.
func eta(s *pb.State) string {
	if s.IsFinished() {
		return "done"
	}
	secs := s.Time().Sub(s.StartTime()).Seconds()
	if s.Value() <= 0 || secs <= 0 || s.Total() <= 0 {
		return "ETA ?"
	}
	left := float64(s.Total()-s.Value()) / (float64(s.Value()) / secs)
	return "ETA " + (time.Duration(left) * time.Second).Round(time.Second).String()
}

// HumanBytes formats n bytes with a binary unit, e.g. "12.3MiB".
func HumanBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f%s", n, units[i])
	}
	return fmt.Sprintf("%.1f%s", n, units[i])
}

// Progress draws the progress of blob transfers on standard error, never on
// standard output.
//
// On a terminal it keeps one block at the bottom of the screen, redrawn in
// place: the bars of a few transfers under way (never more than fit the
// screen) and, when the command moves several blobs, one overall bar with
// the files or blobs done, bytes, rate, elapsed time and ETA. Finished
// transfers leave the block; when the command ends only the overall bar (or
// the single transfer's bar) stays. The terminal size is read at each
// redraw, and at once when the window is resized (SIGWINCH), so the block
// follows the window. Bars are pb bars (templates and elements); the block
// itself is drawn here because pb's pool shows a whole screen of bars and
// switches the terminal's echo off.
//
// Elsewhere (DXF_PROGRESS=1 into a file or pipe) each bar writes a whole
// line, in the Python tool's format, when it starts, every couple of
// seconds while it moves and when it ends, which reads well in logs.
//
// A nil *Progress is valid and draws nothing: that is progress turned off.
type Progress struct {
	w        io.Writer
	terminal bool
	size     func() (rows, cols int) // terminal size

	// Totals for the overall bar, updated without the lock.
	bytes   atomic.Int64 // bytes transferred (or skipped as present)
	present atomic.Int64 // of those, bytes the registry already had
	total   atomic.Int64 // bytes to transfer, as far as known
	items   atomic.Int64 // files or blobs done

	mu      sync.Mutex
	unit    string // "files" or "blobs"; "" before plan
	planned int    // files or blobs the command moves
	overall *pb.ProgressBar
	bars    []*Bar // unfinished bars, in start order
	last    *Bar   // the bar that finished last
	drawn   []int  // cell widths of the lines of the block on screen (terminal)
	// settled: the block was left on screen in its final state for a line
	// the command printed (see output), and nothing moved since.
	settled bool
	// partial: the command printed part of a line; the block is not drawn
	// (its "\r" would draw over it) until the line is ended.
	partial bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// Bar is the bar of one blob. A nil *Bar ignores every call.
type Bar struct {
	p      *Progress
	bar    *pb.ProgressBar
	name   string       // file name, "" if none
	digest string       // "" while not known (guarded by p.mu)
	tmpl   string       // template in use (terminal)
	seen   atomic.Int64 // value last added to the overall bytes
	// noted: the bar says what was sent and what was found already there
	// (see setParts); present is the value last added to the overall.
	noted   atomic.Bool
	present atomic.Int64
	logged  int64 // value when a line was last written (not a terminal)
}

// New returns the progress display for mode "1" (on), "0" (off) or
// "auto" (on when stderr is a terminal), or nil when it is off.
func New(stderr io.Writer, mode string) *Progress {
	terminal := IsTerminal(stderr)
	if mode == "0" || (mode != "1" && !terminal) {
		return nil
	}
	p := &Progress{w: stderr, terminal: terminal, size: terminalSize}
	p.total.Store(-1)
	return p
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	if o, ok := w.(*output); ok {
		w = o.file()
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// terminalSize is pb's reading of the terminal's size, with defaults when
// it cannot be read.
func terminalSize() (rows, cols int) {
	rows, cols, err := termSize()
	if err != nil || cols <= 0 || rows <= 0 {
		return defaultRows, defaultCols
	}
	return rows, cols
}

// Plan says how many files or blobs (unit) the command is about to move and
// how many bytes they hold as far as known (see grow): with more than one
// an overall bar is drawn on a terminal.
func (p *Progress) Plan(unit string, n int, bytes int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unit, p.planned = unit, n
	p.total.Store(bytes)
}

// Grow adds bytes learnt late (a blob's size from its GET) to the total.
func (p *Progress) Grow(bytes int64) {
	if p != nil && bytes > 0 {
		p.total.Add(bytes)
	}
}

// Skipped counts one file or blob done without a transfer (the registry
// had it), of the given size.
func (p *Progress) Skipped(size int64) {
	if p == nil {
		return
	}
	p.items.Add(1)
	p.bytes.Add(max(size, 0))
	p.present.Add(max(size, 0))
}

// Start adds a bar for a transfer of total bytes (-1 if unknown) of the
// named file ("" for none) with the given digest ("" while not known).
func (p *Progress) Start(name, digest string, total int64) *Bar {
	if p == nil {
		return nil
	}
	bar := pb.New64(total)
	b := &Bar{p: p, bar: bar, name: name, digest: digest}
	if p.terminal {
		// Template and label are set as drawn, for the window's width.
		bar.Set(pb.Bytes, true)
	} else {
		bar.SetTemplateString(lineTemplate)
		bar.SetWidth(nonTerminalWidth)
		bar.Set("prefix", b.label(digest, nonTerminalWidth))
	}
	// Static: pb does not draw by itself; this type draws every bar.
	bar.Set(pb.Static, true)
	bar.Start()

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.bars = append(p.bars, b)
	p.settled = false
	if p.terminal {
		p.drawBlockLocked(false)
	} else {
		p.drawLineLocked(b)
	}
	if p.stop == nil {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.loop()
	}
	return b
}

// label is the bar's description. Into a file or pipe it is the Python
// tool's: the first eight characters of the digest ("sha256:c"), or the
// file name while the digest is not known. On a terminal it is the file
// name followed by the short digest (12 hex digits) once known, or in a
// narrow window one of them, cut to a third of the width.
func (b *Bar) label(digest string, width int) string {
	if !b.p.terminal {
		if digest != "" {
			return ShortDigest(digest)
		}
		return b.name
	}
	n := 12
	if width < wideColumns {
		n = 8
	}
	if len(digest) > len("sha256:")+n {
		digest = digest[:len("sha256:")+n]
	}
	l := strings.TrimSpace(b.name + " " + digest)
	if width < wideColumns {
		l = cmp.Or(b.name, digest)
	}
	if max := max(8, width/3); pb.CellCount(l) > max {
		l = pb.StripString(l, max-1) + "…"
	}
	return l
}

// style sets the bar's template and label for a window width wide.
func (b *Bar) style(width int) {
	tmpl := termTemplate
	switch {
	case width < wideColumns && b.noted.Load():
		tmpl = termNoteCompactTemplate
	case width < wideColumns:
		tmpl = termCompactTemplate
	}
	if tmpl != b.tmpl {
		b.bar.SetTemplateString(tmpl)
		b.tmpl = tmpl
	}
	b.bar.Set("prefix", b.label(b.digest, width))
}

// Set records that done bytes have been transferred.
func (b *Bar) Set(done int64) {
	if b != nil {
		b.bar.SetCurrent(done)
		b.p.bytes.Add(done - b.seen.Swap(done))
	}
}

// SetParts records that done bytes have been pushed, present of which the
// registry already had (not sent): the bar then says how many bytes were
// sent and how many found there.
func (b *Bar) SetParts(done, present int64) {
	if b == nil {
		return
	}
	b.noted.Store(true)
	b.bar.Set(noteKey, sentNote(done-present, present))
	b.p.present.Add(present - b.present.Swap(present))
	b.Set(done)
}

// Finish marks the transfer complete, naming its digest if not "".
func (b *Bar) Finish(digest string) {
	if b == nil {
		return
	}
	if digest != "" && !b.p.terminal {
		b.bar.Set("prefix", b.label(digest, nonTerminalWidth))
	}
	b.bar.Set(endKey, time.Now())
	b.bar.Finish()
	p := b.p
	p.items.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if digest != "" {
		b.digest = digest
	}
	if p.closed {
		return
	}
	p.bars = slices.DeleteFunc(p.bars, func(x *Bar) bool { return x == b })
	p.last = b
	if p.terminal {
		p.drawBlockLocked(false)
	} else {
		p.drawLineLocked(b)
	}
}

// Close stops the redrawing and leaves the final state on screen: the
// overall bar, or the last bar; bars of transfers that failed stay as they
// were when they failed.
func (p *Progress) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	stop, done := p.stop, p.done
	if p.terminal && stop != nil && !p.settledLocked() {
		p.drawBlockLocked(true)
	}
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// settledLocked reports whether the block on screen was settled in its
// final state for a printed line and no transfer has started since: it is
// not drawn again.
func (p *Progress) settledLocked() bool {
	return p.settled && len(p.bars) == 0
}

func (p *Progress) loop() {
	defer close(p.done)
	every := redraw
	if !p.terminal {
		every = logLines
	}
	t := time.NewTicker(every)
	defer t.Stop()
	// A resized window is redrawn at once, at its new size.
	winch := make(chan os.Signal, 1)
	if p.terminal && sigWinch != nil {
		signal.Notify(winch, sigWinch)
		defer signal.Stop(winch)
	}
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		case <-winch:
		}
		p.mu.Lock()
		if !p.closed && !p.settledLocked() {
			if p.terminal {
				p.drawBlockLocked(false)
			} else {
				for _, b := range p.bars {
					if b.bar.Current() != b.logged {
						p.drawLineLocked(b)
					}
				}
			}
		}
		p.mu.Unlock()
	}
}

// visibleActive is how many bars of transfers under way a terminal of the
// given height shows, besides the overall bar: at most maxActiveBars, and
// at most half the screen.
func visibleActive(rows int) int {
	return max(1, min(maxActiveBars, (rows-1)/2))
}

// overallLocked updates and returns the overall bar, or nil when the
// command moves a single blob.
func (p *Progress) overallLocked() *pb.ProgressBar {
	if p.planned < 2 {
		return nil
	}
	if p.overall == nil {
		p.overall = pb.New64(0)
		p.overall.Set(pb.Bytes, true)
		p.overall.Set(pb.Static, true)
		p.overall.Start()
	}
	o := p.overall
	done, total := p.bytes.Load(), p.total.Load()
	o.SetTotal(max(total, done))
	o.SetCurrent(done)
	n := p.items.Load()
	o.Set("items", fmt.Sprintf("%d/%d %s", n, p.planned, p.unit))
	if present := p.present.Load(); present > 0 {
		o.Set(noteKey, sentNote(done-present, present))
	}
	if n >= int64(p.planned) && !o.IsFinished() {
		o.Set(endKey, time.Now())
		o.Finish()
	}
	return o
}

// drawBlockLocked redraws the block in place: back up to its first line,
// then each line cleared and rewritten, then the rest of the screen
// cleared (the block may have shrunk). final draws what stays once the
// command ends. Nothing is drawn while the command's last line printed is
// unfinished.
func (p *Progress) drawBlockLocked(final bool) {
	if p.partial {
		return
	}
	rows, cols := p.size()
	width := max(cols-1, 10) // a full-width line would wrap on some terminals

	var bars []*pb.ProgressBar
	active := p.bars
	if n := visibleActive(rows); len(active) > n {
		active = active[:n]
	}
	for _, b := range active {
		b.style(width)
		bars = append(bars, b.bar)
	}
	if o := p.overallLocked(); o != nil {
		switch {
		case width < wideColumns && p.present.Load() > 0:
			o.SetTemplateString(totalNoteCompactTemplate)
		case width < wideColumns:
			o.SetTemplateString(totalCompactTemplate)
		default:
			o.SetTemplateString(totalTemplate)
		}
		if final && len(p.bars) == 0 {
			bars = nil
		}
		bars = append(bars, o)
	} else if final && len(bars) == 0 && p.last != nil {
		p.last.style(width)
		bars = append(bars, p.last.bar)
	}

	var s strings.Builder
	s.WriteString("\r")
	if up := p.rowsDrawn(cols); up > 0 {
		fmt.Fprintf(&s, "\x1b[%dA", up)
	}
	p.drawn = p.drawn[:0]
	for _, bar := range bars {
		bar.SetWidth(width)
		line := bar.String()
		line = pb.StripString(line, width)
		s.WriteString(line)
		s.WriteString("\x1b[K\n")
		p.drawn = append(p.drawn, pb.CellCount(line))
	}
	s.WriteString("\x1b[J")
	_, _ = io.WriteString(p.w, s.String())
}

// drawLineLocked writes the bar's current state as one line.
func (p *Progress) drawLineLocked(b *Bar) {
	b.logged = b.bar.Current()
	_, _ = io.WriteString(p.w, strings.TrimRight(b.bar.String(), " ")+"\n")
}

// ShortDigest is the Python tool's progress bar description: the first
// eight characters of the digest ("sha256:c").
func ShortDigest(d string) string {
	return d[:min(8, len(d))]
}
