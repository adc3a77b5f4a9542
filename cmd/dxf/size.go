package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/dxf-go/dxf/internal/jobs"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var blobSizeCommand = &command{
	name:     "blob-size",
	flags:    []string{"platform", "jobs"},
	synopsis: "<repo> [<digest>|@<alias>]...",
	summary:  "print the size of blobs",
	help: `Print the size in bytes of each blob, one line per argument. For an @alias,
print the total size of its blobs; for a multi-platform alias without
DXF_PLATFORM, a JSON object of the total per platform.

With no arguments, print the total size of the blobs of the manifest JSON read
from standard input.

Examples:
  dxf blob-size fred/datalogger sha256:9f86d081884c7d65...
  dxf blob-size fred/datalogger @may15-readings
  DXF_PLATFORM=linux/amd64 dxf blob-size library/ubuntu @22.04`,
	aliases:         atAliases,
	maxArgs:         -1,
	manifestOnStdin: true,
	run:             runBlobSize,
}

func runBlobSize(a *app, args []string) error {
	var lines []string
	if len(args) == 0 {
		al, err := a.stdinAlias(a.cfg.platform)
		if err != nil {
			return err
		}
		line, err := a.aliasSize(a.ctx, al)
		if err != nil {
			return err
		}
		lines = []string{line}
	} else {
		lines = make([]string, len(args))
		err := jobs.ForEach(a.ctx, a.cfg.jobs, len(args), func(ctx context.Context, i int) error {
			name, isAlias := aliasArg(args[i])
			if !isAlias {
				d, err := a.digestArg(ctx, name)
				if err != nil {
					return err
				}
				size, err := a.repo.BlobSize(ctx, d)
				lines[i] = strconv.FormatInt(size, 10)
				return err
			}
			al, err := a.repo.GetAlias(ctx, name, a.cfg.platform)
			if err != nil {
				return err
			}
			lines[i], err = a.aliasSize(ctx, al)
			return err
		})
		if err != nil {
			return err
		}
	}
	_, err := fmt.Fprint(a.stdout, strings.Join(lines, "\n")+"\n")
	return err
}

// aliasSize is the total size of an alias's blobs (its layers; the config
// is not counted), or the JSON object of the totals per platform.
func (a *app) aliasSize(ctx context.Context, al *blobstore.Alias) (string, error) {
	if m := al.Image(); m != nil {
		n, err := a.repo.ManifestSize(ctx, m)
		return strconv.FormatInt(n, 10), err
	}
	sizes := make(map[string]int64, len(al.Platforms))
	for _, p := range al.PlatformNames() {
		n, err := a.repo.ManifestSize(ctx, al.Platforms[p])
		if err != nil {
			return "", err
		}
		sizes[p] = n
	}
	return pyJSON(sizes), nil
}
