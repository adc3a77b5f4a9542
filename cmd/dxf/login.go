package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"golang.org/x/term"

	"github.com/dxf-go/dxf/cmd/internal/cliconfig"
	"github.com/dxf-go/dxf/internal/dockercfg"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var loginCommand = &command{
	name:     "login",
	synopsis: "[<host>]",
	summary:  "check credentials with the registry and store them as docker login does",
	noRepo:   true,
	maxArgs:  1,
	flags:    []string{"username", "password-stdin"},
	run:      runLogin,
}

var logoutCommand = &command{
	name:     "logout",
	synopsis: "[<host>]",
	summary:  "remove the credentials dxf login stored",
	noRepo:   true,
	maxArgs:  1,
	run:      runLogout,
}

func runLogin(a *app, _ []string) error {
	host := a.cfg.Host
	user, pass := a.cfg.Username, a.cfg.Password
	if user == "" {
		var err error
		if user, err = prompt(a, "Username: ", false); err != nil {
			return err
		}
	}
	if !a.cfg.HaveUser || pass == "" {
		if a.cfg.Password == "" {
			var err error
			if pass, err = prompt(a, "Password: ", true); err != nil {
				return err
			}
		}
	}
	if user == "" || pass == "" {
		return errors.New("login: a user name and a password are needed")
	}
	// Check them first: nothing wrong is stored.
	opts, err := a.cfg.Options(false, userAgent())
	if err != nil {
		return err
	}
	opts = append(opts, blobstore.WithAuth(authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})))
	reg, err := blobstore.NewRegistry(host, opts...)
	if err != nil {
		return err
	}
	if err := reg.Ping(a.ctx); err != nil {
		return fmt.Errorf("login to %s as %s: %w", host, user, err)
	}
	cf, err := cliconfig.LoadDockerConfig(a.env)
	if err != nil {
		return err
	}
	place, err := dockercfg.Store(cf, dockercfg.Key(reg.Host()), user, pass)
	if err != nil {
		return fmt.Errorf("login to %s: storing the credentials: %w", host, err)
	}
	_, err = fmt.Fprintf(a.stdout, "Login Succeeded (%s as %s, stored in %s)\n", reg.Host(), user, place)
	return err
}

func runLogout(a *app, _ []string) error {
	cf, err := cliconfig.LoadDockerConfig(a.env)
	if err != nil {
		return err
	}
	reg, err := blobstore.NewRegistry(a.cfg.Host)
	if err != nil {
		return err
	}
	key := dockercfg.Key(reg.Host())
	if had, err := dockercfg.Erase(cf, key); err != nil {
		return fmt.Errorf("logout from %s: %w", reg.Host(), err)
	} else if !had {
		_, err := fmt.Fprintf(a.stdout, "Not logged in to %s\n", reg.Host())
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "Removed the credentials of %s from %s\n", reg.Host(), dockercfg.Place(cf, key))
	return err
}

// prompt asks for a value on the terminal (standard input), without echo
// if secret. Standard input that is not a terminal is not read: the value
// must come from a flag or variable, or --password-stdin.
func prompt(a *app, question string, secret bool) (string, error) {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		if secret {
			return "", errors.New("login: no password: give it with --password-stdin (or DXF_PASSWORD)")
		}
		return "", errors.New("login: no user name: give it with --username (or DXF_USERNAME)")
	}
	fmt.Fprint(a.stderr, question)
	if secret {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
