package termprogress

import "github.com/cheggaaa/pb/v3/termutil"

// termSize is the console's width; pb reads no height on Windows, so the
// rows are the default.
func termSize() (rows, cols int, err error) {
	cols, err = termutil.TerminalWidth()
	return defaultRows, cols, err
}
