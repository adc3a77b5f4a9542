package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/pflag"

	"github.com/dxf-go/dxf/internal/dockercfg"
	"github.com/dxf-go/dxf/internal/envconfig"
	"github.com/dxf-go/dxf/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// defaultChunkSize is the size of pull-blob's output buffer unless
// DXF_CHUNK_SIZE says otherwise; reads are then the library's (1 MiB, with
// no copy). The Python tool read and wrote 8192 bytes at a time; larger
// chunks move big blobs with far fewer system calls.
const defaultChunkSize = 1 << 20

// setting is one command-line flag and the environment variable that
// stands for it when the flag is not given ("" for none). Every setting
// the Python tool took from the environment has a long flag of its own,
// and a flag given on the command line wins over its variable.
type setting struct {
	name, short, env string
	kind             settingKind
	usage            string
	noOpt            string   // the value of the flag given without one
	choices          []string // the values completion offers (filesDirective: file names)
}

type settingKind int

const (
	text   settingKind = iota // a string
	on                        // a switch: 1, true, yes … in the environment
	number                    // an int
	texts                     // a repeatable string
)

// settings are dxf's flags, in the order help and suggestions list them.
var settings = []setting{
	{"host", "", "DXF_HOST", text, "registry `host[:port]` (DXF_HOST)", "", nil},
	{"insecure", "", "DXF_INSECURE", on, "talk plain HTTP instead of HTTPS (DXF_INSECURE=1)", "", nil},
	{"username", "u", "DXF_USERNAME", text, "user `name` to log in as (DXF_USERNAME)", "", nil},
	{"password", "p", "DXF_PASSWORD", text, "`password` of the user (DXF_PASSWORD); prefer --password-stdin", "", nil},
	{"password-stdin", "", "", on, "read the password from standard input", "", nil},
	{"authorization", "", "DXF_AUTHORIZATION", text, "a whole Authorization header `value`, \"Basic …\" or \"Bearer …\" (DXF_AUTHORIZATION)", "", nil},
	{"token", "", "DXF_TOKEN", text, "bearer `token` to use as is, e.g. from \"dxf auth\" (DXF_TOKEN)", "", nil},
	{"auth-host", "", "DXF_AUTH_HOST", text, "send token requests to this `host[:port]` instead of the realm's (DXF_AUTH_HOST)", "", nil},
	{"progress", "", "DXF_PROGRESS", text, "progress bars on standard error: 1 always, 0 never, auto on a terminal (DXF_PROGRESS)", "1", []string{"0", "1", "auto"}},
	{"blob-info", "", "DXF_BLOB_INFO", on, "pull-blob: write \"<digest> <size>\\n\" before each blob (DXF_BLOB_INFO=1)", "", nil},
	{"chunk-size", "", "DXF_CHUNK_SIZE", number, "pull-blob: `bytes` per read and write (DXF_CHUNK_SIZE; default 1 MiB)", "", nil},
	{"skip-tls-verify", "", "DXF_SKIPTLSVERIFY", on, "do not verify the registry's certificate (DXF_SKIPTLSVERIFY=1)", "", nil},
	{"tls-verify", "", "DXF_TLSVERIFY", text, "verify the registry's certificate against this CA bundle `file` (DXF_TLSVERIFY)", "", []string{filesDirective}},
	{"platform", "", "DXF_PLATFORM", text, "`os/arch[/variant]` to select from multi-platform aliases (DXF_PLATFORM)", "", []string{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "linux/ppc64le", "linux/s390x", "windows/amd64", "darwin/arm64"}},
	{"jobs", "", "", number, "blobs to transfer or inspect at once", "", nil},
	{"retries", "", "", number, "retries of a request after a transient failure", "", nil},
	{"no-digest-cache", "", "", on, "do not remember the digests of pushed files (DXF_DIGEST_CACHE=0)", "", nil},
	{"output", "o", "", text, "pull-blob: write to `file` (replaced only once every blob is verified)", "", []string{filesDirective}},
	{"timeout", "", "DXF_TIMEOUT", text, "`seconds` (or a duration: 90s, 2m) to wait for a connection, an answer, a stalled transfer or a credential helper (DXF_TIMEOUT; default 60, connecting 30)", "", nil},
	{"max-retry-wait", "", "DXF_MAX_RETRY_WAIT", text, "longest wait, in `seconds` or as a duration, before a retry a registry asks for with Retry-After (DXF_MAX_RETRY_WAIT; default 60)", "", nil},
	{"debug", "d", "DXF_DEBUG", on, "trace each HTTP request and response on standard error, secrets redacted (DXF_DEBUG=1)", "", nil},
	{"split", "", "", text, "push-blob: cut files into content-defined chunks of about `size` bytes each (K, M, G suffixes; --split alone: 4M)", "default", nil},
	{"range", "", "", text, "pull-blob: write only bytes `START-END` (from 0, END included; END may be left out) of an @alias, verified chunk by chunk", "", nil},
	{"format", "", "DXF_FORMAT", text, "manifest form of aliases pushed: docker (the Python tool's, default) or oci (an OCI 1.1 artifact with file names) (DXF_FORMAT)", "", nil},
	{"dir", "", "", text, "pull-blob: write the alias's files into `directory`, by name, fetching only what differs", "", nil},
	{"include", "", "", texts, "pull-blob --dir, ls: only the paths matching `glob` (repeatable)", "", nil},
	{"delete", "", "", on, "pull-blob --dir: remove files the alias does not have", "", nil},
	{"outside-links", "", "", on, "pull-blob --dir: make symbolic links that leave the directory (never followed)", "", nil},
	{"max-unpack", "", "DXF_MAX_UNPACK", text, "pull-blob --dir: most `bytes` an archive unpacks to (none: no bound)", "", nil},
	{"force", "", "", on, "del-blob: delete what is named even if other aliases use it (the Python tool's behaviour)", "", nil},
	{"prune", "", "", on, "del-alias: also delete the blobs no remaining alias uses", "", nil},
	{"dry-run", "", "", on, "del-alias, del-blob, prune: delete nothing, print what would go", "", nil},
	{"deep", "", "", on, "check: re-read and hash every blob", "", nil},
	{"json", "", "", on, "check: print the result as one JSON object; ls: JSON lines", "", nil},
	{"help", "h", "", on, "show help", "", nil},
	{"version", "", "", on, "show the version", "", nil},
}

