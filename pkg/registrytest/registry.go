package registrytest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds how long Start waits for the registry to answer.
const readyTimeout = 20 * time.Second

// stopTimeout is how long Stop waits after SIGTERM before killing.
const stopTimeout = 5 * time.Second

// logTail is how much of the registry log goes into error messages.
const logTail = 4096

// instanceHeader is a response header configured with a random value per
// registry, so that start-up cannot mistake another server that took the
// port for ours.
const instanceHeader = "X-Registrytest-Instance"

// errPortInUse reports that the registry could not bind its port.
var errPortInUse = errors.New("address already in use")

// Registry is a running registry process. Its fields are read-only.
type Registry struct {
	// Host is "localhost:<port>" (or [Config.Host]:<port>), the registry's
	// address for clients.
	Host string
	// URL is "http://" or "https://" followed by Host.
	URL string
	// CAFile is the PEM file of the CA that signed the registry's and the
	// token server's certificates; "" when nothing is served over TLS.
	CAFile string
	// Username and Password are the credentials of the default user
	// (DefaultUsername unless Config.Users names other users, then the
	// alphabetically first); both "" without authentication.
	Username string
	// Password is the password of Username.
	Password string
	// RootDir is the storage root directory of the registry.
	RootDir string
	// Config is the path of the registry's YAML configuration file.
	Config string
	// Token is the token issuer in AuthToken mode, else nil.
	Token *TokenServer

	cfg      Config
	instance string // value of instanceHeader in this registry's responses
	bin      string
	dir      string
	logPath  string
	pki      *pki

	mu      sync.Mutex
	proc    *process
	stopped bool
	logs    string // log contents, saved by Stop before removing dir
}

// process is one run of the registry binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // from Wait, valid after done
}

// startProcess starts cmd and reaps it in the background: done is closed
// once it has exited.
func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Start starts a registry configured by cfg and waits until it answers
// GET /v2/. Stop it with [Registry.Stop]. The context bounds the start-up
// (including a first-time install of the binary), not the registry's life.
//
// On failure the error includes the tail of the registry's log.
func Start(ctx context.Context, cfg Config) (*Registry, error) {
	bin := cfg.Binary
	if bin == "" {
		var err error
		if bin, err = Binary(ctx); err != nil {
			return nil, err
		}
	}
	cfg = cfg.withDefaults()
	dir, err := os.MkdirTemp("", "registrytest-")
	if err != nil {
		return nil, fmt.Errorf("registrytest: %w", err)
	}
	r := &Registry{
		RootDir: filepath.Join(dir, "storage"),
		Config:  filepath.Join(dir, "config.yml"),
		cfg:     cfg,
		bin:     bin,
		dir:     dir,
		logPath: filepath.Join(dir, "registry.log"),
	}
	started := false
	defer func() {
		if !started {
			r.Stop()
		}
	}()
	if cfg.Auth != AuthNone {
		r.Username, r.Password = cfg.defaultUser()
	}
	if err := os.MkdirAll(r.RootDir, 0o750); err != nil {
		return nil, fmt.Errorf("registrytest: %w", err)
	}

	var secret [16]byte
	_, _ = rand.Read(secret[:])
	var instance [8]byte
	_, _ = rand.Read(instance[:])
	r.instance = hex.EncodeToString(instance[:])
	y := registryYAML{rootDir: r.RootDir, secret: cmp.Or(cfg.Secret, hex.EncodeToString(secret[:])), instance: r.instance,
		catalogMax: cfg.CatalogMaxEntries, s3: cfg.S3}
	if cfg.TLS || cfg.Auth == AuthToken {
		if r.pki, err = newPKI(dir); err != nil {
			return nil, fmt.Errorf("registrytest: %w", err)
		}
		r.CAFile = r.pki.caFile
	}
	if cfg.TLS {
		y.tls = r.pki
	}
	switch cfg.Auth {
	case AuthNone:
	case AuthHtpasswd:
		y.htpasswd = filepath.Join(dir, "htpasswd")
		if err := writeHtpasswd(y.htpasswd, cfg.Users); err != nil {
			return nil, err
		}
	case AuthToken:
		l4, l6, err := listenLoopback()
		if err != nil {
			return nil, err
		}
		r.Token = startTokenServer(r.pki, cfg, l4, l6)
		y.tokenURL = r.Token.Realm
		y.tokenRoot = r.pki.caFile
	default:
		return nil, fmt.Errorf("registrytest: unknown auth mode %v", cfg.Auth)
	}

	scheme := "http"
	if cfg.TLS {
		scheme = "https"
	}
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		r.Host = net.JoinHostPort(cmp.Or(cfg.Host, "localhost"), strconv.Itoa(port))
		r.URL = scheme + "://" + r.Host
		y.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := writeRegistryConfig(r.Config, y); err != nil {
			return nil, fmt.Errorf("registrytest: write config: %w", err)
		}
		err = r.startProcess(ctx)
		if err == nil {
			started = true
			return r, nil
		}
		if !errors.Is(err, errPortInUse) {
			return nil, fmt.Errorf("registrytest: start registry (%s): %w\n--- registry log (tail) ---\n%s",
				r.describe(), err, tail(r.readLog(), logTail))
		}
	}
	return nil, fmt.Errorf("registrytest: start registry (%s): no free port after 5 attempts\n--- registry log (tail) ---\n%s",
		r.describe(), tail(r.readLog(), logTail))
}

