package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dxf-go/dxf/internal/errtext"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var copyCommand = &command{
	name:     "copy",
	synopsis: "<src>[@alias] <dst>[@alias]",
	summary:  "copy an alias, with everything it reaches, to another repository or registry",
	flags:    []string{"jobs", "progress"},
	noRepo:   true,
	minArgs:  2,
	maxArgs:  2,
	validate: func(cmd *command, args []string) error {
		for i, arg := range args {
			_, alias, err := splitCopySide(arg)
			switch {
			case err != nil:
				return usagef(cmd, "%s", err)
			case alias == "" && i == 0:
				return usagef(cmd, "%s: the source needs an alias (%s@alias)", arg, arg)
			case alias != "":
				if err := validAlias(cmd, alias); err != nil {
					return err
				}
			}
		}
		return nil
	},
	run: runCopy,
}

// splitCopySide separates "where[@alias]": the alias is what follows the
// last "@".
func splitCopySide(arg string) (where, alias string, err error) {
	where, alias = arg, ""
	if i := strings.LastIndex(arg, "@"); i >= 0 {
		where, alias = arg[:i], arg[i+1:]
	}
	if where == "" || where == blobstore.LayoutPrefix {
		return "", "", fmt.Errorf("%q: want a repository, host[:port]/repository or oci:PATH", arg)
	}
	return where, alias, nil
}

// copySideHost returns the registry host a side names ("" for a repository
// on DXF_HOST or a layout) and the repository, and whether it asks for
// plain HTTP. As docker does, a first component with a dot or a colon, or
// "localhost", is a host.
func copySideHost(where string) (host, repo string, insecure bool) {
	switch {
	case strings.HasPrefix(where, "http://"):
		insecure = true
		where = where[len("http://"):]
	case strings.HasPrefix(where, "https://"):
		where = where[len("https://"):]
	}
	first, rest, ok := strings.Cut(where, "/")
	if ok && rest != "" && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, rest, insecure
	}
	return "", where, insecure
}

// copyDefaultHost is the registry a copy uses as DXF_HOST when none is set:
// that of the first side naming one (the source's, usually); with both
// sides layouts, "oci:" (no registry at all).
func copyDefaultHost(args []string) string {
	layouts := 0
	for _, arg := range args {
		where, _, err := splitCopySide(arg)
		if err != nil {
			continue
		}
		if strings.HasPrefix(where, blobstore.LayoutPrefix) {
			layouts++
			continue
		}
		if host, _, insecure := copySideHost(where); host != "" {
			if insecure {
				return "http://" + host
			}
			return host
		}
	}
	if layouts == len(args) {
		return blobstore.LayoutPrefix
	}
	return ""
}

// copyRepo opens one side of a copy. A registry other than DXF_HOST's gets
// the same settings without DXF_HOST's credentials (its own come from the
// Docker config); it is added to others, whose secrets are scrubbed from
// messages.
func (a *app) copyRepo(where string, others *[]*blobstore.Registry) (*blobstore.Repository, error) {
	if dir, ok := strings.CutPrefix(where, blobstore.LayoutPrefix); ok {
		opts, err := a.cfg.options(true)
		if err != nil {
			return nil, err
		}
		return blobstore.OpenLayout(dir, opts...)
	}
	host, repo, insecure := copySideHost(where)
	if host == "" && a.cfg.layout {
		// DXF_HOST=oci:ROOT: repository fred/data is the layout ROOT/fred/data.
		if err := blobstore.ValidateRepository(repo); err != nil {
			return nil, err
		}
		opts, err := a.cfg.options(true)
		if err != nil {
			return nil, err
		}
		return blobstore.OpenLayout(filepath.Join(a.cfg.layoutRoot, filepath.FromSlash(repo)), opts...)
	}
	if host == "" || host == a.cfg.host {
		if insecure && !a.cfg.insecure {
			return nil, usagef(a.cmd, "%s: plain HTTP for DXF_HOST's registry is asked for with DXF_INSECURE=1 (or DXF_HOST=http://%s)", where, a.cfg.host)
		}
		return a.reg.Repository(repo)
	}
	c := *a.cfg
	c.token, c.tokenSource, c.credSource = "", "", ""
	c.haveUser, c.username, c.password = false, "", ""
	c.authorization, c.authHost = "", ""
	c.insecure = c.insecure || insecure
	opts, err := c.options(true)
	if err != nil {
		return nil, err
	}
	reg, err := blobstore.NewRegistry(host, opts...)
	if err != nil {
		return nil, err
	}
	*others = append(*others, reg)
	return reg.Repository(repo)
}

func runCopy(a *app, args []string) (err error) {
	var others []*blobstore.Registry
	defer func() {
		// The other registry's secrets are scrubbed too (DXF_HOST's are,
		// by run).
		for _, reg := range others {
			if err != nil {
				err = &errtext.Redacted{Err: err, Redact: reg.Redact}
			}
		}
	}()
	srcWhere, srcAlias, _ := splitCopySide(args[0])
	dstWhere, dstAlias, _ := splitCopySide(args[1])
	src, err := a.copyRepo(srcWhere, &others)
	if err != nil {
		return err
	}
	dst, err := a.copyRepo(dstWhere, &others)
	if err != nil {
		return err
	}
	res, err := blobstore.Copy(a.ctx, src, dst, srcAlias, dstAlias, blobstore.WithJobs(a.cfg.jobs), a.copyProgress())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(a.stdout, res.Manifest.Digest)
	return err
}

// copyProgress draws a bar per blob streamed; blobs the target had or
// mounted count as skipped.
func (a *app) copyProgress() blobstore.TransferOption {
	return blobstore.WithProgress(a.blobBars(nil, func(int) bool { return true }, false))
}
