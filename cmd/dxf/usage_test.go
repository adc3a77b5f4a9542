package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// TestUsageErrors checks the argument errors of the Python tool's
// test_bad_args and the others argparse gave: message, usage, exit 2, and
// nothing on stdout. No registry is needed: arguments are checked first.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	f, _ := d.file("blob1", []byte("x"))
	a := func(n int) []string { return strings.Fields(strings.Repeat("a ", n)) }
	cases := []struct {
		args []string
		want string
	}{
		{append([]string{"push-blob", "r"}, a(0)...), "too few arguments"},
		{append([]string{"push-blob", "r"}, a(3)...), "too many arguments"},
		{[]string{"push-blob", "r", f, "fooey"}, "invalid alias"},
		{[]string{"push-blob", "r", f, "@"}, "invalid alias"},
		{[]string{"push-blob", "r", "-", "-"}, "only once"},
		{append([]string{"mount-blob", "r"}, a(1)...), "too few arguments"},
		{append([]string{"mount-blob", "r"}, a(4)...), "too many arguments"},
		{[]string{"mount-blob", "some/other", "r", "sha256:x", "blob2-mounted"}, "invalid alias"},
		{append([]string{"set-alias", "r"}, a(1)...), "too few arguments"},
		{append([]string{"list-aliases", "r"}, a(1)...), "too many arguments"},
		{[]string{"list-repos", "x"}, "unrecognized arguments: x"},
		{[]string{"get-alias"}, "the following arguments are required: repo"},
		{[]string{"frobnicate", "r"}, "invalid choice: 'frobnicate'"},
		{[]string{}, "no command"},
		{[]string{"get-alias", "--no-such-flag", "r", "x"}, "unknown flag: --no-such-flag"},
		{[]string{"get-alias", "--jobs", "0", "r", "x"}, "--jobs"},
		{[]string{"get-alias", "--jobs", "many", "r", "x"}, "--jobs"},
		{[]string{"get-alias", "--retries", "-1", "r", "x"}, "--retries"},
		{[]string{"get-alias", "--progress=maybe", "r", "x"}, "--progress"},
		{[]string{"pull-blob", "--chunk-size", "-5", "r", "x"}, "--chunk-size"},
		{[]string{"get-alias", "-o", "out", "r", "x"}, "--output applies to pull-blob only"},
		{[]string{"get-alias", "--password-stdin", "r"}, "--password-stdin"},
		{[]string{"help", "frobnicate"}, "no command 'frobnicate'"},
	}
	for _, c := range cases {
		r := d.run(c.args...)
		checkFailure(t, r, exitUsage, c.args, c.want, "dxf: error: ")
		if !strings.HasPrefix(r.stderr, "usage: dxf ") {
			t.Errorf("dxf %s: stderr does not start with a usage line:\n%s", strings.Join(c.args, " "), r.stderr)
		}
		if n := strings.Count(r.stderr, "\n"); n != 2 {
			t.Errorf("dxf %s: %d lines on stderr, want usage and error:\n%s", strings.Join(c.args, " "), n, r.stderr)
		}
	}
}

// TestConfigErrors checks failures of the configuration itself.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	// Python: KeyError 'DXF_HOST', exit 1.
	d.with("DXF_HOST", "").fails(exitFailure, []string{"list-repos"}, "DXF_HOST")
	d.with("DXF_HOST", "not a host").fails(exitFailure, []string{"list-repos"}, "not a host")
	d.fails(exitFailure, []string{"get-alias", "Not/Valid", "x"}, "Not/Valid")
	d.with("DXF_AUTHORIZATION", "Digest s3cr3t").fails(exitFailure, []string{"list-repos"}, "DXF_AUTHORIZATION")
	if r := d.with("DXF_AUTHORIZATION", "Digest s3cr3t").run("list-repos"); strings.Contains(r.stderr, "s3cr3t") {
		t.Errorf("the Authorization value leaked: %q", r.stderr)
	}
	d.with("DXF_TLSVERIFY", "/no/such/ca.pem").fails(exitFailure, []string{"list-repos"}, "/no/such/ca.pem")
}

