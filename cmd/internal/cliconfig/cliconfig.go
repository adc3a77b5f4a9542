// Package cliconfig is the configuration of one run of the dxf command:
// its flags, each over the DXF_* variable that stands for it, resolved
// (with [envconfig], which blobstore.FromEnv shares) into a [Config], and
// the library options that configuration makes. It imports pkg/blobstore,
// which envconfig cannot: blobstore imports envconfig.
package cliconfig

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/docker/cli/cli/config/configfile"
	"github.com/spf13/pflag"

	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/internal/dockercfg"
	"github.com/dxf-go/dxf/internal/envconfig"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// Setting is one command-line flag and the environment variable that
// stands for it when the flag is not given ("" for none). Every setting
// the Python tool took from the environment has a long flag of its own,
// and a flag given on the command line wins over its variable.
type Setting struct {
	Name, Short, Env string
	Kind             Kind
	Usage            string
	NoOpt            string   // the value of the flag given without one
	Choices          []string // the values completion offers ([FilesChoice]: file names)
}

// Kind is the type of a setting's value.
type Kind int

// The kinds of settings.
const (
	Text   Kind = iota // a string
	On                 // a switch: 1, true, yes … in the environment
	Number             // an int
	Texts              // a repeatable string
)

// FilesChoice asks the shell for file names, as a setting's only choice.
const FilesChoice = ":files"

