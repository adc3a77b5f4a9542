package envconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LayoutPrefix marks a host that is a directory of OCI image layouts,
// oci:DIR (as blobstore.LayoutPrefix).
const LayoutPrefix = "oci:"

// Source is where settings come from: a flag given on the command line
// wins over its environment variable. Settings are named by their flags.
type Source struct {
	// Flag returns the value of the flag name if it was given ("true" or
	// "false" for a switch); nil for a program without flags.
	Flag func(name string) (string, bool)
	Env  Lookup
	// Var is the variable of the setting name, "" for none.
	Var func(name string) string

	switchErr error
}

// Text returns the value of the setting name and whether it was given.
func (s *Source) Text(name string) (string, bool) {
	if s.Flag != nil {
		if v, ok := s.Flag(name); ok {
			return v, true
		}
	}
	return s.Env(s.Var(name))
}

// On reads the switch name. A malformed variable reads as off; the first
// such mistake is kept for [Source.SwitchErr], so that the other settings
// are checked first.
func (s *Source) On(name string) bool {
	if s.Flag != nil {
		if v, ok := s.Flag(name); ok {
			return v == "true"
		}
	}
	key := s.Var(name)
	v, err := Switch(key, s.Env.Get(key))
	if err != nil && s.switchErr == nil {
		s.switchErr = err
	}
	return v
}

// SwitchErr is the first malformed switch variable read, nil if none.
func (s *Source) SwitchErr() error { return s.switchErr }

// From names where the setting name came from: "--name" or its variable.
func (s *Source) From(name string) string {
	if s.Flag != nil {
		if _, ok := s.Flag(name); ok {
			return "--" + name
		}
	}
	return s.Var(name)
}

// FlagError is a malformed flag value (a usage error of the command); a
// malformed variable is reported as "VARIABLE: …" instead.
type FlagError struct {
	Flag string
	Err  error
}

func (e *FlagError) Error() string { return "--" + e.Flag + ": " + e.Err.Error() }

// Unwrap returns the error of the value.
func (e *FlagError) Unwrap() error { return e.Err }

// Registry is where to connect and as whom: the settings host, insecure,
// username, password, authorization, token and auth-host.
type Registry struct {
	Host       string // host[:port], without a scheme; or oci:DIR
	Layout     bool   // the host is oci:DIR: OCI image layouts on disk
	LayoutRoot string // DIR of oci:DIR
	Insecure   bool   // plain HTTP
	Credentials
	AuthHost string
	// CredSource names the credentials given ("DXF_USERNAME and
	// DXF_PASSWORD", "--token" …); "" for the Docker config or none.
	CredSource  string
	TokenSource string // "the token of DXF_TOKEN" (or --token); "" without one
}

// Registry resolves the registry settings. readPassword, if not nil, gives
// the password instead of the setting (as --password-stdin).
func (s *Source) Registry(readPassword func() (string, error)) (Registry, error) {
	var r Registry
	r.Host, _ = s.Text("host")
	if root, ok := strings.CutPrefix(r.Host, LayoutPrefix); ok {
		r.Layout, r.LayoutRoot = true, root
	} else if r.Host == "" {
		return r, errors.New("no registry: set DXF_HOST (or --host) to the registry's host[:port], or give the repository as host[:port]/repo")
	}
	if i := strings.LastIndex(r.Host, "@"); i >= 0 {
		// user:password@host: the password must not be echoed back.
		return r, fmt.Errorf("DXF_HOST: credentials in the host ([redacted]@%s) are not used: set DXF_USERNAME and DXF_PASSWORD (or --password-stdin) instead", r.Host[i+1:])
	}
	r.Insecure = s.On("insecure")
	// A URL is understood: http:// means plain HTTP (as DXF_INSECURE=1),
	// https:// the default.
	bare, scheme := SplitScheme(r.Host)
	switch {
	case scheme == "http":
		r.Insecure = true
	case scheme == "https" && r.Insecure:
		return r, fmt.Errorf("DXF_HOST=%s asks for HTTPS, DXF_INSECURE=1 for plain HTTP: choose one", r.Host)
	}
	r.Host = bare
	if strings.Contains(r.Host, "/") && !r.Layout {
		return r, fmt.Errorf("DXF_HOST=%s: want host[:port] (or oci:DIR for OCI image layouts on disk), without a path", r.Host)
	}

	// Python uses the user name and password only when both are set; an
	// empty value counts as set.
	user, haveUser := s.Text("username")
	pass, havePass := s.Text("password")
	pw := s.From("password")
	if readPassword != nil {
		p, err := readPassword()
		if err != nil {
			return r, err
		}
		pass, havePass, pw = p, true, "--password-stdin"
	}
	r.Username, r.Password, r.HaveUser = user, pass, haveUser && havePass
	r.Authorization, _ = s.Text("authorization")
	r.Token, _ = s.Text("token")
	// Which of them authenticate, in the Python order (see
	// Credentials.Authenticator); the token's source is noted apart, as
	// "dxf auth" does not use it.
	if r.Token != "" {
		r.TokenSource = "the token of " + s.From("token")
	}
	switch {
	case r.HaveUser:
		r.CredSource = fmt.Sprintf("user %s (%s) with the password of %s", r.Username, s.From("username"), pw)
	case r.Authorization != "":
		r.CredSource = s.From("authorization")
	}
	r.AuthHost, _ = s.Text("auth-host")
	return r, nil
}

// Transport is how to talk to the registry: the settings skip-tls-verify,
// tls-verify, timeout, max-retry-wait and debug.
type Transport struct {
	SkipTLSVerify bool
	CABundle      string        // see [CABundle]
	Timeout       time.Duration // 0: the library's defaults
	MaxRetryWait  time.Duration // 0: the library's default
	Debug         bool
}

// Transport resolves the transport settings. DXF_SKIPTLSVERIFY=1 wins over
// any CA bundle, as in the Python tool.
func (s *Source) Transport() (Transport, error) {
	var t Transport
	t.SkipTLSVerify = s.On("skip-tls-verify")
	tlsVerify, _ := s.Text("tls-verify")
	t.CABundle = CABundle(tlsVerify, s.Env)
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"timeout", &t.Timeout}, {"max-retry-wait", &t.MaxRetryWait}} {
		if v, ok := s.Text(d.name); ok && v != "" {
			var err error
			if *d.to, err = Duration(v); err != nil {
				if s.Flag != nil {
					if _, given := s.Flag(d.name); given {
						return t, &FlagError{Flag: d.name, Err: err}
					}
				}
				return t, fmt.Errorf("%s: %w", s.Var(d.name), err)
			}
		}
	}
	t.Debug = s.On("debug")
	return t, nil
}

// DigestCache is where pushed files' digests are remembered:
// $XDG_CACHE_HOME (or the platform's user cache directory)/dxf-go/digests;
// "" when DXF_DIGEST_CACHE turns the cache off or there is no cache
// directory. off (--no-digest-cache) turns it off too, but a malformed
// DXF_DIGEST_CACHE is still an error.
func DigestCache(env Lookup, off bool) (string, error) {
	if v := env.Get("DXF_DIGEST_CACHE"); v != "" {
		on, err := Switch("DXF_DIGEST_CACHE", v)
		if err != nil {
			return "", err
		}
		off = off || !on
	}
	if off {
		return "", nil
	}
	root := env.Get("XDG_CACHE_HOME")
	if root == "" || !filepath.IsAbs(root) {
		var err error
		if root, err = os.UserCacheDir(); err != nil {
			return "", nil
		}
	}
	return filepath.Join(root, "dxf-go", "digests"), nil
}
