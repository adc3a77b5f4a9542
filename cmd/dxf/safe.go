package main

// The commands and flags that keep data safe over time: check, prune, and
// the flags of del-blob and del-alias (--force, --prune, --dry-run).

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dxf-go/dxf/internal/termprogress"
	"github.com/dxf-go/dxf/internal/textfmt"
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

// reportDelete says what a delete kept and, for a prune or a dry run, what
// went (would go): on standard error, but for a dry run's list of what
// would go, which is the output.
func (a *app) reportDelete(res *blobstore.DeleteResult, o blobstore.DeleteOptions) {
	for _, k := range res.Kept {
		fmt.Fprintf(a.stderr, "dxf: kept %s: used by %s\n", k.Digest, strings.Join(k.UsedBy, ", "))
	}
	switch {
	case o.DryRun:
		for _, d := range res.Aliases {
			fmt.Fprintf(a.stdout, "alias %s\n", d.Alias)
		}
		for _, b := range res.Deleted {
			fmt.Fprintf(a.stdout, "%s %d\n", b.Digest, max(b.Size, 0))
		}
		n := len(res.Deleted)
		fmt.Fprintf(a.stderr, "dxf: would delete %d alias%s and %d blob%s or manifest%s, freeing %d bytes (%s)\n",
			len(res.Aliases), pluralES(len(res.Aliases)), n, plural(n), plural(n), res.DeletedBytes, termprogress.HumanBytes(float64(res.DeletedBytes)))
	case o.Prune:
		n := len(res.Deleted)
		fmt.Fprintf(a.stderr, "dxf: pruned %d blob%s or manifest%s no remaining alias uses, freeing %d bytes (%s)\n",
			n, plural(n), plural(n), res.DeletedBytes, termprogress.HumanBytes(float64(res.DeletedBytes)))
	}
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
	return fmt.Sprintf("check: %d problem%s found", e.n, plural(e.n))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
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
	if a.cfg.JSON {
		type problem struct {
			Alias   string `json:"alias"`
			Digest  string `json:"digest"`
			Problem string `json:"problem"`
			Detail  string `json:"detail"`
		}
		out := struct {
			Aliases   int       `json:"aliases"`
			Manifests int       `json:"manifests"`
			Blobs     int       `json:"blobs"`
			Bytes     int64     `json:"bytes"`
			Deep      bool      `json:"deep"`
			OK        bool      `json:"ok"`
			Problems  []problem `json:"problems"`
		}{res.Aliases, res.Manifests, res.Blobs, res.Bytes, res.Deep, res.OK(), []problem{}}
		for _, p := range res.Problems {
			d := ""
			if p.Digest.Hex != "" {
				d = p.Digest.String()
			}
			out.Problems = append(out.Problems, problem{p.Alias, d, string(p.Kind), p.Detail})
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(a.stdout, "%s\n", b); err != nil {
			return err
		}
	} else {
		var b strings.Builder
		for _, p := range res.Problems {
			b.WriteString(textfmt.Escape(p.String()))
			b.WriteByte('\n')
		}
		how := "shallow"
		if res.Deep {
			how = "deep"
		}
		fmt.Fprintf(&b, "checked %d alias%s, %d manifest%s, %d blob%s (%s, %s): %d problem%s\n",
			res.Aliases, pluralES(res.Aliases), res.Manifests, plural(res.Manifests), res.Blobs, plural(res.Blobs),
			termprogress.HumanBytes(float64(res.Bytes)), how, len(res.Problems), plural(len(res.Problems)))
		if _, err := fmt.Fprint(a.stdout, b.String()); err != nil {
			return err
		}
	}
	if !res.OK() {
		return &problemsFound{len(res.Problems)}
	}
	return nil
}

func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
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
		a.reportDelete(res, blobstore.DeleteOptions{DryRun: o.DryRun, Prune: true})
	}
	return err
}
