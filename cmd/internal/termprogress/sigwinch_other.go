//go:build !unix

package termprogress

import "os"

// sigWinch is nil where windows send no resize signal: the size is read
// at each redraw instead.
var sigWinch os.Signal
