// Command benchchart draws the bar chart of docs/benchmarks.svg from the
// results hack/bench.sh collects.
//
// Usage:
//
//	go run ./hack/benchchart -in chart.tsv -out docs/benchmarks.svg
//
// The input is tab-separated, one bar per line, without a header:
//
//	panel  label  seconds  role  note  target-seconds
//
// Bars are grouped into panels in the order their panel first appears; each
// panel has its own time scale, since a tag listing and a 1 GiB upload
// differ a hundredfold. role is one of baseline, dxf, peer or reported (a
// figure quoted from elsewhere, not measured) and picks the colour. note is
// printed after the time (e.g. "1.04×"). A target-seconds greater than zero
// draws a dashed target line across the panel. Lines starting with # are
// ignored. The output is plain SVG text with no external references.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"strconv"
	"strings"
)

type bar struct {
	label   string
	seconds float64
	role    string
	note    string
}

type panel struct {
	title  string
	bars   []bar
	target float64
}

func main() {
	in := flag.String("in", "", "tab-separated results `file` (default standard input)")
	out := flag.String("out", "", "SVG `file` to write (default standard output)")
	title := flag.String("title", "dxf benchmarks: median wall-clock time (shorter is better)", "chart title")
	flag.Parse()
	if err := run(*in, *out, *title); err != nil {
		fmt.Fprintf(os.Stderr, "benchchart: %v\n", err)
		os.Exit(1)
	}
}

func run(in, out, title string) error {
	var r io.Reader = os.Stdin
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	panels, err := parse(r)
	if err != nil {
		return err
	}
	if len(panels) == 0 {
		return errors.New("no data")
	}
	svg := render(title, panels)
	if out == "" {
		_, err = io.WriteString(os.Stdout, svg)
		return err
	}
	return os.WriteFile(out, []byte(svg), 0o644) //nolint:gosec // a document, meant to be readable
}

func parse(r io.Reader) ([]*panel, error) {
	var panels []*panel
	byTitle := map[string]*panel{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("line %d: %d fields, want 6 (panel, label, seconds, role, note, target)", line, len(f))
		}
		secs, err := strconv.ParseFloat(f[2], 64)
		if err != nil || secs < 0 {
			return nil, fmt.Errorf("line %d: bad seconds %q", line, f[2])
		}
		switch f[3] {
		case "baseline", "dxf", "peer", "reported":
		default:
			return nil, fmt.Errorf("line %d: unknown role %q", line, f[3])
		}
		target := 0.0
		if f[5] != "" {
			if target, err = strconv.ParseFloat(f[5], 64); err != nil {
				return nil, fmt.Errorf("line %d: bad target %q", line, f[5])
			}
		}
		p := byTitle[f[0]]
		if p == nil {
			p = &panel{title: f[0]}
			byTitle[f[0]] = p
			panels = append(panels, p)
		}
		p.bars = append(p.bars, bar{label: f[1], seconds: secs, role: f[3], note: f[4]})
		if target > 0 {
			p.target = target
		}
	}
	return panels, sc.Err()
}

var colours = map[string]string{
	"baseline": "#8c8c8c",
	"dxf":      "#1f77b4",
	"peer":     "#ff9f40",
	"reported": "#d9d9d9",
}

// Layout, in pixels.
const (
	width      = 900
	labelWidth = 250
	noteWidth  = 150
	barHeight  = 18
	barGap     = 6
	panelGap   = 22
	titleSize  = 30
	plotWidth  = width - labelWidth - noteWidth - 20
)

func render(title string, panels []*panel) string {
	height := 50 + 30 // title, legend
	for _, p := range panels {
		height += titleSize + len(p.bars)*(barHeight+barGap) + panelGap
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="10" y="26" font-size="17" font-weight="bold">%s</text>`+"\n", esc(title))
	roles := map[string]bool{}
	for _, p := range panels {
		for _, br := range p.bars {
			roles[br.role] = true
		}
	}
	legend(&b, 48, roles)
	y := 80
	for _, p := range panels {
		y = drawPanel(&b, p, y)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// legend explains the colours of the roles present.
func legend(b *strings.Builder, y int, roles map[string]bool) {
	x := 10
	for _, item := range []struct{ role, text string }{
		{"dxf", "dxf"},
		{"baseline", "baseline"},
		{"peer", "other tools"},
		{"reported", "Python dxf, reported ratio (not measured here)"},
	} {
		if !roles[item.role] {
			continue
		}
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="14" height="14" fill="%s" stroke="#555"/>`, x, y, colours[item.role])
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", x+20, y+12, esc(item.text))
		x += 20 + 8*len(item.text) + 24
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#d62728" stroke-width="2" stroke-dasharray="5,3"/>`, x, y+7, x+24, y+7)
	fmt.Fprintf(b, `<text x="%d" y="%d">target for dxf</text>`+"\n", x+30, y+12)
}

func drawPanel(b *strings.Builder, p *panel, y int) int {
	scale := p.target
	for _, br := range p.bars {
		scale = max(scale, br.seconds)
	}
	if scale <= 0 {
		scale = 1
	}
	fmt.Fprintf(b, `<text x="10" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", y+18, esc(p.title))
	y += titleSize
	top := y
	bottom := top + len(p.bars)*(barHeight+barGap) - barGap
	if p.target > 0 { // under the bars and their text
		x := float64(labelWidth) + float64(plotWidth)*p.target/scale
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#d62728" stroke-width="2" stroke-dasharray="5,3"/>`+"\n", x, top-4, x, bottom+4)
	}
	for _, br := range p.bars {
		w := float64(plotWidth) * br.seconds / scale
		if br.seconds > 0 && w < 1 {
			w = 1
		}
		stroke := ""
		if br.role == "reported" {
			stroke = ` stroke="#888" stroke-dasharray="3,2"`
		}
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelWidth-8, y+13, esc(br.label))
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"%s/>`, labelWidth, y, w, barHeight, colours[br.role], stroke)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="#222" stroke="#fff" stroke-width="4" paint-order="stroke">%s</text>`+"\n", float64(labelWidth)+w+6, y+13, esc(secondsText(br.seconds)+" · "+br.note))
		y += barHeight + barGap
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", labelWidth, top-4, labelWidth, bottom+4)
	return y + panelGap
}

func secondsText(s float64) string {
	switch {
	case s >= 10:
		return fmt.Sprintf("%.1f s", s)
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	default:
		return fmt.Sprintf("%.0f ms", s*1000)
	}
}

func esc(s string) string { return html.EscapeString(s) }
