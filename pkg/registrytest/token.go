package registrytest

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tokenLeeway is the clock-skew allowance of the registry's token verifier
// (token.Leeway in distribution v3.1.2): it accepts a token until exp + 60s.
const tokenLeeway = 60 * time.Second

// TokenServer is an in-process Docker token issuer
// (https://distribution.github.io/distribution/spec/auth/token/) that the
// registry trusts in [AuthToken] mode.
//
// GET /token takes the parameters service (which must be [TokenService]) and
// any number of scope parameters, each holding one or more space-separated
// scopes "repository:<name>:<actions>" or "registry:catalog:*". With HTTP
// Basic credentials of a configured user it grants every action asked for;
// wrong credentials get 401; without credentials it grants only
// [Config.AnonymousActions] (and the catalog if
// [Config.CatalogForAnonymous]). POST /token with grant_type=password (the
// OAuth2 variant some clients try first) works the same way; other grant
// types get 404, which clients take as "use GET".
//
// Tokens are ES256 JWTs whose header carries the signing certificate (x5c),
// issued by the registry's CA; the registry's auth.token.rootcertbundle is
// that CA. Because the registry accepts tokens for 60 seconds after their
// exp claim, exp is backdated by that much unless [Config.ExactExpClaim] is
// set, so a token stops working once expires_in has elapsed. exp has
// whole-second resolution and is rounded up: a token is never refused
// before expires_in, and at most a second after.
//
// Every request is recorded (never the password or the token); see
// [TokenServer.Requests].
type TokenServer struct {
	// URL is the base URL, https://localhost:<port> (or the host
	// [Config.TokenHost] names).
	URL string
	// Realm is the token endpoint, URL + "/token", as announced in the
	// registry's WWW-Authenticate challenges.
	Realm string

	srv      *httptest.Server
	srv6     *http.Server // same handler on [::1]:<port>, when IPv6 exists
	key      *ecdsa.PrivateKey
	x5c      string
	users    map[string]string
	anon     []string
	anonCat  bool
	exactExp bool

	mu       sync.Mutex
	ttl      time.Duration
	requests []TokenRequest
	issued   int
}

// TokenRequest records one request to the token server.
type TokenRequest struct {
	// Time is when the request arrived.
	Time time.Time
	// Method is GET or POST.
	Method string
	// AuthScheme is the lower-cased scheme of the Authorization header
	// ("basic", "bearer", …), "password" for an OAuth2 password grant, or
	// "" when the request carried no credentials.
	AuthScheme string
	// User is the user name sent, "" for anonymous requests. It is recorded
	// even if the password was wrong.
	User string
	// Service is the service parameter.
	Service string
	// Scopes are the requested scopes, one per element.
	Scopes []string
	// Granted are the scopes in the issued token (nil if none was issued).
	Granted []string
	// UserAgent is the User-Agent header.
	UserAgent string
	// Status is the HTTP status of the response.
	Status int
}

// tokenResponse is the JSON body of a successful token request.
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
	Scope       string `json:"scope,omitempty"`
}

