// Package matrix is the registry matrix of the integration tests: a table of
// registry targets — the Distribution registry on a file system and on S3
// object storage with redirects, two Distribution instances behind a load
// balancer, Distribution 2.8, Distribution with token realms on loopback IP
// literals, and the in-process Go registries of go-containerregistry,
// olareg and CUE — each with the capabilities the registry really has, so
// that one suite runs against every target and expects either success or
// the specific error dxf gives for a missing capability.
//
// Each test package shares one instance per target ([Get]); its TestMain
// calls [StopAll].
package matrix

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cuelabs.dev/go/oci/ociregistry/ocimem"
	"cuelabs.dev/go/oci/ociregistry/ociserver"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/olareg/olareg"
	olaconfig "github.com/olareg/olareg/config"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// Caps are the traits of a registry that change what a test checks (the
// operations it does not support are in [Target.Unsupported]).
type Caps struct {
	// KeepsTags: deleting a manifest by digest leaves its tags resolving;
	// dxf then deletes the alias by name.
	KeepsTags bool
	// CatalogNoPages: the catalog does not paginate; asked for n
	// repositories it returns an arbitrary n of them (and ignores last), so
	// only listing without a page size (dxf's default) is complete.
	CatalogNoPages bool
	// Redirects: blob downloads are redirected to object storage on
	// another port (presigned URLs).
	Redirects bool
	// Token: bearer-token authentication (with a realm on another port).
	Token bool
	// Basic: HTTP Basic authentication.
	Basic bool
}

// Op names an operation of the matrix, a column of docs/registries.md.
type Op string

// The operations whose support varies between registries.
const (
	OpMount          Op = "mount-blob"
	OpCatalog        Op = "list-repos"
	OpDeleteManifest Op = "del-alias"
	OpDeleteBlob     Op = "del-blob"
)

// Target is one registry set-up of the matrix.
type Target struct {
	// Name identifies the target in test names and docs/registries.md.
	Name string
	// About describes it in one line.
	About string
	// Caps are its capabilities.
	Caps Caps
	// Unsupported maps each operation the registry does not support to a
	// part of the message dxf gives for it (the rest names digests and
	// repositories); a test expects that error, and success for every
	// other operation.
	Unsupported map[Op]string

	start func(ctx context.Context, sh *shared) (*Server, error)
}

// Supports reports whether the target supports op.
func (t *Target) Supports(op Op) bool {
	_, no := t.Unsupported[op]
	return !no
}

// Server is a running target.
type Server struct {
	// Target is what runs.
	Target *Target
	// Host is host:port for clients.
	Host string
	// Insecure is true when the registry speaks plain HTTP.
	Insecure bool
	// CAFile is the PEM file of the CA to trust ("" for plain HTTP).
	CAFile string
	// Username and Password are the credentials to use ("" for none).
	Username string
	// Password of Username.
	Password string
	// Registries are the Distribution processes behind Host (two for the
	// scale-out target), nil for in-process registries.
	Registries []*registrytest.Registry
	// S3 is the object store of S3-backed targets, else nil.
	S3 *registrytest.S3Gateway
	// Token is the token issuer of token-auth targets, else nil.
	Token *registrytest.TokenServer
	// Version is the version of the registry software.
	Version string

	stop []func()
}

// Stop stops the target.
func (s *Server) Stop() {
	for i := len(s.stop) - 1; i >= 0; i-- {
		s.stop[i]()
	}
	s.stop = nil
}

// Describe is the one-line description of the running target.
func (s *Server) Describe() string {
	return fmt.Sprintf("%s (%s %s) at %s", s.Target.Name, s.Target.About, s.Version, s.Host)
}

