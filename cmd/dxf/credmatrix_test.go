package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// The credential matrix: every way dxf can be given a credential, against
// every way a hostile registry can try to make it leave — over plain HTTP,
// or to a host that is not the registry. See docs/auth.md.

const (
	matrixUser   = "fred"
	matrixIssued = "matrix-issued-T0ken" // what the registry's token server issues
)

// credSource is one way of giving dxf a credential.
type credSource struct {
	name   string
	secret string            // what must never leak
	env    map[string]string // DXF_* variables
	docker string            // config.json, with %s for the registry host
	helper string            // a docker-credential-dxfmatrix answer, if any
}

func credSources() []credSource {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	return []credSource{
		{name: "password", secret: "matrix-Passw0rd-1",
			env: map[string]string{"DXF_USERNAME": matrixUser, "DXF_PASSWORD": "matrix-Passw0rd-1"}},
		{name: "token", secret: "matrix-T0ken-2",
			env: map[string]string{"DXF_TOKEN": "matrix-T0ken-2"}},
		{name: "authorization", secret: "matrix-Authz-3",
			env: map[string]string{"DXF_AUTHORIZATION": "Basic " + b64(matrixUser+":matrix-Authz-3")}},
		{name: "docker-config-auth", secret: "matrix-Config-4",
			docker: `{"auths": {"%s": {"auth": "` + b64(matrixUser+":matrix-Config-4") + `"}}}`},
		{name: "identity-token", secret: "matrix-IdT0ken-5",
			docker: `{"auths": {"%s": {"identitytoken": "matrix-IdT0ken-5"}}}`},
		{name: "helper-identity-token", secret: "matrix-HelperT0ken-6",
			docker: `{"credHelpers": {"%s": "dxfmatrix"}}`,
			helper: `{"ServerURL": "x", "Username": "<token>", "Secret": "matrix-HelperT0ken-6"}`},
		{name: "helper-password", secret: "matrix-HelperPw-7",
			docker: `{"credHelpers": {"%s": "dxfmatrix"}}`,
			helper: `{"ServerURL": "x", "Username": "` + matrixUser + `", "Secret": "matrix-HelperPw-7"}`},
	}
}

// validCredential reports whether a token request authenticates with one of
// the matrix's credentials.
func validCredential(r *http.Request) bool {
	for _, s := range credSources() {
		if u, p, ok := r.BasicAuth(); ok && u == matrixUser && p == s.secret {
			return true
		}
		if r.Method == http.MethodPost && r.PostFormValue("refresh_token") == s.secret {
			return true
		}
	}
	return false
}

// recorder keeps a dump of every request a server received.
type recorder struct {
	mu    sync.Mutex
	dumps []string
}

func (rec *recorder) record(r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\n", r.Method, r.Host, r.URL)
	for k, v := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(v, ", "))
	}
	b.Write(body)
	rec.mu.Lock()
	rec.dumps = append(rec.dumps, b.String())
	rec.mu.Unlock()
}

// leaked returns the first dump holding secret (raw, URL-encoded, or in a
// Basic header), or "".
func (rec *recorder) leaked(secret string) string {
	forms := []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte(matrixUser + ":" + secret))}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, d := range rec.dumps {
		for _, f := range forms {
			if strings.Contains(d, f) {
				return "a request to " + strings.SplitN(d, "\n", 2)[0] // never the secret itself
			}
		}
	}
	return ""
}

// matrixTLS is a certificate for 127.0.0.1 and localhost, and its PEM file.
type matrixTLS struct {
	cert   tls.Certificate
	caFile string
}

func newMatrixTLS(t *testing.T) *matrixTLS {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "dxf credential matrix"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &matrixTLS{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile: caFile}
}

