//go:build !windows

package termprogress

import "github.com/cheggaaa/pb/v3/termutil"

// termSize is pb's reading of the terminal's rows and columns.
func termSize() (rows, cols int, err error) { return termutil.TerminalSize() }