// TestHelpAndVersion checks dxf help, --help, dxf help environment and
// dxf version.
func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared).with("DXF_HOST", "")
	general := d.ok("help")
	for _, c := range allCommands() {
		if !strings.Contains(general, "  "+c.name+" ") {
			t.Errorf("dxf help does not list %s", c.name)
		}
	}
	if !strings.Contains(general, "dxf help environment") || strings.Contains(general, "DXF_CHUNK_SIZE") {
		t.Errorf("dxf help should point at dxf help environment instead of listing variables:\n%s", general)
	}
	env := d.ok("help", "environment")
	for _, v := range []string{"DXF_HOST", "DXF_INSECURE", "DXF_USERNAME", "DXF_PASSWORD", "DXF_AUTHORIZATION",
		"DXF_TOKEN", "DXF_AUTH_HOST", "DXF_PROGRESS", "DXF_BLOB_INFO", "DXF_CHUNK_SIZE", "DXF_SKIPTLSVERIFY",
		"DXF_TLSVERIFY", "DXF_PLATFORM", "DXF_DIGEST_CACHE", "DXF_DEBUG", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
		"--password-stdin", "--jobs", "--retries", "--no-digest-cache", "--output", "--debug", "Exit status"} {
		if !strings.Contains(env, v) {
			t.Errorf("dxf help environment does not mention %s", v)
		}
	}
	if got := d.ok("--help"); got != general {
		t.Errorf("dxf --help differs from dxf help")
	}
	for _, c := range allCommands() {
		h := d.ok("help", c.name)
		if !strings.HasPrefix(h, "usage: dxf "+c.name+" ") && !strings.HasPrefix(h, "usage: dxf "+c.name+"\n") {
			t.Errorf("dxf help %s starts %q", c.name, h[:min(len(h), 40)])
		}
		if !strings.Contains(h, "Example") {
			t.Errorf("dxf help %s has no example", c.name)
		}
		if !strings.HasSuffix(h, "\n"+environmentPointer) {
			t.Errorf("dxf help %s does not end pointing at dxf help environment:\n%s", c.name, h)
		}
		// The variables and the flags of other commands are not repeated.
		if strings.Contains(h, "DXF_SKIPTLSVERIFY") || strings.Contains(h, "--retries") || strings.Count(h, "\n") > 70 {
			t.Errorf("dxf help %s repeats the environment:\n%s", c.name, h)
		}
		if c.name == "help" || c.name == "version" {
			continue
		}
		if got := d.ok(c.name, "--help"); got != h {
			t.Errorf("dxf %s --help differs from dxf help %s", c.name, c.name)
		}
		if got := d.ok(c.name, "-h", "some/repo", "x"); got != h {
			t.Errorf("dxf %s -h with arguments differs from --help", c.name)
		}
	}
	// Each command's own flags, and only those.
	for cmd, flags := range map[string][2][]string{
		"push-blob":  {{"--jobs", "--progress", "--no-digest-cache"}, {"--output", "--blob-info", "--chunk-size"}},
		"pull-blob":  {{"--output", "--platform", "--blob-info", "--chunk-size", "--progress"}, {"--no-digest-cache"}},
		"get-alias":  {{"--platform"}, {"--output", "--progress"}},
		"login":      {{"--username", "--password-stdin"}, {"--output", "--jobs"}},
		"list-repos": {nil, {"--output", "--jobs", "--platform", "Flags:"}},
	} {
		h := d.ok("help", cmd)
		for _, f := range flags[0] {
			if !strings.Contains(h, f) {
				t.Errorf("dxf help %s lacks %s:\n%s", cmd, f, h)
			}
		}
		for _, f := range flags[1] {
			if strings.Contains(h, f) {
				t.Errorf("dxf help %s shows %s, which does not apply:\n%s", cmd, f, h)
			}
		}
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		v := d.ok(args...)
		if !strings.HasPrefix(v, "dxf "+testVersion+"\n") || !strings.Contains(v, "go: go1.") {
			t.Errorf("dxf %s printed %q", args[0], v)
		}
	}
}

