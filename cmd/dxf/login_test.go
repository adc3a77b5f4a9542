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

// credentialHelper is a Docker credential helper (the protocol of
// docker-credential-helpers: store, get, erase, list on standard input and
// output) keeping each registry's credentials in a file of dir.
const credentialHelper = `#!/usr/bin/env bash
set -eu
dir="$(dirname "$0")/store"
mkdir -p "$dir"
key() { printf '%s' "$1" | tr -c 'A-Za-z0-9' _; }
case "$1" in
store)
	json=$(cat)
	url=$(printf '%s' "$json" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
	printf '%s' "$json" >"$dir/$(key "$url")" ;;
get)
	url=$(cat)
	if [ -f "$dir/$(key "$url")" ]; then cat "$dir/$(key "$url")"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase)
	url=$(cat)
	rm -f "$dir/$(key "$url")" ;;
list)
	echo '{}' ;;
esac
`

// dockerConfig reads the Docker config file of d.
func dockerConfig(t *testing.T, d *dxf) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(d.env["DOCKER_CONFIG"], "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func storedAuth(t *testing.T, d *dxf, host string) string {
	t.Helper()
	auths, _ := dockerConfig(t, d)["auths"].(map[string]any)
	entry, _ := auths[host].(map[string]any)
	s, _ := entry["auth"].(string)
	return s
}

// TestLoginLogout logs in and out of Basic and token registries, storing
// credentials in the Docker config file as docker login does, and in a
// credential helper when the file names one; wrong credentials are not
// stored; a 401 names the credentials that were tried.
func TestLoginLogout(t *testing.T) {
	t.Parallel()
	for _, mode := range []registrytest.AuthMode{registrytest.AuthHtpasswd, registrytest.AuthToken} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: mode})
			d := newDXF(t, reg).with("DXF_TLSVERIFY", reg.CAFile)
			repo := uniqueRepo("login")
			f, h := d.file("day1.dat", []byte("logged in"))

			// Not logged in: the 401 says no credentials were found.
			d.fails(exitUnauthorized, []string{"push-blob", repo, f}, "push day1.dat: unauthorized", "credentials tried: none", "dxf login "+reg.Host)
			// Wrong credentials: not stored.
			r := d.runIn("wrong-password\n", "login", "--username", reg.Username, "--password-stdin", reg.Host)
			checkFailure(t, r, exitUnauthorized, []string{"login"}, "login to "+reg.Host+" as "+reg.Username, "unauthorized")
			if _, err := os.Stat(filepath.Join(d.env["DOCKER_CONFIG"], "config.json")); err == nil && storedAuth(t, d, reg.Host) != "" {
				t.Error("wrong credentials were stored")
			}
			if strings.Contains(r.stderr, "wrong-password") {
				t.Errorf("the password leaked: %q", r.stderr)
			}

			out := d.okIn(reg.Password+"\n", "login", "--username", reg.Username, "--password-stdin", reg.Host)
			if !strings.HasPrefix(out, "Login Succeeded") || !strings.Contains(out, "config.json") {
				t.Errorf("login printed %q", out)
			}
			want := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
			if got := storedAuth(t, d, reg.Host); got != want {
				t.Errorf("config.json auths[%s].auth = %q, want docker login's %q", reg.Host, got, want)
			}
			// Later commands use them.
			if got := d.ok("push-blob", repo, f, "@in"); got != lines(h) {
				t.Fatalf("push-blob after login printed %q", got)
			}
			// A 401 with the stored credentials names them.
			if mode == registrytest.AuthHtpasswd {
				cfgPath := filepath.Join(d.env["DOCKER_CONFIG"], "config.json")
				good, _ := os.ReadFile(cfgPath)
				bad := strings.Replace(string(good), want, base64.StdEncoding.EncodeToString([]byte(reg.Username+":nope")), 1)
				if err := os.WriteFile(cfgPath, []byte(bad), 0o600); err != nil {
					t.Fatal(err)
				}
				d.fails(exitUnauthorized, []string{"get-alias", repo, "in"}, "credentials tried: the Docker config's for "+reg.Host)
				if err := os.WriteFile(cfgPath, good, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// Environment credentials win, and are named in a 401.
			d.with("DXF_USERNAME", reg.Username, "DXF_PASSWORD", "nope").fails(exitUnauthorized, []string{"get-alias", repo, "in"},
				"credentials tried: user "+reg.Username+" (DXF_USERNAME) with the password of DXF_PASSWORD")

			// Logout (host from DXF_HOST): gone, and a second logout says so.
			if out := d.ok("logout"); !strings.Contains(out, "Removed the credentials of "+reg.Host) {
				t.Errorf("logout printed %q", out)
			}
			if storedAuth(t, d, reg.Host) != "" {
				t.Error("logout left the credentials")
			}
			if out := d.ok("logout", reg.Host); !strings.Contains(out, "Not logged in to "+reg.Host) {
				t.Errorf("second logout printed %q", out)
			}
			d.fails(exitUnauthorized, []string{"get-alias", repo, "in"}, "credentials tried: none")

			// A credential helper named by credsStore gets them instead.
			helperDir := t.TempDir()
			if err := os.WriteFile(filepath.Join(helperDir, "docker-credential-dxftest"), []byte(credentialHelper), 0o755); err != nil {
				t.Fatal(err)
			}
			cfgPath := filepath.Join(d.env["DOCKER_CONFIG"], "config.json")
			if err := os.WriteFile(cfgPath, []byte(`{"auths":{},"credsStore":"dxftest"}`), 0o600); err != nil {
				t.Fatal(err)
			}
			hd := d.with("PATH", helperDir+string(os.PathListSeparator)+d.env["PATH"])
			out = hd.okIn(reg.Password+"\n", "login", "--username", reg.Username, "--password-stdin")
			if !strings.Contains(out, "docker-credential-dxftest") {
				t.Errorf("login with a helper printed %q", out)
			}
			raw, _ := os.ReadFile(cfgPath)
			if strings.Contains(string(raw), want) || strings.Contains(string(raw), reg.Password) {
				t.Errorf("with credsStore, the credentials went into config.json: %s", raw)
			}
			stored, _ := filepath.Glob(filepath.Join(helperDir, "store", "*"))
			if len(stored) != 1 {
				t.Fatalf("the helper holds %d entries, want 1", len(stored))
			}
			if got := hd.ok("get-alias", repo, "in"); got != lines(h) {
				t.Errorf("get-alias with the helper's credentials printed %q", got)
			}
			hd.ok("logout")
			if stored, _ := filepath.Glob(filepath.Join(helperDir, "store", "*")); len(stored) != 0 {
				t.Errorf("logout left %d entries in the helper", len(stored))
			}
		})
	}
	d := newDXF(t, shared)
	d.with("DXF_HOST", "").fails(exitFailure, []string{"login", "--username", "u", "--password-stdin"}, "DXF_HOST")
	d.fails(exitFailure, []string{"login", "--username", "u"}, "--password-stdin")
	d.fails(exitUsage, []string{"login", "a", "b"}, "too many arguments")
}
