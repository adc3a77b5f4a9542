package registrytest

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// AuthMode selects how the registry authenticates clients.
type AuthMode int

const (
	// AuthNone lets everybody do everything.
	AuthNone AuthMode = iota
	// AuthHtpasswd requires HTTP Basic authentication, checked against an
	// htpasswd file holding [Config.Users].
	AuthHtpasswd
	// AuthToken requires Docker bearer tokens issued by the in-process
	// [TokenServer].
	AuthToken
)

// String returns "none", "htpasswd" or "token".
func (m AuthMode) String() string {
	switch m {
	case AuthNone:
		return "none"
	case AuthHtpasswd:
		return "htpasswd"
	case AuthToken:
		return "token"
	default:
		return "AuthMode(" + strconv.Itoa(int(m)) + ")"
	}
}

// ParseAuthMode is the inverse of [AuthMode.String].
func ParseAuthMode(s string) (AuthMode, error) {
	for _, m := range []AuthMode{AuthNone, AuthHtpasswd, AuthToken} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("registrytest: unknown auth mode %q (want none, htpasswd or token)", s)
}

// Default credentials, used when authentication is on and [Config.Users] is
// empty.
const (
	DefaultUsername = "fred"
	DefaultPassword = "!WordPass0$"
)

// DefaultTokenTTL is the lifetime of issued tokens unless
// [Config.TokenTTL] says otherwise.
const DefaultTokenTTL = 5 * time.Minute

// Token server identity, as written into the registry configuration and the
// tokens.
const (
	// TokenService is the "service" of the token protocol and the audience
	// of every token.
	TokenService = "Docker registry"
	// TokenIssuer is the "iss" claim of every token.
	TokenIssuer = "Auth Service"
	// HtpasswdRealm is the realm of the Basic challenge in htpasswd mode.
	HtpasswdRealm = "Registry Realm"
)

// Config describes the registry to start. The zero value is a plain-HTTP
// registry without authentication.
type Config struct {
	// TLS serves HTTPS with a certificate from a CA generated for this
	// registry.
	TLS bool

	// Auth selects the authentication scheme. AuthHtpasswd and AuthToken
	// are meant to be combined with TLS, as real deployments are; without
	// it credentials travel in clear text (which works, but clients may
	// refuse). The token server always serves HTTPS.
	Auth AuthMode

	// Users maps user names to passwords for AuthHtpasswd and AuthToken.
	// When empty, it is {DefaultUsername: DefaultPassword}.
	Users map[string]string

	// TokenTTL is the lifetime of issued tokens (AuthToken); DefaultTokenTTL
	// when zero. It can be changed later with [TokenServer.SetTTL].
	TokenTTL time.Duration

	// AnonymousActions are the repository actions (e.g. "pull") granted to
	// token requests without credentials (AuthToken). By default anonymous
	// requests get a token granting nothing.
	AnonymousActions []string

	// CatalogForAnonymous grants registry:catalog:* to anonymous token
	// requests (AuthToken).
	CatalogForAnonymous bool

	// Host is the host name clients address the registry by: "localhost"
	// when empty, or "127.0.0.1". The registry listens on 127.0.0.1 either
	// way; [Registry.Host] and [Registry.URL] use this name.
	Host string

	// TokenHost is the host the token realm names (AuthToken): "localhost"
	// when empty, "127.0.0.1" or "::1". The token server listens on a port
	// of its own, never the registry's.
	TokenHost string

	// CatalogMaxEntries is the registry's catalog.maxentries: the most
	// repositories one catalog page may hold, and the largest n a client
	// may ask for. Zero leaves the registry's default (1000).
	CatalogMaxEntries int

	// S3 keeps the registry's data in an S3 bucket instead of a local
	// directory (see [StartS3]); by default the registry then redirects blob
	// downloads to presigned URLs of the object store.
	S3 *S3Storage

	// Secret is the registry's http.secret, which signs upload session
	// state; random when empty. Registries sharing storage behind a load
	// balancer share it, so an upload begun on one can go on at another.
	Secret string

	// Binary is the registry program to run instead of [Binary]'s (for
	// example [LegacyBinary]: Distribution 2.8). It must take the same
	// configuration file and "serve" and "garbage-collect" commands.
	Binary string

	// ExactExpClaim writes exp = iat + TTL into tokens. By default exp is
	// backdated by the registry's 60-second clock-skew leeway (see
	// [TokenServer]) so that the registry really rejects a token once its
	// TTL has passed; set this to get a conventional exp claim instead, at
	// the price of tokens being accepted for 60 seconds more than the TTL.
	ExactExpClaim bool
}

// withDefaults returns a copy of c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.Auth != AuthNone && len(c.Users) == 0 {
		c.Users = map[string]string{DefaultUsername: DefaultPassword}
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	return c
}

