package main

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var delBlobCommand = &command{
	name:            "del-blob",
	flags:           []string{"force", "dry-run", "jobs"},
	synopsis:        "<repo> [<digest>|@<alias>]...",
	summary:         "delete blobs no other alias uses",
	aliases:         atAliases,
	maxArgs:         -1,
	manifestOnStdin: true,
	run:             runDelBlob,
}

var delAliasCommand = &command{
	name:     "del-alias",
	flags:    []string{"prune", "dry-run", "jobs"},
	synopsis: "<repo> <alias>...",
	summary:  "delete aliases, keeping their blobs",
	aliases:  allAliases,
	maxArgs:  -1,
	run:      runDelAlias,
}

func runDelBlob(a *app, args []string) error {
	refs, bad := blobRefs(args)
	if bad < len(args) {
		return a.badRef(args[bad])
	}
	if len(args) == 0 {
		// Multi-platform lists are resolved whatever DXF_PLATFORM says: a
		// deletion is never per platform.
		al, err := a.stdinAlias("")
		if err != nil {
			return err
		}
		for _, d := range aliasBlobs(al) {
			refs = append(refs, blobstore.BlobRef(d))
		}
	}
	o := a.cfg.DeleteOptions()
	res, err := a.repo.DeleteBlobs(a.ctx, refs, o)
	if res != nil {
		textfmt.DeleteReport(a.stdout, a.stderr, res, o)
	}
	return err
}

// aliasBlobs lists the layers of an alias, of every platform for a list.
func aliasBlobs(al *blobstore.Alias) []v1.Hash {
	if m := al.Image(); m != nil {
		return m.Digests()
	}
	var ds []v1.Hash
	for _, p := range al.PlatformNames() {
		ds = append(ds, al.Platforms[p].Digests()...)
	}
	return ds
}

func runDelAlias(a *app, args []string) error {
	o := a.cfg.DeleteOptions()
	res, err := a.repo.DeleteAliases(a.ctx, args, o)
	if res == nil {
		return err
	}
	if !o.DryRun {
		for _, d := range res.Aliases {
			if _, werr := fmt.Fprint(a.stdout, textfmt.DeletedAlias(d.Manifest)); werr != nil {
				return werr
			}
		}
	}
	textfmt.DeleteReport(a.stdout, a.stderr, res, o)
	return err
}
