package blobstore

import (
	"context"
	"errors"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
)

// Ping checks that the registry speaks the v2 API (GET /v2/), authenticating
// if it asks.
func (r *Registry) Ping(ctx context.Context) error {
	return remote.Ping(ctx, r.t, r.reg)
}

// Authenticate logs in for the given actions on repo ("pull", "push", "*"…;
// with no repo, the catalog) and returns the bearer token the registry's
// token server issued. A registry that needs no token gives "": with no
// authentication at all, or with Basic authentication, after checking the
// credentials with a request (wrong ones give [ErrUnauthorized]). A registry
// that asks for credentials over plain HTTP gives [ErrAuthInsecure].
func (r *Registry) Authenticate(ctx context.Context, repo string, actions ...string) (string, error) {
	op := "authenticate with " + r.Host()
	pr, err := transport.Ping(ctx, r.reg, r.t.Base())
	if err != nil {
		return "", wrapErr(op, subjectOther, err)
	}
	if pr.Scheme == "" {
		return "", nil // the registry asks for no credentials
	}
	if r.o.insecure || pr.Insecure {
		// It asks for credentials, which never go over plain HTTP (the
		// Python tool's "Auth requires HTTPS").
		return "", wrapErr(op, subjectOther, ErrAuthInsecure)
	}
	if !strings.EqualFold(pr.Scheme, "bearer") {
		// Basic: no token to give, but the credentials are checked, so
		// that wrong ones fail here rather than in the next command.
		if err := r.Ping(ctx); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Op = op
			}
			return "", err
		}
		return "", nil
	}
	var scopes []string
	var res authn.Resource = r.reg
	switch {
	case repo != "":
		rp, err := r.Repository(repo)
		if err != nil {
			return "", err
		}
		res = rp.repo
		if len(actions) > 0 {
			scopes = []string{rp.repo.Scope(strings.Join(actions, ","))}
		} else if s := pr.Parameters["scope"]; s != "" {
			scopes = strings.Fields(s)
		}
	default:
		scopes = []string{"registry:catalog:*"}
	}
	auth, err := r.authenticator(ctx, res)
	if err != nil {
		return "", err
	}
	tok, err := transport.Exchange(ctx, r.reg, auth, r.t.Base(), scopes, pr)
	if err != nil {
		return "", wrapErr(op, subjectOther, err)
	}
	if tok.AccessToken != "" {
		return tok.AccessToken, nil
	}
	return tok.Token, nil
}
