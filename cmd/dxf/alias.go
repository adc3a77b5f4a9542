package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/cmd/internal/errtext"
	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var setAliasCommand = &command{
	name:     "set-alias",
	flags:    []string{"jobs"},
	synopsis: "<repo> <alias> <digest|file>...",
	summary:  "point an alias at blobs and print its manifest",
	minArgs:  2,
	aliases:  firstIsAlias,
	maxArgs:  -1,
	run:      runSetAlias,
}

var getAliasCommand = &command{
	name:            "get-alias",
	flags:           []string{"platform", "jobs"},
	synopsis:        "<repo> [<alias>...]",
	summary:         "print the blob digests an alias points to",
	aliases:         allAliases,
	maxArgs:         -1,
	manifestOnStdin: true,
	run:             runGetAlias,
}

var getDigestCommand = &command{
	name:            "get-digest",
	flags:           []string{"platform", "jobs"},
	synopsis:        "<repo> [<alias>...]",
	summary:         "print the config digest of aliases",
	aliases:         allAliases,
	maxArgs:         -1,
	manifestOnStdin: true,
	run:             runGetDigest,
}

var getManifestCommand = &command{
	name:     "get-manifest",
	flags:    []string{"platform"},
	synopsis: "<repo> <alias>...",
	summary:  "print the manifest of aliases",
	aliases:  allAliases,
	maxArgs:  -1,
	run:      runGetManifest,
}

func runSetAlias(a *app, args []string) error {
	alias, names := args[0], args[1:]
	digests, err := a.blobDigests(names)
	if err != nil {
		return err
	}
	m, err := a.repo.SetAlias(a.ctx, alias, digests...)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(m.Raw)
	return err
}

// blobDigests are the digests the arguments of set-alias name: the argument
// itself, or for a path (anything with a separator, the Python rule) the
// hash of that file. The error is that of the first argument that fails.
func (a *app) blobDigests(args []string) ([]v1.Hash, error) {
	digests := make([]v1.Hash, len(args))
	var paths []string
	var at []int // the index in args of each of paths
	var badErr error
	for i, arg := range args {
		if strings.ContainsRune(arg, '/') || strings.ContainsRune(arg, os.PathSeparator) {
			paths, at = append(paths, arg), append(at, i)
			continue
		}
		d, err := parseDigestArg(arg)
		if err != nil {
			fi, serr := os.Stat(arg) //nolint:gosec // a file the user named
			if serr == nil && fi.Mode().IsRegular() {
				err = &errtext.Reworded{Msg: fmt.Sprintf("%q is a file, not a digest: write ./%s to use its digest (set-alias hashes files, push-blob uploads them)", arg, arg), Err: err}
			}
			badErr = err // reported unless a file before it fails
			break
		}
		digests[i] = d
	}
	hashed, err := blobstore.HashFiles(a.ctx, paths, blobstore.WithJobs(a.cfg.Jobs))
	if err != nil {
		return nil, err
	}
	if badErr != nil {
		return nil, badErr
	}
	for k, i := range at {
		digests[i] = hashed[k]
	}
	return digests, nil
}

func runGetAlias(a *app, args []string) error {
	aliases, err := a.resolveAliases(args)
	if err != nil {
		return err
	}
	var out strings.Builder
	for _, al := range aliases {
		if m := al.Image(); m != nil {
			for _, d := range m.Digests() {
				out.WriteString(d.String() + "\n")
			}
			continue
		}
		out.WriteString(textfmt.PlatformDigests(al) + "\n")
	}
	_, err = fmt.Fprint(a.stdout, out.String())
	return err
}

// errNoConfig: a Docker schema 1 manifest has no config, hence no digest
// for get-digest.
var errNoConfig = errors.New("the manifest has no config (Docker schema 1), so no config digest")

func configDigest(m *blobstore.Manifest) (string, error) {
	if m.Config.Digest == (v1.Hash{}) {
		return "", fmt.Errorf("get digest of manifest %s: %w", m.Digest, errNoConfig)
	}
	return m.Config.Digest.String(), nil
}

func runGetDigest(a *app, args []string) error {
	aliases, err := a.resolveAliases(args)
	if err != nil {
		return err
	}
	var out strings.Builder
	for _, al := range aliases {
		if m := al.Image(); m != nil {
			d, err := configDigest(m)
			if err != nil {
				return err
			}
			out.WriteString(d + "\n")
			continue
		}
		digests := make(map[string]string, len(al.Platforms))
		for p, m := range al.Platforms {
			if digests[p], err = configDigest(m); err != nil {
				return err
			}
		}
		out.WriteString(textfmt.PyJSON(digests) + "\n")
	}
	_, err = fmt.Fprint(a.stdout, out.String())
	return err
}

func runGetManifest(a *app, args []string) error {
	for _, name := range args {
		al, err := a.repo.GetAlias(a.ctx, name, a.cfg.Platform)
		if err != nil {
			return err
		}
		var out []byte
		if m := al.Image(); m != nil {
			out = m.Raw
		} else {
			out = []byte(textfmt.PyJSON(textfmt.PerPlatform(al, func(m *blobstore.Manifest) string { return string(m.Raw) })))
		}
		if _, err := a.stdout.Write(out); err != nil {
			return err
		}
	}
	return nil
}
