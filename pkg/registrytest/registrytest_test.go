package registrytest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// do sends a request and returns the response with its body read.
func do(t *testing.T, c *http.Client, method, u string, hdr http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return resp, b
}

func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

type tokenReply struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

// fetchToken asks the token server of r for scopes, as user (anonymous if
// user is ""), and returns the status and the reply.
func fetchToken(t *testing.T, r *registrytest.Registry, user, password, agent string, scopes ...string) (int, tokenReply) {
	t.Helper()
	q := url.Values{"service": {registrytest.TokenService}, "scope": scopes}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.Token.Realm+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	req.Header.Set("User-Agent", agent)
	resp, err := r.Client().Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var tr tokenReply
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
			t.Fatalf("decode token reply: %v", err)
		}
		if tr.Token == "" || tr.Token != tr.AccessToken {
			t.Fatalf("token reply: token and access_token must be equal and non-empty")
		}
		if _, err := time.Parse(time.RFC3339, tr.IssuedAt); err != nil {
			t.Fatalf("issued_at %q: %v", tr.IssuedAt, err)
		}
	}
	return resp.StatusCode, tr
}

// pushBlob uploads blob to repo with a monolithic POST + PUT and returns
// its digest.
func pushBlob(t *testing.T, r *registrytest.Registry, hdr http.Header, repo string, blob []byte) string {
	t.Helper()
	c := r.Client()
	resp, _ := do(t, c, http.MethodPost, r.URL+"/v2/"+repo+"/blobs/uploads/", hdr, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload: %s", resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("upload location: %v", err)
	}
	dgst := digestOf(blob)
	q := loc.Query()
	q.Set("digest", dgst)
	loc.RawQuery = q.Encode()
	h := hdr.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/octet-stream")
	resp, body := do(t, c, http.MethodPut, loc.String(), h, blob)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("finish upload: %s: %s", resp.Status, body)
	}
	return dgst
}

func headBlob(t *testing.T, r *registrytest.Registry, hdr http.Header, repo, dgst string) *http.Response {
	t.Helper()
	resp, _ := do(t, r.Client(), http.MethodHead, r.URL+"/v2/"+repo+"/blobs/"+dgst, hdr, nil)
	return resp
}

