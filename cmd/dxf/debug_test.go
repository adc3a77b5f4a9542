package main

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// TestDebug checks --debug and DXF_DEBUG=1: a line per HTTP request and
// per response on stderr (method, URL, status, size, time), stdout
// unchanged, and no password, token or Authorization value anywhere, for
// Basic and bearer-token registries.
func TestDebug(t *testing.T) {
	t.Parallel()
	for _, mode := range []registrytest.AuthMode{registrytest.AuthHtpasswd, registrytest.AuthToken} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: mode})
			d := newDXF(t, reg).with("DXF_TLSVERIFY", reg.CAFile)
			user := d.with("DXF_USERNAME", reg.Username, "DXF_PASSWORD", reg.Password)
			repo := uniqueRepo("debug")
			data := randomBytes(t, 5000)
			f, h := d.file("blob", data)
			secrets := []string{reg.Password, base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))}

			r := user.with("DXF_DEBUG", "1").run("push-blob", repo, f, "@dbg")
			if r.code != 0 || r.stdout != lines(h) {
				t.Fatalf("DXF_DEBUG=1 push-blob: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
			}
			scheme := "Basic"
			if mode == registrytest.AuthToken {
				scheme = "Bearer"
			}
			for _, want := range []string{
				"--> POST " + reg.URL + "/v2/" + repo + "/blobs/uploads/",
				"<-- 201 Created PUT",
				"--> PUT " + reg.URL + "/v2/" + repo + "/manifests/dbg",
				"auth " + scheme + " [redacted]",
				"5000 bytes",
				"ms",
			} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("DXF_DEBUG=1 push-blob: stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			checkNoSecret(t, r.stderr, secrets...)
			t.Logf("DXF_DEBUG=1 push-blob:\n%s", r.stderr)

			r = user.run("pull-blob", "--debug", repo, "@dbg")
			if r.code != 0 || r.stdout != string(data) {
				t.Fatalf("--debug pull-blob: exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "--> GET "+reg.URL+"/v2/"+repo+"/blobs/"+h) || !strings.Contains(r.stderr, "<-- 200 OK GET") {
				t.Errorf("--debug pull-blob: stderr:\n%s", r.stderr)
			}
			checkNoSecret(t, r.stderr, secrets...)

			// A wrong password: the 401 is traced too, and the password
			// still appears nowhere.
			r = d.with("DXF_USERNAME", reg.Username, "DXF_PASSWORD", "wrong-pw-XYZ", "DXF_DEBUG", "yes").run("get-alias", repo, "dbg")
			if r.code != exitUnauthorized || !strings.Contains(r.stderr, "401 Unauthorized") {
				t.Errorf("wrong password with DXF_DEBUG: exit %d, stderr:\n%s", r.code, r.stderr)
			}
			checkNoSecret(t, r.stderr, "wrong-pw-XYZ", base64.StdEncoding.EncodeToString([]byte(reg.Username+":wrong-pw-XYZ")))

			if mode == registrytest.AuthToken {
				// The token request is traced, the token never.
				if !strings.Contains(r.stderr, "--> GET "+reg.Token.Realm) {
					t.Errorf("the token request is not traced:\n%s", r.stderr)
				}
				token := strings.TrimSpace(user.ok("auth", repo, "pull"))
				r = d.with("DXF_TOKEN", token).run("--debug", "get-alias", repo, "dbg")
				if r.code != 0 || r.stdout != lines(h) {
					t.Fatalf("--debug with DXF_TOKEN: exit %d, stderr:\n%s", r.code, r.stderr)
				}
				checkNoSecret(t, r.stderr, token)
			}
		})
	}
}

// checkNoSecret fails if out holds any of secrets, or anything that looks
// like a JSON web token.
func checkNoSecret(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("a secret (%d characters) appears in the output:\n%s", len(s), out)
		}
	}
	if strings.Contains(out, "eyJ") {
		t.Errorf("a token appears in the output:\n%s", out)
	}
}