// numberDefaults are the defaults of the number settings other than 0.
var numberDefaults = map[string]int{"jobs": blobstore.DefaultJobs, "retries": blobstore.DefaultRetries}

// newFlagSet defines the flags. Flags may come anywhere on the command line
// (interspersed with the arguments), so "dxf push-blob --progress repo f"
// and "dxf --progress push-blob repo f" mean the same.
func newFlagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("dxf", pflag.ContinueOnError)
	fs.SetInterspersed(true)
	fs.SetOutput(io.Discard) // errors are reported by run, in one line
	fs.SortFlags = false
	for _, s := range settings {
		switch s.kind {
		case text:
			fs.StringP(s.name, s.short, "", s.usage)
		case on:
			fs.BoolP(s.name, s.short, false, s.usage)
		case number:
			fs.IntP(s.name, s.short, numberDefaults[s.name], s.usage)
		case texts:
			fs.StringArrayP(s.name, s.short, nil, s.usage)
		}
		if s.noOpt != "" {
			fs.Lookup(s.name).NoOptDefVal = s.noOpt
		}
	}
	return fs
}

// flagText, flagOn and flagNumber are the values of flags of fs.
func flagText(fs *pflag.FlagSet, name string) string { v, _ := fs.GetString(name); return v }
func flagOn(fs *pflag.FlagSet, name string) bool     { v, _ := fs.GetBool(name); return v }
func flagNumber(fs *pflag.FlagSet, name string) int  { v, _ := fs.GetInt(name); return v }

// settingEnv is the variable of the setting name, "" for none.
func settingEnv(name string) string { return lookupSetting(name).env }

// lookupSetting is the setting name (the zero setting if there is none).
func lookupSetting(name string) setting {
	for _, s := range settings {
		if s.name == name {
			return s
		}
	}
	return setting{}
}

// config is the resolved configuration of one run: flags over environment.
type config struct {
	host          string
	layout        bool   // DXF_HOST (or the repository) is oci:DIR: OCI image layouts on disk
	layoutRoot    string // DIR of DXF_HOST=oci:DIR ("" when the repository is oci:DIR itself)
	insecure      bool
	username      string
	password      string
	haveUser      bool // both a user name and a password were given
	authorization string
	token         string
	authHost      string
	progress      string // "1", "0" or "auto"
	blobInfo      bool
	chunkSize     int // DXF_CHUNK_SIZE; 0 when not set (see defaultChunkSize)
	skipTLSVerify bool
	caBundle      string
	platform      string
	jobs          int
	retries       int
	digestCache   string // "" when disabled
	output        string
	timeout       time.Duration // 0: the library's defaults
	maxRetryWait  time.Duration // 0: the library's default
	debug         bool
	debugOut      io.Writer          // standard error: --debug lines, notices of waits the registry asks for
	split         int                // average chunk size of push-blob --split; 0: no split
	byteRange     *textfmt.ByteRange // pull-blob --range
	data          dataConfig         // data set settings (dataset.go)
	safe          safeFlags          // check, prune, del-blob, del-alias (safe.go)
	// credSource names the credentials given ("DXF_USERNAME and
	// DXF_PASSWORD", "--token" …); "" for the Docker config or none.
	credSource  string
	tokenSource string // "the token of DXF_TOKEN" (or --token); "" without one
}