func TestPlain(t *testing.T) {
	t.Parallel()
	r := registrytest.StartT(t, registrytest.Config{})
	if !strings.HasPrefix(r.Host, "localhost:") || r.URL != "http://"+r.Host {
		t.Errorf("Host %q, URL %q: want localhost:<port> and http://<Host>", r.Host, r.URL)
	}
	if r.CAFile != "" || r.CertPool() != nil || r.Token != nil || r.Username != "" || r.Password != "" {
		t.Errorf("plain registry has TLS or auth settings: %+v", r)
	}
	resp, _ := do(t, r.Client(), http.MethodGet, r.URL+"/v2/", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/: %s, want 200", resp.Status)
	}
	if got := resp.Header.Get("Docker-Distribution-API-Version"); got != "registry/2.0" {
		t.Errorf("Docker-Distribution-API-Version = %q", got)
	}
	cfg, err := os.ReadFile(r.Config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), `addr: "127.0.0.1:`) || strings.Contains(string(cfg), "debug") {
		t.Errorf("config must listen on loopback only and have no debug server:\n%s", cfg)
	}
	if fi, err := os.Stat(r.RootDir); err != nil || !fi.IsDir() {
		t.Errorf("RootDir %q: %v", r.RootDir, err)
	}
	// The access log is written after the response; give it a moment.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.Logs(), "GET /v2/") {
		if time.Now().After(deadline) {
			t.Fatalf("access log has no GET /v2/:\n%s", r.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Stop()
	r.Stop() // idempotent
	if !strings.Contains(r.Logs(), "GET /v2/") {
		t.Error("logs lost after Stop")
	}
	if _, err := os.Stat(r.RootDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("RootDir not removed by Stop: %v", err)
	}
	if _, err := http.Get(r.URL + "/v2/"); err == nil {
		t.Error("registry still answers after Stop")
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	r := registrytest.StartT(t, registrytest.Config{TLS: true})
	if r.URL != "https://"+r.Host {
		t.Errorf("URL = %q", r.URL)
	}
	pemData, err := os.ReadFile(r.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CAFile %s holds no PEM certificate", r.CAFile)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("CAFile: not a CA certificate (%v)", err)
	}
	resp, _ := do(t, r.Client(), http.MethodGet, r.URL+"/v2/", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/: %s, want 200", resp.Status)
	}
	if resp.TLS == nil || resp.TLS.VerifiedChains[0][len(resp.TLS.VerifiedChains[0])-1].Equal(ca) == false {
		t.Error("the server certificate does not chain to CAFile")
	}
	// Without the CA, verification must fail.
	_, err = (&http.Client{Transport: &http.Transport{}}).Get(r.URL + "/v2/")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("GET without the CA: %v, want an unknown authority error", err)
	}
}

func TestHtpasswd(t *testing.T) {
	t.Parallel()
	r := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthHtpasswd})
	if r.Username != registrytest.DefaultUsername || r.Password != registrytest.DefaultPassword {
		t.Errorf("default credentials: got user %q", r.Username)
	}
	c := r.Client()
	resp, _ := do(t, c, http.MethodGet, r.URL+"/v2/", nil, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ without credentials: %s, want 401", resp.Status)
	}
	if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="Registry Realm"`; got != want {
		t.Errorf("challenge %q, want %q", got, want)
	}
	basic := func(user, pw string) http.Header {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(user, pw)
		return req.Header
	}
	if resp, _ := do(t, c, http.MethodGet, r.URL+"/v2/", basic(r.Username, "wrong"), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %s, want 401", resp.Status)
	}
	if resp, _ := do(t, c, http.MethodGet, r.URL+"/v2/", basic(r.Username, r.Password), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("right password: %s, want 200", resp.Status)
	}
	dgst := pushBlob(t, r, basic(r.Username, r.Password), "foo/bar", []byte("htpasswd blob"))
	if resp := headBlob(t, r, basic(r.Username, r.Password), "foo/bar", dgst); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD pushed blob: %s", resp.Status)
	}
	if strings.Contains(r.Logs(), r.Password) {
		t.Error("the registry log contains the password")
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	r := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthToken})
	if r.Token == nil {
		t.Fatal("Token is nil in AuthToken mode")
	}
	c := r.Client()

	resp, _ := do(t, c, http.MethodGet, r.URL+"/v2/", nil, nil)
	want := fmt.Sprintf(`Bearer realm=%q,service=%q`, r.Token.Realm, registrytest.TokenService)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("GET /v2/ without token: %s %q, want 401 %q", resp.Status, resp.Header.Get("WWW-Authenticate"), want)
	}
	if !strings.HasPrefix(r.Token.Realm, "https://localhost:") {
		t.Errorf("realm %q must be https://localhost:<port>/token", r.Token.Realm)
	}

	const agent = "registrytest-test/1.0"
	const scope = "repository:foo/bar:pull,push"
	status, tok := fetchToken(t, r, r.Username, r.Password, agent, scope)
	if status != http.StatusOK {
		t.Fatalf("token for %s: %d", r.Username, status)
	}
	if tok.ExpiresIn != int(registrytest.DefaultTokenTTL.Seconds()) {
		t.Errorf("expires_in = %d, want the default TTL", tok.ExpiresIn)
	}
	blob := []byte("hello from registrytest")
	dgst := pushBlob(t, r, bearer(tok.Token), "foo/bar", blob)
	resp = headBlob(t, r, bearer(tok.Token), "foo/bar", dgst)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Content-Digest") != dgst {
		t.Fatalf("HEAD pushed blob: %s, digest %q", resp.Status, resp.Header.Get("Docker-Content-Digest"))
	}
	if resp := headBlob(t, r, nil, "foo/bar", dgst); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("HEAD without token: %s, want 401", resp.Status)
	}

	// Anonymous requests get a token granting nothing by default.
	status, anon := fetchToken(t, r, "", "", agent, "repository:foo/bar:pull")
	if status != http.StatusOK {
		t.Fatalf("anonymous token: %d", status)
	}
	resp = headBlob(t, r, bearer(anon.Token), "foo/bar", dgst)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("HEAD with anonymous token: %s %q, want 401 insufficient_scope", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}

	// A token for another repository does not open this one.
	_, other := fetchToken(t, r, r.Username, r.Password, agent, "repository:other/repo:pull")
	if resp := headBlob(t, r, bearer(other.Token), "foo/bar", dgst); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("HEAD with a token for another repository: %s, want 401", resp.Status)
	}

	// Wrong credentials are refused by the token server.
	if status, _ := fetchToken(t, r, r.Username, "not the password", agent, scope); status != http.StatusUnauthorized {
		t.Errorf("token with wrong password: %d, want 401", status)
	}
	if status, _ := fetchToken(t, r, "nobody", r.Password, agent, scope); status != http.StatusUnauthorized {
		t.Errorf("token for unknown user: %d, want 401", status)
	}

	// The OAuth2 password grant works too.
	form := url.Values{
		"grant_type": {"password"}, "service": {registrytest.TokenService}, "scope": {"repository:foo/bar:pull"},
		"username": {r.Username}, "password": {r.Password}, "client_id": {"registrytest"},
	}
	resp, body := do(t, c, http.MethodPost, r.Token.Realm, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form.Encode()))
	var oauth tokenReply
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &oauth) != nil || oauth.AccessToken == "" {
		t.Fatalf("POST password grant: %s", resp.Status)
	}
	if resp := headBlob(t, r, bearer(oauth.AccessToken), "foo/bar", dgst); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD with OAuth2 token: %s", resp.Status)
	}
	form.Set("grant_type", "refresh_token")
	if resp, _ := do(t, c, http.MethodPost, r.Token.Realm, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form.Encode())); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST refresh_token grant: %s, want 404", resp.Status)
	}

	// What the token server saw.
	reqs := r.Token.Requests()
	if len(reqs) != 7 {
		t.Fatalf("recorded %d token requests, want 7: %+v", len(reqs), reqs)
	}
	first := reqs[0]
	if first.User != r.Username || first.AuthScheme != "basic" || first.UserAgent != agent ||
		first.Service != registrytest.TokenService || first.Method != http.MethodGet || first.Status != http.StatusOK ||
		!slices.Equal(first.Scopes, []string{scope}) || !slices.Equal(first.Granted, []string{scope}) {
		t.Errorf("first token request recorded as %+v", first)
	}
	if a := reqs[1]; a.User != "" || a.AuthScheme != "" || len(a.Granted) != 0 || a.Status != http.StatusOK {
		t.Errorf("anonymous token request recorded as %+v", a)
	}
	if w := reqs[3]; w.User != r.Username || w.Status != http.StatusUnauthorized || w.Granted != nil {
		t.Errorf("wrong-password token request recorded as %+v", w)
	}
	if p := reqs[5]; p.Method != http.MethodPost || p.AuthScheme != "password" || p.User != r.Username {
		t.Errorf("password grant recorded as %+v", p)
	}
	if got := r.Token.Issued(); got != 4 {
		t.Errorf("Issued() = %d, want 4", got)
	}
	r.Token.Reset()
	if len(r.Token.Requests()) != 0 || r.Token.Issued() != 0 {
		t.Error("Reset did not forget")
	}

	// Token issues without HTTP.
	direct, err := r.Token.Token(r.Username, "repository:foo/bar:pull")
	if err != nil {
		t.Fatal(err)
	}
	if resp := headBlob(t, r, bearer(direct), "foo/bar", dgst); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD with TokenServer.Token: %s", resp.Status)
	}

	logs := r.Logs()
	if strings.Contains(logs, r.Password) || strings.Contains(logs, tok.Token) {
		t.Error("the registry log contains a password or a token")
	}
}

func TestTokenAnonymous(t *testing.T) {
	t.Parallel()
	r := registrytest.StartT(t, registrytest.Config{
		TLS:                 true,
		Auth:                registrytest.AuthToken,
		Users:               map[string]string{"alice": "alice's password", "bob": "bob's password"},
		AnonymousActions:    []string{"pull"},
		CatalogForAnonymous: true,
	})
	if r.Username != "alice" || r.Password != "alice's password" {
		t.Errorf("default user %q, want alice", r.Username)
	}
	_, bob := fetchToken(t, r, "bob", "bob's password", "test", "repository:pub/lic:push,pull")
	dgst := pushBlob(t, r, bearer(bob.Token), "pub/lic", []byte("public"))

	status, anon := fetchToken(t, r, "", "", "test", "repository:pub/lic:pull,push", "registry:catalog:*")
	if status != http.StatusOK {
		t.Fatalf("anonymous token: %d", status)
	}
	if got, want := r.Token.Requests()[1].Granted, []string{"repository:pub/lic:pull", "registry:catalog:*"}; !slices.Equal(got, want) {
		t.Errorf("anonymous grant %q, want %q", got, want)
	}
	if resp := headBlob(t, r, bearer(anon.Token), "pub/lic", dgst); resp.StatusCode != http.StatusOK {
		t.Errorf("anonymous pull: %s, want 200", resp.Status)
	}
	if resp, _ := do(t, r.Client(), http.MethodPost, r.URL+"/v2/pub/lic/blobs/uploads/", bearer(anon.Token), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous push: %s, want 401", resp.Status)
	}
	// The catalog lists only repositories with manifests, so it is empty
	// here; what matters is that the token opens it.
	resp, body := do(t, r.Client(), http.MethodGet, r.URL+"/v2/_catalog", bearer(anon.Token), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"repositories"`) {
		t.Errorf("anonymous catalog: %s %s", resp.Status, body)
	}
	_, noCatalog := fetchToken(t, r, "", "", "test", "repository:pub/lic:pull")
	if resp, _ := do(t, r.Client(), http.MethodGet, r.URL+"/v2/_catalog", bearer(noCatalog.Token), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("catalog with a token not granting it: %s, want 401", resp.Status)
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	r := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthToken, TokenTTL: ttl})
	issued := time.Now()
	_, tok := fetchToken(t, r, r.Username, r.Password, "test", "repository:foo/bar:pull")
	if tok.ExpiresIn != 2 {
		t.Errorf("expires_in = %d, want 2", tok.ExpiresIn)
	}
	missing := digestOf([]byte("never pushed"))
	if resp := headBlob(t, r, bearer(tok.Token), "foo/bar", missing); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("HEAD with fresh token: %s, want 404", resp.Status)
	}
	// exp has whole-second resolution and is rounded up, so the token may
	// live up to a second longer than the TTL.
	time.Sleep(time.Until(issued.Add(ttl + 1500*time.Millisecond)))
	resp := headBlob(t, r, bearer(tok.Token), "foo/bar", missing)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("HEAD with expired token: %s %q, want 401 invalid_token", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}

	r.Token.SetTTL(time.Hour)
	if r.Token.TTL() != time.Hour {
		t.Errorf("TTL() = %v after SetTTL(1h)", r.Token.TTL())
	}
	_, tok = fetchToken(t, r, r.Username, r.Password, "test", "repository:foo/bar:pull")
	if tok.ExpiresIn != 3600 {
		t.Errorf("expires_in = %d after SetTTL(1h)", tok.ExpiresIn)
	}
	if resp := headBlob(t, r, bearer(tok.Token), "foo/bar", missing); resp.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD with new token: %s, want 404", resp.Status)
	}
}

