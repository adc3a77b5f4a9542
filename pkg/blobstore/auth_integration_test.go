package blobstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest"
	"github.com/google/go-containerregistry/pkg/authn"
)

// roundTrip pushes a blob, aliases it, lists and pulls it back through r.
func roundTrip(t *testing.T, r *Repository) {
	t.Helper()
	data := randomBytes(t, 100<<10)
	res, err := r.PushBlob(t.Context(), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if _, err := r.SetAlias(t.Context(), "latest", res.Digest); err != nil {
		t.Fatalf("set alias: %v", err)
	}
	if tags, err := r.ListAliases(t.Context()); err != nil || len(tags) != 1 {
		t.Fatalf("list: %v %v", tags, err)
	}
	if got, err := pullAll(t, r, res.Digest); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pull: %v", err)
	}
}

// noSecret fails the test if err's message contains any of the secrets.
func noSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error message reveals a secret: %v", err)
		}
	}
}

func TestIntegrationTLS(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true})
	r, err := New(reg.Host, "tls/repo", WithKeychain(nil), WithCABundle(reg.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, r)

	// Without the CA the certificate is refused, at once (no retries).
	r, _ = New(reg.Host, "tls/repo", WithKeychain(nil))
	start := time.Now()
	if _, err := r.ListAliases(t.Context()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("unknown CA: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatal("a certificate error was retried")
	}
	r, _ = New(reg.Host, "tls/repo", WithKeychain(nil), WithSkipTLSVerify(true))
	if _, err := r.ListAliases(t.Context()); err != nil {
		t.Fatalf("skip verify: %v", err)
	}
	if _, err := New(reg.Host, "tls/repo", WithCABundle(filepath.Join(t.TempDir(), "none.pem"))); err == nil {
		t.Fatal("a missing CA bundle was accepted")
	}
}

func TestIntegrationBasicAuth(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthHtpasswd})
	good := authn.FromConfig(authn.AuthConfig{Username: reg.Username, Password: reg.Password})
	r, err := New(reg.Host, "basic/repo", WithAuth(good), WithCABundle(reg.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, r)

	// A Docker-config style "auth" field (DXF_AUTHORIZATION: Basic <b64>).
	b64 := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
	r, _ = New(reg.Host, "basic/repo", WithAuth(authn.FromConfig(authn.AuthConfig{Auth: b64})), WithCABundle(reg.CAFile))
	if _, err := r.ListAliases(t.Context()); err != nil {
		t.Fatalf("auth field: %v", err)
	}
	// A basic registry needs no token.
	regc, _ := NewRegistry(reg.Host, WithAuth(good), WithCABundle(reg.CAFile))
	if tok, err := regc.Authenticate(t.Context(), "basic/repo", "pull"); err != nil || tok != "" {
		t.Fatalf("Authenticate on Basic: %q %v", tok, err)
	}

	const wrong = "Wr0ng-Passw0rd!"
	r, _ = New(reg.Host, "basic/repo", WithAuth(authn.FromConfig(authn.AuthConfig{Username: reg.Username, Password: wrong})), WithCABundle(reg.CAFile))
	_, err = r.ListAliases(t.Context())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	noSecret(t, err, wrong, reg.Password)
	r, _ = New(reg.Host, "basic/repo", WithKeychain(nil), WithCABundle(reg.CAFile))
	if _, err := r.ListAliases(t.Context()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("anonymous: %v", err)
	}
}

func TestIntegrationTokenAuth(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthToken, AnonymousActions: []string{"pull"}})
	good := authn.FromConfig(authn.AuthConfig{Username: reg.Username, Password: reg.Password})
	r, err := New(reg.Host, "token/repo", WithAuth(good), WithCABundle(reg.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, r)
	for _, req := range reg.Token.Requests() {
		if req.UserAgent != DefaultUserAgent {
			t.Fatalf("token request User-Agent %q, want %q", req.UserAgent, DefaultUserAgent)
		}
	}

	// Authenticate returns a token that works on its own (DXF_TOKEN).
	regc, _ := NewRegistry(reg.Host, WithAuth(good), WithCABundle(reg.CAFile))
	tok, err := regc.Authenticate(t.Context(), "token/repo", "*")
	if err != nil || strings.Count(tok, ".") != 2 {
		t.Fatalf("Authenticate: %q, %v", tok, err)
	}
	r, _ = New(reg.Host, "token/repo", WithAuth(authn.FromConfig(authn.AuthConfig{RegistryToken: tok})), WithCABundle(reg.CAFile))
	if _, err := r.ListAliases(t.Context()); err != nil {
		t.Fatalf("with the token: %v", err)
	}
	res := pushBytes(t, r, []byte("pushed with a token"))

	// Anonymous users may pull but not push.
	anon, _ := New(reg.Host, "token/repo", WithKeychain(nil), WithCABundle(reg.CAFile))
	if got, err := pullAll(t, anon, res.Digest); err != nil || string(got) != "pushed with a token" {
		t.Fatalf("anonymous pull: %v", err)
	}
	if _, err := anon.PushBlob(t.Context(), strings.NewReader("nope")); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("anonymous push: %v", err)
	}

	// Wrong password: the token server says 401.
	const wrong = "not-the-password"
	bad, _ := New(reg.Host, "token/repo", WithAuth(authn.FromConfig(authn.AuthConfig{Username: reg.Username, Password: wrong})), WithCABundle(reg.CAFile))
	_, err = bad.ListAliases(t.Context())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	noSecret(t, err, wrong, reg.Password, tok)

	// The catalog needs registry:catalog:*.
	if repos, err := regc.ListRepositories(t.Context()); err != nil || len(repos) == 0 {
		t.Fatalf("catalog: %v %v", repos, err)
	}
}

