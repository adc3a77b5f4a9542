//go:build !linux

package main

import (
	"errors"
	"io"
	"os"
)

// openPlaced returns nil: writing blobs in place is only done on Linux.
func openPlaced(*os.File, int64) (*placed, error) { return nil, nil }

// placed is never made on this system.
type placed struct{}

func (*placed) section(int64, int64) *placedSection { return nil }
func (*placed) finish(int64) error                  { return nil }

type placedSection struct{ io.Writer }

func (*placedSection) close()         {}
func (*placedSection) written() int64 { return 0 }

var errSectionFull = errors.New("more data than the blob's size")
