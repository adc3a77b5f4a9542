package transport

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
)

// The credential guard. Every request the library makes — to the registry,
// to its token server, and wherever a redirect, an upload Location or a Link
// header leads — passes through baseTransport, below go-containerregistry's
// authentication layers. Before a request leaves, the guard looks at every
// place a secret can travel:
//
//   - the Authorization header;
//   - the query string;
//   - a small body held in memory (a token request: go-containerregistry's
//     OAuth refresh POSTs refresh_token=… or password=… in a form).
//
// A request that carries a secret (any Authorization header, a form field
// named like a credential, or a known secret anywhere) may go only over
// HTTPS and only to the registry, a token realm the registry itself named,
// or the configured auth host. Known secrets are the credentials the
// Client was given or resolved (password, identity token, registry token,
// Basic auth value, from options, the keychain or a credential helper) and
// every token the library sends to the registry (so tokens issued by the
// token server count too). They are also what [Client.Redact] scrubs.

// ErrRedirectDowngrade is returned when an HTTPS request was redirected to plain HTTP, which
// is refused unless the registry is used insecurely (Config.Insecure).
var ErrRedirectDowngrade = errors.New("redirect from HTTPS to plain HTTP refused")

// ErrCredentialsOtherHost is returned when a request carrying credentials was about to go to
// a host other than the registry, its token realm or the auth host
// (Config.AuthHost), for example after a redirect. It was not sent.
var ErrCredentialsOtherHost = errors.New("credentials for the registry not sent to another host")

// minSecretLen: shorter strings are not matched as secrets (a one-letter
// password would otherwise scrub every message of that letter). Headers and
// credential form fields are guarded whatever their length.
const minSecretLen = 4

// maxInspectedBody: request bodies up to this size, held in memory, are
// searched for secrets; larger ones are blob data.
const maxInspectedBody = 64 << 10

// credentialFields are form fields that carry a secret (OAuth2 token
// requests, as go-containerregistry sends them).
var credentialFields = []string{"refresh_token", "password", "access_token", "client_secret", "assertion"}

// secretSet holds the secrets a Registry knows, for the guard and for
// redaction. Safe for concurrent use.
type secretSet struct {
	mu sync.RWMutex
	s  map[string]bool
}

func newSecretSet() *secretSet { return &secretSet{s: map[string]bool{}} }

// add records secrets, with the encoded forms they travel in.
func (ss *secretSet) add(secrets ...string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		ss.s[s] = true
		if q := url.QueryEscape(s); q != s {
			ss.s[q] = true
		}
		if p := url.PathEscape(s); p != s {
			ss.s[p] = true
		}
	}
}

// addAuth records the secrets of an authentication configuration.
func (ss *secretSet) addAuth(c *authn.AuthConfig) {
	if c == nil {
		return
	}
	ss.add(c.Password, c.Auth, c.IdentityToken, c.RegistryToken)
	if c.Password != "" {
		ss.add(base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password)))
	}
	if c.Auth != "" {
		if raw, err := base64.StdEncoding.DecodeString(c.Auth); err == nil {
			if _, pw, ok := strings.Cut(string(raw), ":"); ok {
				ss.add(pw)
			}
		}
	}
}

