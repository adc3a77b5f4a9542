package cliconfig

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/internal/envconfig"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

func load(t *testing.T, env []string, args ...string) (*Config, error) {
	t.Helper()
	fs := NewFlagSet()
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, NewEnv(env), strings.NewReader("pw-from-stdin\n"))
}

func TestFlagsOverVariables(t *testing.T) {
	c, err := load(t, []string{"DXF_HOST=env.example:5000", "DXF_USERNAME=fred", "DXF_PASSWORD=secret", "DXF_FORMAT=oci", "XDG_CACHE_HOME=/nowhere-relative-ok"},
		"--host", "flag.example", "--password-stdin", "--jobs", "3", "--split")
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "flag.example" || c.Username != "fred" || c.Password != "pw-from-stdin" || !c.HaveUser {
		t.Errorf("registry settings: %+v", c.Registry)
	}
	if c.CredSource != "user fred (DXF_USERNAME) with the password of --password-stdin" {
		t.Errorf("CredSource = %q", c.CredSource)
	}
	if c.Jobs != 3 || c.Retries != blobstore.DefaultRetries || c.Split != blobstore.DefaultSplitAverage || c.Format != blobstore.FormatOCI {
		t.Errorf("jobs %d, retries %d, split %d, format %v", c.Jobs, c.Retries, c.Split, c.Format)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("fred:pw-from-stdin"))
	if s := c.Secrets(); !slices.Contains(s, "pw-from-stdin") || !slices.Contains(s, basic) {
		t.Errorf("Secrets() = %q", s)
	}
}

func TestMalformed(t *testing.T) {
	for _, c := range []struct {
		env     []string
		args    []string
		want    string
		flagErr bool
	}{
		{nil, []string{"--jobs", "0"}, "--jobs: must be at least 1, not 0", true},
		{nil, []string{"--progress=maybe"}, `--progress: want 1, 0 or auto, not "maybe"`, true},
		{nil, []string{"--split=3M"}, "--split: the average chunk size must be a power of two", true},
		{nil, []string{"--timeout", "-1"}, "--timeout: want a duration above 0", true},
		{[]string{"DXF_TIMEOUT=soon"}, nil, "DXF_TIMEOUT: want seconds or a duration", false},
		{[]string{"DXF_FORMAT=zip"}, nil, `DXF_FORMAT: unknown manifest format "zip"`, false},
		{[]string{"DXF_CHUNK_SIZE=-5"}, nil, `DXF_CHUNK_SIZE: must be a positive number of bytes, not "-5"`, false},
	} {
		_, err := load(t, append([]string{"DXF_HOST=localhost:5000"}, c.env...), c.args...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v %v: error %v, want %q…", c.env, c.args, err, c.want)
			continue
		}
		if fe := new(envconfig.FlagError); errors.As(err, &fe) != c.flagErr {
			t.Errorf("%v %v: %v is a FlagError: %v, want %v", c.env, c.args, err, !c.flagErr, c.flagErr)
		}
	}
}
