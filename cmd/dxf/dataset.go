package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dxf-go/dxf/cmd/internal/cliconfig"
	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var lsCommand = &command{
	name:     "ls",
	flags:    []string{"include", "json", "platform"},
	synopsis: "<repo> @<alias>",
	summary:  "list the files of an alias: path, size, digest",
	aliases:  atAliases,
	minArgs:  1,
	maxArgs:  1,
	run:      runLs,
}

func runLs(a *app, args []string) error {
	alias := strings.TrimPrefix(args[0], "@")
	_, files, err := a.repo.ListFiles(a.ctx, alias, blobstore.WithPlatform(a.cfg.Platform), blobstore.WithInclude(a.cfg.Include...))
	if err != nil {
		return err
	}
	out, err := textfmt.Files(files, a.cfg.JSON)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(a.stdout, out)
	return err
}

// runPullDir is pull-blob --dir: the alias's files into a directory.
func runPullDir(a *app, args []string) error {
	if len(args) != 1 || !strings.HasPrefix(args[0], "@") {
		return usagef(a.cmd, "--dir takes exactly one @alias")
	}
	unpack, err := cliconfig.ParseUnpack(a.cfg.MaxUnpack)
	if err != nil {
		return usagef(a.cmd, "%s: %v", a.cfg.MaxUnpackFrom, err)
	}
	opts := append(a.progress.TreeBars(),
		blobstore.WithJobs(a.cfg.Jobs), blobstore.WithPlatform(a.cfg.Platform),
		blobstore.WithInclude(a.cfg.Include...), blobstore.WithDelete(a.cfg.Delete),
		blobstore.WithOutsideLinks(a.cfg.Links), blobstore.WithMaxUnpack(unpack))
	res, err := a.repo.PullDir(a.ctx, args[0][1:], a.cfg.Dir, opts...)
	if err != nil {
		return err
	}
	if a.progress != nil {
		fmt.Fprintf(a.stderr, "%d files fetched (%d bytes), %d already there, %d removed\n", res.Transferred, res.TransferredBytes, res.Kept, len(res.Deleted))
	}
	return nil
}

// runPushDir is push-blob of a directory: a data set, in the OCI form.
func runPushDir(a *app, dir, alias string) error {
	if alias == "" {
		return usagef(a.cmd, "a directory is pushed to an @alias (its file names live in the alias's manifest)")
	}
	opts := append(a.progress.TreeBars(), blobstore.WithJobs(a.cfg.Jobs),
		blobstore.WithFormatNotice(func(msg string) { fmt.Fprintln(a.stderr, "dxf: "+msg) }))
	if a.cfg.Split > 0 {
		opts = append(opts, blobstore.WithSplitAverage(a.cfg.Split))
	}
	res, err := a.repo.PushDir(a.ctx, dir, alias, opts...)
	if err != nil {
		return err
	}
	if a.progress != nil {
		fmt.Fprintf(a.stderr, "%d blobs sent (%d bytes), %d files already there\n", res.Transferred, res.TransferredBytes, res.Kept)
	}
	_, err = fmt.Fprintln(a.stdout, res.Manifest.Digest)
	return err
}

// isDir reports whether path names a directory (following links: the
// user named it).
func isDir(path string) bool {
	fi, err := os.Stat(path) //nolint:gosec // a path the user named
	return err == nil && fi.IsDir()
}

// setAliasFiles points alias at the pushed files, named after their base
// names, in the configured form; a registry refusing the Docker form gets
// the OCI form, said in one line on standard error.
func (a *app) setAliasFiles(alias string, files []string, parts [][]blobstore.Blob) error {
	entries := make([]blobstore.File, len(files))
	for i, f := range files {
		e := blobstore.File{Path: filepath.Base(f), Parts: parts[i]}
		if f == "-" && len(parts[i]) > 0 {
			e.Path = parts[i][0].Digest.Hex
		}
		if len(parts[i]) == 1 {
			e.Digest = parts[i][0].Digest
		}
		for _, p := range parts[i] {
			e.Size += p.Size
		}
		if fi, err := os.Stat(f); err == nil && f != "-" { //nolint:gosec // a file the user named
			e.Mode = fi.Mode().Perm()
		}
		entries[i] = e
	}
	_, err := a.repo.SetAliasFiles(a.ctx, alias, entries, blobstore.WithFormat(a.cfg.Format),
		blobstore.WithFormatNotice(func(msg string) { fmt.Fprintln(a.stderr, "dxf: "+msg) }))
	return err
}
