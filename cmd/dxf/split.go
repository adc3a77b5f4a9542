package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/dxf-go/dxf/internal/atomicfile"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// runPushSplit is push-blob --split: each file is cut into content-defined
// chunks, the chunks the registry lacks are uploaded, and the digests of
// all chunks are printed in order (the alias, if any, names them in the
// same order).
func runPushSplit(a *app, files []string, alias string) (err error) {
	a.progress.Plan("files", len(files), filesSize(files))
	var all blobstore.SplitResult
	parts := make([][]blobstore.Blob, 0, len(files))
	for _, file := range files {
		desc := filepath.Base(file)
		if file == "-" {
			desc = "stdin"
		}
		report, finish := a.progress.SplitBar(desc)
		opts := []blobstore.TransferOption{
			blobstore.WithSplitAverage(a.cfg.Split),
			blobstore.WithJobs(a.cfg.Jobs),
			blobstore.WithProgress(report),
		}
		var res blobstore.SplitResult
		var err error
		if file == "-" {
			res, err = a.repo.PushSplit(a.ctx, a.stdin, opts...)
			if err != nil {
				err = fmt.Errorf("push standard input: %w", err)
			}
		} else {
			res, err = a.repo.PushFileSplit(a.ctx, file, opts...)
		}
		if err != nil {
			return err
		}
		finish()
		all.Chunks = append(all.Chunks, res.Chunks...)
		parts = append(parts, res.Chunks)
	}

	// The chunks are in the registry whatever comes next: their digests
	// are printed also if the alias cannot be set (and then its error).
	defer func() { err = printPushed(a, all.Chunks, err) }()
	if alias != "" {
		// Refuse a manifest the registry would refuse, before sending it.
		if raw, err := blobstore.MakeManifest(all.Chunks...); err == nil && len(raw) > blobstore.MaxManifestSize {
			return fmt.Errorf("set alias %s: %w: %d chunks make a manifest of %d bytes, over %d (a larger --split makes fewer)",
				alias, blobstore.ErrTooManyChunks, len(all.Chunks), len(raw), blobstore.MaxManifestSize)
		}
		if err := a.setAliasFiles(alias, files, parts); err != nil {
			return err
		}
	}
	return nil
}

// runPullRange is pull-blob --range: bytes START to END of one @alias (the
// concatenation of its blobs) or blob, verified blob by blob: only the
// blobs the range touches are fetched, and a blob too large to fetch whole
// is hashed whole once before any of its bytes is written.
func runPullRange(a *app, args []string) error {
	if len(args) != 1 {
		return usagef(nil, "--range takes exactly one @alias or digest")
	}
	arg := args[0]
	var (
		f   *blobstore.BlobFile
		err error
	)
	if strings.HasPrefix(arg, "@") {
		f, err = a.repo.OpenAlias(a.ctx, arg[1:], a.cfg.Platform, blobstore.WithVerifyLargeBlobs())
	} else {
		d, perr := blobstore.ParseDigest(arg)
		if perr != nil {
			return perr
		}
		f, err = a.repo.OpenBlob(a.ctx, d, blobstore.WithVerifyLargeBlobs())
	}
	if err != nil {
		return err
	}
	defer f.Close()
	r := a.cfg.ByteRange
	end := r.End
	if end < 0 || end >= f.Size() {
		end = f.Size() - 1
	}
	if r.Start >= f.Size() && f.Size() > 0 || r.Start > end+1 {
		return fmt.Errorf("--range %d-: %s is only %d bytes", r.Start, arg, f.Size())
	}
	out, commit, discard, err := atomicfile.Output(a.cfg.Output, a.stdout)
	if err != nil {
		return err
	}
	if _, err := f.Seek(r.Start, io.SeekStart); err != nil {
		discard()
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(f, end-r.Start+1)); err != nil {
		discard()
		return err
	}
	return commit()
}
