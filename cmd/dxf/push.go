package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

var pushBlobCommand = &command{
	name:     "push-blob",
	flags:    []string{"jobs", "progress", "no-digest-cache", "split", "format"},
	synopsis: "<repo> <file>... [@alias]",
	summary:  "upload files as blobs and print their digests",
	minArgs:  1,
	maxArgs:  -1,
	validate: checkPushArgs,
	run:      runPushBlob,
}

// splitPushArgs separates the files from the optional trailing @alias.
func splitPushArgs(args []string) (files []string, alias string) {
	if last := args[len(args)-1]; len(args) > 1 && strings.HasPrefix(last, "@") {
		return args[:len(args)-1], last[1:]
	}
	return args, ""
}

// checkPushArgs keeps the Python tool's usage errors while allowing several
// files. Python took exactly one file, and a second argument without "@" was
// a mistyped alias; so extra arguments must all be existing files for the
// multi-file form, and otherwise get Python's messages.
func checkPushArgs(cmd *command, args []string) error {
	if len(args) > 1 {
		last := args[len(args)-1]
		if strings.HasPrefix(last, "@") {
			if err := checkAlias(cmd, last); err != nil {
				return err
			}
		} else {
			for _, f := range args[1:] {
				if f == "-" {
					continue
				}
				if _, err := os.Stat(f); err != nil {
					if len(args) == 2 {
						return usagef(cmd, "invalid alias: %q (an alias is written @name, and no such file exists)", f)
					}
					return usagef(cmd, "too many arguments (%q is neither a file nor an @alias)", f)
				}
			}
		}
	}
	files, _ := splitPushArgs(args)
	stdin := 0
	for _, f := range files {
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usagef(cmd, "standard input (-) can be pushed only once")
	}
	return nil
}

func runPushBlob(a *app, args []string) (err error) {
	files, alias := splitPushArgs(args)
	if len(files) == 1 && isDir(files[0]) {
		return runPushDir(a, files[0], alias)
	}
	if a.cfg.Split > 0 {
		return runPushSplit(a, files, alias)
	}
	a.progress.Plan("files", len(files), filesSize(files))
	srcs := make([]blobstore.Source, len(files))
	for i, f := range files {
		srcs[i] = blobstore.Source{Path: f}
		if f == "-" {
			srcs[i] = blobstore.Source{Reader: a.stdin, Name: "standard input"}
		}
	}
	results, err := a.repo.PushBlobs(a.ctx, srcs, blobstore.WithJobs(a.cfg.Jobs), a.pushProgress(files),
		// The alias will name the blobs: make sure the registry has them.
		blobstore.WithVerifyStored(alias != ""))
	if err != nil {
		return err
	}
	// The blobs are in the registry whatever comes next: their digests are
	// printed also if the alias cannot be set (and then its error).
	defer func() {
		blobs := make([]blobstore.Blob, len(results))
		for i, r := range results {
			blobs[i] = r.Blob()
		}
		err = printPushed(a, blobs, err)
	}()
	if alias != "" {
		parts := make([][]blobstore.Blob, len(results))
		for i, r := range results {
			parts[i] = []blobstore.Blob{r.Blob()}
		}
		if err := a.setAliasFiles(alias, files, parts); err != nil {
			return err
		}
	}
	return nil
}

// printPushed prints the digests of the pushed blobs, one a line, and
// returns failed, the error of what came after the push (setting the
// alias), if any: the blobs are in the registry even if the alias could
// not name them, and their digests are what a retry (set-alias) needs.
func printPushed(a *app, blobs []blobstore.Blob, failed error) error {
	var out strings.Builder
	for _, b := range blobs {
		out.WriteString(b.Digest.String() + "\n")
	}
	_, err := fmt.Fprint(a.stdout, out.String())
	if failed != nil {
		return failed
	}
	return err
}

// pushProgress draws a progress bar per file. A bar appears only once data
// is actually sent: named after the file while its digest is still being
// computed, after the digest when done. A blob the registry had counts as
// skipped.
func (a *app) pushProgress(files []string) blobstore.TransferOption {
	return blobstore.WithProgress(a.progress.BlobBars(func(i int) string {
		if files[i] == "-" {
			return "stdin"
		}
		return filepath.Base(files[i])
	}, nil, true))
}

// filesSize is the size of the files to push, for the overall progress
// bar; standard input counts for nothing.
func filesSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && f != "-" { //nolint:gosec // a file the user named
			n += fi.Size()
		}
	}
	return n
}
