package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// TestTLS checks every way to trust the registry's certificate, and that
// without one the connection fails.
func TestTLS(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true})
	d := newDXF(t, reg)
	if _, ok := d.env["DXF_INSECURE"]; ok {
		t.Fatal("a TLS registry got DXF_INSECURE")
	}
	repo := uniqueRepo("tls")
	f, h := d.file("blob", []byte("over TLS"))

	trusted := d.with("DXF_TLSVERIFY", reg.CAFile)
	if got := trusted.ok("push-blob", repo, f, "@tls"); got != lines(h) {
		t.Fatalf("DXF_TLSVERIFY push-blob printed %q", got)
	}
	for _, e := range []*dxf{
		trusted,
		d.with("REQUESTS_CA_BUNDLE", reg.CAFile),
		d.with("CURL_CA_BUNDLE", reg.CAFile),
		d.with("SSL_CERT_FILE", reg.CAFile),
		// DXF_TLSVERIFY comes before REQUESTS_CA_BUNDLE.
		d.with("DXF_TLSVERIFY", reg.CAFile, "REQUESTS_CA_BUNDLE", "/no/such/file"),
		d.with("DXF_SKIPTLSVERIFY", "1"),
		// Skipping verification wins over a CA bundle, even a missing one.
		d.with("DXF_SKIPTLSVERIFY", "1", "DXF_TLSVERIFY", "/no/such/file"),
	} {
		if got := e.ok("get-alias", repo, "tls"); got != lines(h) {
			t.Errorf("get-alias printed %q", got)
		}
	}
	if got := d.ok("get-alias", "--tls-verify", reg.CAFile, repo, "tls"); got != lines(h) {
		t.Errorf("--tls-verify: get-alias printed %q", got)
	}
	if got := d.ok("get-alias", "--skip-tls-verify", repo, "tls"); got != lines(h) {
		t.Errorf("--skip-tls-verify: get-alias printed %q", got)
	}
	d.fails(exitFailure, []string{"get-alias", "--retries", "0", repo, "tls"}, "certificate")
	d.with("DXF_SKIPTLSVERIFY", "0").fails(exitFailure, []string{"get-alias", "--retries", "0", repo, "tls"}, "certificate")
}

// TestHtpasswd checks Basic authentication: user name and password from
// the environment, flags, standard input, DXF_AUTHORIZATION and the Docker
// config file; wrong or missing credentials give exit status 13.
func TestHtpasswd(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthHtpasswd})
	d := newDXF(t, reg).with("DXF_TLSVERIFY", reg.CAFile)
	user := d.with("DXF_USERNAME", reg.Username, "DXF_PASSWORD", reg.Password)
	repo := uniqueRepo("htpasswd")
	data := randomBytes(t, 20000)
	f, h := d.file("blob", data)

	if got := user.ok("push-blob", repo, f, "@basic"); got != lines(h) {
		t.Fatalf("push-blob printed %q", got)
	}
	if got := user.ok("pull-blob", repo, "@basic"); got != string(data) {
		t.Fatal("pull-blob: wrong data")
	}
	// A Basic registry issues no token: auth prints nothing, but it checks
	// the credentials (it used to print nothing and exit 0 on wrong ones).
	if got := user.ok("auth", repo, "*"); got != "" {
		t.Errorf("auth printed %q", got)
	}
	r := user.with("DXF_PASSWORD", "Wr0ngPassw0rd").fails(exitUnauthorized, []string{"auth", repo, "*"}, "unauthorized")
	if strings.Contains(r.stderr, "Wr0ngPassw0rd") {
		t.Errorf("the password leaked: %q", r.stderr)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(reg.Username+":"+reg.Password))
	for name, e := range map[string]*dxf{
		"DXF_AUTHORIZATION": d.with("DXF_AUTHORIZATION", basic),
		// User name and password come before DXF_AUTHORIZATION.
		"both": user.with("DXF_AUTHORIZATION", "Basic "+base64.StdEncoding.EncodeToString([]byte("x:y"))),
	} {
		if got := e.ok("get-alias", repo, "basic"); got != lines(h) {
			t.Errorf("%s: get-alias printed %q", name, got)
		}
	}
	if got := d.ok("get-alias", "--username", reg.Username, "--password", reg.Password, repo, "basic"); got != lines(h) {
		t.Errorf("--username/--password: get-alias printed %q", got)
	}
	if got := d.with("DXF_USERNAME", reg.Username).okIn(reg.Password+"\n", "get-alias", "--password-stdin", repo, "basic"); got != lines(h) {
		t.Errorf("--password-stdin: get-alias printed %q", got)
	}

	// Credentials from the Docker config file, when no DXF_* ones are set.
	cfg := `{"auths": {"` + reg.Host + `": {"auth": "` + base64.StdEncoding.EncodeToString([]byte(reg.Username+":"+reg.Password)) + `"}}}`
	if err := os.MkdirAll(d.env["DOCKER_CONFIG"], 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.env["DOCKER_CONFIG"], "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := d.ok("get-alias", repo, "basic"); got != lines(h) {
		t.Errorf("Docker config credentials: get-alias printed %q", got)
	}
	noConfig := d.with("DOCKER_CONFIG", t.TempDir())

	// Wrong or missing credentials: EACCES, and never the password.
	wrong := noConfig.with("DXF_USERNAME", reg.Username, "DXF_PASSWORD", "Wr0ngPassw0rd")
	r = wrong.fails(exitUnauthorized, []string{"get-alias", repo, "basic"}, "unauthorized")
	if strings.Contains(r.stderr, "Wr0ngPassw0rd") {
		t.Errorf("the password leaked: %q", r.stderr)
	}
	noConfig.fails(exitUnauthorized, []string{"get-alias", repo, "basic"}, "unauthorized")
	// Only one of the two is as good as none (Python needed both).
	noConfig.with("DXF_USERNAME", reg.Username).fails(exitUnauthorized, []string{"list-aliases", repo}, "unauthorized")
	noConfig.with("DXF_PASSWORD", reg.Password).fails(exitUnauthorized, []string{"pull-blob", repo, h}, "unauthorized")
}

