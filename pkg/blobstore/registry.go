package blobstore

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/dxf-go/dxf/internal/envconfig"
	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
)

// Registry is a connection to one registry host. It is safe for concurrent
// use and caches one authenticated transport per scope, so that many calls
// ping the registry and exchange credentials for a token once.
type Registry struct {
	reg name.Registry
	o   *options
	t   *xport.Client
}

// NewRegistry returns a Registry for host ("host[:port]"). It does no I/O.
// host may also be written as a URL, as the dxf command takes it:
// "http://host[:port]" means plain HTTP (as [WithInsecure](true)),
// "https://host[:port]" HTTPS, which WithInsecure(true) then contradicts.
func NewRegistry(host string, opts ...Option) (*Registry, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	bare, scheme := envconfig.SplitScheme(host)
	switch {
	case scheme == "http":
		o.insecure = true
	case scheme == "https" && o.insecure:
		return nil, fmt.Errorf("%w: registry %q asks for HTTPS, WithInsecure(true) for plain HTTP: choose one", ErrInvalidName, host)
	}
	if scheme != "" && strings.Contains(bare, "/") && !strings.Contains(bare, "@") {
		return nil, fmt.Errorf("%w: registry %q: want scheme://host[:port], without a path", ErrInvalidName, host)
	}
	host = bare
	if host == "" {
		return nil, fmt.Errorf("%w: empty registry host", ErrInvalidName)
	}
	nopts := []name.Option{name.StrictValidation}
	if o.insecure {
		nopts = append(nopts, name.Insecure)
	}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		// Never echo what may be a password.
		return nil, fmt.Errorf("%w: registry %q: no user information (user:password@) in a host; give credentials with WithAuth", ErrInvalidName, "[redacted]@"+host[i+1:])
	}
	reg, err := name.NewRegistry(host, nopts...)
	if err != nil {
		return nil, fmt.Errorf("%w: registry %q: %w", ErrInvalidName, host, err)
	}
	return &Registry{reg: reg, o: o, t: xport.New(reg, o.transportConfig(reg.RegistryStr()))}, nil
}

// Host returns the registry's host[:port] as requests address it.
func (r *Registry) Host() string { return r.reg.RegistryStr() }

// String returns the host.
func (r *Registry) String() string { return r.Host() }

func (r *Registry) scheme() string { return r.t.Scheme() }

// Redact returns text with every secret the Registry knows replaced by
// "[redacted]": the credentials it was given or resolved (from options, the
// Docker config or a credential helper) and the tokens it has used. Errors
// from the library are already redacted where they quote the registry; use
// Redact on any other text that may echo a secret.
func (r *Registry) Redact(text string) string { return r.t.Redact(text) }

// authenticator resolves the credentials to use for resource.
func (r *Registry) authenticator(ctx context.Context, res authn.Resource) (authn.Authenticator, error) {
	return r.t.Authenticator(ctx, res)
}

// request describes one HTTP request to the registry (see
// [xport.Request]).
type request struct {
	method    string
	url       string
	header    http.Header
	body      []byte
	upload    *xport.UploadBody
	noRetry   bool
	retrySafe bool
}

// wire is req as the transport takes it.
func (req request) wire() xport.Request {
	wr := xport.Request{Method: req.method, URL: req.url, Header: req.header, Body: req.body,
		NoRetry: req.noRetry, RetrySafe: req.retrySafe}
	if req.upload != nil {
		wr.Upload = req.upload
	}
	return wr
}

// askedWait returns how long to wait when the registry asked for asked
// (Retry-After) with an answer of the given status: at most the
// WithMaxRetryAfter cap. A wait of a second or more is reported to the
// WithRetryWaitNotify callback.
func (r *Registry) askedWait(status int, asked time.Duration) time.Duration {
	return r.t.AskedWait(status, asked)
}
