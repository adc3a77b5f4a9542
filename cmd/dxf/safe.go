package main

// The commands and flags that keep data safe over time: check, prune, and
// the flags of del-blob and del-alias (--force, --prune, --dry-run).

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// exitProblems is check's exit status when it found something wrong (the
// check itself ran): distinct from 1 (the check could not be made) and 2
// (not found, usage).
const exitProblems = 3

// checkSafeFlags refuses a safe flag given to a command it does not apply to.
func checkSafeFlags(fs *pflag.FlagSet, cmd *command) error {
	for _, name := range []string{"force", "prune", "dry-run", "deep", "json"} {
		if fs.Changed(name) && !strings.Contains(","+strings.Join(cmd.flags, ",")+",", ","+name+",") {
			return usagef(cmd, "--%s does not apply to %s", name, cmd.name)
		}
	}
	return nil
}

var checkCommand = &command{
	name:     "check",
	flags:    []string{"deep", "json", "jobs", "progress"},
	synopsis: "<repo> [<alias>...]",
	summary:  "check that what aliases name is whole",
	aliases:  allAliases,
	maxArgs:  -1,
	run:      runCheck,
}

// problemsFound is check's error when it found problems.
type problemsFound struct{ n int }

func (e *problemsFound) Error() string {
	return fmt.Sprintf("check: %d problem%s found", e.n, textfmt.Plural(e.n))
}

func runCheck(a *app, args []string) error {
	o := blobstore.CheckOptions{Deep: a.cfg.Deep, Jobs: a.cfg.Jobs}
	if o.Deep {
		a.progress.Plan("blobs", 0, 0)
		o.Progress = a.progress.BlobBars(nil, func(int) bool { return true }, false)
	}
	res, err := a.repo.Check(a.ctx, args, o)
	if err != nil {
		return err
	}
	out, err := textfmt.Check(res, a.cfg.JSON)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprint(a.stdout, out); err != nil {
		return err
	}
	if !res.OK() {
		return &problemsFound{len(res.Problems)}
	}
	return nil
}

var pruneCommand = &command{
	name:     "prune",
	flags:    []string{"dry-run", "jobs"},
	synopsis: "<repo>",
	summary:  "delete the blobs no alias uses",
	maxArgs:  0,
	run:      runPrune,
}

// pruneMinAge is how old a blob must be for prune to delete it: a younger
// one may belong to a push that has not set its alias yet.
const pruneMinAge = 10 * time.Minute

func runPrune(a *app, _ []string) error {
	o := a.cfg.DeleteOptions()
	o.MinAge = pruneMinAge
	res, err := a.repo.Prune(a.ctx, o)
	if res != nil {
		textfmt.DeleteReport(a.stdout, a.stderr, res, blobstore.DeleteOptions{DryRun: o.DryRun, Prune: true})
	}
	return err
}
