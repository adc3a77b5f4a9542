package main

import (
	"fmt"
	"strings"

	"github.com/dxf-go/dxf/cmd/internal/errtext"
	"github.com/dxf-go/dxf/internal/envconfig"
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
			loc, err := blobstore.ParseLocation(arg)
			switch {
			case err != nil:
				return usagef(cmd, "%s", err)
			case loc.Alias == "" && i == 0:
				return usagef(cmd, "%s: the source needs an alias (%s@alias)", arg, arg)
			case loc.Alias != "":
				if err := validAlias(cmd, loc.Alias); err != nil {
					return err
				}
			}
		}
		return nil
	},
	run: runCopy,
}

// copyDefaultHost is the registry a copy uses as DXF_HOST when none is set:
// that of the first side naming one (the source's, usually); with both
// sides layouts, "oci:" (no registry at all).
func copyDefaultHost(args []string) string {
	layouts := 0
	for _, arg := range args {
		loc, err := blobstore.ParseLocation(arg)
		switch {
		case err != nil:
		case loc.Layout != "":
			layouts++
		case loc.Host != "" && loc.Insecure:
			return "http://" + loc.Host
		case loc.Host != "":
			return loc.Host
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
func (a *app) copyRepo(loc blobstore.Location, others *[]*blobstore.Registry) (*blobstore.Repository, error) {
	host, repo, insecure := loc.Host, loc.Repo, loc.Insecure
	if loc.Layout != "" || host == "" && a.cfg.Layout {
		opts, err := a.cfg.Options(true, userAgent())
		if err != nil {
			return nil, err
		}
		if loc.Layout != "" {
			return blobstore.OpenLayout(loc.Layout, opts...)
		}
		return layoutOfRoot(a.cfg.LayoutRoot, repo, opts)
	}
	if host == "" || host == a.cfg.Host {
		if insecure && !a.cfg.Insecure {
			where := "http://" + strings.TrimPrefix(host+"/", "/") + repo
			return nil, usagef(a.cmd, "%s: plain HTTP for DXF_HOST's registry is asked for with DXF_INSECURE=1 (or DXF_HOST=http://%s)", where, a.cfg.Host)
		}
		return a.reg.Repository(repo)
	}
	c := *a.cfg
	c.Credentials, c.TokenSource, c.CredSource, c.AuthHost = envconfig.Credentials{}, "", "", ""
	c.Insecure = c.Insecure || insecure
	opts, err := c.Options(true, userAgent())
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
	srcLoc, _ := blobstore.ParseLocation(args[0])
	dstLoc, _ := blobstore.ParseLocation(args[1])
	src, err := a.copyRepo(srcLoc, &others)
	if err != nil {
		return err
	}
	dst, err := a.copyRepo(dstLoc, &others)
	if err != nil {
		return err
	}
	res, err := blobstore.Copy(a.ctx, src, dst, srcLoc.Alias, dstLoc.Alias, blobstore.WithJobs(a.cfg.Jobs), a.copyProgress(),
		blobstore.WithFormatNotice(func(msg string) { fmt.Fprintln(a.stderr, "dxf: "+msg) }))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(a.stdout, res.Manifest.Digest)
	return err
}

// copyProgress draws a bar per blob streamed; blobs the target had or
// mounted count as skipped.
func (a *app) copyProgress() blobstore.TransferOption {
	return blobstore.WithProgress(a.progress.BlobBars(nil, func(int) bool { return true }, false))
}