// Names of the targets.
const (
	Distribution      = "distribution"
	DistributionS3    = "distribution-s3-redirect"
	DistributionScale = "distribution-s3-scale-out"
	Distribution28    = "distribution-2.8"
	TokenRealmIP      = "token-realm-127.0.0.1" //nolint:gosec // a name, not a credential
	TokenRealmLocal   = "token-realm-localhost"
	TokenRealmSameIP  = "token-realm-registry-ip" //nolint:gosec // a name, not a credential
	GGCR              = "ggcr-registry"
	Olareg            = "olareg"
	CUE               = "cue-ociregistry"
)

// Messages dxf gives for unsupported operations (parts of them).
const (
	MsgNoMount     = "it may not support cross-repository mounts"
	MsgNoCatalog   = "the registry has no catalog"
	MsgNoDelete    = "the registry does not allow deletes"
	MsgKeepsTagged = "keeps the alias"
)

// Targets returns the matrix, in a fixed order.
func Targets() []*Target {
	distCaps := Caps{}
	s3Caps := Caps{Redirects: true, Basic: true}
	scaleCaps := Caps{Redirects: true}
	tokenCaps := Caps{Token: true}
	return []*Target{
		{Name: Distribution, About: "Distribution on the file system", Caps: distCaps, start: startDistribution},
		{Name: DistributionS3, About: "Distribution on S3 object storage (versitygw), blob GETs redirected to presigned URLs, TLS and Basic auth", Caps: s3Caps, start: startS3},
		{Name: DistributionScale, About: "two Distribution instances sharing an S3 bucket and http.secret behind a round-robin load balancer", Caps: scaleCaps, start: startScaleOut},
		{Name: Distribution28, About: "Distribution 2.8 (Debian's docker-registry) on the file system", Caps: distCaps, start: startLegacy},
		{Name: TokenRealmIP, About: "Distribution at localhost, token realm on 127.0.0.1 at another port", Caps: tokenCaps, start: tokenStarter("localhost", "127.0.0.1")},
		{Name: TokenRealmLocal, About: "Distribution at 127.0.0.1, token realm on localhost at another port", Caps: tokenCaps, start: tokenStarter("127.0.0.1", "localhost")},
		{Name: TokenRealmSameIP, About: "Distribution at 127.0.0.1, token realm on 127.0.0.1 at another port", Caps: tokenCaps, start: tokenStarter("127.0.0.1", "127.0.0.1")},
		{Name: GGCR, About: "go-containerregistry's pkg/registry (crane registry serve), in memory", start: startGGCR,
			Caps:        Caps{KeepsTags: true, CatalogNoPages: true},
			Unsupported: map[Op]string{OpMount: MsgNoMount}},
		{Name: Olareg, About: "olareg, in memory, default configuration", start: startOlareg,
			Unsupported: map[Op]string{OpCatalog: MsgNoCatalog, OpDeleteManifest: MsgNoDelete, OpDeleteBlob: MsgNoDelete}},
		{Name: CUE, About: "CUE's ociregistry (ocimem behind ociserver)", start: startCUE},
	}
}

// Lookup returns the target called name, or nil.
func Lookup(name string) *Target {
	for _, t := range Targets() {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// shared holds what one package's targets share: the S3 gateway.
type shared struct {
	mu sync.Mutex
	s3 *registrytest.S3Gateway
}

func (sh *shared) gateway(ctx context.Context) (*registrytest.S3Gateway, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.s3 != nil {
		return sh.s3, nil
	}
	g, err := registrytest.StartS3(ctx)
	if err != nil {
		return nil, err
	}
	sh.s3 = g
	return g, nil
}

var (
	mu      sync.Mutex
	running = map[string]*instance{}
	sh      = &shared{}
)

type instance struct {
	once sync.Once
	srv  *Server
	err  error
}

// startTimeout bounds starting one target, a first-time install of its
// binaries included.
const startTimeout = 10 * time.Minute

// Get returns the package's shared instance of target, starting it on first
// use and printing an "integration:" line naming it. It fails the test
// (never skips it) if the target cannot start.
func Get(t testing.TB, target *Target) *Server {
	t.Helper()
	mu.Lock()
	in := running[target.Name]
	if in == nil {
		in = &instance{}
		running[target.Name] = in
	}
	mu.Unlock()
	in.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		in.srv, in.err = target.start(ctx, sh)
		if in.err == nil {
			in.srv.Target = target
			fmt.Printf("integration: matrix target %s\n", in.srv.Describe())
		}
	})
	if in.err != nil {
		t.Fatalf("matrix: cannot start %s (%s); the matrix needs it: %v", target.Name, target.About, in.err)
	}
	return in.srv
}

