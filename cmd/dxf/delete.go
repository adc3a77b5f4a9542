package main

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var delBlobCommand = &command{
	name:     "del-blob",
	flags:    []string{"force", "dry-run", "jobs"},
	synopsis: "<repo> [<digest>|@<alias>]...",
	summary:  "delete blobs no other alias uses",
	help: `Delete blobs. An @alias stands for its blobs, and the alias itself is removed
too (that alias only, as del-alias does); for a multi-platform alias, each
platform's blobs. Config blobs are never deleted, and a blob named twice is
deleted once. The registry must allow deletes.

Every alias of the repository is read first. Of an @alias's blobs, those
another alias uses are kept: each is named on standard error with the
aliases that use it. A digest that an alias uses is refused (exit status 1),
naming the alias, before anything is deleted. --force does what the Python
tool did: each @alias's manifest is deleted by digest (and with it every
alias naming the same manifest) and every blob named goes, whoever uses it.
--dry-run deletes nothing and prints what would go.

With no arguments, delete the blobs of the manifest JSON read from standard
input (the manifest itself is not deleted), refusing those an alias uses.

Examples:
  dxf del-blob fred/datalogger sha256:9f86d081884c7d65...
  dxf del-blob fred/datalogger @may15-readings`,
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
	help: `Delete each alias, and only it: other aliases naming the same manifest stay.
Print the digests of the blobs it pointed to, which stay unless --prune is
given. For a multi-platform alias a JSON object of platform → that
platform's manifest digest is printed.

The registry is asked to delete the tag by name; one that cannot has the
alias pointed at a throw-away manifest, which is then deleted by digest;
if that fails too and other aliases name the same manifest, the alias is
not deleted and the error names them (see docs/deleting.md).

With --prune, every remaining alias is then read and what the deleted
aliases used that no remaining alias uses is deleted: their manifests,
platform manifests, configs and layers (split chunks shared with other
versions stay). What goes and what stays is said on standard error. With
--dry-run nothing is deleted: each blob that would go is printed as
"<digest> <size>", then the total. An alias given as a digest deletes that
manifest, and with it every alias naming it.

Examples:
  dxf del-alias fred/datalogger may15-readings
  dxf del-alias --prune --dry-run fred/datalogger may15-readings`,
	aliases: allAliases,
	maxArgs: -1,
	run:     runDelAlias,
}

func runDelBlob(a *app, args []string) error {
	var refs []blobstore.Ref
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
	for _, arg := range args {
		name, isAlias := aliasArg(arg)
		if isAlias {
			refs = append(refs, blobstore.AliasRef(name))
			continue
		}
		d, err := a.digestArg(a.ctx, name)
		if err != nil {
			return err
		}
		refs = append(refs, blobstore.BlobRef(d))
	}
	o := a.cfg.safe.deleteOptions(a.cfg.jobs)
	res, err := a.repo.DeleteBlobs(a.ctx, refs, o)
	if res != nil {
		a.reportDelete(res, o)
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
	o := a.cfg.safe.deleteOptions(a.cfg.jobs)
	res, err := a.repo.DeleteAliases(a.ctx, args, o)
	if res == nil {
		return err
	}
	if !o.DryRun {
		for _, d := range res.Aliases {
			if werr := a.printDeletedAlias(d.Manifest); werr != nil {
				return werr
			}
		}
	}
	a.reportDelete(res, o)
	return err
}

// printDeletedAlias prints what the Python tool did: the digests of the
// alias's blobs, or for a list its platforms' manifest digests.
func (a *app) printDeletedAlias(m *blobstore.Manifest) error {
	var out string
	if m.IsList() {
		children := make(map[string]string, len(m.Manifests))
		for _, e := range m.Manifests {
			children[e.Platform] = e.Digest.String() // later entries win, as in Python
		}
		out = textfmt.PyJSON(children) + "\n"
	} else {
		out = strings.Join(digestStrings(m.Digests()), "\n")
		if out != "" {
			out += "\n"
		}
	}
	_, err := fmt.Fprint(a.stdout, out)
	return err
}
