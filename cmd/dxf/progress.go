package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cheggaaa/pb/v3"
	"github.com/cheggaaa/pb/v3/termutil"
	"github.com/mattn/go-isatty"
)

// barTemplate draws a bar the way the Python tool's tqdm bars read, so that
// what scripts and people looked for is still there: the description, the
// percentage (" 0%", " 100%") and raw byte counters (" 1048576/1048576").
const barTemplate = `{{string . "prefix"}}: {{pct . }} {{bar . "|" "#" "#" " " "|"}} {{counters . "%s/%s" "%s"}} {{rate . }}`

// redraw is how often bars on a terminal are redrawn; logLines how often a
// bar going to a file or pipe writes a line while it moves.
const (
	redraw   = 200 * time.Millisecond
	logLines = 2 * time.Second
)

// nonTerminalWidth is the width bars are drawn at when stderr is not a terminal.
const nonTerminalWidth = 100

// endKey is the bar variable holding the time a transfer finished.
type barKey int

const endKey barKey = 0

func init() {
	// pb's own percent element shows "?%" for an empty blob even once done,
	// and its speed element knows no byte units when counters are raw.
	pb.RegisterElement("pct", pb.ElementFunc(func(s *pb.State, _ ...string) string {
		switch {
		case s.Total() > 0:
			return fmt.Sprintf("%3.0f%%", float64(s.Value())*100/float64(s.Total()))
		case s.IsFinished():
			return "100%"
		}
		return "  ?%"
	}), false)
	pb.RegisterElement("rate", pb.ElementFunc(func(s *pb.State, _ ...string) string {
		end := s.Time()
		if t, ok := s.Get(endKey).(time.Time); ok {
			end = t // a finished bar keeps its final rate
		}
		secs := end.Sub(s.StartTime()).Seconds()
		if secs <= 0 {
			return "[?B/s]"
		}
		return "[" + humanBytes(float64(s.Value())/secs) + "/s]"
	}), false)
}

// humanBytes formats n bytes with a binary unit, e.g. "12.3MiB".
func humanBytes(n float64) string {
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

// progress draws one bar per blob transfer on standard error, never on
// standard output. On a terminal the bars of the transfers under way form a
// block redrawn in place, so parallel transfers each keep a line; once they
// have all finished the block is left as it is and never drawn again, so
// that it cannot overwrite what the command prints next (stdout is often
// the same terminal). Elsewhere (DXF_PROGRESS=1 into a file or pipe) each
// bar writes a whole line when it starts, every couple of seconds while it
// moves and when it ends, which reads well in logs.
//
// A nil *progress is valid and draws nothing: that is progress turned off.
type progress struct {
	w        io.Writer
	terminal bool
	width    int

	mu     sync.Mutex
	bars   []*blobBar // bars of the current block (terminal), or unfinished bars
	drawn  int        // lines of the block on screen (terminal)
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

// blobBar is the bar of one blob. A nil *blobBar ignores every call.
type blobBar struct {
	p      *progress
	bar    *pb.ProgressBar
	logged int64 // value when a line was last written (not a terminal)
}

// newProgress returns the progress display for mode "1" (on), "0" (off) or
// "auto" (on when stderr is a terminal), or nil when it is off.
func newProgress(stderr io.Writer, mode string) *progress {
	terminal := false
	if f, ok := stderr.(*os.File); ok {
		terminal = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	if mode == "0" || (mode != "1" && !terminal) {
		return nil
	}
	p := &progress{w: stderr, terminal: terminal, width: nonTerminalWidth}
	if terminal {
		if w, err := termutil.TerminalWidth(); err == nil && w > 20 {
			p.width = w - 1 // a full-width line would wrap on some terminals
		}
	}
	return p
}

// start adds a bar for a transfer of total bytes (-1 if unknown) described
// by desc.
func (p *progress) start(desc string, total int64) *blobBar {
	if p == nil {
		return nil
	}
	bar := pb.New64(total)
	bar.SetTemplateString(barTemplate)
	bar.Set("prefix", desc)
	// Static: pb does not draw by itself; this type draws every bar.
	bar.Set(pb.Static, true)
	bar.SetWidth(p.width)
	bar.Start()
	b := &blobBar{p: p, bar: bar}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.bars = append(p.bars, b)
	if p.terminal {
		p.drawBlockLocked()
	} else {
		p.drawLineLocked(b)
	}
	if p.stop == nil {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.loop()
	}
	return b
}

// set records that done bytes have been transferred.
func (b *blobBar) set(done int64) {
	if b != nil {
		b.bar.SetCurrent(done)
	}
}

// add records n more bytes transferred.
func (b *blobBar) add(n int) {
	if b != nil {
		b.bar.Add(n)
	}
}

// finish marks the transfer complete, renaming the bar to desc if not "".
func (b *blobBar) finish(desc string) {
	if b == nil {
		return
	}
	if desc != "" {
		b.bar.Set("prefix", desc)
	}
	b.bar.Set(endKey, time.Now())
	b.bar.Finish()
	p := b.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.terminal {
		p.drawBlockLocked()
	} else {
		p.drawLineLocked(b)
	}
	p.pruneLocked()
}

// pruneLocked forgets finished bars: on a terminal the whole block once
// every bar in it has finished, elsewhere each finished bar.
func (p *progress) pruneLocked() {
	if !p.terminal {
		p.bars = slices.DeleteFunc(p.bars, func(b *blobBar) bool { return b.bar.IsFinished() })
		return
	}
	for _, b := range p.bars {
		if !b.bar.IsFinished() {
			return
		}
	}
	p.bars, p.drawn = nil, 0
}

// close stops the redrawing and leaves the final state on screen. Bars of
// transfers that failed stay as they were when they failed.
func (p *progress) close() {
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
	if p.terminal && len(p.bars) > 0 {
		p.drawBlockLocked()
	}
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (p *progress) loop() {
	defer close(p.done)
	every := redraw
	if !p.terminal {
		every = logLines
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		if !p.closed && len(p.bars) > 0 {
			if p.terminal {
				p.drawBlockLocked()
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

// drawBlockLocked redraws every bar in place: up to the first line of the
// block, then each bar on its own cleared line.
func (p *progress) drawBlockLocked() {
	var s strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&s, "\x1b[%dA", p.drawn)
	}
	for _, b := range p.bars {
		s.WriteString("\r")
		s.WriteString(b.bar.String())
		s.WriteString("\x1b[K\n")
	}
	p.drawn = len(p.bars)
	_, _ = io.WriteString(p.w, s.String())
}

// drawLineLocked writes the bar's current state as one line.
func (p *progress) drawLineLocked(b *blobBar) {
	b.logged = b.bar.Current()
	_, _ = io.WriteString(p.w, strings.TrimRight(b.bar.String(), " ")+"\n")
}