// TestAuthInsecure checks that credentials are never sent over plain HTTP.
func TestAuthInsecure(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{Auth: registrytest.AuthHtpasswd})
	d := newDXF(t, reg).with("DXF_USERNAME", reg.Username, "DXF_PASSWORD", reg.Password)
	r := d.fails(exitFailure, []string{"list-aliases", uniqueRepo("insecure")}, "HTTPS")
	if strings.Contains(r.stderr, reg.Password) {
		t.Errorf("the password leaked: %q", r.stderr)
	}
	// dxf auth too (it used to print nothing and exit 0), as the Python
	// tool's "Auth requires HTTPS".
	r = d.fails(exitFailure, []string{"auth", uniqueRepo("insecure"), "*"}, "auth requires HTTPS")
	if strings.Contains(r.stderr, reg.Password) {
		t.Errorf("the password leaked: %q", r.stderr)
	}
}

// TestToken checks bearer-token authentication: dxf auth prints a token
// that DXF_TOKEN then uses without a password, the Python tool's test_auth.
func TestToken(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthToken, CatalogForAnonymous: true})
	d := newDXF(t, reg).with("DXF_TLSVERIFY", reg.CAFile)
	user := d.with("DXF_USERNAME", reg.Username, "DXF_PASSWORD", reg.Password)
	repo := uniqueRepo("token")
	f, h := d.file("blob", []byte("token data"))
	if got := user.ok("push-blob", repo, f, "@tok"); got != lines(h) {
		t.Fatalf("push-blob printed %q", got)
	}

	out := user.ok("auth", repo, "*")
	token := strings.TrimSuffix(out, "\n")
	if token == "" || strings.ContainsAny(token, " \n") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("auth printed %q, want a token and a newline", out)
	}
	// DXF_TOKEN is not used by auth itself: it logs in again.
	if got := user.with("DXF_TOKEN", "garbage").ok("auth", repo, "pull"); got == "" {
		t.Error("auth with DXF_TOKEN set printed nothing")
	}

	// Anonymous: the catalog (allowed here) but not the repository.
	if got := d.ok("list-repos"); got != lines(repo) {
		t.Errorf("anonymous list-repos printed %q", got)
	}
	d.fails(exitUnauthorized, []string{"list-aliases", repo}, "unauthorized")

	withToken := d.with("DXF_TOKEN", token)
	if got := withToken.ok("list-aliases", repo); got != lines("tok") {
		t.Errorf("DXF_TOKEN list-aliases printed %q", got)
	}
	f2, h2 := d.file("blob2", []byte("pushed with a token"))
	if got := withToken.ok("push-blob", repo, f2, "@tok2"); got != lines(h2) {
		t.Errorf("DXF_TOKEN push-blob printed %q", got)
	}
	if got := d.ok("get-alias", "--token", token, repo, "tok2"); got != lines(h2) {
		t.Errorf("--token get-alias printed %q", got)
	}
	if got := d.with("DXF_AUTHORIZATION", "Bearer "+token).ok("get-alias", repo, "tok"); got != lines(h) {
		t.Errorf("DXF_AUTHORIZATION Bearer: get-alias printed %q", got)
	}
	r := d.with("DXF_TOKEN", "not-a-token").fails(exitUnauthorized, []string{"get-alias", repo, "tok"}, "unauthorized", "credentials tried: the token of DXF_TOKEN")
	if strings.Contains(r.stderr, "not-a-token") {
		t.Errorf("the token leaked: %q", r.stderr)
	}

	// An expired token: EACCES, as the Python README says.
	reg.Token.SetTTL(time.Second)
	short := strings.TrimSpace(user.ok("auth", repo, "pull"))
	time.Sleep(2500 * time.Millisecond) // exp is whole seconds, rounded up
	d.with("DXF_TOKEN", short).fails(exitUnauthorized, []string{"get-alias", repo, "tok"}, "unauthorized")
	reg.Token.SetTTL(registrytest.DefaultTokenTTL)

	// DXF_AUTH_HOST sends token requests elsewhere: here, nowhere.
	user.with("DXF_AUTH_HOST", "localhost:1").fails(exitFailure, []string{"get-alias", "--retries", "0", repo, "tok"}, ":1: connect")
	user.with("DXF_USERNAME", reg.Username, "DXF_PASSWORD", "wrong").fails(exitUnauthorized, []string{"auth", repo, "*"}, "unauthorized")
}

