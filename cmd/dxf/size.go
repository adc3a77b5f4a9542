package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var blobSizeCommand = &command{
	name:            "blob-size",
	flags:           []string{"platform", "jobs"},
	synopsis:        "<repo> [<digest>|@<alias>]...",
	summary:         "print the size of blobs",
	aliases:         atAliases,
	maxArgs:         -1,
	manifestOnStdin: true,
	run:             runBlobSize,
}

func runBlobSize(a *app, args []string) error {
	var sizes []blobstore.RefSize
	if len(args) == 0 {
		al, err := a.stdinAlias(a.cfg.Platform)
		if err != nil {
			return err
		}
		size, err := a.repo.AliasSizeOf(a.ctx, al)
		if err != nil {
			return err
		}
		sizes = []blobstore.RefSize{size}
	} else {
		refs, bad := blobRefs(args)
		var err error
		sizes, err = a.repo.Sizes(a.ctx, refs, a.cfg.Platform, blobstore.WithJobs(a.cfg.Jobs))
		if err != nil {
			return err
		}
		if bad < len(args) {
			return a.badRef(args[bad])
		}
	}
	lines := make([]string, len(sizes))
	for i, s := range sizes {
		// An alias's total, or the JSON object of the totals per platform.
		lines[i] = strconv.FormatInt(s.Size, 10)
		if s.Platforms != nil {
			lines[i] = textfmt.PyJSON(s.Platforms)
		}
	}
	_, err := fmt.Fprint(a.stdout, strings.Join(lines, "\n")+"\n")
	return err
}