// StartT starts a registry for the test t, stopping it when the test ends.
// It fails the test (never skips it) if the registry cannot start, and
// logs the tail of the registry log if the test fails.
func StartT(t testing.TB, cfg Config) *Registry {
	t.Helper()
	r, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("registrytest: cannot start the registry; integration tests need it: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("registrytest: %s registry log (tail):\n%s", r.describe(), tail(r.Logs(), 4*logTail))
		}
		r.Stop()
	})
	return r
}

// describe summarizes the configuration for messages.
func (r *Registry) describe() string {
	s := "http"
	if r.cfg.TLS {
		s = "https"
	}
	return s + ", auth " + r.cfg.Auth.String()
}

// CertPool returns a new pool holding the registry's CA, for
// tls.Config.RootCAs; nil when nothing is served over TLS.
func (r *Registry) CertPool() *x509.CertPool {
	if r.pki == nil {
		return nil
	}
	return r.pki.pool.Clone()
}

// TLSConfig returns a client TLS configuration trusting the registry's CA
// (nil when nothing is served over TLS).
func (r *Registry) TLSConfig() *tls.Config {
	if r.pki == nil {
		return nil
	}
	return &tls.Config{RootCAs: r.CertPool(), MinVersion: tls.VersionTLS12}
}

// Client returns a new HTTP client that trusts the registry's CA and
// ignores proxy settings. It sends no credentials by itself.
func (r *Registry) Client() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			TLSClientConfig:     r.TLSConfig(),
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		},
		Timeout: time.Minute,
	}
}

// Stop stops the registry and the token server and removes the temporary
// directory, storage included. It is safe to call more than once; the logs
// remain available from [Registry.Logs].
func (r *Registry) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.stopped = true
	r.stopProcess()
	if r.Token != nil {
		r.Token.Close()
	}
	r.logs = r.readLog()
	_ = os.RemoveAll(r.dir)
}

// Logs returns everything the registry wrote to stdout and stderr (its log
// and access log, and the output of garbage collections).
func (r *Registry) Logs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return r.logs
	}
	return r.readLog()
}

// GarbageCollect runs "registry garbage-collect" on the storage. The
// registry is stopped for the duration and restarted on the same port
// afterwards, so requests made meanwhile fail to connect.
func (r *Registry) GarbageCollect(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return errors.New("registrytest: garbage collect: registry stopped")
	}
	r.stopProcess()

	var out bytes.Buffer
	gcErr := func() error {
		logf, err := os.OpenFile(r.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		defer logf.Close()
		fmt.Fprintf(logf, "--- registrytest: %s garbage-collect ---\n", filepath.Base(r.bin))
		cmd := exec.CommandContext(ctx, r.bin, "garbage-collect", r.Config)
		cmd.Env = childEnv()
		w := io.MultiWriter(&out, logf)
		cmd.Stdout, cmd.Stderr = w, w
		cmd.SysProcAttr = sysProcAttr()
		return cmd.Run()
	}()
	if gcErr != nil {
		gcErr = fmt.Errorf("registrytest: garbage-collect: %w\n%s", gcErr, tail(out.String(), logTail))
	}

	// Restart even if the context is done: the registry must not stay down.
	return errors.Join(gcErr, r.restartProcess(ctx, "restart after garbage-collect"))
}