// StopAll stops every target this package started.
func StopAll() {
	mu.Lock()
	defer mu.Unlock()
	for _, in := range running {
		if in.srv != nil {
			in.srv.Stop()
		}
	}
	running = map[string]*instance{}
	if sh.s3 != nil {
		sh.s3.Stop()
		sh.s3 = nil
	}
}

func fromRegistry(r *registrytest.Registry) *Server {
	return &Server{
		Host:       r.Host,
		Insecure:   !strings.HasPrefix(r.URL, "https:"),
		CAFile:     r.CAFile,
		Username:   r.Username,
		Password:   r.Password,
		Registries: []*registrytest.Registry{r},
		Token:      r.Token,
		Version:    registrytest.RegistryVersion,
		stop:       []func(){r.Stop},
	}
}

func startDistribution(ctx context.Context, _ *shared) (*Server, error) {
	r, err := registrytest.Start(ctx, registrytest.Config{})
	if err != nil {
		return nil, err
	}
	return fromRegistry(r), nil
}

func startLegacy(ctx context.Context, _ *shared) (*Server, error) {
	bin, err := registrytest.LegacyBinary(ctx)
	if err != nil {
		return nil, err
	}
	v, err := registrytest.LegacyVersion(ctx)
	if err != nil {
		return nil, err
	}
	r, err := registrytest.Start(ctx, registrytest.Config{Binary: bin})
	if err != nil {
		return nil, err
	}
	s := fromRegistry(r)
	s.Version = v
	return s, nil
}

func tokenStarter(host, tokenHost string) func(context.Context, *shared) (*Server, error) {
	return func(ctx context.Context, _ *shared) (*Server, error) {
		r, err := registrytest.Start(ctx, registrytest.Config{TLS: true, Auth: registrytest.AuthToken, Host: host, TokenHost: tokenHost})
		if err != nil {
			return nil, err
		}
		return fromRegistry(r), nil
	}
}

func startS3(ctx context.Context, sh *shared) (*Server, error) {
	g, err := sh.gateway(ctx)
	if err != nil {
		return nil, err
	}
	r, err := registrytest.Start(ctx, registrytest.Config{TLS: true, Auth: registrytest.AuthHtpasswd,
		S3: &registrytest.S3Storage{Gateway: g, RootDirectory: "/redirect"}})
	if err != nil {
		return nil, err
	}
	s := fromRegistry(r)
	s.S3 = g
	// Clients trust the registry's CA and the object store's.
	bundle, cleanup, err := joinFiles(r.CAFile, g.CAFile)
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.CAFile = bundle
	s.stop = append(s.stop, cleanup)
	return s, nil
}

// joinFiles writes the concatenation of files to a temporary file.
func joinFiles(files ...string) (string, func(), error) {
	f, err := os.CreateTemp("", "matrix-ca-*.pem")
	if err != nil {
		return "", nil, err
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			_, err = f.Write(b)
		}
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			return "", nil, err
		}
	}
	if err := f.Close(); err != nil {
		return "", nil, err
	}
	return f.Name(), func() { _ = os.Remove(f.Name()) }, nil
}