// serve starts h on 127.0.0.1, with TLS when mt is not nil.
func serve(t *testing.T, mt *matrixTLS, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	if mt != nil {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{mt.cert}, MinVersion: tls.VersionTLS12}
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// hostport of a test server, under another name for the same address:
// "localhost:port" is another host than "127.0.0.1:port" to a client, and
// go-containerregistry lets a token realm name it (not a loopback IP).
func asLocalhost(s *httptest.Server) string {
	u, _ := url.Parse(s.URL)
	return "localhost:" + u.Port()
}

// matrixRegistry is the registry of the matrix: ggcr's in-memory registry
// behind bearer authentication, with a token server on the same host, and
// hooks a hostile registry uses.
type matrixRegistry struct {
	srv            *httptest.Server
	rec            recorder // what it received (a leak when it came over plain HTTP)
	realm          string   // the realm of its challenges; default its own /token
	pingRedirect   string   // /v2/ redirects here
	tokenRedirect  string   // /token redirects here
	tagsLink       string   // tag listings link here as the next page
	uploadLocation string   // new upload sessions are here
	echoAuth       bool     // manifest requests fail, quoting the Authorization header
}

func newMatrixRegistry(t *testing.T, mt *matrixTLS) *matrixRegistry {
	m := &matrixRegistry{}
	mem := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	m.srv = serve(t, mt, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.rec.record(r)
		switch {
		case r.URL.Path == "/token":
			if m.tokenRedirect != "" {
				http.Redirect(w, r, m.tokenRedirect, http.StatusTemporaryRedirect)
				return
			}
			if !validCredential(r) {
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, `{"token": %q, "access_token": %q}`, matrixIssued, matrixIssued)
			return
		case r.URL.Path == "/v2/" && m.pingRedirect != "":
			http.Redirect(w, r, m.pingRedirect, http.StatusTemporaryRedirect)
			return
		}
		if a := r.Header.Get("Authorization"); a != "Bearer "+matrixIssued && a != "Bearer matrix-T0ken-2" {
			realm := m.realm
			if realm == "" {
				realm = m.srv.URL + "/token"
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="matrix"`, realm))
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		switch {
		case m.echoAuth && strings.Contains(r.URL.Path, "/manifests/"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"token %s is not good enough"}]}`, r.Header.Get("Authorization"))
		case m.tagsLink != "" && strings.HasSuffix(r.URL.Path, "/tags/list"):
			w.Header().Set("Link", "<"+m.tagsLink+`>; rel="next"`)
			fmt.Fprint(w, `{"name": "x", "tags": ["a"]}`)
		case m.uploadLocation != "" && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/"):
			w.Header().Set("Location", m.uploadLocation)
			w.WriteHeader(http.StatusAccepted)
		default:
			mem.ServeHTTP(w, r)
		}
	}))
	return m
}

func (m *matrixRegistry) host() string {
	return strings.TrimPrefix(strings.TrimPrefix(m.srv.URL, "https://"), "http://")
}

// newAttacker starts a host that wants credentials: it answers every
// request with a bearer challenge of its own and issues tokens to anyone.
func newAttacker(t *testing.T, mt *matrixTLS) (*httptest.Server, *recorder) {
	rec := &recorder{}
	var srv *httptest.Server
	srv = serve(t, mt, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		if r.URL.Path == "/token" {
			fmt.Fprint(w, `{"token": "attacker-token"}`)
			return
		}
		u, _ := url.Parse(srv.URL)
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s://%s/token",service="attacker"`, u.Scheme, asLocalhost(srv)))
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
	}))
	return srv, rec
}

// leakPath sets up one hostile registry and says which command to run.
type leakPath struct {
	name string
	// setup returns the registry, the attackers' records, and the command.
	setup func(t *testing.T, mt *matrixTLS) (reg *matrixRegistry, watched []*recorder, args []string)
}

