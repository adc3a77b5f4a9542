//go:build !linux

package writeback

import "os"

const supported = false

func startWrite(*os.File, int64, int64)  {}
func waitWritten(*os.File, int64, int64) {}