// environment is the process environment as a lookup table.
type environment map[string]string

// lookup is env as an [envconfig.Lookup].
func (env environment) lookup(key string) (string, bool) {
	v, ok := env[key]
	return v, ok
}

func newEnvironment(environ []string) environment {
	env := make(environment, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// loadConfig resolves every setting from its flag, else its environment
// variable. A password on standard input (--password-stdin) is read here.
func loadConfig(fs *pflag.FlagSet, env environment, stdin io.Reader) (*config, error) {
	c := &config{
		jobs:    flagNumber(fs, "jobs"),
		retries: flagNumber(fs, "retries"),
		output:  flagText(fs, "output"),
		safe: safeFlags{force: flagOn(fs, "force"), prune: flagOn(fs, "prune"), dryRun: flagOn(fs, "dry-run"),
			deep: flagOn(fs, "deep"), json: flagOn(fs, "json")},
	}
	src := &envconfig.Source{Env: env.lookup, Var: settingEnv, Flag: func(name string) (string, bool) {
		if fs.Changed(name) {
			return fs.Lookup(name).Value.String(), true
		}
		return "", false
	}}
	var readPw func() (string, error)
	if flagOn(fs, "password-stdin") {
		readPw = func() (string, error) { return readPassword(stdin) }
	}
	r, err := src.Registry(readPw)
	if err != nil {
		return nil, err
	}
	c.host, c.layout, c.layoutRoot, c.insecure, c.authHost = r.Host, r.Layout, r.LayoutRoot, r.Insecure, r.AuthHost
	c.username, c.password, c.haveUser, c.authorization, c.token = r.Username, r.Password, r.HaveUser, r.Authorization, r.Token
	c.credSource, c.tokenSource = r.CredSource, r.TokenSource

	// DXF_PROGRESS: "1" on, "0" off, anything else automatic, as in
	// Python; the flag also takes words.
	c.progress = "auto"
	if v := env["DXF_PROGRESS"]; v == "1" || v == "0" {
		c.progress = v
	}
	if fs.Changed("progress") {
		switch strings.ToLower(flagText(fs, "progress")) {
		case "1", "true", "on", "yes", "always":
			c.progress = "1"
		case "0", "false", "off", "no", "never":
			c.progress = "0"
		case "auto":
			c.progress = "auto"
		default:
			return nil, usagef(nil, "--progress: want 1, 0 or auto, not %q", flagText(fs, "progress"))
		}
	}
	c.blobInfo = src.On("blob-info")

	if fs.Changed("chunk-size") {
		if c.chunkSize = flagNumber(fs, "chunk-size"); c.chunkSize <= 0 {
			return nil, usagef(nil, "--chunk-size: must be a positive number of bytes, not %d", c.chunkSize)
		}
	} else if v := env["DXF_CHUNK_SIZE"]; v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("DXF_CHUNK_SIZE: must be a positive number of bytes, not %q", v)
		}
		c.chunkSize = n
	}
	c.platform, _ = src.Text("platform")
	if c.jobs <= 0 {
		return nil, usagef(nil, "--jobs: must be at least 1, not %d", c.jobs)
	}
	if c.retries < 0 {
		return nil, usagef(nil, "--retries: must not be negative, not %d", c.retries)
	}
	t, err := src.Transport()
	var fe *envconfig.FlagError
	if errors.As(err, &fe) {
		return nil, usagef(nil, "%v", fe)
	} else if err != nil {
		return nil, err
	}
	c.skipTLSVerify, c.caBundle, c.timeout, c.maxRetryWait, c.debug = t.SkipTLSVerify, t.CABundle, t.Timeout, t.MaxRetryWait, t.Debug
	if fs.Changed("split") {
		n, err := parseSplit(flagText(fs, "split"))
		if err != nil {
			return nil, usagef(nil, "--split: %v", err)
		}
		c.split = n
	}
	if fs.Changed("range") {
		br, err := textfmt.ParseRange(flagText(fs, "range"))
		if err != nil {
			return nil, usagef(nil, "--range: %v", err)
		}
		c.byteRange = br
	}
	data, err := loadData(fs, env)
	if err != nil {
		return nil, err
	}
	c.data = data
	if err := src.SwitchErr(); err != nil {
		return nil, err
	}
	if c.digestCache, err = envconfig.DigestCache(env.lookup, flagOn(fs, "no-digest-cache")); err != nil {
		return nil, err
	}
	return c, nil
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

// secrets returns the credential strings that must never appear in a
// message: error texts from lower layers are scrubbed of them.
func (c *config) secrets() []string {
	var s []string
	for _, v := range []string{c.password, c.token, c.authorization} {
		if v != "" {
			s = append(s, v)
		}
	}
	if _, cred, ok := strings.Cut(c.authorization, " "); ok && cred != "" {
		s = append(s, cred)
	}
	if c.haveUser && c.password != "" {
		s = append(s, base64.StdEncoding.EncodeToString([]byte(c.username+":"+c.password)))
	}
	return s
}

// authenticator returns the credentials to use, or nil for the Docker
// config file (ggcr's default keychain). The Python order is kept: a token
// (except for the auth command, which exists to get one), then a user name
// and password, then an Authorization header value.
func (c *config) authenticator(useToken bool) (authn.Authenticator, error) {
	return envconfig.Credentials{Username: c.username, Password: c.password, HaveUser: c.haveUser,
		Authorization: c.authorization, Token: c.token}.Authenticator(useToken)
}

// options returns the library options for this configuration.
func (c *config) options(useToken bool) ([]blobstore.Option, error) {
	opts := []blobstore.Option{
		blobstore.WithInsecure(c.insecure),
		blobstore.WithRetries(c.retries),
		blobstore.WithUserAgent("dxf-go/" + buildVersion()),
	}
	auth, err := c.authenticator(useToken)
	if err != nil {
		return nil, err
	}
	if auth != nil {
		opts = append(opts, blobstore.WithAuth(auth))
	}
	if c.authHost != "" {
		opts = append(opts, blobstore.WithAuthHost(c.authHost))
	}
	switch {
	case c.skipTLSVerify:
		opts = append(opts, blobstore.WithSkipTLSVerify(true))
	case c.caBundle != "":
		opts = append(opts, blobstore.WithCABundle(c.caBundle))
	}
	if c.digestCache != "" {
		opts = append(opts, blobstore.WithDigestCache(c.digestCache))
	}
	if c.debug {
		opts = append(opts, blobstore.WithDebugLog(c.debugOut))
	}
	if c.timeout > 0 {
		opts = append(opts, blobstore.WithTimeout(c.timeout))
	}
	if c.maxRetryWait > 0 {
		opts = append(opts, blobstore.WithMaxRetryAfter(c.maxRetryWait))
	}
	if c.debugOut != nil {
		out := c.debugOut
		opts = append(opts, blobstore.WithRetryWaitNotify(func(w blobstore.RetryWait) {
			fmt.Fprintln(out, textfmt.RetryWait(w.Status, w.Asked, w.Wait))
		}))
	}
	return opts, nil
}

// hostInRepo accepts a repository written with its registry, as docker,
// crane and oras take it ("localhost:5000/fred/data"): with DXF_HOST unset
// the host becomes the registry; with DXF_HOST set to that same host it is
// dropped. Otherwise the argument is left as it is (a first component
// with a dot is a valid repository name on DXF_HOST, as in the Python
// tool), except that one with a port, which cannot be a repository, is
// refused with an explanation.
func hostInRepo(fs *pflag.FlagSet, env environment, cmd *command, repo string) (string, error) {
	first, rest := blobstore.SplitHost(repo)
	if cmd.noRepo || first == "" {
		return repo, nil
	}
	host := env["DXF_HOST"]
	if fs.Changed("host") {
		host = fs.Lookup("host").Value.String()
	}
	switch bare := stripScheme(host); {
	case host == "":
		_ = fs.Set("host", first)
		return rest, nil
	case bare == first:
		return rest, nil
	case strings.Contains(first, ":"):
		return "", usagef(cmd, "repository %q names the registry %s, but DXF_HOST is %s: give the repository alone (%s), with DXF_HOST=%s for that registry", repo, first, bare, rest, first)
	}
	return repo, nil
}

// stripScheme is host without a leading http:// or https:// and trailing
// slashes.
func stripScheme(host string) string {
	bare, _ := envconfig.SplitScheme(host)
	return bare
}

// credentialSource names the credentials this run used, for the message
// of a 401.
func (c *config) credentialSource(env environment, useToken bool) string {
	if c.tokenSource != "" && useToken {
		return c.tokenSource
	}
	if c.credSource != "" {
		return c.credSource
	}
	cf, err := loadDockerConfig(env)
	if err == nil {
		if key := dockercfg.Key(c.host); dockercfg.Has(cf, key) {
			return fmt.Sprintf("the Docker config's for %s (%s)", c.host, dockercfg.Place(cf, key))
		}
	}
	return fmt.Sprintf("none; set DXF_USERNAME and DXF_PASSWORD, or run dxf login %s", c.host)
}