// TestListRepos checks list-repos on an empty registry (the Python
// test_empty) and then with repositories, on a registry whose catalog pages
// hold two repositories at most (catalog.maxentries: asking for more is an
// error there, so dxf must let the registry pick the page size and follow
// its links).
func TestListRepos(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{CatalogMaxEntries: 2})
	d := newDXF(t, reg)
	if got := d.ok("list-repos"); got != "" {
		t.Fatalf("list-repos of an empty registry printed %q", got)
	}
	f, _ := d.file("blob", []byte("x"))
	for _, r := range []string{"foo/bar", "alpha", "some/other"} {
		d.ok("push-blob", r, f, "@x")
	}
	if got := d.ok("list-repos"); got != lines("alpha", "foo/bar", "some/other") {
		t.Fatalf("list-repos printed %q", got)
	}
	d.fails(exitNotFound, []string{"list-aliases", "nobody/here"}, "Not Found")
	// A registry without authentication issues no token.
	if got := d.ok("auth", "foo/bar", "pull"); got != "" {
		t.Errorf("auth on an open registry printed %q", got)
	}
}

// TestDigestCache checks that pushed files' digests are remembered unless
// DXF_DIGEST_CACHE=0 or --no-digest-cache says not to.
func TestDigestCache(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("cache")
	f, h := d.file("blob", randomBytes(t, 1000))
	cache := filepath.Join(d.env["XDG_CACHE_HOME"], "dxf-go", "digests")

	d.with("DXF_DIGEST_CACHE", "0").ok("push-blob", repo, f)
	d.ok("push-blob", "--no-digest-cache", repo, f)
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Fatalf("the digest cache was written although disabled: %v", err)
	}
	if got := d.ok("push-blob", repo, f); got != lines(h) {
		t.Fatalf("push-blob printed %q", got)
	}
	if ents, err := os.ReadDir(cache); err != nil || len(ents) != 1 {
		t.Fatalf("digest cache holds %v (%v), want one entry", ents, err)
	}
	// A cached digest still gives the same answer.
	if got := d.ok("push-blob", repo, f); got != lines(h) {
		t.Fatalf("push-blob with a cached digest printed %q", got)
	}
}
