//go:build !linux

package writeback

import "os"

const supported = false

func startWrite(*os.File, int64, int64)        {}
func waitWritten(*os.File, int64, int64) error { return nil }
func cached(*os.File) (int64, bool)            { return 0, false }
func dataSync(*os.File) error                  { return nil }
