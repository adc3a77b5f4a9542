package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dxf-go/dxf/cmd/internal/errtext"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// Exit codes. They are the Python tool's: errno values for the two
// failures scripts test for, 2 for usage errors as argparse does, 1 for the
// rest.
const (
	exitOK           = 0
	exitFailure      = 1
	exitUsage        = 2
	exitNotFound     = 2  // ENOENT: the registry answered 404
	exitUnauthorized = 13 // EACCES: the registry answered 401 after authenticating
	exitInterrupted  = 130
)

// usageError is a mistake on the command line: reported with the command's
// usage line and exit code 2.
type usageError struct {
	cmd *command // nil when no command was recognised
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd *command, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// exitCode maps an error to the exit status the Python tool gave for it.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, new(*problemsFound)):
		return exitProblems
	case errors.Is(err, blobstore.ErrUnauthorized):
		return exitUnauthorized
	case errors.Is(err, blobstore.ErrMountFailed):
		// Python raised DXFMountFailed for any answer but 201, 404 included.
		return exitFailure
	case errors.Is(err, blobstore.ErrNotFound):
		return exitNotFound
	}
	return exitFailure
}

// report writes err to stderr and returns the exit code. A usage error gets
// the usage line and argparse's "dxf: error: …"; anything else one line,
// "dxf: <what failed>: <why>", scrubbed of the given secrets.
func report(stderr io.Writer, err error, secrets []string) int {
	code := exitCode(err)
	if code == exitOK {
		return code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		writeUsageLine(stderr, ue.cmd)
		fmt.Fprintf(stderr, "dxf: error: %s\n", errtext.OneLine(ue.msg))
		return code
	}
	msg := err.Error()
	if errors.Is(err, blobstore.ErrPlainHTTP) && !strings.Contains(msg, "DXF_INSECURE=1") {
		msg += " (DXF_INSECURE=1)"
	}
	if code == exitInterrupted {
		msg = "interrupted"
	}
	fmt.Fprintf(stderr, "dxf: %s\n", errtext.OneLine(errtext.Scrub(msg, secrets)))
	return code
}