// Settings are dxf's flags, in the order help and suggestions list them.
var Settings = []Setting{
	{"host", "", "DXF_HOST", Text, "registry `host[:port]` (DXF_HOST)", "", nil},
	{"insecure", "", "DXF_INSECURE", On, "talk plain HTTP instead of HTTPS (DXF_INSECURE=1)", "", nil},
	{"username", "u", "DXF_USERNAME", Text, "user `name` to log in as (DXF_USERNAME)", "", nil},
	{"password", "p", "DXF_PASSWORD", Text, "`password` of the user (DXF_PASSWORD); prefer --password-stdin", "", nil},
	{"password-stdin", "", "", On, "read the password from standard input", "", nil},
	{"authorization", "", "DXF_AUTHORIZATION", Text, "a whole Authorization header `value`, \"Basic …\" or \"Bearer …\" (DXF_AUTHORIZATION)", "", nil},
	{"token", "", "DXF_TOKEN", Text, "bearer `token` to use as is, e.g. from \"dxf auth\" (DXF_TOKEN)", "", nil},
	{"auth-host", "", "DXF_AUTH_HOST", Text, "send token requests to this `host[:port]` instead of the realm's (DXF_AUTH_HOST)", "", nil},
	{"progress", "", "DXF_PROGRESS", Text, "progress bars on standard error: 1 always, 0 never, auto on a terminal (DXF_PROGRESS)", "1", []string{"0", "1", "auto"}},
	{"blob-info", "", "DXF_BLOB_INFO", On, "pull-blob: write \"<digest> <size>\\n\" before each blob (DXF_BLOB_INFO=1)", "", nil},
	{"chunk-size", "", "DXF_CHUNK_SIZE", Number, "pull-blob: `bytes` per read and write (DXF_CHUNK_SIZE; default 1 MiB)", "", nil},
	{"skip-tls-verify", "", "DXF_SKIPTLSVERIFY", On, "do not verify the registry's certificate (DXF_SKIPTLSVERIFY=1)", "", nil},
	{"tls-verify", "", "DXF_TLSVERIFY", Text, "verify the registry's certificate against this CA bundle `file` (DXF_TLSVERIFY)", "", []string{FilesChoice}},
	{"platform", "", "DXF_PLATFORM", Text, "`os/arch[/variant]` to select from multi-platform aliases (DXF_PLATFORM)", "", []string{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "linux/ppc64le", "linux/s390x", "windows/amd64", "darwin/arm64"}},
	{"jobs", "", "", Number, "blobs to transfer or inspect at once", "", nil},
	{"retries", "", "", Number, "retries of a request after a transient failure", "", nil},
	{"no-digest-cache", "", "", On, "do not remember the digests of pushed files (DXF_DIGEST_CACHE=0)", "", nil},
	{"output", "o", "", Text, "pull-blob: write to `file` (replaced only once every blob is verified)", "", []string{FilesChoice}},
	{"timeout", "", "DXF_TIMEOUT", Text, "`seconds` (or a duration: 90s, 2m) to wait for a connection, an answer, a stalled transfer or a credential helper (DXF_TIMEOUT; default 60, connecting 30)", "", nil},
	{"max-retry-wait", "", "DXF_MAX_RETRY_WAIT", Text, "longest wait, in `seconds` or as a duration, before a retry a registry asks for with Retry-After (DXF_MAX_RETRY_WAIT; default 60)", "", nil},
	{"debug", "d", "DXF_DEBUG", On, "trace each HTTP request and response on standard error, secrets redacted (DXF_DEBUG=1)", "", nil},
	{"split", "", "", Text, "push-blob: cut files into content-defined chunks of about `size` bytes each (K, M, G suffixes; --split alone: 4M)", "default", nil},
	{"range", "", "", Text, "pull-blob: write only bytes `START-END` (from 0, END included; END may be left out) of an @alias, verified chunk by chunk", "", nil},
	{"format", "", "DXF_FORMAT", Text, "manifest form of aliases pushed: docker (the Python tool's, default) or oci (an OCI 1.1 artifact with file names) (DXF_FORMAT)", "", nil},
	{"dir", "", "", Text, "pull-blob: write the alias's files into `directory`, by name, fetching only what differs", "", nil},
	{"include", "", "", Texts, "pull-blob --dir, ls: only the paths matching `glob` (repeatable)", "", nil},
	{"delete", "", "", On, "pull-blob --dir: remove files the alias does not have", "", nil},
	{"outside-links", "", "", On, "pull-blob --dir: make symbolic links that leave the directory (never followed)", "", nil},
	{"max-unpack", "", "DXF_MAX_UNPACK", Text, "pull-blob --dir: most `bytes` an archive unpacks to (none: no bound)", "", nil},
	{"force", "", "", On, "del-blob: delete what is named even if other aliases use it (the Python tool's behaviour)", "", nil},
	{"prune", "", "", On, "del-alias: also delete the blobs no remaining alias uses", "", nil},
	{"dry-run", "", "", On, "del-alias, del-blob, prune: delete nothing, print what would go", "", nil},
	{"deep", "", "", On, "check: re-read and hash every blob", "", nil},
	{"json", "", "", On, "check: print the result as one JSON object; ls: JSON lines", "", nil},
	{"help", "h", "", On, "show help", "", nil},
	{"version", "", "", On, "show the version", "", nil},
}

// numberDefaults are the defaults of the number settings other than 0.
var numberDefaults = map[string]int{"jobs": blobstore.DefaultJobs, "retries": blobstore.DefaultRetries}

// NewFlagSet defines the flags. Flags may come anywhere on the command line
// (interspersed with the arguments), so "dxf push-blob --progress repo f"
// and "dxf --progress push-blob repo f" mean the same.
func NewFlagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("dxf", pflag.ContinueOnError)
	fs.SetInterspersed(true)
	fs.SetOutput(io.Discard) // errors are reported by run, in one line
	fs.SortFlags = false
	for _, s := range Settings {
		switch s.Kind {
		case Text:
			fs.StringP(s.Name, s.Short, "", s.Usage)
		case On:
			fs.BoolP(s.Name, s.Short, false, s.Usage)
		case Number:
			fs.IntP(s.Name, s.Short, numberDefaults[s.Name], s.Usage)
		case Texts:
			fs.StringArrayP(s.Name, s.Short, nil, s.Usage)
		}
		if s.NoOpt != "" {
			fs.Lookup(s.Name).NoOptDefVal = s.NoOpt
		}
	}
	return fs
}