// list returns the secrets, longest first (so that redacting a longer one
// is not spoiled by a shorter one inside it).
func (ss *secretSet) list() []string {
	ss.mu.RLock()
	out := make([]string, 0, len(ss.s))
	for s := range ss.s {
		out = append(out, s)
	}
	ss.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// in reports whether text contains a known secret.
func (ss *secretSet) in(text string) bool {
	if text == "" {
		return false
	}
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	for s := range ss.s {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// redact replaces every known secret in text with "[redacted]".
func (ss *secretSet) redact(text string) string {
	if text == "" {
		return text
	}
	for _, s := range ss.list() {
		text = strings.ReplaceAll(text, s, "[redacted]")
	}
	return text
}

// Redact returns text with every secret the Client knows replaced by
// "[redacted]": the credentials it was given or resolved and the tokens it
// has used.
func (r *Client) Redact(text string) string { return r.base.secrets.redact(text) }

// guard refuses req if it would carry a secret over plain HTTP or to a host
// it must not reach. It may replace req.Body (a small body it had to read
// to inspect).
func (t *baseTransport) guard(req *http.Request) error {
	why := ""
	authz := req.Header.Get("Authorization")
	switch {
	case authz != "":
		why = "an Authorization header"
	case t.secrets.in(req.URL.RawQuery) || t.secrets.in(req.URL.Path) || t.secrets.in(req.URL.User.String()):
		why = "a credential in the URL"
	default:
		body, err := inspectBody(req)
		if err != nil {
			return err
		}
		if body != nil && (credentialForm(req, body) || t.secrets.in(string(body))) {
			why = "a credential in the request body"
		}
	}
	if why == "" {
		return nil
	}
	if req.URL.Scheme != "https" {
		return fmt.Errorf("%w: refusing to send %s to %s over plain HTTP", ErrAuthInsecure, why, req.URL.Host)
	}
	if !t.trusted(req.URL.Host) {
		// A header with no secret we know of is another host's own
		// anonymous token (go-containerregistry answers a redirected
		// host's challenge anonymously): harmless.
		if why == "an Authorization header" && !t.secrets.in(authz) {
			return nil
		}
		return fmt.Errorf("%w: refusing to send %s for %s to %s", ErrCredentialsOtherHost, why, t.registry, req.URL.Host)
	}
	if _, cred, ok := strings.Cut(authz, " "); ok {
		// Tokens the token server issued become known secrets.
		t.secrets.add(strings.TrimSpace(cred))
	}
	return nil
}

// trusted reports whether host may receive the registry's credentials: the
// registry itself, a token realm the registry named in a challenge, or the
// configured auth host.
func (t *baseTransport) trusted(host string) bool {
	if host == t.registry || (t.authHost != "" && host == t.authHost) {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.realms[host]
}

// inspectBody returns req's body if it is small and held in memory (it can
// be read again through GetBody, or is a form), leaving req able to send it;
// nil otherwise.
func inspectBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.ContentLength < 0 || req.ContentLength > maxInspectedBody {
		return nil, nil
	}
	if !isForm(req) && !strings.Contains(strings.ToLower(req.Header.Get("Content-Type")), "json") {
		// Blob data (whose GetBody may have side effects: see do).
		return nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, maxInspectedBody))
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, maxInspectedBody))
	if err != nil {
		return nil, err
	}
	_ = req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return b, nil
}

func isForm(req *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(req.Header.Get("Content-Type")), "application/x-www-form-urlencoded")
}

// credentialForm reports whether body is a form with a credential field.
func credentialForm(req *http.Request, body []byte) bool {
	if !isForm(req) {
		return false
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return true // unparsable: assume the worst
	}
	for _, f := range credentialFields {
		if v.Get(f) != "" {
			return true
		}
	}
	return false
}

// checkRedirect refuses an HTTPS request redirected to plain HTTP, unless the
// registry is used insecurely.
func (t *baseTransport) checkRedirect(req *http.Request) error {
	if t.insecure || req.Response == nil || req.Response.Request == nil {
		return nil
	}
	if req.Response.Request.URL.Scheme == "https" && req.URL.Scheme == "http" {
		return fmt.Errorf("%w: %s to http://%s%s", ErrRedirectDowngrade, req.Response.Request.URL.Host, req.URL.Host, req.URL.Path)
	}
	return nil
}

// LearnCredentials records the secrets of auth, so that the guard protects
// them and messages are scrubbed of them.
func (r *Client) LearnCredentials(ctx context.Context, auth authn.Authenticator) error {
	if auth == nil || auth == authn.Anonymous {
		return nil
	}
	c, err := authn.Authorization(ctx, auth)
	if err != nil {
		return fmt.Errorf("reading credentials for %s: %w", r.Host(), err)
	}
	r.base.secrets.addAuth(c)
	return nil
}