// Restart stops the registry process, waits for down, and starts it again
// on the same port with the same storage and configuration — as a registry
// restarted by its operator mid-transfer. Requests in flight fail; upload
// sessions survive, since their state is in storage and the upload URLs are
// signed with the configuration's fixed secret. After [Registry.Kill], it
// brings the killed registry back (down then counts from the call).
func (r *Registry) Restart(ctx context.Context, down time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return errors.New("registrytest: restart: registry stopped")
	}
	r.stopProcess()
	time.Sleep(down)
	return r.restartProcess(ctx, "restart")
}

// Kill kills the registry process at once (SIGKILL), as a crash or a
// scale-in would: requests in flight fail, nothing is flushed. The registry
// stays down until [Registry.Restart]; [Registry.Stop] still cleans up.
func (r *Registry) Kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.proc; p != nil {
		r.proc = nil
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// restartProcess starts the process again after stopProcess; r.mu is held.
func (r *Registry) restartProcess(ctx context.Context, what string) error {
	restartCtx := context.WithoutCancel(ctx)
	var startErr error
	for range 20 {
		if startErr = r.startProcess(restartCtx); !errors.Is(startErr, errPortInUse) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if startErr != nil {
		return fmt.Errorf("registrytest: %s: %w\n--- registry log (tail) ---\n%s", what, startErr, tail(r.readLog(), logTail))
	}
	return nil
}

// startProcess starts the registry binary and waits until it answers.
func (r *Registry) startProcess(ctx context.Context) error {
	logf, err := os.OpenFile(r.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(r.bin, "serve", r.Config)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	logStart := int64(0)
	if fi, err := logf.Stat(); err == nil {
		logStart = fi.Size()
	}
	p, err := startProcess(cmd)
	if err != nil {
		return err
	}
	r.proc = p

	if err := r.waitReady(ctx, p); err != nil {
		r.stopProcess()
		if errors.Is(err, errPortInUse) {
			return err
		}
		if log := r.readLog(); int64(len(log)) >= logStart && strings.Contains(log[logStart:], "address already in use") {
			return fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return err
	}
	return nil
}

// waitReady polls GET /v2/ until it answers 200 or 401.
func (r *Registry) waitReady(ctx context.Context, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := r.Client()
	defer client.CloseIdleConnections()
	client.Timeout = 2 * time.Second
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.Header.Get(instanceHeader) != r.instance {
				return fmt.Errorf("%w: another server answers on %s", errPortInUse, r.Host)
			}
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			err = fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		last = err
		select {
		case <-p.done:
			if p.err == nil {
				return errors.New("registry exited during start-up with status 0")
			}
			return fmt.Errorf("registry exited during start-up: %w", p.err)
		case <-ctx.Done():
			return fmt.Errorf("registry not ready after %v: %w (last attempt: %w)", readyTimeout, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stopProcess terminates the current registry process, if any, and waits
// for it to exit. The caller holds r.mu (or owns r exclusively).
func (r *Registry) stopProcess() {
	p := r.proc
	if p == nil {
		return
	}
	r.proc = nil
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (r *Registry) readLog() string {
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		return ""
	}
	return string(b)
}

// childEnv is the environment of registry processes: REGISTRY_* variables
// would override the configuration file, and OpenTelemetry would otherwise
// try to export traces to localhost:4318.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "REGISTRY_") || strings.HasPrefix(kv, "OTEL_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"OTEL_TRACES_EXPORTER=none",
		"OTEL_METRICS_EXPORTER=none",
		"OTEL_LOGS_EXPORTER=none",
	)
}

// tail returns the end of s, at most n bytes, starting at a line boundary
// when possible.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return "[…]\n" + s
}