// FlagText is the value of the text flag name of fs.
func FlagText(fs *pflag.FlagSet, name string) string { v, _ := fs.GetString(name); return v }

// FlagOn is the value of the switch name of fs.
func FlagOn(fs *pflag.FlagSet, name string) bool { v, _ := fs.GetBool(name); return v }

// FlagNumber is the value of the number name of fs.
func FlagNumber(fs *pflag.FlagSet, name string) int { v, _ := fs.GetInt(name); return v }

// settingEnv is the variable of the setting name, "" for none.
func settingEnv(name string) string { return LookupSetting(name).Env }

// LookupSetting is the setting name (the zero setting if there is none).
func LookupSetting(name string) Setting {
	for _, s := range Settings {
		if s.Name == name {
			return s
		}
	}
	return Setting{}
}

// Config is the resolved configuration of one run: flags over environment.
type Config struct {
	envconfig.Registry         // where to connect, as whom
	envconfig.Transport        // how to talk to the registry
	Progress            string // "1", "0" or "auto"
	BlobInfo            bool
	ChunkSize           int // DXF_CHUNK_SIZE; 0 when not set
	Platform            string
	Jobs                int
	Retries             int
	DigestCache         string // "" when disabled
	Output              string
	DebugOut            io.Writer          // standard error: --debug lines, notices of waits the registry asks for
	Split               int                // average chunk size of push-blob --split; 0: no split
	ByteRange           *textfmt.ByteRange // pull-blob --range

	// The data set settings.
	Format  blobstore.Format
	Dir     string
	Include []string
	Delete  bool
	Links   bool // --outside-links
	// MaxUnpack bounds what an archive unpacks to (see [ParseUnpack]),
	// as given by MaxUnpackFrom: "--max-unpack" or "DXF_MAX_UNPACK".
	MaxUnpack, MaxUnpackFrom string
	// The flags of check, prune, del-blob and del-alias; JSON is ls's too.
	Force, Prune, DryRun, Deep, JSON bool
}

// Env is the process environment as a lookup table.
type Env map[string]string

// Lookup is env as an [envconfig.Lookup].
func (env Env) Lookup(key string) (string, bool) {
	v, ok := env[key]
	return v, ok
}

