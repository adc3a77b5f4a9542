//go:build linux

// Command peakrss runs a command and prints its peak resident set size to
// file descriptor 3, in KiB. The tests use it to measure dxf: a process
// started straight from the (large) test process would report the test
// process's size, since Linux carries the resident-set high-water mark of
// the address space a process had before exec over to the new program.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(125)
	}
	report := os.NewFile(3, "report")
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && report != nil {
		fmt.Fprintln(report, ru.Maxrss)
	}
	os.Exit(code)
}