func TestGarbageCollect(t *testing.T) {
	t.Parallel()
	r := registrytest.StartT(t, registrytest.Config{})
	orphan := pushBlob(t, r, nil, "foo/bar", []byte("nobody references me"))
	cfgBlob := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cfgDigest := pushBlob(t, r, nil, "foo/bar", cfgBlob)
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`,
		cfgDigest, len(cfgBlob))
	resp, body := do(t, r.Client(), http.MethodPut, r.URL+"/v2/foo/bar/manifests/v1",
		http.Header{"Content-Type": {"application/vnd.oci.image.manifest.v1+json"}}, []byte(manifest))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT manifest: %s: %s", resp.Status, body)
	}
	url := r.URL

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := r.GarbageCollect(ctx); err != nil {
		t.Fatalf("GarbageCollect: %v", err)
	}
	if r.URL != url {
		t.Errorf("URL changed from %s to %s", url, r.URL)
	}
	if resp := headBlob(t, r, nil, "foo/bar", orphan); resp.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD unreferenced blob after GC: %s, want 404", resp.Status)
	}
	if resp := headBlob(t, r, nil, "foo/bar", cfgDigest); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD referenced blob after GC: %s, want 200", resp.Status)
	}
	resp, _ = do(t, r.Client(), http.MethodGet, r.URL+"/v2/foo/bar/manifests/v1",
		http.Header{"Accept": {"application/vnd.oci.image.manifest.v1+json"}}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET manifest after GC: %s", resp.Status)
	}
	if !strings.Contains(r.Logs(), "garbage-collect") {
		t.Error("the garbage collection output is not in the log")
	}
}

func TestBinary(t *testing.T) {
	t.Parallel()
	bin, err := registrytest.Binary(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(bin, "registry-"+registrytest.RegistryVersion) {
		t.Errorf("Binary() = %s, want a path naming the version", bin)
	}
}

func TestParseAuthMode(t *testing.T) {
	t.Parallel()
	for _, m := range []registrytest.AuthMode{registrytest.AuthNone, registrytest.AuthHtpasswd, registrytest.AuthToken} {
		got, err := registrytest.ParseAuthMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseAuthMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := registrytest.ParseAuthMode("basic"); err == nil {
		t.Error("ParseAuthMode(basic) succeeded")
	}
}
