package envconfig

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func testSource(flags, env map[string]string) *Source {
	vars := map[string]string{"host": "DXF_HOST", "insecure": "DXF_INSECURE", "username": "DXF_USERNAME",
		"password": "DXF_PASSWORD", "token": "DXF_TOKEN", "timeout": "DXF_TIMEOUT", "debug": "DXF_DEBUG"}
	return &Source{
		Flag: func(name string) (string, bool) { v, ok := flags[name]; return v, ok },
		Env:  func(key string) (string, bool) { v, ok := env[key]; return v, ok },
		Var:  func(name string) string { return vars[name] },
	}
}

func TestSourceRegistry(t *testing.T) {
	s := testSource(map[string]string{"username": "fred"},
		map[string]string{"DXF_HOST": "http://reg:5000/", "DXF_USERNAME": "bob", "DXF_PASSWORD": "pw", "DXF_TOKEN": "tok"})
	r, err := s.Registry(nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Host != "reg:5000" || !r.Insecure || r.Username != "fred" || !r.HaveUser {
		t.Errorf("Registry = %+v", r)
	}
	if want := "user fred (--username) with the password of DXF_PASSWORD"; r.CredSource != want {
		t.Errorf("CredSource = %q, want %q", r.CredSource, want)
	}
	if r.TokenSource != "the token of DXF_TOKEN" {
		t.Errorf("TokenSource = %q", r.TokenSource)
	}
	r, err = s.Registry(func() (string, error) { return "stdin", nil })
	if err != nil || r.Password != "stdin" || r.CredSource != "user fred (--username) with the password of --password-stdin" {
		t.Errorf("Registry(readPassword) = %+v, %v", r, err)
	}

	for env, want := range map[string]string{
		"":                 "no registry:",
		"u:secret@reg":     "DXF_HOST: credentials in the host ([redacted]@reg)",
		"reg/path":         "DXF_HOST=reg/path: want host[:port]",
		"https://reg:5000": "DXF_HOST=https://reg:5000 asks for HTTPS",
	} {
		_, err := testSource(nil, map[string]string{"DXF_HOST": env, "DXF_INSECURE": "1"}).Registry(nil)
		if err == nil || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("DXF_HOST=%q: error %v, want %q…", env, err, want)
		}
	}
	r, err = testSource(nil, map[string]string{"DXF_HOST": "oci:some/dir"}).Registry(nil)
	if err != nil || !r.Layout || r.LayoutRoot != "some/dir" {
		t.Errorf("oci: host: %+v, %v", r, err)
	}
}

func TestSourceTransport(t *testing.T) {
	tr, err := testSource(map[string]string{"timeout": "90s"}, map[string]string{"DXF_TIMEOUT": "5", "DXF_DEBUG": "yes"}).Transport()
	if err != nil || tr.Timeout != 90*time.Second || !tr.Debug {
		t.Errorf("Transport = %+v, %v", tr, err)
	}
	_, err = testSource(map[string]string{"timeout": "soon"}, nil).Transport()
	var fe *FlagError
	if !errors.As(err, &fe) || fe.Flag != "timeout" {
		t.Errorf("bad --timeout: %v, want a FlagError", err)
	}
	_, err = testSource(nil, map[string]string{"DXF_TIMEOUT": "-1"}).Transport()
	if err == nil || errors.As(err, &fe) || err.Error()[:len("DXF_TIMEOUT: ")] != "DXF_TIMEOUT: " {
		t.Errorf("bad DXF_TIMEOUT: %v", err)
	}
	s := testSource(nil, map[string]string{"DXF_DEBUG": "maybe"})
	if _, err := s.Transport(); err != nil {
		t.Errorf("a bad switch is reported later, not by Transport: %v", err)
	}
	if s.SwitchErr() == nil {
		t.Error("DXF_DEBUG=maybe: no SwitchErr")
	}
}

func TestDigestCache(t *testing.T) {
	env := func(kv ...string) Lookup {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if dir, err := DigestCache(env("XDG_CACHE_HOME", "/c"), false); err != nil || dir != filepath.Join("/c", "dxf-go", "digests") {
		t.Errorf("DigestCache = %q, %v", dir, err)
	}
	if dir, err := DigestCache(env("XDG_CACHE_HOME", "/c", "DXF_DIGEST_CACHE", "0"), false); err != nil || dir != "" {
		t.Errorf("DXF_DIGEST_CACHE=0: %q, %v", dir, err)
	}
	if dir, err := DigestCache(env("XDG_CACHE_HOME", "/c"), true); err != nil || dir != "" {
		t.Errorf("off: %q, %v", dir, err)
	}
	if _, err := DigestCache(env("DXF_DIGEST_CACHE", "maybe"), true); err == nil {
		t.Error("DXF_DIGEST_CACHE=maybe: no error")
	}
}
