package main

import (
	"errors"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/dxf-go/dxf/cmd/internal/buildinfo"
	"github.com/dxf-go/dxf/cmd/internal/cliconfig"
	"github.com/dxf-go/dxf/internal/envconfig"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// loadConfig resolves the configuration of this run (see
// [cliconfig.Load]); a malformed flag is a usage error.
func loadConfig(fs *pflag.FlagSet, env cliconfig.Env, stdin io.Reader) (*cliconfig.Config, error) {
	c, err := cliconfig.Load(fs, env, stdin)
	var fe *envconfig.FlagError
	if errors.As(err, &fe) {
		return nil, usagef(nil, "%v", fe)
	}
	return c, err
}

// userAgent is the User-Agent dxf sends.
func userAgent() string { return "dxf-go/" + buildinfo.Version(version) }

// hostInRepo accepts a repository written with its registry, as docker,
// crane and oras take it ("localhost:5000/fred/data"): with DXF_HOST unset
// the host becomes the registry; with DXF_HOST set to that same host it is
// dropped. Otherwise the argument is left as it is (a first component
// with a dot is a valid repository name on DXF_HOST, as in the Python
// tool), except that one with a port, which cannot be a repository, is
// refused with an explanation.
func hostInRepo(fs *pflag.FlagSet, env cliconfig.Env, cmd *command, repo string) (string, error) {
	first, rest := blobstore.SplitHost(repo)
	if cmd.noRepo || first == "" {
		return repo, nil
	}
	host := env["DXF_HOST"]
	if fs.Changed("host") {
		host = fs.Lookup("host").Value.String()
	}
	switch bare, _ := envconfig.SplitScheme(host); {
	case host == "":
		_ = fs.Set("host", first)
		return rest, nil
	case bare == first:
		return rest, nil
	case strings.Contains(first, ":"):
		return "", usagef(cmd, "repository %q names the registry %s, but DXF_HOST is %s: give the repository alone (%s), with DXF_HOST=%s for that registry", repo, first, bare, rest, first)
	}
	return repo, nil
}
