package main

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

var delBlobCommand = &command{
	name:     "del-blob",
	flags:    []string{"jobs"},
	synopsis: "<repo> [<digest>|@<alias>]...",
	summary:  "delete blobs",
	help: `Delete blobs. An @alias stands for its blobs and, as with the Python tool, the
alias itself is deleted too (its manifest, and so every alias naming the same
manifest); for a multi-platform alias, the list, each platform's manifest and
each platform's blobs. Config blobs are never deleted, and a blob named twice
is deleted once. The registry must allow deletes.

With no arguments, delete the blobs of the manifest JSON read from standard
input (the manifest itself is not deleted).

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
	synopsis: "<repo> <alias>...",
	summary:  "delete aliases, keeping their blobs",
	help: `Delete each alias (its manifest, by digest: on most registries this removes
every alias naming the same manifest) and print the digests of the blobs it
pointed to, which stay. For a multi-platform alias only the list is deleted,
and a JSON object of platform → that platform's manifest digest is printed.

Example:
  dxf del-alias fred/datalogger may15-readings`,
	aliases: allAliases,
	maxArgs: -1,
	run:     runDelAlias,
}

func runDelBlob(a *app, args []string) error {
	// First every alias goes and the blobs are collected, then the blobs
	// go: the Python tool's order.
	var blobs []v1.Hash
	if len(args) == 0 {
		// Multi-platform lists are resolved whatever DXF_PLATFORM says: a
		// deletion is never per platform.
		al, err := a.stdinAlias("")
		if err != nil {
			return err
		}
		blobs = aliasBlobs(al)
	}
	for _, arg := range args {
		name, isAlias := aliasArg(arg)
		if !isAlias {
			d, err := a.digestArg(a.ctx, name)
			if err != nil {
				return err
			}
			blobs = append(blobs, d)
			continue
		}
		al, err := a.repo.GetAlias(a.ctx, name, "")
		if err != nil {
			return err
		}
		if err := a.repo.DeleteAliasManifest(a.ctx, name, al.Manifest.Digest); err != nil {
			return err
		}
		for _, p := range al.PlatformNames() {
			if err := a.repo.DeleteManifest(a.ctx, al.Platforms[p].Digest); err != nil {
				return err
			}
		}
		blobs = append(blobs, aliasBlobs(al)...)
	}
	seen := make(map[v1.Hash]bool, len(blobs))
	for _, d := range blobs {
		if seen[d] {
			continue
		}
		seen[d] = true
		if err := a.repo.DeleteBlob(a.ctx, d); err != nil {
			return err
		}
	}
	return nil
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
	for _, name := range args {
		m, err := a.repo.DeleteAlias(a.ctx, name)
		if err != nil {
			return err
		}
		var out string
		if m.IsList() {
			children := make(map[string]string, len(m.Manifests))
			for _, e := range m.Manifests {
				children[e.Platform] = e.Digest.String() // later entries win, as in Python
			}
			out = pyJSON(children) + "\n"
		} else {
			out = strings.Join(digestStrings(m.Digests()), "\n")
			if out != "" {
				out += "\n"
			}
		}
		if _, err := fmt.Fprint(a.stdout, out); err != nil {
			return err
		}
	}
	return nil
}