func leakPaths() []leakPath {
	list := []string{"list-aliases", "matrix/repo"}
	return []leakPath{
		{"plain-http-realm", func(t *testing.T, _ *matrixTLS) (*matrixRegistry, []*recorder, []string) {
			// DXF_INSECURE=1 and a realm on plain HTTP (another host).
			reg := newMatrixRegistry(t, nil)
			realm, rec := newAttacker(t, nil)
			reg.realm = "http://" + asLocalhost(realm) + "/token"
			return reg, []*recorder{rec, &reg.rec}, list
		}},
		{"plain-http-realm-same-host", func(t *testing.T, _ *matrixTLS) (*matrixRegistry, []*recorder, []string) {
			reg := newMatrixRegistry(t, nil) // its own /token, over plain HTTP
			return reg, []*recorder{&reg.rec}, list
		}},
		{"downgrade-redirect", func(t *testing.T, mt *matrixTLS) (*matrixRegistry, []*recorder, []string) {
			// An HTTPS registry redirects its ping to a plain-HTTP host.
			reg := newMatrixRegistry(t, mt)
			a, rec := newAttacker(t, nil)
			reg.pingRedirect = "http://" + asLocalhost(a) + "/v2/"
			return reg, []*recorder{rec}, list
		}},
		{"cross-host-redirect", func(t *testing.T, mt *matrixTLS) (*matrixRegistry, []*recorder, []string) {
			// The ping is redirected to another HTTPS host with its own realm.
			reg := newMatrixRegistry(t, mt)
			a, rec := newAttacker(t, mt)
			reg.pingRedirect = "https://" + asLocalhost(a) + "/v2/"
			return reg, []*recorder{rec}, list
		}},
		{"cross-host-token-redirect", func(t *testing.T, mt *matrixTLS) (*matrixRegistry, []*recorder, []string) {
			// The registry's token server redirects (307, body and all)
			// to another host.
			reg := newMatrixRegistry(t, mt)
			a, rec := newAttacker(t, mt)
			reg.tokenRedirect = "https://" + asLocalhost(a) + "/token"
			return reg, []*recorder{rec}, list
		}},
		{"pagination-link", func(t *testing.T, mt *matrixTLS) (*matrixRegistry, []*recorder, []string) {
			reg := newMatrixRegistry(t, mt)
			a, rec := newAttacker(t, mt)
			reg.tagsLink = "https://" + asLocalhost(a) + "/v2/matrix/repo/tags/list?last=a"
			return reg, []*recorder{rec}, list
		}},
		{"upload-location", func(t *testing.T, mt *matrixTLS) (*matrixRegistry, []*recorder, []string) {
			reg := newMatrixRegistry(t, mt)
			a, rec := newAttacker(t, mt)
			reg.uploadLocation = "https://" + asLocalhost(a) + "/upload/session-1?_state=x"
			return reg, []*recorder{rec}, []string{"push-blob", "matrix/repo", "blob"}
		}},
	}
}