func TestIntegrationTokenExpiresMidOperation(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthToken, TokenTTL: 2 * time.Second})
	good := authn.FromConfig(authn.AuthConfig{Username: reg.Username, Password: reg.Password})
	r, err := New(reg.Host, "expiry/repo", WithAuth(good), WithCABundle(reg.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	res := pushBytes(t, r, []byte("before expiry"))
	issued := reg.Token.Issued()
	time.Sleep(3 * time.Second)
	// The cached token has expired: the next calls get a new one and succeed.
	if _, err := r.SetAliasBlobs(t.Context(), "after", res.Blob()); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if got, err := pullAll(t, r, res.Digest); err != nil || string(got) != "before expiry" {
		t.Fatalf("pull after expiry: %v", err)
	}
	if reg.Token.Issued() <= issued {
		t.Fatal("no new token was issued")
	}

	// A fixed token (DXF_TOKEN) that expires is not refreshed: unauthorized.
	regc, _ := NewRegistry(reg.Host, WithAuth(good), WithCABundle(reg.CAFile))
	tok, err := regc.Authenticate(t.Context(), "expiry/repo", "pull")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	fixed, _ := New(reg.Host, "expiry/repo", WithAuth(authn.FromConfig(authn.AuthConfig{RegistryToken: tok})), WithCABundle(reg.CAFile))
	_, err = fixed.ListAliases(t.Context())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("expired fixed token: %v", err)
	}
	noSecret(t, err, tok)
}

// writeDockerConfig writes a Docker config.json into a new directory and
// points DOCKER_CONFIG at it.
func writeDockerConfig(t *testing.T, cfg any) {
	t.Helper()
	dir := t.TempDir()
	b, _ := json.Marshal(cfg)
	writeFile(t, filepath.Join(dir, "config.json"), b)
	t.Setenv("DOCKER_CONFIG", dir)
}

func TestIntegrationDockerConfigAuths(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthToken})
	writeDockerConfig(t, map[string]any{"auths": map[string]any{
		reg.Host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))},
	}})
	// No WithAuth: the default keychain reads the Docker config.
	r, err := New(reg.Host, "dockercfg/repo", WithCABundle(reg.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, r)
	if reqs := reg.Token.Requests(); len(reqs) == 0 || reqs[len(reqs)-1].User != reg.Username {
		t.Fatalf("token requests %+v did not use the configured user", reqs)
	}
}

func TestIntegrationDockerCredentialHelper(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthHtpasswd})
	bin := t.TempDir()
	// A credential helper speaks JSON on stdin/stdout: `get` reads the
	// server URL and prints the credentials.
	script := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"" + reg.Username + "\",\"Secret\":\"" + reg.Password + "\"}' \"$server\"\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-dxftest"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	writeDockerConfig(t, map[string]any{"credHelpers": map[string]string{reg.Host: "dxftest"}})
	r, err := New(reg.Host, "helper/repo", WithCABundle(reg.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, r)

	// Without the helper entry, the same registry refuses us.
	writeDockerConfig(t, map[string]any{})
	r, _ = New(reg.Host, "helper/repo", WithCABundle(reg.CAFile))
	if _, err := r.ListAliases(t.Context()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("without credentials: %v", err)
	}
}

func TestIntegrationAuthHost(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthToken})
	good := authn.FromConfig(authn.AuthConfig{Username: reg.Username, Password: reg.Password})
	// The realm's host is replaced: pointing at a port nobody serves fails.
	r, _ := New(reg.Host, "authhost/repo", WithAuth(good), WithCABundle(reg.CAFile), WithAuthHost("localhost:1"), WithRetries(0))
	if _, err := r.ListAliases(t.Context()); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("unreachable auth host: %v", err)
	}
	// Pointing at the real token server's host works.
	realm := strings.TrimPrefix(reg.Token.URL, "https://")
	r, _ = New(reg.Host, "authhost/repo", WithAuth(good), WithCABundle(reg.CAFile), WithAuthHost(realm))
	roundTrip(t, r)
}
