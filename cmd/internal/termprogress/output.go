package termprogress

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// output is a command's standard output (or error) when it is the
// terminal the progress block is drawn on. What the command prints must
// never be drawn over: before each write the block is finished in place
// (if no transfer is under way and all are done) or erased (if some still
// are), and the block is not moved over again; a later redraw starts below
// what was printed. So a printed line stays where it is, whole, at any
// width.
type output struct {
	p *Progress
	w io.Writer
}

// Guard returns w, the command's standard output or error, to be written
// through the progress display when both go to a terminal; else w itself.
func (p *Progress) Guard(w io.Writer) io.Writer {
	if p == nil || !p.terminal || !IsTerminal(w) {
		return w
	}
	return &output{p: p, w: w}
}

// Write writes b below the progress block, which it first finishes or
// erases.
func (o *output) Write(b []byte) (int, error) {
	p := o.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(b) == 0 {
		return o.w.Write(b)
	}
	p.yieldLocked()
	n, err := o.w.Write(b)
	// A line left unfinished would be drawn over by the block's "\r": no
	// drawing until a write ends the line.
	if n > 0 {
		p.partial = b[n-1] != '\n'
	}
	return n, err
}

// file is the terminal written to (see IsTerminal).
func (o *output) file() *os.File {
	f, _ := o.w.(*os.File)
	return f
}

// yieldLocked makes room for a line printed by the command: with no
// transfer under way and every planned one done, the block is drawn in its
// final state and left there (settled); otherwise it is erased. Either way
// nothing on screen is the block any more, so no redraw moves over what is
// printed next.
func (p *Progress) yieldLocked() {
	if !p.terminal || len(p.drawn) == 0 || p.partial {
		return
	}
	if len(p.bars) == 0 && p.items.Load() >= int64(p.planned) {
		p.drawBlockLocked(true)
		p.settled = true
	} else {
		_, cols := p.size()
		var s bytes.Buffer
		s.WriteString("\r")
		if up := p.rowsDrawn(cols); up > 0 {
			fmt.Fprintf(&s, "\x1b[%dA", up)
		}
		s.WriteString("\x1b[J")
		_, _ = p.w.Write(s.Bytes())
	}
	p.drawn = p.drawn[:0]
}

// rowsDrawn is how many rows of a window cols wide the block on screen
// takes: lines drawn at a greater width than the window now has take
// several rows each if the terminal rewrapped them.
func (p *Progress) rowsDrawn(cols int) int {
	up := 0
	for _, w := range p.drawn {
		up += max(1, (w+cols-1)/cols)
	}
	return up
}
