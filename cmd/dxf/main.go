// Command dxf stores arbitrary data in an OCI / Docker v2 registry: files
// become content-addressed blobs, and aliases (tags) name sets of blobs.
//
// It is a drop-in replacement for the Python dxf tool: the same commands,
// environment variables, output bytes and exit codes, so scripts written for
// it run unchanged. Every environment variable also has a long flag, and
// push-blob takes several files at once. See docs/cli.md for the reference
// and docs/compatibility.md for the differences from the Python tool.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

func main() {
	// dxf streams: its live heap is a few MiB whatever the data size. A soft
	// memory limit keeps the garbage collector from letting the heap grow to
	// twice that with many transfers at once (--jobs), so the process stays
	// well under 64 MiB. GOMEMLIMIT, if set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(40 << 20)
	}
	// SIGINT and SIGTERM cancel the context: transfers stop, a partly
	// written --output file is removed, and the exit status is 130.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// app is one run of a command: its configuration, its streams and its
// connection to the registry.
type app struct {
	ctx      context.Context
	cmd      *command
	cfg      *config
	stdin    io.Reader
	stdout   io.Writer
	progress *progress
	reg      *blobstore.Registry
	repo     *blobstore.Repository // nil for list-repos
}

// run runs the command line args (without the program name) with the given
// streams and environment ("KEY=value" entries) and returns the exit code.
// It is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	var f flagValues
	fs := newFlagSet(&f)
	if err := fs.Parse(args); err != nil {
		return report(stderr, usagef(nil, "%s", err), nil)
	}
	pos := fs.Args()
	if f.version {
		return report(stderr, writeVersion(stdout), nil)
	}
	if len(pos) == 0 {
		if f.help {
			return report(stderr, writeHelp(stdout, nil), nil)
		}
		// Python failed with a traceback here (exit status 1); a usage
		// error is what it is.
		return report(stderr, usagef(nil, "no command given (dxf help lists them)"), nil)
	}
	switch pos[0] {
	case "help":
		return report(stderr, runHelp(stdout, pos[1:]), nil)
	case "version":
		return report(stderr, writeVersion(stdout), nil)
	}
	cmd := lookupCommand(pos[0])
	if cmd == nil {
		return report(stderr, usagef(nil, "argument op: invalid choice: '%s' (choose from %s)", pos[0], commandChoices()), nil)
	}
	if f.help {
		return report(stderr, writeHelp(stdout, cmd), nil)
	}
	repo, rest, err := cmd.split(pos[1:])
	if err == nil {
		err = cmd.check(rest)
	}
	if err == nil && f.output != "" && cmd.name != "pull-blob" {
		err = usagef(cmd, "--output applies to pull-blob only")
	}
	if err == nil && f.passwordStdin && cmd.readsStdin(rest) {
		err = usagef(cmd, "--password-stdin: standard input is needed for the command's own input")
	}
	if err != nil {
		return report(stderr, err, nil)
	}

	cfg, err := loadConfig(fs, &f, newEnvironment(environ), stdin)
	if err != nil {
		return report(stderr, err, nil)
	}
	if cfg.digestCache != "" && cmd == pushBlobCommand {
		if err := blobstore.CheckDigestCache(cfg.digestCache); err != nil {
			// Someone else could plant digests there: push without it.
			fmt.Fprintf(stderr, "dxf: warning: %s: not using it\n", oneLine(err.Error()))
			cfg.digestCache = ""
		}
	}
	cfg.debugOut = stderr
	a := &app{ctx: ctx, cmd: cmd, cfg: cfg, stdin: stdin, stdout: stdout}
	err = a.connect(repo)
	if err == nil {
		a.progress = newProgress(stderr, cfg.progress)
		err = cmd.run(a, rest)
		a.progress.close()
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		// Interrupted: whatever failed as a consequence is not the story.
		err = fmt.Errorf("%w: %w", context.Canceled, err)
	}
	return report(stderr, err, cfg.secrets())
}

// connect makes the registry (and repository) handles. No I/O happens yet.
func (a *app) connect(repo string) error {
	opts, err := a.cfg.options(a.cmd.name != "auth")
	if err != nil {
		return err
	}
	if a.reg, err = blobstore.NewRegistry(a.cfg.host, opts...); err != nil {
		return err
	}
	if a.cmd.noRepo {
		return nil
	}
	a.repo, err = a.reg.Repository(repo)
	return err
}
