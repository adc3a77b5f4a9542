// Package envconfig reads the values of the DXF_* environment variables:
// one parser for the dxf command (which lays its flags over them) and for
// blobstore.FromEnv, so that a program configured by the same variables
// behaves as the command does.
package envconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Lookup returns the value of an environment variable and whether it is set
// (os.LookupEnv, or a table in tests).
type Lookup func(key string) (string, bool)

// Get returns the value of key, "" if unset.
func (l Lookup) Get(key string) string {
	v, _ := l(key)
	return v
}

// Switch reads the on/off variable key: 1, true, yes or on; 0, false, no,
// off or empty (any case). Anything else is refused rather than silently
// taken as off.
func Switch(key, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "", "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s=%q: want 1, true or yes (on), 0, false or no (off)", key, v)
}

// Duration reads a timeout: seconds ("30", "0.5") or a Go duration ("90s",
// "2m"); it must be positive and at most a day.
func Duration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		d = time.Duration(secs * float64(time.Second))
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, fmt.Errorf("want seconds or a duration such as 90s, not %q", v)
	}
	if d <= 0 || d > 24*time.Hour {
		return 0, fmt.Errorf("want a duration above 0 and at most a day, not %q", v)
	}
	return d, nil
}

// SplitScheme returns host without a leading http:// or https:// (and
// trailing slashes), and the scheme it named: "http", "https" or "".
func SplitScheme(host string) (bare, scheme string) {
	switch {
	case strings.HasPrefix(host, "http://"):
		bare, scheme = host[len("http://"):], "http"
	case strings.HasPrefix(host, "https://"):
		bare, scheme = host[len("https://"):], "https"
	default:
		bare = host
	}
	return strings.TrimRight(bare, "/"), scheme
}

// CABundle returns the CA bundle file to verify the registry with:
// tlsVerify (DXF_TLSVERIFY or its flag) if set, else the variables of the
// requests library (which the Python tool honoured implicitly) and
// OpenSSL.
func CABundle(tlsVerify string, env Lookup) string {
	if tlsVerify != "" {
		return tlsVerify
	}
	for _, k := range []string{"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"} {
		if v := env.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// Credentials are the credentials the variables (or flags) give.
type Credentials struct {
	Username, Password string
	// HaveUser: both a user name and a password were given (an empty value
	// counts as given, as in the Python tool).
	HaveUser      bool
	Authorization string // DXF_AUTHORIZATION: "Basic <base64>" or "Bearer <token>"
	Token         string // DXF_TOKEN: a bearer token used as is
}

// Authenticator returns the credentials to use, or nil for none given (the
// Docker config then applies). The Python order is kept: the token (if
// useToken), then the user name and password, then the Authorization
// value. An error never contains the secret.
func (c Credentials) Authenticator(useToken bool) (authn.Authenticator, error) {
	switch {
	case useToken && c.Token != "":
		return authn.FromConfig(authn.AuthConfig{RegistryToken: c.Token}), nil
	case c.HaveUser:
		return authn.FromConfig(authn.AuthConfig{Username: c.Username, Password: c.Password}), nil
	case c.Authorization != "":
		scheme, cred, _ := strings.Cut(strings.TrimSpace(c.Authorization), " ")
		cred = strings.TrimSpace(cred)
		switch {
		case strings.EqualFold(scheme, "Basic") && cred != "":
			return authn.FromConfig(authn.AuthConfig{Auth: cred}), nil
		case strings.EqualFold(scheme, "Bearer") && cred != "":
			return authn.FromConfig(authn.AuthConfig{RegistryToken: cred}), nil
		}
		// The value itself is a secret: name only its scheme.
		return nil, fmt.Errorf("DXF_AUTHORIZATION: want \"Basic <base64>\" or \"Bearer <token>\", got a %q value", scheme)
	}
	return nil, nil
}
