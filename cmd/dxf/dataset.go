package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/dxf-go/dxf/internal/cliconfig"
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
	var b strings.Builder
	if a.cfg.JSON {
		for _, f := range files {
			e := lsEntry{Path: f.Path, Type: kindName(f), Target: f.Target, Blobs: len(f.Parts)}
			if f.Kind == blobstore.KindFile {
				e.Size = &f.Size
				if f.Digest != (blobstore.Blob{}).Digest {
					e.Digest = f.Digest.String()
				}
			}
			if f.Mode != 0 {
				e.Mode = fmt.Sprintf("%04o", f.Mode)
			}
			j, err := json.Marshal(e)
			if err != nil {
				return err
			}
			b.Write(j)
			b.WriteByte('\n')
		}
		_, err := fmt.Fprint(a.stdout, b.String())
		return err
	}
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, f := range files {
		switch f.Kind {
		case blobstore.KindSymlink:
			fmt.Fprintf(tw, "%s -> %s\t\t\n", f.Path, f.Target)
		case blobstore.KindDir:
			fmt.Fprintf(tw, "%s/\t\t\n", f.Path)
		default:
			d := "-"
			if f.Digest != (blobstore.Blob{}).Digest {
				d = f.Digest.String()
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\n", f.Path, f.Size, d)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprint(a.stdout, b.String())
	return err
}

// lsEntry is one line of ls --json.
type lsEntry struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Size   *int64 `json:"size,omitempty"`
	Digest string `json:"digest,omitempty"`
	Mode   string `json:"mode,omitempty"`
	Target string `json:"target,omitempty"`
	Blobs  int    `json:"blobs,omitempty"`
}

func kindName(f blobstore.File) string {
	switch f.Kind {
	case blobstore.KindSymlink:
		return "symlink"
	case blobstore.KindDir:
		return "dir"
	}
	if f.Unpack {
		return "archive"
	}
	return "file"
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
