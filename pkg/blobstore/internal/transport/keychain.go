package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/docker/cli/cli/config/types"
	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/dxf-go/dxf/internal/dockercfg"
)

// ErrCredentialHelper is returned when a credential helper (docker-credential-*) failed or
// did not answer in time. Its output is never quoted: it may hold secrets.
var ErrCredentialHelper = errors.New("credential helper failed")

// resolveKeychain resolves credentials for res from kc, bounded by the
// credential-helper timeout and by ctx. go-containerregistry's default
// keychain runs credential helpers without a context; in its place the
// same Docker config resolution runs here with helpers started under a
// context, so a hanging helper is killed. Any other keychain is abandoned
// (left running in the background) when the time is up.
func (r *Client) resolveKeychain(ctx context.Context, kc authn.Keychain, res authn.Resource) (authn.Authenticator, error) {
	limit := r.o.Timeouts.CredentialHelper
	wait := limit
	if kc == authn.DefaultKeychain {
		kc = dockerKeychain{timeout: limit}
		// It kills its helper itself, and says so: give it the time to.
		wait += 2 * time.Second
	}
	hctx, cancel := context.WithCancel(ctx)
	if limit > 0 {
		hctx, cancel = context.WithTimeout(ctx, wait)
	}
	defer cancel()
	type result struct {
		a   authn.Authenticator
		err error
	}
	ch := make(chan result, 1)
	go func() {
		a, err := authn.Resolve(hctx, kc, res)
		ch <- result{a, err}
	}()
	select {
	case x := <-ch:
		return x.a, x.err
	case <-hctx.Done():
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: no credentials within %s", ErrCredentialHelper, limit)
	}
}

// dockerKeychain is go-containerregistry's default keychain (the Docker
// config file, or Podman's auth file) with credential helpers run under a
// context and a deadline, their output kept out of error messages.
type dockerKeychain struct {
	timeout time.Duration
}

// Resolve implements authn.Keychain.
func (k dockerKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), target)
}

// ResolveContext implements authn.ContextKeychain.
func (k dockerKeychain) ResolveContext(ctx context.Context, target authn.Resource) (authn.Authenticator, error) {
	cf, err := dockercfg.Load(os.Getenv)
	if err != nil {
		return authn.Anonymous, err
	}
	var cfg, empty types.AuthConfig
	for _, key := range []string{target.String(), target.RegistryStr()} {
		if key == name.DefaultRegistry {
			key = authn.DefaultAuthKey
		}
		helper := cf.CredentialsStore
		if h, ok := cf.CredentialHelpers[key]; ok {
			helper = h
		}
		if helper != "" {
			cfg, err = k.runHelper(ctx, helper, key)
		} else {
			cfg, err = cf.GetAuthConfig(key)
		}
		if err != nil {
			return nil, err
		}
		cfg.ServerAddress = ""
		if cfg != empty {
			break
		}
	}
	if cfg == empty {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{
		Username:      cfg.Username,
		Password:      cfg.Password,
		Auth:          cfg.Auth,
		IdentityToken: cfg.IdentityToken,
		RegistryToken: cfg.RegistryToken,
	}), nil
}

// runHelper asks docker-credential-<helper> for the credentials of
// serverURL, killing it if it has not answered within the timeout.
func (k dockerKeychain) runHelper(ctx context.Context, helper, serverURL string) (types.AuthConfig, error) {
	prog := "docker-credential-" + helper
	if k.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.timeout)
		defer cancel()
	}
	var run *helperRun
	creds, err := client.Get(func(args ...string) client.Program {
		run = &helperRun{cmd: exec.CommandContext(ctx, prog, args...)}
		return run
	}, serverURL)
	if err == nil {
		if creds.Username == "<token>" {
			return types.AuthConfig{IdentityToken: creds.Secret}, nil
		}
		return types.AuthConfig{Username: creds.Username, Password: creds.Secret}, nil
	}
	switch {
	case credentials.IsErrCredentialsNotFound(err):
		return types.AuthConfig{}, nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return types.AuthConfig{}, fmt.Errorf("%w: %s did not answer within %s (killed)", ErrCredentialHelper, prog, k.timeout)
	case ctx.Err() != nil:
		return types.AuthConfig{}, ctx.Err()
	case run != nil && run.err != nil:
		return types.AuthConfig{}, fmt.Errorf("%w: %s get: %w (its output is not shown: it may hold secrets)", ErrCredentialHelper, prog, run.err)
	}
	// The answer was not JSON; the decoder's message quotes none of it.
	return types.AuthConfig{}, fmt.Errorf("%w: %s get: unreadable answer", ErrCredentialHelper, prog)
}

// helperRun is one run of a credential helper, as the credential-helper
// client drives it. Its standard error is discarded (helpers may print what
// they were given there); a failure's output is withheld from the client,
// except the "credentials not found" answer it recognises.
type helperRun struct {
	cmd *exec.Cmd
	err error
}

// Input implements client.Program.
func (h *helperRun) Input(in io.Reader) { h.cmd.Stdin = in }

// Output implements client.Program.
func (h *helperRun) Output() ([]byte, error) {
	var out bytes.Buffer
	h.cmd.Stdout = &limitedWriter{w: &out, n: 1 << 20}
	h.cmd.Stderr = io.Discard
	h.cmd.WaitDelay = time.Second // a helper's own children cannot keep us waiting
	if h.err = h.cmd.Run(); h.err != nil {
		if msg := strings.TrimSpace(out.String()); credentials.IsErrCredentialsNotFoundMessage(msg) {
			return []byte(msg), h.err
		}
		return nil, h.err
	}
	return out.Bytes(), nil
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(int64(len(p)), l.n)
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		l.n -= k
	}
	return len(p), nil
}