// NewEnv makes the table of environ, "KEY=value" entries.
func NewEnv(environ []string) Env {
	env := make(Env, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// Load resolves every setting from its flag, else its environment
// variable. A password on standard input (--password-stdin) is read here.
// A malformed flag is an [envconfig.FlagError] (a usage error).
func Load(fs *pflag.FlagSet, env Env, stdin io.Reader) (*Config, error) {
	include, _ := fs.GetStringArray("include")
	c := &Config{
		Jobs:    FlagNumber(fs, "jobs"),
		Retries: FlagNumber(fs, "retries"),
		Output:  FlagText(fs, "output"),
		Force:   FlagOn(fs, "force"), Prune: FlagOn(fs, "prune"), DryRun: FlagOn(fs, "dry-run"),
		Deep: FlagOn(fs, "deep"), JSON: FlagOn(fs, "json"),
		Dir: FlagText(fs, "dir"), Include: include, Delete: FlagOn(fs, "delete"), Links: FlagOn(fs, "outside-links"),
	}
	src := &envconfig.Source{Env: env.Lookup, Var: settingEnv, Flag: func(name string) (string, bool) {
		if fs.Changed(name) {
			return fs.Lookup(name).Value.String(), true
		}
		return "", false
	}}
	var readPw func() (string, error)
	if FlagOn(fs, "password-stdin") {
		readPw = func() (string, error) { return readPassword(stdin) }
	}
	var err error
	if c.Registry, err = src.Registry(readPw); err != nil {
		return nil, err
	}

	// DXF_PROGRESS: "1" on, "0" off, anything else automatic, as in
	// Python; the flag also takes words.
	c.Progress = "auto"
	if v := env["DXF_PROGRESS"]; v == "1" || v == "0" {
		c.Progress = v
	}
	if fs.Changed("progress") {
		switch strings.ToLower(FlagText(fs, "progress")) {
		case "1", "true", "on", "yes", "always":
			c.Progress = "1"
		case "0", "false", "off", "no", "never":
			c.Progress = "0"
		case "auto":
			c.Progress = "auto"
		default:
			return nil, flagErrorf("progress", "want 1, 0 or auto, not %q", FlagText(fs, "progress"))
		}
	}
	c.BlobInfo = src.On("blob-info")

	if fs.Changed("chunk-size") {
		if c.ChunkSize = FlagNumber(fs, "chunk-size"); c.ChunkSize <= 0 {
			return nil, flagErrorf("chunk-size", "must be a positive number of bytes, not %d", c.ChunkSize)
		}
	} else if v := env["DXF_CHUNK_SIZE"]; v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("DXF_CHUNK_SIZE: must be a positive number of bytes, not %q", v)
		}
		c.ChunkSize = n
	}
	c.Platform, _ = src.Text("platform")
	if c.Jobs <= 0 {
		return nil, flagErrorf("jobs", "must be at least 1, not %d", c.Jobs)
	}
	if c.Retries < 0 {
		return nil, flagErrorf("retries", "must not be negative, not %d", c.Retries)
	}
	if c.Transport, err = src.Transport(); err != nil {
		return nil, err
	}
	if fs.Changed("split") {
		n, err := ParseSplit(FlagText(fs, "split"))
		if err != nil {
			return nil, &envconfig.FlagError{Flag: "split", Err: err}
		}
		c.Split = n
	}
	if fs.Changed("range") {
		br, err := textfmt.ParseRange(FlagText(fs, "range"))
		if err != nil {
			return nil, &envconfig.FlagError{Flag: "range", Err: err}
		}
		c.ByteRange = br
	}
	v, from := env["DXF_FORMAT"], "DXF_FORMAT"
	if fs.Changed("format") {
		v, from = FlagText(fs, "format"), "--format"
	}
	if c.Format, err = blobstore.ParseFormat(v); err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	c.MaxUnpack, c.MaxUnpackFrom = env["DXF_MAX_UNPACK"], "DXF_MAX_UNPACK"
	if fs.Changed("max-unpack") {
		c.MaxUnpack, c.MaxUnpackFrom = FlagText(fs, "max-unpack"), "--max-unpack"
	}
	if err := src.SwitchErr(); err != nil {
		return nil, err
	}
	if c.DigestCache, err = envconfig.DigestCache(env.Lookup, FlagOn(fs, "no-digest-cache")); err != nil {
		return nil, err
	}
	return c, nil
}

// flagErrorf is the error of a malformed value of the flag name.
func flagErrorf(name, format string, args ...any) error {
	return &envconfig.FlagError{Flag: name, Err: fmt.Errorf(format, args...)}
}

// ParseSplit reads the --split value: "default" (the flag alone) or a
// size with an optional binary suffix (K, M, G; KiB, MiB, GiB; KB… mean
// the same).
func ParseSplit(v string) (int, error) {
	if v == "default" {
		return blobstore.DefaultSplitAverage, nil
	}
	n, err := textfmt.ParseSize(v)
	if err != nil {
		return 0, err
	}
	if n <= 0 || n&(n-1) != 0 {
		return 0, fmt.Errorf("the average chunk size must be a power of two, like 1M or 4M, not %q", v)
	}
	return int(n), nil
}

// ParseUnpack reads the bound of --max-unpack: a size with an optional K,
// M or G suffix, "none" for no bound, "" for the default.
func ParseUnpack(v string) (int64, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return 0, nil
	case "none":
		return -1, nil
	}
	n, err := textfmt.ParseSize(v)
	if err == nil && n == 0 {
		err = fmt.Errorf("not a bound: %q (none means no bound)", v)
	}
	return n, err
}

