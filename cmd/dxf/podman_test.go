package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// TestLoginPodmanAuthFile: with no Docker config file but a Podman
// auth.json, the credentials are read from it (by the library's keychain),
// a 401 names it as the source tried, and dxf login stores the new
// credentials in it, where the next command finds them; no Docker config
// file appears.
func TestLoginPodmanAuthFile(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthHtpasswd})
	run := t.TempDir()
	d := newDXF(t, reg).with("DXF_TLSVERIFY", reg.CAFile, "DOCKER_CONFIG", "", "XDG_RUNTIME_DIR", run)
	podman := filepath.Join(run, "containers", "auth.json")
	if err := os.MkdirAll(filepath.Dir(podman), 0o700); err != nil {
		t.Fatal(err)
	}
	wrong := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":wrong-password"))
	if err := os.WriteFile(podman, []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+wrong+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := uniqueRepo("podman")
	f, h := d.file("day1.dat", []byte("podman"))

	d.fails(exitUnauthorized, []string{"push-blob", repo, f}, "unauthorized", "credentials tried: the Docker config's for "+reg.Host+" ("+podman+")")

	out := d.okIn(reg.Password+"\n", "login", "--username", reg.Username, "--password-stdin", reg.Host)
	if want := "stored in " + podman; !strings.Contains(out, want) {
		t.Errorf("login printed %q, want it to name %s", out, podman)
	}
	raw, err := os.ReadFile(podman)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Auths[reg.Host].Auth; got != base64.StdEncoding.EncodeToString([]byte(reg.Username+":"+reg.Password)) {
		t.Errorf("the Podman auth file holds %q for %s after login", got, reg.Host)
	}
	if _, err := os.Stat(filepath.Join(d.env["HOME"], ".docker", "config.json")); err == nil {
		t.Error("login wrote a Docker config file although the Podman auth file is the one read")
	}
	if got := d.ok("push-blob", repo, f); got != h+"\n" {
		t.Errorf("push-blob after login printed %q, want %s", got, h)
	}
}
