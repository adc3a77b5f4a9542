package registrytest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// RegistryModule is the Go package installed to get the registry binary.
const RegistryModule = "github.com/distribution/distribution/v3/cmd/registry"

// RegistryVersion is the pinned version of [RegistryModule].
const RegistryVersion = "v3.1.2"

// CacheEnv names the environment variable that overrides the cache
// directory. When set, the binary lives at
// $DXF_TEST_CACHE/tools/registry-<version>/registry instead of under
// os.UserCacheDir()/dxf-go.
const CacheEnv = "DXF_TEST_CACHE"

var (
	binaryMu    sync.Mutex
	binaryPaths = map[string]string{} // cache directory name → binary path
)

// Binary returns the path of the registry binary, installing it first if it
// is not cached yet.
//
// The binary is cached at <cache>/tools/registry-<RegistryVersion>/registry,
// where <cache> is $DXF_TEST_CACHE if set and os.UserCacheDir()/dxf-go
// otherwise. A missing binary is built with "go install" (which takes a
// couple of minutes; a line on stderr says so) into a temporary directory
// next to its final place, then renamed into place. An flock on a lock file
// in the same directory makes concurrent callers, including other processes
// such as parallel test binaries, install it only once.
func Binary(ctx context.Context) (string, error) {
	return goTool(ctx, "registry-"+RegistryVersion, RegistryModule+"@"+RegistryVersion, "registry")
}

// goTool returns the path of the binary bin built from pkg ("path@version")
// and cached in <cache>/tools/<dirName>, running "go install" once if it
// is missing (see [Binary]).
func goTool(ctx context.Context, dirName, pkg, bin string) (string, error) {
	return cachedTool(ctx, dirName, bin, func(tmp string) error {
		return goInstall(ctx, tmp, pkg)
	})
}

// cachedTool returns <cache>/tools/<dirName>/<bin>, calling install with a
// temporary directory (next to the final place) to produce <tmp>/<bin> when
// it is missing. Concurrent callers, in this and other processes, install
// it once.
func cachedTool(ctx context.Context, dirName, bin string, install func(tmp string) error) (string, error) {
	binaryMu.Lock()
	defer binaryMu.Unlock()
	if p := binaryPaths[dirName]; p != "" {
		return p, nil
	}
	dir, err := toolDir(dirName)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, bin)
	if isFile(path) {
		binaryPaths[dirName] = path
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("registrytest: create cache directory: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return "", fmt.Errorf("registrytest: lock cache directory: %w", err)
	}
	defer unlock()
	if !isFile(path) { // another process may have installed it while we waited
		tmp, err := os.MkdirTemp(dir, "install-")
		if err != nil {
			return "", fmt.Errorf("registrytest: %w", err)
		}
		defer os.RemoveAll(tmp)
		if err := install(tmp); err != nil {
			return "", err
		}
		if err := os.Rename(filepath.Join(tmp, bin), path); err != nil {
			return "", fmt.Errorf("registrytest: install %s: %w", bin, err)
		}
		fmt.Fprintf(os.Stderr, "registrytest: installed %s\n", path)
	}
	binaryPaths[dirName] = path
	return path, nil
}

// toolDir is the directory holding a cached tool.
func toolDir(dirName string) (string, error) {
	root := os.Getenv(CacheEnv)
	if root == "" {
		user, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("registrytest: no cache directory (set %s): %w", CacheEnv, err)
		}
		root = filepath.Join(user, "dxf-go")
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "tools", dirName), nil
}

// goInstall runs "go install pkg" with GOBIN=dir.
func goInstall(ctx context.Context, dir, pkg string) error {
	fmt.Fprintf(os.Stderr, "registrytest: installing %s (first run only; this takes a couple of minutes)\n", pkg)
	cmd := exec.CommandContext(ctx, "go", "install", pkg)
	cmd.Dir = dir // outside any module, so the current go.mod plays no part
	cmd.Env = append(os.Environ(),
		"GOBIN="+dir,
		"GOFLAGS=", // e.g. -mod=vendor would break installing pkg@version
		"GOWORK=off",
		"CGO_ENABLED=0",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("registrytest: go install %s: %w\n%s", pkg, err, tail(string(out), 4096))
	}
	return nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// OrasModule is the Go package installed to get the oras CLI, an independent
// reader and writer of registries and OCI layouts for interoperability tests.
const OrasModule = "oras.land/oras/cmd/oras"

// OrasVersion is the pinned version of [OrasModule].
const OrasVersion = "v1.3.6"

// Oras returns the path of the oras binary, installing it into the cache
// first (as [Binary] does for the registry) if it is not there yet.
func Oras(ctx context.Context) (string, error) {
	return goTool(ctx, "oras-"+OrasVersion, OrasModule+"@"+OrasVersion, "oras")
}
