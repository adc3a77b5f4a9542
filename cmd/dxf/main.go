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
	"strings"
	"syscall"
	"time"

	"github.com/dxf-go/dxf/cmd/internal/cliconfig"
	"github.com/dxf-go/dxf/cmd/internal/errtext"
	"github.com/dxf-go/dxf/cmd/internal/termprogress"
	"github.com/dxf-go/dxf/cmd/internal/textfmt"
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
	go func() {
		<-ctx.Done()
		// A second signal now kills at once; and whatever might still
		// hold the process up after the first, it ends soon.
		stop()
		time.Sleep(forcedExitDelay)
		fmt.Fprintln(os.Stderr, "dxf: interrupted")
		os.Exit(exitInterrupted)
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// forcedExitDelay is how long an interrupted dxf may take to clean up (remove
// a partial --output file) before it exits regardless.
const forcedExitDelay = 5 * time.Second

// app is one run of a command: its configuration, its streams and its
// connection to the registry.
type app struct {
	ctx      context.Context
	cmd      *command
	cfg      *cliconfig.Config
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	env      cliconfig.Env
	progress *termprogress.Progress
	reg      *blobstore.Registry
	repo     *blobstore.Repository // nil for list-repos
}

// run runs the command line args (without the program name) with the given
// streams and environment ("KEY=value" entries) and returns the exit code.
// It is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	if len(args) > 0 && args[0] == completeCommand.name {
		// The words being completed are not parsed as dxf's own.
		a := &app{ctx: ctx, cmd: completeCommand, stdin: stdin, stdout: stdout, stderr: stderr, env: cliconfig.NewEnv(environ)}
		return report(stderr, completeCommand.local(a, args[1:]), nil)
	}
	fs := cliconfig.NewFlagSet()
	if err := fs.Parse(args); err != nil {
		return report(stderr, usagef(nil, "%s%s", err, textfmt.FlagHint(err.Error(), flagNames())), nil)
	}
	pos := fs.Args()
	if cliconfig.FlagOn(fs, "version") {
		return report(stderr, writeVersion(stdout), nil)
	}
	if len(pos) == 0 {
		if cliconfig.FlagOn(fs, "help") {
			return report(stderr, writeHelp(stdout, nil), nil)
		}
		// Python failed with a traceback here (exit status 1); a usage
		// error is what it is.
		return report(stderr, usagef(nil, "no command given (dxf help lists them)"), nil)
	}
	cmd := lookupCommand(pos[0])
	if cmd == nil {
		if h := textfmt.HabitHint(pos[0]); h != "" {
			return report(stderr, usagef(nil, "%s", h), nil)
		}
		// argparse's words, which scripts may look for, and a suggestion.
		return report(stderr, usagef(nil, "argument op: invalid choice: '%s'%s", pos[0], textfmt.CommandHint(pos[0], commandNames())), nil)
	}
	if cliconfig.FlagOn(fs, "help") {
		return report(stderr, writeHelp(stdout, cmd), nil)
	}
	if cmd.local != nil {
		if err := cmd.check(pos[1:]); err != nil {
			return report(stderr, err, nil)
		}
		a := &app{ctx: ctx, cmd: cmd, stdin: stdin, stdout: stdout, stderr: stderr, env: cliconfig.NewEnv(environ)}
		return report(stderr, cmd.local(a, pos[1:]), nil)
	}
	repo, rest, err := cmd.split(pos[1:])
	if err == nil {
		err = refInRepo(cmd, repo, rest)
	}
	if err == nil {
		err = cmd.check(rest)
	}
	if err == nil && cliconfig.FlagText(fs, "output") != "" && cmd.name != "pull-blob" {
		err = usagef(cmd, "--output applies to pull-blob only")
	}
	if err == nil {
		err = checkSafeFlags(fs, cmd)
	}
	if err == nil && cliconfig.FlagOn(fs, "password-stdin") && cmd.readsStdin(rest) {
		err = usagef(cmd, "--password-stdin: standard input is needed for the command's own input")
	}
	if err != nil {
		return report(stderr, err, nil)
	}
	env := cliconfig.NewEnv(environ)
	if (cmd == loginCommand || cmd == logoutCommand) && len(rest) == 1 {
		_ = fs.Set("host", rest[0])
	}
	if cmd == copyCommand && !fs.Changed("host") && env["DXF_HOST"] == "" {
		if h := copyDefaultHost(rest); h != "" {
			_ = fs.Set("host", h)
		}
	}
	if strings.HasPrefix(repo, blobstore.LayoutPrefix) {
		// oci:DIR names the layout itself, whatever DXF_HOST says.
		_ = fs.Set("host", blobstore.LayoutPrefix)
	} else if repo, err = hostInRepo(fs, env, cmd, repo); err != nil {
		return report(stderr, err, nil)
	}

	cfg, err := loadConfig(fs, env, stdin)
	if err != nil {
		return report(stderr, err, nil)
	}
	if cfg.DigestCache != "" && cmd == pushBlobCommand {
		if err := blobstore.CheckDigestCache(cfg.DigestCache); err != nil {
			// Someone else could plant digests there: push without it.
			fmt.Fprintf(stderr, "dxf: warning: %s: not using it\n", errtext.OneLine(err.Error()))
			cfg.DigestCache = ""
		}
	}
	// What the command prints (results, warnings, the HTTP trace) goes
	// through the progress display, which never draws over it.
	prog := termprogress.New(stderr, cfg.Progress)
	cfg.DebugOut = prog.Guard(stderr)
	a := &app{ctx: ctx, cmd: cmd, cfg: cfg, stdin: stdin, stdout: prog.Guard(stdout), stderr: prog.Guard(stderr), env: env, progress: prog}
	err = a.connect(repo)
	if err == nil {
		err = cmd.run(a, rest)
	}
	prog.Close()
	if err != nil && ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		// Interrupted: whatever failed as a consequence is not the story.
		err = fmt.Errorf("%w: %w", context.Canceled, err)
	}
	if cmd == loginCommand {
		err = explain(err, nil, env, false)
	} else {
		err = explain(err, cfg, env, cmd != authCommand)
	}
	if err != nil && a.reg != nil {
		err = &errtext.Redacted{Err: err, Redact: a.reg.Redact}
	}
	return report(stderr, err, cfg.Secrets())
}

// connect makes the registry (and repository) handles. No I/O happens yet.
func (a *app) connect(repo string) error {
	opts, err := a.cfg.Options(a.cmd.name != "auth", userAgent())
	if err != nil {
		return err
	}
	if a.cfg.Layout {
		if a.cmd == copyCommand || a.cmd == listReposCommand && a.cfg.LayoutRoot != "" {
			return nil // copy opens each side; list-repos lists the layouts
		}
		a.repo, err = openLayout(a.cmd, a.cfg.LayoutRoot, repo, opts)
		return err
	}
	if a.reg, err = blobstore.NewRegistry(a.cfg.Host, opts...); err != nil {
		return err
	}
	if a.cmd.noRepo {
		return nil
	}
	a.repo, err = a.reg.Repository(repo)
	return err
}
