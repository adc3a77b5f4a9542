package registrytest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// LegacyPackage is the Debian package providing the older Distribution
// registry (2.8), github.com/docker/distribution, as /usr/bin/docker-registry.
// It cannot be built with "go install": its dependencies predate Go modules.
const LegacyPackage = "docker-registry"

// LegacyVersionPrefix is what the legacy registry's version must start with.
const LegacyVersionPrefix = "2.8"

// LegacyBinary returns the path of the Distribution 2.8 registry binary,
// taken from the Debian package [LegacyPackage] and cached like [Binary]'s:
// the installed /usr/bin/docker-registry if there is one, else the package
// is fetched with "apt-get download" (after "apt-get update" when the
// package lists lack it and we are root) and unpacked with dpkg-deb, without
// installing it. It fails on machines without apt.
func LegacyBinary(ctx context.Context) (string, error) {
	bin, err := cachedTool(ctx, "docker-registry-"+LegacyVersionPrefix, "docker-registry", func(tmp string) error {
		return fetchLegacy(ctx, tmp)
	})
	if err != nil {
		return "", err
	}
	return bin, nil
}

// LegacyVersion returns the version the legacy registry binary reports.
func LegacyVersion(ctx context.Context) (string, error) {
	bin, err := LegacyBinary(ctx)
	if err != nil {
		return "", err
	}
	return binaryVersion(ctx, bin)
}

// binaryVersion runs "bin --version": "<name> <module> <version>".
func binaryVersion(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("registrytest: %s --version: %w\n%s", bin, err, tail(string(out), 1024))
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return "", fmt.Errorf("registrytest: %s --version printed nothing", bin)
	}
	return f[len(f)-1], nil
}

func fetchLegacy(ctx context.Context, tmp string) error {
	dst := filepath.Join(tmp, "docker-registry")
	if installed := "/usr/bin/docker-registry"; isFile(installed) {
		if err := copyExecutable(installed, dst); err != nil {
			return err
		}
		return checkLegacy(ctx, dst)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("registrytest: Distribution %s comes from the Debian package %s, and this machine has no apt-get: %w", LegacyVersionPrefix, LegacyPackage, err)
	}
	fmt.Fprintf(os.Stderr, "registrytest: fetching the Debian package %s (Distribution %s; first run only)\n", LegacyPackage, LegacyVersionPrefix)
	download := func() ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", "download", LegacyPackage)
		cmd.Dir = tmp
		return cmd.CombinedOutput()
	}
	out, err := download()
	if err != nil && os.Geteuid() == 0 {
		if upd, uerr := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); uerr != nil {
			return fmt.Errorf("registrytest: apt-get update: %w\n%s", uerr, tail(string(upd), 4096))
		}
		out, err = download()
	}
	if err != nil {
		return fmt.Errorf("registrytest: apt-get download %s: %w\n%s", LegacyPackage, err, tail(string(out), 4096))
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, LegacyPackage+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("registrytest: apt-get download %s left %d packages", LegacyPackage, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], root).CombinedOutput(); err != nil {
		return fmt.Errorf("registrytest: dpkg-deb -x %s: %w\n%s", filepath.Base(debs[0]), err, tail(string(out), 4096))
	}
	if err := os.Rename(filepath.Join(root, "usr", "bin", "docker-registry"), dst); err != nil {
		return fmt.Errorf("registrytest: package %s: %w", filepath.Base(debs[0]), err)
	}
	return checkLegacy(ctx, dst)
}

// checkLegacy makes sure bin is a 2.8 registry.
func checkLegacy(ctx context.Context, bin string) error {
	v, err := binaryVersion(ctx, bin)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(strings.TrimPrefix(v, "v"), LegacyVersionPrefix) {
		return fmt.Errorf("registrytest: %s is version %s, not %s", bin, v, LegacyVersionPrefix)
	}
	return nil
}

func copyExecutable(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("registrytest: %w", err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil { //nolint:gosec // an executable
		return fmt.Errorf("registrytest: %w", err)
	}
	return nil
}