func startScaleOut(ctx context.Context, sh *shared) (*Server, error) {
	g, err := sh.gateway(ctx)
	if err != nil {
		return nil, err
	}
	cfg := registrytest.Config{S3: &registrytest.S3Storage{Gateway: g, RootDirectory: "/scale-out"}, Secret: randomSecret()}
	a, err := registrytest.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b, err := registrytest.Start(ctx, cfg)
	if err != nil {
		a.Stop()
		return nil, err
	}
	lb, err := registrytest.NewLoadBalancer(a, b)
	if err != nil {
		a.Stop()
		b.Stop()
		return nil, err
	}
	return &Server{
		Host:       lb.Host,
		Insecure:   true,
		CAFile:     g.CAFile,
		Registries: []*registrytest.Registry{a, b},
		S3:         g,
		Version:    registrytest.RegistryVersion,
		stop:       []func(){a.Stop, b.Stop, lb.Close},
	}, nil
}

// inProcess serves h on a loopback port.
func inProcess(h http.Handler, version string, closers ...func()) *Server {
	srv := httptest.NewServer(h)
	return &Server{
		Host:     strings.TrimPrefix(srv.URL, "http://"),
		Insecure: true,
		Version:  version,
		stop:     append([]func(){srv.Close}, closers...),
	}
}

func startGGCR(context.Context, *shared) (*Server, error) {
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true))
	return inProcess(h, Modules["github.com/google/go-containerregistry"]), nil
}

func startOlareg(context.Context, *shared) (*Server, error) {
	h := olareg.New(olaconfig.Config{Storage: olaconfig.ConfigStorage{StoreType: olaconfig.StoreMem}})
	return inProcess(h, Modules["github.com/olareg/olareg"], func() { _ = h.Close() }), nil
}

func startCUE(context.Context, *shared) (*Server, error) {
	h := ociserver.New(ocimem.New(), nil)
	return inProcess(h, Modules["cuelabs.dev/go/oci/ociregistry"]), nil
}

// SortedNames returns the names of the targets.
func SortedNames() []string {
	var names []string
	for _, t := range Targets() {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names
}

func randomSecret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Modules are the versions of the in-process registries' modules, as go.mod
// requires them (a test checks; test binaries carry no module versions).
var Modules = map[string]string{
	"github.com/google/go-containerregistry": "v0.22.1",
	"github.com/olareg/olareg":               "v0.2.2",
	"cuelabs.dev/go/oci/ociregistry":         "v0.0.0-20251212221603-3adeb8663819",
}

// Ops are the operations of the table in docs/registries.md, in order.
var Ops = []Op{OpMount, OpCatalog, OpDeleteManifest, OpDeleteBlob}

// MarkdownTable renders the matrix as the Markdown table of
// docs/registries.md: one row per target, a column per operation saying
// "works" or the message dxf gives.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Registry (target) | What runs | push, stdin push, aliases, pull (pipe and file), sizes, list-aliases with pages")
	for _, op := range Ops {
		b.WriteString(" | " + string(op))
	}
	b.WriteString(" | Notes |\n|---|---|---")
	for range Ops {
		b.WriteString("|---")
	}
	b.WriteString("|---|\n")
	for _, t := range Targets() {
		fmt.Fprintf(&b, "| `%s` | %s | works", t.Name, t.About)
		for _, op := range Ops {
			if msg, no := t.Unsupported[op]; no {
				fmt.Fprintf(&b, " | not supported: `…%s…`", msg)
			} else {
				b.WriteString(" | works")
			}
		}
		b.WriteString(" | " + notes(t.Caps) + " |\n")
	}
	return b.String()
}

func notes(c Caps) string {
	var n []string
	if c.Redirects {
		n = append(n, "blob GETs answered 307 to presigned URLs of the object store on another port: followed without credentials, data verified")
	}
	if c.Token {
		n = append(n, "bearer tokens; `dxf auth` prints one")
	}
	if c.Basic {
		n = append(n, "HTTPS with Basic auth")
	}
	if c.KeepsTags {
		n = append(n, "keeps tags when their manifest is deleted: del-alias then deletes the tag by name")
	}
	if c.CatalogNoPages {
		n = append(n, "catalog ignores paging: with a page size it returns an arbitrary subset (dxf asks for none by default)")
	}
	if len(n) == 0 {
		return "—"
	}
	return strings.Join(n, "; ")
}
