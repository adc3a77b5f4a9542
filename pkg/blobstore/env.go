package blobstore

import (
	"errors"
	"fmt"
	"os"

	"github.com/dxf-go/dxf/internal/envconfig"
)

// FromEnv returns the registry host and the options that the DXF_*
// environment variables give, read as the dxf command reads them, so that a
// program and the command can share one configuration (for instance the
// .registry.env file that `make registry` writes, once sourced):
//
//   - DXF_HOST: the registry, host[:port], or http://host[:port] for plain
//     HTTP, or oci:ROOT for a directory of OCI image layouts, no registry
//     (required; [New] and [Open] take the host as it is: New(host, "fred")
//     is then the layout ROOT/fred, and the registry's options do nothing);
//   - DXF_INSECURE=1: plain HTTP ([WithInsecure]);
//   - DXF_USERNAME and DXF_PASSWORD (both), else DXF_AUTHORIZATION ("Basic
//     <base64>" or "Bearer <token>"), else DXF_TOKEN: the credentials
//     ([WithAuth]); none of them: the Docker config, as by default;
//   - DXF_AUTH_HOST: [WithAuthHost];
//   - DXF_SKIPTLSVERIFY=1: [WithSkipTLSVerify]; else DXF_TLSVERIFY (or
//     REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE): [WithCABundle];
//   - DXF_TIMEOUT and DXF_MAX_RETRY_WAIT (seconds or a duration):
//     [WithTimeout] and [WithMaxRetryAfter];
//   - DXF_DEBUG=1: [WithDebugLog] to standard error.
//
// Switches take 1, true, yes or on, and 0, false, no, off or empty; any
// other value is an error, as is a malformed one. Variables of the command's
// own output (DXF_PROGRESS, DXF_BLOB_INFO, DXF_CHUNK_SIZE, the read size of
// pull-blob) and per-call settings (DXF_PLATFORM: [WithPlatform]) are not
// options of a [Registry] and are left to the caller. No error contains a
// secret. Options given after these, to [New] or [NewRegistry], win.
func FromEnv() (string, []Option, error) {
	return fromEnv(os.LookupEnv)
}

func fromEnv(lookup envconfig.Lookup) (string, []Option, error) {
	host := lookup.Get("DXF_HOST")
	if host == "" {
		return "", nil, errors.New("DXF_HOST is not set: set it to the registry's host[:port] (http://host:port for plain HTTP)")
	}
	var err error
	on := func(key string) bool {
		v, e := envconfig.Switch(key, lookup.Get(key))
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	var opts []Option
	if on("DXF_INSECURE") {
		if _, scheme := envconfig.SplitScheme(host); scheme == "https" {
			return "", nil, fmt.Errorf("DXF_HOST=%s asks for HTTPS, DXF_INSECURE=1 for plain HTTP: choose one", host)
		}
		opts = append(opts, WithInsecure(true))
	}
	creds := envconfig.Credentials{Authorization: lookup.Get("DXF_AUTHORIZATION"), Token: lookup.Get("DXF_TOKEN")}
	user, haveUser := lookup("DXF_USERNAME")
	pass, havePass := lookup("DXF_PASSWORD")
	creds.Username, creds.Password, creds.HaveUser = user, pass, haveUser && havePass
	// The command tries a token first; a program has no "dxf auth" to get
	// one, so the same order applies.
	auth, aerr := creds.Authenticator(true)
	if aerr != nil {
		return "", nil, aerr
	}
	if auth != nil {
		opts = append(opts, WithAuth(auth))
	}
	if v := lookup.Get("DXF_AUTH_HOST"); v != "" {
		opts = append(opts, WithAuthHost(v))
	}
	if on("DXF_SKIPTLSVERIFY") {
		opts = append(opts, WithSkipTLSVerify(true))
	} else if ca := envconfig.CABundle(lookup.Get("DXF_TLSVERIFY"), lookup); ca != "" {
		opts = append(opts, WithCABundle(ca))
	}
	for _, d := range []struct {
		key string
		opt func(v string) error
	}{
		{"DXF_TIMEOUT", func(v string) error {
			t, e := envconfig.Duration(v)
			opts = append(opts, WithTimeout(t))
			return e
		}},
		{"DXF_MAX_RETRY_WAIT", func(v string) error {
			t, e := envconfig.Duration(v)
			opts = append(opts, WithMaxRetryAfter(t))
			return e
		}},
	} {
		if v := lookup.Get(d.key); v != "" {
			if e := d.opt(v); e != nil {
				return "", nil, fmt.Errorf("%s: %w", d.key, e)
			}
		}
	}
	if on("DXF_DEBUG") {
		opts = append(opts, WithDebugLog(os.Stderr))
	}
	if err != nil {
		return "", nil, err
	}
	return host, opts, nil
}
