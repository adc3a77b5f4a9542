package main

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

// openLayout opens the repository kept in an OCI image layout on disk:
// repo itself when it is oci:DIR, else the layout root/repo of
// DXF_HOST=oci:ROOT (repository fred of DXF_HOST=oci:./data is the layout
// ./data/fred). Commands that only a registry can answer say so.
func openLayout(cmd *command, root, repo string, opts []blobstore.Option) (*blobstore.Repository, error) {
	if cmd.noRepo || cmd == authCommand {
		what := blobstore.LayoutPrefix + root
		if root == "" {
			what = "an oci: path"
		}
		return nil, fmt.Errorf("%s: %s names OCI image layouts on disk, not a registry: they need no login, and %s needs a registry (set DXF_HOST to host[:port])", cmd.name, what, cmd.name)
	}
	dir, ok := strings.CutPrefix(repo, blobstore.LayoutPrefix)
	if !ok {
		return layoutOfRoot(root, repo, opts)
	}
	if dir == "" {
		return nil, usagef(cmd, "oci: needs the layout's directory, e.g. oci:./data/fred")
	}
	return blobstore.OpenLayout(dir, opts...)
}

// layoutOfRoot opens repository repo of DXF_HOST=oci:ROOT, the layout
// ROOT/repo, as blobstore.New reads such a host; an empty ROOT (DXF_HOST=oci:)
// is the current directory.
func layoutOfRoot(root, repo string, opts []blobstore.Option) (*blobstore.Repository, error) {
	return blobstore.New(blobstore.LayoutPrefix+cmp.Or(root, "."), repo, opts...)
}
