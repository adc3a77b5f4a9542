package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dxf-go/dxf/internal/testutil"
	"github.com/google/go-containerregistry/pkg/registry"
)

// Hostile scenarios that used to make dxf wait forever: a registry that
// never answers, a credential helper that hangs; and signals during them.
// See docs/reliability.md#timeouts.

// silentHost accepts connections, reads the request line, never answers.
func silentHost(t *testing.T) string {
	addr, _ := silentHostSeen(t)
	return addr
}

// silentHostSeen is silentHost that also says (by closing seen) when the
// first request line has arrived: the client is then surely running.
func silentHostSeen(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	seen := make(chan struct{})
	var once sync.Once
	return testutil.Serve(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		if _, err := r.ReadString('\n'); err == nil {
			once.Do(func() { close(seen) })
		}
		_, _ = io.Copy(io.Discard, r) // until the test ends and closes c
	}), seen
}

// hangingHelper installs a credential helper for host that records its
// process id in the returned file and then sleeps for five minutes.
func hangingHelper(t *testing.T, d *dxf, host string) (*dxf, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	pidFile := filepath.Join(t.TempDir(), "helper.pid")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho $$ > " + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + "\nexec sleep 300\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-dxfhang"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(d.env["DOCKER_CONFIG"], 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := `{"credHelpers": {"` + host + `": "dxfhang"}}`
	if err := os.WriteFile(filepath.Join(d.env["DOCKER_CONFIG"], "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return d.with("PATH", bin+string(os.PathListSeparator)+d.env["PATH"]), pidFile
}

// helperGone waits for the process in pidFile to be gone.
func helperGone(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the helper never ran: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("the credential helper (pid %d) is still running", pid)
}

// start runs dxf in the background.
func (d *dxf) start(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(dxfBin, args...)
	cmd.Env = d.environ()
	cmd.Dir = d.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &stderr
}

// exitWithin waits for cmd to exit within d and returns its exit status.
func exitWithin(t *testing.T, cmd *exec.Cmd, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode()
	case <-time.After(d):
		_ = cmd.Process.Kill()
		t.Fatalf("dxf still running after %s", d)
	}
	return -1
}

// TestHangingCredentialHelper: a helper that never answers is killed after
// --timeout, with a message saying so (it used to hang dxf forever).
func TestHangingCredentialHelper(t *testing.T) {
	t.Parallel()
	d, pidFile := hangingHelper(t, newDXF(t, shared), shared.Host)
	start := time.Now()
	d.fails(exitFailure, []string{"--timeout", "1", "list-aliases", uniqueRepo("hang")}, "docker-credential-dxfhang did not answer within 1s (killed)")
	if time.Since(start) > 30*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	helperGone(t, pidFile)
}

// TestSignalDuringHangingHelper: SIGINT while a helper hangs ends dxf at
// once (exit 130) and kills the helper (dxf used to ignore the signal).
func TestSignalDuringHangingHelper(t *testing.T) {
	t.Parallel()
	d, pidFile := hangingHelper(t, newDXF(t, shared), shared.Host)
	cmd, stderr := d.start(t, "list-aliases", uniqueRepo("hang"))
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pidFile); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper never started")
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := exitWithin(t, cmd, 20*time.Second); code != exitInterrupted {
		t.Errorf("exit %d, want %d; stderr %q", code, exitInterrupted, stderr)
	}
	if stderr.String() != "dxf: interrupted\n" {
		t.Errorf("stderr %q", stderr)
	}
	helperGone(t, pidFile)
}

// TestSignalDuringStall: SIGTERM while the registry never answers ends dxf
// at once.
func TestSignalDuringStall(t *testing.T) {
	t.Parallel()
	host, seen := silentHostSeen(t)
	d := newDXF(t, shared).with("DXF_HOST", host)
	cmd, stderr := d.start(t, "list-aliases", uniqueRepo("stall"))
	// Once dxf waits for an answer (not before: a loaded machine may take
	// a while to start it, and a signal before its handler is set kills it).
	select {
	case <-seen:
	case <-time.After(time.Minute):
		t.Fatal("dxf never sent its request")
	}
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitWithin(t, cmd, 20*time.Second); code != exitInterrupted {
		t.Errorf("exit %d, want %d; stderr %q", code, exitInterrupted, stderr)
	}
}

// TestTimeoutOption: --timeout and DXF_TIMEOUT bound the wait for a registry
// that never answers; bad values are refused.
func TestTimeoutOption(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared).with("DXF_HOST", silentHost(t))
	repo := uniqueRepo("timeout")
	for _, e := range []struct {
		d    *dxf
		args []string
	}{
		{d, []string{"--timeout", "1", "--retries", "0", "list-aliases", repo}},
		{d.with("DXF_TIMEOUT", "1s"), []string{"--retries", "0", "list-aliases", repo}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		e.d.fails(exitFailure, e.args, "timeout awaiting response headers")
		if time.Since(start) > 25*time.Second || ctx.Err() != nil {
			t.Errorf("took %s", time.Since(start))
		}
		cancel()
	}
	d.fails(exitUsage, []string{"--timeout", "soon", "list-aliases", repo}, "--timeout")
	d.fails(exitUsage, []string{"--timeout", "0", "list-aliases", repo}, "--timeout")
	d.with("DXF_TIMEOUT", "-3").fails(exitFailure, []string{"list-aliases", repo}, "DXF_TIMEOUT")
}

// TestRetryAfterNotice: a 429 asking for 100000 s is waited for at most
// --max-retry-wait, and said so on stderr (it used to be a silent minute
// per attempt).
func TestRetryAfterNotice(t *testing.T) {
	t.Parallel()
	var throttle atomic.Bool
	mem := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && throttle.CompareAndSwap(true, false) {
			w.Header().Set("Retry-After", "100000")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		mem.ServeHTTP(w, r)
	}))
	defer srv.Close()
	d := newDXF(t, shared).with("DXF_HOST", strings.TrimPrefix(srv.URL, "http://"), "DXF_INSECURE", "1")
	repo := uniqueRepo("throttle")
	f, h := d.file("blob", []byte("throttled"))
	d.ok("push-blob", repo, f)
	for _, e := range []*dxf{d.with("DXF_MAX_RETRY_WAIT", "1"), d} {
		throttle.Store(true)
		args := []string{"blob-size", repo, h}
		if e == d {
			args = append([]string{"--max-retry-wait", "1s"}, args...)
		}
		r := e.run(args...)
		if r.code != 0 || r.stdout != "9\n" {
			t.Fatalf("blob-size: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if want := "dxf: the registry asked to wait 27h46m40s (429 Too Many Requests); waiting 1s (--max-retry-wait), then retrying\n"; r.stderr != want {
			t.Errorf("stderr %q, want %q", r.stderr, want)
		}
	}
	d.fails(exitUsage, []string{"--max-retry-wait", "never", "blob-size", repo, h}, "--max-retry-wait")
}
