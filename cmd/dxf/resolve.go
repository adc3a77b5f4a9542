package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/cmd/internal/errtext"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// aliasArg tells an "@alias" argument from a digest, as the blob commands
// (push-blob, pull-blob, blob-size, mount-blob, del-blob) write them.
func aliasArg(arg string) (name string, isAlias bool) {
	if strings.HasPrefix(arg, "@") {
		return arg[1:], true
	}
	return arg, false
}

// parseDigestArg parses a digest given on the command line. The Python tool
// sent any string to the registry, which refused it (exit status 1); we
// refuse it before sending, with the same status.
func parseDigestArg(arg string) (v1.Hash, error) {
	d, err := blobstore.ParseDigest(arg)
	if err != nil {
		return v1.Hash{}, errtext.DigestHint(arg)
	}
	return d, nil
}

// stdinManifest reads the manifest JSON on standard input.
func (a *app) stdinManifest() (*blobstore.Manifest, error) {
	raw, err := io.ReadAll(io.LimitReader(a.stdin, blobstore.MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest on standard input: %w", err)
	}
	m, err := blobstore.ParseManifest(raw, "")
	if err != nil {
		return nil, fmt.Errorf("the manifest on standard input: %w", err)
	}
	return m, nil
}

// stdinAlias resolves the manifest on standard input as an alias would be
// (fetching each platform's manifest of a list), for platform ("" for all).
func (a *app) stdinAlias(platform string) (*blobstore.Alias, error) {
	m, err := a.stdinManifest()
	if err != nil {
		return nil, err
	}
	return a.repo.ResolvePlatforms(a.ctx, m, platform)
}

// resolveAliases resolves the named aliases (or, with none, the manifest on
// standard input) with the selected platform, --jobs at a time, in order.
func (a *app) resolveAliases(names []string) ([]*blobstore.Alias, error) {
	if len(names) == 0 {
		al, err := a.stdinAlias(a.cfg.Platform)
		if err != nil {
			return nil, err
		}
		return []*blobstore.Alias{al}, nil
	}
	refs := make([]blobstore.Ref, len(names))
	for i, name := range names {
		refs[i] = blobstore.AliasRef(name)
	}
	return a.repo.GetAliases(a.ctx, refs, a.cfg.Platform, blobstore.WithJobs(a.cfg.Jobs))
}

// blobRefs maps the arguments of a blob command (digests and @aliases) to
// library refs, up to the first that is neither: bad is its index
// (len(args) when there is none), and [app.badRef] of args[bad] its error.
// pull-blob and blob-size act on refs first and then report it, so that
// the error is that of the first argument that fails; del-blob deletes
// nothing then.
func blobRefs(args []string) (refs []blobstore.Ref, bad int) {
	for i, arg := range args {
		if name, isAlias := aliasArg(arg); isAlias {
			refs = append(refs, blobstore.AliasRef(name))
			continue
		}
		d, err := parseDigestArg(arg)
		if err != nil {
			return refs, i
		}
		refs = append(refs, blobstore.BlobRef(d))
	}
	return refs, len(args)
}

// badRef is the error for an argument that blobRefs found to be neither a
// digest nor an @alias (with digestArg's hint).
func (a *app) badRef(arg string) error {
	_, err := a.digestArg(a.ctx, arg)
	return err
}

// digestArg parses a digest argument of a blob command. A word that is not
// a digest but names an alias of the repository gets "did you mean @word?":
// blob commands take aliases written @name.
func (a *app) digestArg(ctx context.Context, arg string) (v1.Hash, error) {
	d, err := parseDigestArg(arg)
	if err == nil || strings.Contains(arg, ":") || blobstore.ValidateAlias(arg) != nil || errtext.IsHex(arg) {
		return d, err
	}
	if _, aerr := a.repo.GetAlias(ctx, arg, ""); aerr == nil {
		return d, &errtext.Reworded{Msg: fmt.Sprintf("%q is not a digest: did you mean @%s? (the alias %s exists, and blob commands take aliases written @name)", arg, arg, arg), Err: err}
	}
	return d, err
}
