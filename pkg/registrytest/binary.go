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
	binaryMu   sync.Mutex
	binaryPath string
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
	binaryMu.Lock()
	defer binaryMu.Unlock()
	if binaryPath != "" {
		return binaryPath, nil
	}
	dir, err := toolDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "registry")
	if isFile(bin) {
		binaryPath = bin
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("registrytest: create cache directory: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return "", fmt.Errorf("registrytest: lock cache directory: %w", err)
	}
	defer unlock()
	if isFile(bin) { // another process installed it while we waited
		binaryPath = bin
		return bin, nil
	}
	if err := install(ctx, dir, bin); err != nil {
		return "", err
	}
	binaryPath = bin
	return bin, nil
}

// toolDir is the directory holding the cached registry binary.
func toolDir() (string, error) {
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
	return filepath.Join(root, "tools", "registry-"+RegistryVersion), nil
}

func install(ctx context.Context, dir, bin string) error {
	tmp, err := os.MkdirTemp(dir, "install-")
	if err != nil {
		return fmt.Errorf("registrytest: %w", err)
	}
	defer os.RemoveAll(tmp)

	pkg := RegistryModule + "@" + RegistryVersion
	fmt.Fprintf(os.Stderr, "registrytest: installing %s into %s (first run only; this takes a couple of minutes)\n", pkg, dir)
	cmd := exec.CommandContext(ctx, "go", "install", pkg)
	cmd.Dir = tmp // outside any module, so the current go.mod plays no part
	cmd.Env = append(os.Environ(),
		"GOBIN="+tmp,
		"GOFLAGS=", // e.g. -mod=vendor would break installing pkg@version
		"GOWORK=off",
		"CGO_ENABLED=0",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("registrytest: go install %s: %w\n%s", pkg, err, tail(string(out), 4096))
	}
	if err := os.Rename(filepath.Join(tmp, "registry"), bin); err != nil {
		return fmt.Errorf("registrytest: install registry binary: %w", err)
	}
	fmt.Fprintf(os.Stderr, "registrytest: installed %s\n", bin)
	return nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