// matrixDXF returns a runner for reg with credential source s.
func matrixDXF(t *testing.T, reg *matrixRegistry, mt *matrixTLS, s credSource) *dxf {
	t.Helper()
	home := t.TempDir()
	bin := filepath.Join(home, "bin")
	d := &dxf{t: t, dir: t.TempDir(), env: map[string]string{
		"PATH":           bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME":           home,
		"DOCKER_CONFIG":  filepath.Join(home, ".docker"),
		"XDG_CACHE_HOME": filepath.Join(home, ".cache"),
		"DXF_HOST":       reg.host(),
		"DXF_TLSVERIFY":  mt.caFile,
	}}
	if strings.HasPrefix(reg.srv.URL, "http:") {
		d.env["DXF_INSECURE"] = "1"
	}
	if raceEnabled {
		d.env["GORACE"] = "halt_on_error=1 atexit_sleep_ms=0"
	}
	for k, v := range s.env {
		d.env[k] = v
	}
	for _, dir := range []string{bin, d.env["DOCKER_CONFIG"]} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if s.docker != "" {
		cfg := fmt.Sprintf(s.docker, reg.host())
		if err := os.WriteFile(filepath.Join(d.env["DOCKER_CONFIG"], "config.json"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if s.helper != "" {
		script := "#!/bin/sh\ncat >/dev/null\necho '" + s.helper + "'\n"
		if err := os.WriteFile(filepath.Join(bin, "docker-credential-dxfmatrix"), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	d.file("blob", []byte("matrix blob"))
	return d
}

// TestCredentialMatrix runs each credential source against each leak path:
// the command must fail, no watched host may receive the secret (or the
// token the registry issued for it), and no message may show it. A control
// run first shows the source's credential works with the honest registry.
func TestCredentialMatrix(t *testing.T) {
	t.Parallel()
	mt := newMatrixTLS(t)
	for _, s := range credSources() {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			reg := newMatrixRegistry(t, mt)
			d := matrixDXF(t, reg, mt, s)
			if r := d.run("push-blob", "matrix/repo", "blob", "@control"); r.code != 0 {
				t.Fatalf("control: the credential does not work with the honest registry: exit %d, %s", r.code, r.stderr)
			}
			for _, p := range leakPaths() {
				t.Run(p.name, func(t *testing.T) {
					reg, watched, args := p.setup(t, mt)
					d := matrixDXF(t, reg, mt, s)
					args = append([]string{"--retries", "0"}, args...)
					r := d.run(args...)
					t.Logf("dxf %s: exit %d, %s", strings.Join(args, " "), r.code, strings.TrimSpace(r.stderr))
					if r.code == 0 {
						t.Errorf("the command succeeded against a hostile registry")
					}
					for _, secret := range []string{s.secret, matrixIssued} {
						for _, rec := range watched {
							if where := rec.leaked(secret); where != "" {
								t.Errorf("a credential leaked in %s", where)
							}
						}
						if strings.Contains(r.stderr, secret) || strings.Contains(r.stdout, secret) {
							t.Errorf("a credential is shown in the output")
						}
					}
				})
			}
		})
	}
}

// TestRedactedMessages: secrets never reach a message, even when the
// registry or a credential helper quotes them: a token the registry echoes
// in an error body, a failing helper's output, credentials in DXF_HOST.
func TestRedactedMessages(t *testing.T) {
	t.Parallel()
	mt := newMatrixTLS(t)
	reg := newMatrixRegistry(t, mt)
	reg.echoAuth = true

	for _, s := range credSources() {
		d := matrixDXF(t, reg, mt, s)
		r := d.fails(exitFailure, []string{"get-alias", "matrix/repo", "x"}, "denied", "[redacted]")
		for _, secret := range []string{s.secret, matrixIssued} {
			if strings.Contains(r.stderr, secret) {
				t.Errorf("%s: a secret the registry echoed is shown: %q", s.name, r.stderr)
			}
		}
	}

	// A helper that fails, printing its secret on both its outputs.
	failing := credSource{name: "failing-helper", docker: `{"credHelpers": {"%s": "dxfmatrix"}}`}
	d := matrixDXF(t, reg, mt, failing)
	script := "#!/bin/sh\necho '{\"Secret\": \"helper-S3cret-out\"}'\necho 'helper-S3cret-out' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(d.env["PATH"][:strings.IndexByte(d.env["PATH"], os.PathListSeparator)], "docker-credential-dxfmatrix"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	r := d.fails(exitFailure, []string{"list-aliases", "matrix/repo"}, "credential helper failed", "docker-credential-dxfmatrix")
	if strings.Contains(r.stderr, "helper-S3cret-out") {
		t.Errorf("the helper's secret is shown: %q", r.stderr)
	}

	// Credentials written into DXF_HOST are not echoed back.
	for _, host := range []string{"fred:Sup3rSecret@" + reg.host(), "https://fred:Sup3rSecret@" + reg.host()} {
		r := d.with("DXF_HOST", host).fails(exitFailure, []string{"list-aliases", "matrix/repo"}, "DXF_USERNAME")
		if strings.Contains(r.stderr, "Sup3rSecret") {
			t.Errorf("DXF_HOST's password is shown: %q", r.stderr)
		}
	}
}
