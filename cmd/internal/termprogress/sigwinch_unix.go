//go:build unix

package termprogress

import (
	"os"
	"syscall"
)

// sigWinch is the signal a terminal sends when its window is resized.
var sigWinch os.Signal = syscall.SIGWINCH