// accessEntry is one element of the "access" claim.
type accessEntry struct {
	Type    string   `json:"type"`
	Class   string   `json:"class,omitempty"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// startTokenServer starts a token server with the TLS certificate of p,
// listening on l (and on [::1] at the same port when possible).
func startTokenServer(p *pki, cfg Config, l net.Listener, l6 net.Listener) *TokenServer {
	ts := &TokenServer{
		key:      p.signer,
		x5c:      base64.StdEncoding.EncodeToString(p.signDER),
		users:    cfg.Users,
		anon:     slices.Clone(cfg.AnonymousActions),
		anonCat:  cfg.CatalogForAnonymous,
		exactExp: cfg.ExactExpClaim,
		ttl:      cfg.TokenTTL,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", ts.serveToken)
	ts.srv = httptest.NewUnstartedServer(mux)
	_ = ts.srv.Listener.Close()
	ts.srv.Listener = l
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	ts.srv.TLS = tlsConfig
	ts.srv.StartTLS()
	if l6 != nil {
		ts.srv6 = &http.Server{Handler: mux, TLSConfig: tlsConfig.Clone(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = ts.srv6.ServeTLS(l6, "", "") }()
	}
	host := cmp.Or(cfg.TokenHost, "localhost")
	ts.URL = "https://" + net.JoinHostPort(host, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	ts.Realm = ts.URL + "/token"
	return ts
}

// Close stops the token server. [Registry.Stop] calls it.
func (ts *TokenServer) Close() {
	if ts.srv6 != nil {
		_ = ts.srv6.Close()
	}
	ts.srv.Close()
}

// SetTTL sets the lifetime of tokens issued from now on; a non-positive d
// restores DefaultTokenTTL.
func (ts *TokenServer) SetTTL(d time.Duration) {
	if d <= 0 {
		d = DefaultTokenTTL
	}
	ts.mu.Lock()
	ts.ttl = d
	ts.mu.Unlock()
}

// TTL returns the lifetime of tokens issued now.
func (ts *TokenServer) TTL() time.Duration {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.ttl
}

// Requests returns a copy of the requests received so far, oldest first.
func (ts *TokenServer) Requests() []TokenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make([]TokenRequest, len(ts.requests))
	for i, r := range ts.requests {
		r.Scopes = slices.Clone(r.Scopes)
		r.Granted = slices.Clone(r.Granted)
		out[i] = r
	}
	return out
}

// Issued returns the number of tokens issued so far.
func (ts *TokenServer) Issued() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.issued
}

// Reset forgets the recorded requests and zeroes the [TokenServer.Issued]
// count.
func (ts *TokenServer) Reset() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.requests = nil
	ts.issued = 0
}

// Token issues a token for user (who must be configured; "" for anonymous)
// and the given scopes, exactly as a request to the endpoint would, without
// HTTP. It is counted in [TokenServer.Issued] but not recorded as a request.
func (ts *TokenServer) Token(user string, scopes ...string) (string, error) {
	if user != "" {
		if _, ok := ts.users[user]; !ok {
			return "", fmt.Errorf("registrytest: unknown user %q", user)
		}
	}
	_, access, err := ts.grant(user != "", scopes)
	if err != nil {
		return "", err
	}
	tok, _, err := ts.issue(user, access)
	return tok, err
}

func (ts *TokenServer) serveToken(w http.ResponseWriter, r *http.Request) {
	rec := TokenRequest{
		Time:      time.Now(),
		Method:    r.Method,
		UserAgent: r.UserAgent(),
	}
	status, body := ts.handle(r, &rec)
	rec.Status = status
	ts.mu.Lock()
	ts.requests = append(ts.requests, rec)
	ts.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="registrytest token server"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// handle processes a token request, filling in rec, and returns the status
// and the JSON body to send.
func (ts *TokenServer) handle(r *http.Request, rec *TokenRequest) (int, any) {
	var (
		user, password string
		hasCreds       bool
		rawScopes      []string
	)
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		rec.Service = q.Get("service")
		rawScopes = q["scope"]
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, _, _ := strings.Cut(h, " ")
			rec.AuthScheme = strings.ToLower(scheme)
			var ok bool
			user, password, ok = r.BasicAuth()
			if !ok {
				return http.StatusUnauthorized, errorBody("UNAUTHORIZED", "only Basic credentials are accepted")
			}
			rec.User = user
			hasCreds = true
		}
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			return http.StatusBadRequest, oauthError("invalid_request", "malformed form")
		}
		rec.Service = r.PostForm.Get("service")
		rawScopes = r.PostForm["scope"]
		if gt := r.PostForm.Get("grant_type"); gt != "password" {
			return http.StatusNotFound, oauthError("unsupported_grant_type", "only grant_type=password is supported; use GET")
		}
		rec.AuthScheme = "password"
		user, password = r.PostForm.Get("username"), r.PostForm.Get("password")
		rec.User = user
		hasCreds = true
	default:
		return http.StatusMethodNotAllowed, errorBody("UNSUPPORTED", "method not allowed")
	}
	for _, s := range rawScopes {
		rec.Scopes = append(rec.Scopes, strings.Fields(s)...)
	}
	if rec.Service != TokenService {
		return http.StatusBadRequest, errorBody("UNSUPPORTED", fmt.Sprintf("service must be %q", TokenService))
	}
	if hasCreds {
		want, ok := ts.users[user]
		// Compare digests so the time taken says nothing about the password.
		a, b := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(want))
		if !ok || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
			return http.StatusUnauthorized, errorBody("UNAUTHORIZED", "authentication required")
		}
	}
	granted, access, err := ts.grant(hasCreds, rec.Scopes)
	if err != nil {
		return http.StatusBadRequest, errorBody("UNSUPPORTED", err.Error())
	}
	tok, resp, err := ts.issue(user, access)
	if err != nil {
		return http.StatusInternalServerError, errorBody("UNKNOWN", "cannot sign token")
	}
	rec.Granted = granted
	resp.Token = tok
	resp.AccessToken = tok
	resp.Scope = strings.Join(granted, " ")
	return http.StatusOK, resp
}

// grant decides which of the requested scopes are granted.
func (ts *TokenServer) grant(authenticated bool, scopes []string) ([]string, []accessEntry, error) {
	var (
		granted []string
		access  = []accessEntry{}
	)
	for _, s := range scopes {
		e, err := parseScope(s)
		if err != nil {
			return nil, nil, err
		}
		if !authenticated {
			allowed := ts.anon
			if e.Type == "registry" && e.Name == "catalog" {
				allowed = nil
				if ts.anonCat {
					allowed = []string{"*"}
				}
			}
			e.Actions = slices.DeleteFunc(e.Actions, func(a string) bool {
				return !slices.Contains(allowed, a) && !slices.Contains(allowed, "*")
			})
		}
		if len(e.Actions) == 0 {
			continue
		}
		access = append(access, e)
		typ := e.Type
		if e.Class != "" {
			typ += "(" + e.Class + ")"
		}
		granted = append(granted, typ+":"+e.Name+":"+strings.Join(e.Actions, ","))
	}
	return granted, access, nil
}

// parseScope parses "type[(class)]:name:actions". The name may itself
// contain colons (a registry host with a port).
func parseScope(s string) (accessEntry, error) {
	typ, rest, ok1 := strings.Cut(s, ":")
	i := strings.LastIndex(rest, ":")
	if !ok1 || i < 0 || typ == "" || i == 0 {
		return accessEntry{}, fmt.Errorf("malformed scope %q", s)
	}
	e := accessEntry{Type: typ, Name: rest[:i]}
	if open := strings.Index(typ, "("); open > 0 && strings.HasSuffix(typ, ")") {
		e.Type, e.Class = typ[:open], typ[open+1:len(typ)-1]
	}
	for a := range strings.SplitSeq(rest[i+1:], ",") {
		if a != "" && !slices.Contains(e.Actions, a) {
			e.Actions = append(e.Actions, a)
		}
	}
	return e, nil
}

// issue signs a token for subject with the given access.
func (ts *TokenServer) issue(subject string, access []accessEntry) (string, tokenResponse, error) {
	ts.mu.Lock()
	ttl := ts.ttl
	ts.mu.Unlock()

	now := time.Now()
	exp := now.Add(ttl)
	if !ts.exactExp {
		exp = exp.Add(-tokenLeeway)
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	claims := map[string]any{
		"iss":    TokenIssuer,
		"sub":    subject,
		"aud":    TokenService,
		"exp":    ceilUnix(exp),
		"nbf":    now.Unix(),
		"iat":    now.Unix(),
		"jti":    hex.EncodeToString(jti[:]),
		"access": access,
	}
	header := map[string]any{
		"typ": "JWT",
		"alg": "ES256",
		"x5c": []string{ts.x5c},
	}
	tok, err := signES256(ts.key, header, claims)
	if err != nil {
		return "", tokenResponse{}, err
	}
	ts.mu.Lock()
	ts.issued++
	ts.mu.Unlock()
	return tok, tokenResponse{
		ExpiresIn: int(math.Ceil(ttl.Seconds())),
		IssuedAt:  now.UTC().Format(time.RFC3339),
	}, nil
}

// ceilUnix rounds t up to whole seconds, so that a token is never rejected
// before its advertised expiry.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.After(time.Unix(s, 0)) {
		s++
	}
	return s
}

// signES256 returns the compact JWS of claims, signed with key.
func signES256(key *ecdsa.PrivateKey, header, claims any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", err
	}
	// JWS ES256 signatures are R and S as fixed-size big-endian integers.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig), nil
}

// errorBody is a registry-style error document.
func errorBody(code, msg string) any {
	return map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}}
}

// oauthError is an RFC 6749 error document.
func oauthError(code, desc string) any {
	return map[string]string{"error": code, "error_description": desc}
}