// readPassword reads a password from r: everything up to the first line
// end, which is how "echo $PW | dxf --password-stdin" and a file both work.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// Secrets returns the credential strings that must never appear in a
// message: error texts from lower layers are scrubbed of them.
func (c *Config) Secrets() []string {
	var s []string
	for _, v := range []string{c.Password, c.Token, c.Authorization} {
		if v != "" {
			s = append(s, v)
		}
	}
	if _, cred, ok := strings.Cut(c.Authorization, " "); ok && cred != "" {
		s = append(s, cred)
	}
	if c.HaveUser && c.Password != "" {
		s = append(s, base64.StdEncoding.EncodeToString([]byte(c.Username+":"+c.Password)))
	}
	return s
}

// DeleteOptions are the options of del-blob, del-alias and prune.
func (c *Config) DeleteOptions() blobstore.DeleteOptions {
	return blobstore.DeleteOptions{Prune: c.Prune, DryRun: c.DryRun, Force: c.Force, Jobs: c.Jobs}
}

// Options returns the library options for this configuration, with the
// given User-Agent. The credentials are, in the Python order, a token
// (unless !useToken: the auth command exists to get one), then a user name
// and password, then an Authorization header value; none: the Docker
// config file (ggcr's default keychain).
func (c *Config) Options(useToken bool, userAgent string) ([]blobstore.Option, error) {
	opts := []blobstore.Option{
		blobstore.WithInsecure(c.Insecure),
		blobstore.WithRetries(c.Retries),
		blobstore.WithUserAgent(userAgent),
	}
	auth, err := c.Authenticator(useToken)
	if err != nil {
		return nil, err
	}
	if auth != nil {
		opts = append(opts, blobstore.WithAuth(auth))
	}
	if c.AuthHost != "" {
		opts = append(opts, blobstore.WithAuthHost(c.AuthHost))
	}
	switch {
	case c.SkipTLSVerify:
		opts = append(opts, blobstore.WithSkipTLSVerify(true))
	case c.CABundle != "":
		opts = append(opts, blobstore.WithCABundle(c.CABundle))
	}
	if c.DigestCache != "" {
		opts = append(opts, blobstore.WithDigestCache(c.DigestCache))
	}
	if c.Debug {
		opts = append(opts, blobstore.WithDebugLog(c.DebugOut))
	}
	if c.Timeout > 0 {
		opts = append(opts, blobstore.WithTimeout(c.Timeout))
	}
	if c.MaxRetryWait > 0 {
		opts = append(opts, blobstore.WithMaxRetryAfter(c.MaxRetryWait))
	}
	if c.DebugOut != nil {
		out := c.DebugOut
		opts = append(opts, blobstore.WithRetryWaitNotify(func(w blobstore.RetryWait) {
			fmt.Fprintln(out, textfmt.RetryWait(w.Status, w.Asked, w.Wait))
		}))
	}
	return opts, nil
}

// LoadDockerConfig reads the Docker config file (or Podman's auth file)
// where the library's keychain reads it, so that login stores credentials
// where later commands find them.
func LoadDockerConfig(env Env) (*configfile.ConfigFile, error) {
	cf, err := dockercfg.Load(func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("reading the Docker config file: %w", err)
	}
	return cf, nil
}

// CredentialSource names the credentials this run used, for the message
// of a 401.
func (c *Config) CredentialSource(env Env, useToken bool) string {
	if c.TokenSource != "" && useToken {
		return c.TokenSource
	}
	if c.CredSource != "" {
		return c.CredSource
	}
	cf, err := LoadDockerConfig(env)
	if err == nil {
		if key := dockercfg.Key(c.Host); dockercfg.Has(cf, key) {
			return fmt.Sprintf("the Docker config's for %s (%s)", c.Host, dockercfg.Place(cf, key))
		}
	}
	return fmt.Sprintf("none; set DXF_USERNAME and DXF_PASSWORD, or run dxf login %s", c.Host)
}
