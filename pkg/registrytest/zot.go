package registrytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ZotModule is the Go module of zot, another OCI registry: in its default
// configuration it refuses Docker schema 2 manifests.
const ZotModule = "github.com/project-zot/zot"

// ZotVersion is the pinned version of [ZotModule].
const ZotVersion = "v1.4.3"

// ZotBinary returns the path of the zot binary, building it into the cache
// on first use (see [Binary]). zot's go.mod has replace directives, so "go
// install module@version" cannot build it: the module's source is
// downloaded ("go mod download"), copied to a writable directory and built
// there as the main module, with CGO_ENABLED=0 and the
// containers_image_openpgp tag (no gpgme). It takes several minutes.
func ZotBinary(ctx context.Context) (string, error) {
	return cachedTool(ctx, "zot-"+ZotVersion, "zot", func(tmp string) error {
		return buildZot(ctx, tmp)
	})
}

func buildZot(ctx context.Context, tmp string) error {
	fmt.Fprintf(os.Stderr, "registrytest: building %s@%s (first run only; this takes several minutes)\n", ZotModule, ZotVersion)
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
	dl := exec.CommandContext(ctx, "go", "mod", "download", "-json", ZotModule+"@"+ZotVersion)
	dl.Dir, dl.Env = tmp, env
	out, err := dl.Output()
	if err != nil {
		return fmt.Errorf("registrytest: go mod download %s@%s: %w\n%s", ZotModule, ZotVersion, err, tail(string(out), 4096))
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return fmt.Errorf("registrytest: go mod download %s@%s: %w", ZotModule, ZotVersion, err)
	}
	if mod.Dir == "" {
		return fmt.Errorf("registrytest: go mod download %s@%s: no source directory (%s)", ZotModule, ZotVersion, mod.Error)
	}
	src := filepath.Join(tmp, "src")
	if err := copyTree(mod.Dir, src); err != nil {
		return fmt.Errorf("registrytest: copy zot source: %w", err)
	}
	build := exec.CommandContext(ctx, "go", "build", "-tags", "containers_image_openpgp", "-o", filepath.Join(tmp, "zot"), "./cmd/zot")
	build.Dir, build.Env = src, env
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("registrytest: go build zot: %w\n%s", err, tail(string(out), 4096))
	}
	return os.RemoveAll(src)
}

// copyTree copies the regular files and directories of src (a module in
// the read-only module cache) to dst, writable.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p) //nolint:gosec // the module cache
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600) //nolint:gosec // under the temporary directory made for the build
	})
}

// Zot is a running zot registry in its default configuration (plain HTTP
// on a loopback port, storage in a temporary directory).
type Zot struct {
	// Host is host:port to reach it at (plain HTTP).
	Host string

	dir     string
	logPath string
	mu      sync.Mutex
	proc    *process
}

// StartZot starts zot with a minimal configuration and waits until it
// answers GET /v2/. Stop it with [Zot.Stop].
func StartZot(ctx context.Context) (*Zot, error) {
	bin, err := ZotBinary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "registrytest-zot-")
	if err != nil {
		return nil, fmt.Errorf("registrytest: %w", err)
	}
	z := &Zot{dir: dir, logPath: filepath.Join(dir, "zot.log")}
	for range 5 {
		port, err := freePort()
		if err != nil {
			z.Stop()
			return nil, err
		}
		err = z.start(ctx, bin, port)
		if err == nil {
			return z, nil
		}
		if !errors.Is(err, errPortInUse) {
			z.Stop()
			return nil, fmt.Errorf("registrytest: start zot: %w\n--- zot log (tail) ---\n%s", err, tail(z.readLog(), logTail))
		}
	}
	z.Stop()
	return nil, fmt.Errorf("registrytest: start zot: no free port")
}

// StartZotT starts zot for the test t, stopping it when the test ends. It
// fails the test if zot cannot be built or started.
func StartZotT(t testing.TB) *Zot {
	t.Helper()
	z, err := StartZot(t.Context())
	if err != nil {
		t.Fatalf("registrytest: cannot start zot: %v", err)
	}
	t.Cleanup(z.Stop)
	return z
}

func (z *Zot) start(ctx context.Context, bin string, port int) error {
	cfg := map[string]any{
		"distSpecVersion": "1.0.1",
		"storage":         map[string]any{"rootDirectory": filepath.Join(z.dir, "data")},
		"http":            map[string]any{"address": "127.0.0.1", "port": strconv.Itoa(port)},
		"log":             map[string]any{"level": "debug", "output": z.logPath},
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(z.dir, "config.json")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(z.dir, "stderr.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	p, err := startProcess(cmd)
	if err != nil {
		return err
	}
	z.mu.Lock()
	z.proc = p
	z.mu.Unlock()
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/v2/", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				z.Host = host
				return nil
			}
		}
		select {
		case <-p.done:
			z.mu.Lock()
			z.proc = nil
			z.mu.Unlock()
			if strings.Contains(z.readLog(), "address already in use") {
				return errPortInUse
			}
			return fmt.Errorf("zot exited during start-up: %w", p.err)
		case <-ctx.Done():
			return fmt.Errorf("zot not answering after %v: %w", readyTimeout, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop stops zot and removes its data.
func (z *Zot) Stop() {
	z.mu.Lock()
	p := z.proc
	z.proc = nil
	z.mu.Unlock()
	if p != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = os.RemoveAll(z.dir)
}

// Log returns zot's log so far (its log file and standard error).
func (z *Zot) Log() string { return z.readLog() }

func (z *Zot) readLog() string {
	a, _ := os.ReadFile(z.logPath)
	b, _ := os.ReadFile(filepath.Join(z.dir, "stderr.log"))
	return string(a) + string(b)
}