// TestSuggestions checks the did-you-mean hints for commands and flags.
func TestSuggestions(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"push", "r", "f"}, "invalid choice: 'push' (did you mean push-blob?)"},
		{[]string{"pul-blob", "r"}, "(did you mean pull-blob?)"},
		{[]string{"get-aliases", "r"}, "(did you mean get-alias?)"},
		{[]string{"lsit-repos"}, "(did you mean list-repos?)"},
		{[]string{"logn"}, "(did you mean login?)"},
		{[]string{"frobnicate"}, "(dxf help lists the commands)"},
		{[]string{"get-alias", "--jbos", "3", "r"}, "unknown flag: --jbos (did you mean --jobs?)"},
		{[]string{"pull-blob", "--ouptut", "x", "r"}, "(did you mean --output?)"},
		{[]string{"-v", "list-repos"}, "--debug traces the HTTP exchange"},
		{[]string{"help", "pusg-blob"}, "no command 'pusg-blob' (did you mean push-blob?)"},
	} {
		r := d.run(c.args...)
		checkFailure(t, r, exitUsage, c.args, c.want)
	}
	for _, c := range []struct{ in, want string }{
		{"push", "push-blob"}, {"pull", "pull-blob"}, {"del", "any of del-alias, del-blob"}, {"setalias", "set-alias"},
		{"get-digets", "get-digest"}, {"x", ""}, {"list-repo", "list-repos"},
	} {
		if got := textfmt.Closest(c.in, commandNames()); got != c.want && c.in != "del" {
			t.Errorf("textfmt.Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestExitCode checks the mapping of errors to exit statuses.
func TestExitCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		code int
	}{
		{nil, 0},
		{usagef(nil, "x"), 2},
		{fmt.Errorf("op: %w", blobstore.ErrBlobNotFound), 2},
		{fmt.Errorf("op: %w", blobstore.ErrAliasNotFound), 2},
		{fmt.Errorf("op: %w", blobstore.ErrUnauthorized), 13},
		{fmt.Errorf("%w: %w", blobstore.ErrMountFailed, blobstore.ErrNotFound), 1},
		{&blobstore.DigestMismatchError{}, 1},
		{&blobstore.PlatformNotFoundError{Platform: "x"}, 1},
		{fmt.Errorf("x: %w", context.Canceled), 130},
		{errors.New("boom"), 1},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.code {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.code)
		}
	}
	var b strings.Builder
	report(&b, errors.New("get x: token s3cr3t refused\nsecond line"), []string{"s3cr3t"})
	if got := b.String(); got != "dxf: get x: token [redacted] refused second line\n" {
		t.Errorf("report wrote %q", got)
	}
}

// TestFlagsOverEnvironment checks that flags win over variables and may
// come anywhere on the command line.
func TestFlagsOverEnvironment(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("flags")
	f, h := d.file("blob", []byte("flags"))
	bad := d.with("DXF_HOST", "localhost:1", "DXF_INSECURE", "0")
	if got := bad.ok("push-blob", repo, f, "--host", shared.Host, "--insecure", "--retries", "0"); got != lines(h) {
		t.Fatalf("push-blob with --host/--insecure after the arguments printed %q", got)
	}
	if got := bad.ok("--host="+shared.Host, "--insecure", "blob-size", repo, h); got != lines("5") {
		t.Fatalf("blob-size with flags first printed %q", got)
	}
	// --insecure=false beats DXF_INSECURE=1: HTTPS to a plain registry fails.
	d.fails(exitFailure, []string{"blob-size", "--insecure=false", "--retries=0", repo, h}, "")
	// "-" stays a positional argument among flags; "--" ends the flags.
	if got := d.okIn("stdin data", "push-blob", "--jobs", "1", repo, "-"); got != lines(digestOf([]byte("stdin data"))) {
		t.Fatalf("push-blob - printed %q", got)
	}
	if got := d.ok("blob-size", "--", repo, h); got != lines("5") {
		t.Fatalf("blob-size -- printed %q", got)
	}
}
