package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxf-go/dxf/internal/testutil"
	"github.com/dxf-go/dxf/pkg/registrytest"
	"github.com/dxf-go/dxf/pkg/registrytest/matrix"
)

// testVersion is stamped into the test binary, to check "dxf version".
const testVersion = "v0.0.0-clitest"

var (
	// dxfBin is the dxf binary built once for all tests.
	dxfBin string
	// coverDir, if set (by make cover), is where the dxf binary, built
	// with -cover, writes its coverage data.
	coverDir = os.Getenv("DXF_TEST_COVERDIR")
	// shared is a plain-HTTP registry shared by the tests that need no
	// special set-up; each uses repositories of its own.
	shared *registrytest.Registry
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "dxf-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	dxfBin = filepath.Join(dir, "dxf")
	args := []string{"build", "-ldflags", "-X main.version=" + testVersion, "-o", dxfBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if coverDir != "" {
		// make cover: the binary records what it runs in coverDir, so the
		// tests that run it as a subprocess count too.
		args = append(args, "-cover", "-coverpkg=github.com/dxf-go/dxf/...")
	}
	build := exec.Command("go", append(args, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building dxf: %v\n%s", err, out)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	shared, err = registrytest.Shared(ctx)
	cancel()
	if err != nil {
		// No skipping: these tests exist to run against the real registry.
		fmt.Fprintf(os.Stderr, "cannot start the registry the CLI tests need: %v\n", err)
		return 1
	}
	defer registrytest.StopShared()
	defer matrix.StopAll()
	fmt.Printf("integration: dxf CLI tests against the Distribution registry %s at %s\n", registrytest.RegistryVersion, shared.Host)
	return m.Run()
}

// result is what one run of dxf did.
type result struct {
	stdout string
	stderr string
	code   int
}

// dxf runs the dxf binary against one registry, with an environment built
// from scratch: nothing of the developer's own (credentials, Docker config,
// CA bundles, DXF_* variables) leaks in.
type dxf struct {
	t   testing.TB
	env map[string]string
	dir string // working directory
}

var repoSeq atomic.Int64

// newDXF returns a runner for reg: plain HTTP (DXF_INSECURE=1) unless the
// registry serves TLS, in which case its CA is not trusted until the test
// says so.
func newDXF(t testing.TB, reg *registrytest.Registry) *dxf {
	t.Helper()
	return newDXFAt(t, reg.Host, strings.HasPrefix(reg.URL, "https:"))
}

// newDXFAt returns a runner for the registry at host, plain HTTP unless tls.
func newDXFAt(t testing.TB, host string, tls bool) *dxf {
	t.Helper()
	home := t.TempDir()
	d := &dxf{t: t, dir: t.TempDir(), env: map[string]string{
		"PATH":           os.Getenv("PATH"),
		"HOME":           home,
		"DOCKER_CONFIG":  filepath.Join(home, ".docker"),
		"XDG_CACHE_HOME": filepath.Join(home, ".cache"),
		"DXF_HOST":       host,
	}}
	if !tls {
		d.env["DXF_INSECURE"] = "1"
	}
	if raceEnabled {
		// A race fails the run (exit status 66); and the race runtime's
		// default one-second pause at exit would make the tests crawl.
		d.env["GORACE"] = "halt_on_error=1 atexit_sleep_ms=0"
	}
	return d
}

// with returns a copy of d with more variables set ("" unsets).
func (d *dxf) with(kv ...string) *dxf {
	c := &dxf{t: d.t, dir: d.dir, env: map[string]string{}}
	for k, v := range d.env {
		c.env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(c.env, kv[i])
		} else {
			c.env[kv[i]] = kv[i+1]
		}
	}
	return c
}

func (d *dxf) environ() []string {
	var env []string
	if coverDir != "" {
		env = append(env, "GOCOVERDIR="+coverDir)
	}
	for k, v := range d.env {
		env = append(env, k+"="+v)
	}
	return env
}

// runIn runs dxf with stdin and args.
func (d *dxf) runIn(stdin string, args ...string) result {
	d.t.Helper()
	var out bytes.Buffer
	res := d.runTo(&out, stdin, args...)
	res.stdout = out.String()
	return res
}

// runTo runs dxf with standard output going to stdout (an *os.File is
// passed to dxf as it is, as a shell's redirection would).
func (d *dxf) runTo(stdout io.Writer, stdin string, args ...string) result {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dxfBin, args...)
	cmd.Env = d.environ()
	cmd.Dir = d.dir
	cmd.Stdin = strings.NewReader(stdin)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &errb
	err := cmd.Run()
	res := result{stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		d.t.Fatalf("dxf %s: %v", strings.Join(args, " "), err)
	}
	return res
}

func (d *dxf) run(args ...string) result {
	d.t.Helper()
	return d.runIn("", args...)
}

// ok runs dxf, requires success with nothing on stderr, and returns stdout.
func (d *dxf) ok(args ...string) string {
	d.t.Helper()
	return d.okIn("", args...)
}

func (d *dxf) okIn(stdin string, args ...string) string {
	d.t.Helper()
	r := d.runIn(stdin, args...)
	if r.code != 0 || r.stderr != "" {
		d.t.Fatalf("dxf %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// fails runs dxf and requires exit status code, nothing on stdout, and one
// line on stderr containing every one of wants.
func (d *dxf) fails(code int, args []string, wants ...string) result {
	d.t.Helper()
	r := d.run(args...)
	checkFailure(d.t, r, code, args, wants...)
	return r
}

func checkFailure(t testing.TB, r result, code int, args []string, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("dxf %s: exit %d, want %d; stderr:\n%s", strings.Join(args, " "), r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("dxf %s: stdout %q, want nothing", strings.Join(args, " "), r.stdout)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("dxf %s: stderr %q lacks %q", strings.Join(args, " "), r.stderr, w)
		}
	}
	if code != exitUsage || !strings.Contains(r.stderr, "usage:") {
		if n := strings.Count(r.stderr, "\n"); n != 1 {
			t.Errorf("dxf %s: %d lines on stderr, want 1:\n%s", strings.Join(args, " "), n, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, "dxf: ") {
			t.Errorf("dxf %s: stderr %q does not start with \"dxf: \"", strings.Join(args, " "), r.stderr)
		}
	}
}

// file writes data to a new file in the runner's working directory and
// returns its name (relative, as a user would type it) and digest.
func (d *dxf) file(name string, data []byte) (string, string) {
	d.t.Helper()
	if err := os.WriteFile(filepath.Join(d.dir, name), data, 0o644); err != nil {
		d.t.Fatal(err)
	}
	return name, digestOf(data)
}

// uniqueRepo returns a repository name no other test uses.
func uniqueRepo(prefix string) string {
	return fmt.Sprintf("%s/r%d", prefix, repoSeq.Add(1))
}

func digestOf(b []byte) string { return testutil.Digest(b) }

func randomBytes(t testing.TB, n int) []byte { return testutil.RandomBytes(t, n) }

func lines(s ...string) string {
	if len(s) == 0 {
		return ""
	}
	return strings.Join(s, "\n") + "\n"
}
