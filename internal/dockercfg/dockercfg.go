// Package dockercfg finds and reads the Docker client configuration (or
// Podman's auth file): the one reader behind both the library's default
// keychain and the dxf login and logout commands, so that what login writes
// is what later commands read, and a 401's hint names the file that was
// read.
package dockercfg

import (
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
)

// Lookup returns the value of an environment variable, "" if unset
// (os.Getenv, or a table in tests).
type Lookup func(key string) string

// Load finds the configuration the way go-containerregistry's default
// keychain (and docker, crane, oras) look for it: $DOCKER_CONFIG/config.json
// or ~/.docker/config.json if either exists (the first if DOCKER_CONFIG is
// set); else $REGISTRY_AUTH_FILE; else Podman's auth.json
// ($XDG_RUNTIME_DIR/containers/auth.json, else
// $XDG_CONFIG_HOME/containers/auth.json or ~/.config/containers/auth.json).
// If none exists, the configuration is empty and would be saved where
// docker login creates it ($DOCKER_CONFIG or ~/.docker). The result's
// Filename is the file read, which Save writes.
func Load(env Lookup) (*configfile.ConfigFile, error) {
	home := env("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	dockerDir := env("DOCKER_CONFIG")
	if dockerDir == "" {
		dockerDir = filepath.Join(home, ".docker")
	}
	if isFile(filepath.Join(dockerDir, config.ConfigFileName)) || (home != "" && isFile(filepath.Join(home, ".docker", config.ConfigFileName))) {
		return config.Load(dockerDir)
	}
	for _, p := range authFiles(env, home) {
		if !isFile(p) {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cf, err := config.LoadFromReader(f)
		if err != nil {
			return nil, err
		}
		cf.Filename = p
		return cf, nil
	}
	return config.Load(dockerDir)
}

// authFiles are the auth files other than Docker's, in order:
// $REGISTRY_AUTH_FILE, then Podman's.
func authFiles(env Lookup, home string) []string {
	var files []string
	if f := env("REGISTRY_AUTH_FILE"); f != "" {
		files = append(files, filepath.Clean(f))
	}
	if d := env("XDG_RUNTIME_DIR"); d != "" {
		files = append(files, filepath.Join(d, "containers", "auth.json"))
	}
	configDir := env("XDG_CONFIG_HOME")
	if configDir == "" && home != "" {
		configDir = filepath.Join(home, ".config")
	}
	if configDir != "" {
		files = append(files, filepath.Join(configDir, "containers", "auth.json"))
	}
	return files
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