// defaultUser is the user reported as Registry.Username: DefaultUsername if
// configured, else the alphabetically first user.
func (c Config) defaultUser() (string, string) {
	if len(c.Users) == 0 {
		return "", ""
	}
	if pw, ok := c.Users[DefaultUsername]; ok {
		return DefaultUsername, pw
	}
	names := make([]string, 0, len(c.Users))
	for n := range c.Users {
		names = append(names, n)
	}
	slices.Sort(names)
	return names[0], c.Users[names[0]]
}

// writeHtpasswd writes users with bcrypt hashes. The minimum cost keeps the
// registry fast: it runs bcrypt on every authenticated request.
func writeHtpasswd(path string, users map[string]string) error {
	names := make([]string, 0, len(users))
	for n := range users {
		if n == "" || strings.ContainsAny(n, ":\n") {
			return fmt.Errorf("registrytest: invalid user name %q", n)
		}
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		hash, err := bcrypt.GenerateFromPassword([]byte(users[n]), bcrypt.MinCost)
		if err != nil {
			return fmt.Errorf("registrytest: hash password of %q: %w", n, err)
		}
		fmt.Fprintf(&b, "%s:%s\n", n, hash)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// registryYAML is what writeRegistryConfig needs to know.
type registryYAML struct {
	addr       string // host:port to listen on
	rootDir    string
	secret     string
	instance   string // value of instanceHeader
	tls        *pki
	htpasswd   string // path, for AuthHtpasswd
	tokenURL   string // realm, for AuthToken
	tokenRoot  string // rootcertbundle, for AuthToken
	catalogMax int    // catalog.maxentries, if > 0
	s3         *S3Storage
}

// writeRegistryConfig writes the registry configuration file. Strings are
// written as YAML double-quoted scalars, whose escapes are a superset of
// what strconv.Quote produces.
func writeRegistryConfig(path string, y registryYAML) error {
	q := strconv.Quote
	var b strings.Builder
	b.WriteString("# Generated by github.com/dxf-go/dxf/pkg/registrytest.\n")
	b.WriteString("version: 0.1\n")
	b.WriteString("log:\n  level: info\n  formatter: text\n")
	b.WriteString("storage:\n")
	if s3 := y.s3; s3 != nil {
		g := s3.Gateway
		b.WriteString("  s3:\n")
		fmt.Fprintf(&b, "    accesskey: %s\n    secretkey: %s\n", q(g.AccessKey), q(g.SecretKey))
		fmt.Fprintf(&b, "    region: %s\n    regionendpoint: %s\n", q(S3Region), q(g.Endpoint))
		fmt.Fprintf(&b, "    bucket: %s\n    rootdirectory: %s\n", q(g.Bucket), q(cmp.Or(s3.RootDirectory, "/registry")))
		// The gateway's certificate is from its own CA: not verified.
		b.WriteString("    forcepathstyle: true\n    secure: true\n    skipverify: true\n    v4auth: true\n")
		fmt.Fprintf(&b, "  redirect:\n    disable: %t\n", s3.NoRedirect)
	} else {
		fmt.Fprintf(&b, "  filesystem:\n    rootdirectory: %s\n", q(y.rootDir))
	}
	b.WriteString("  delete:\n    enabled: true\n")
	b.WriteString("  maintenance:\n    uploadpurging:\n      enabled: false\n")
	if y.catalogMax > 0 {
		fmt.Fprintf(&b, "catalog:\n  maxentries: %d\n", y.catalogMax)
	}
	b.WriteString("http:\n")
	// No http.debug section: the debug server (pprof, metrics) stays off
	// and binds no port. No draintimeout either: SIGTERM stops at once.
	fmt.Fprintf(&b, "  addr: %s\n", q(y.addr))
	fmt.Fprintf(&b, "  secret: %s\n", q(y.secret))
	fmt.Fprintf(&b, "  headers:\n    %s: [%s]\n", instanceHeader, q(y.instance))
	if y.tls != nil {
		fmt.Fprintf(&b, "  tls:\n    certificate: %s\n    key: %s\n", q(y.tls.certPEM), q(y.tls.keyPEM))
	}
	switch {
	case y.htpasswd != "":
		fmt.Fprintf(&b, "auth:\n  htpasswd:\n    realm: %s\n    path: %s\n", q(HtpasswdRealm), q(y.htpasswd))
	case y.tokenURL != "":
		b.WriteString("auth:\n  token:\n")
		fmt.Fprintf(&b, "    realm: %s\n", q(y.tokenURL))
		fmt.Fprintf(&b, "    service: %s\n", q(TokenService))
		fmt.Fprintf(&b, "    issuer: %s\n", q(TokenIssuer))
		fmt.Fprintf(&b, "    rootcertbundle: %s\n", q(y.tokenRoot))
		b.WriteString("    signingalgorithms:\n      - ES256\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
