package dockercfg

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLoadOrder: the Docker config wins when it exists; else
// REGISTRY_AUTH_FILE, else Podman's auth.json (the runtime directory's
// first); with none, an empty configuration to be saved where docker login
// would create it. Filename is always the file read.
func TestLoadOrder(t *testing.T) {
	home, run, xdg, other := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	env := map[string]string{"HOME": home, "XDG_RUNTIME_DIR": run, "XDG_CONFIG_HOME": xdg}
	lookup := func(k string) string { return env[k] }
	write := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(`{"auths":{"h":{"auth":"dTpw"}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	check := func(want string) {
		t.Helper()
		cf, err := Load(lookup)
		if err != nil {
			t.Fatal(err)
		}
		if cf.Filename != want {
			t.Errorf("Load read %s, want %s", cf.Filename, want)
		}
	}
	check(filepath.Join(home, ".docker", "config.json"))
	write(filepath.Join(xdg, "containers", "auth.json"))
	check(filepath.Join(xdg, "containers", "auth.json"))
	write(filepath.Join(run, "containers", "auth.json"))
	check(filepath.Join(run, "containers", "auth.json"))
	env["REGISTRY_AUTH_FILE"] = filepath.Join(other, "auth.json")
	write(env["REGISTRY_AUTH_FILE"])
	check(env["REGISTRY_AUTH_FILE"])
	write(filepath.Join(home, ".docker", "config.json"))
	check(filepath.Join(home, ".docker", "config.json"))
	env["DOCKER_CONFIG"] = filepath.Join(other, "docker")
	check(filepath.Join(other, "docker", "config.json"))
}
