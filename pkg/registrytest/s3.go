package registrytest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// S3GatewayModule is the Go package installed to get an S3-compatible
// object store: versitygw, serving a directory of the local file system.
const S3GatewayModule = "github.com/versity/versitygw/cmd/versitygw"

// S3GatewayVersion is the pinned version of [S3GatewayModule].
const S3GatewayVersion = "v1.8.0"

// S3Bucket is the bucket the gateway serves.
const S3Bucket = "dxf-registry"

// S3Region is the region given to the registry's S3 driver.
const S3Region = "us-east-1"

// S3Gateway is a running S3-compatible object store (versitygw with its
// posix back end in a temporary directory) holding the bucket [S3Bucket],
// reached through an in-process proxy that records what clients send.
//
// Registries configured with [Config.S3] keep their data there; with
// redirects on, they answer blob GETs with 307 to presigned URLs on the
// gateway's endpoint (another port than the registry's), which clients
// follow without credentials.
type S3Gateway struct {
	// Endpoint is the URL registries and clients use:
	// https://127.0.0.1:<port> (the recording proxy, serving TLS: clients
	// refuse redirects from an HTTPS registry to plain HTTP).
	Endpoint string
	// CAFile is the PEM file of the CA of the endpoint's certificate.
	CAFile string
	// AccessKey and SecretKey are the gateway's root credentials.
	AccessKey string
	// SecretKey is the secret of AccessKey.
	SecretKey string
	// Bucket is [S3Bucket].
	Bucket string
	// Dir is the directory the gateway stores objects in.
	Dir string

	dir     string
	logPath string
	proxy   *http.Server
	mu      sync.Mutex
	proc    *process
	stopped bool
	seen    []S3Request
}

// S3Request is one request to the gateway, as the recording proxy saw it.
type S3Request struct {
	// Method and Path of the request (the query is left out).
	Method, Path string
	// Presigned is true when the query carries a signature (X-Amz-Signature):
	// a client following a registry's redirect.
	Presigned bool
	// AuthScheme is the scheme of the Authorization header ("" if none):
	// the registry signs its own requests with AWS4-HMAC-SHA256.
	AuthScheme string
	// Status is the gateway's answer.
	Status int
}

// S3GatewayBinary returns the path of the versitygw binary, installing it
// with "go install" into the cache on first use (see [Binary]).
func S3GatewayBinary(ctx context.Context) (string, error) {
	return goTool(ctx, "versitygw-"+S3GatewayVersion, S3GatewayModule+"@"+S3GatewayVersion, "versitygw")
}

// StartS3 starts an S3 gateway with an empty bucket [S3Bucket]. Stop it
// with [S3Gateway.Stop].
func StartS3(ctx context.Context) (*S3Gateway, error) {
	bin, err := S3GatewayBinary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "registrytest-s3-")
	if err != nil {
		return nil, fmt.Errorf("registrytest: %w", err)
	}
	var key [10]byte
	_, _ = rand.Read(key[:])
	var secret [20]byte
	_, _ = rand.Read(secret[:])
	g := &S3Gateway{
		AccessKey: "DXF" + strings.ToUpper(hex.EncodeToString(key[:])),
		SecretKey: hex.EncodeToString(secret[:]),
		Bucket:    S3Bucket,
		Dir:       filepath.Join(dir, "data"),
		dir:       dir,
		logPath:   filepath.Join(dir, "versitygw.log"),
	}
	started := false
	defer func() {
		if !started {
			g.Stop()
		}
	}()
	// With the posix back end, a bucket is a directory of the root.
	if err := os.MkdirAll(filepath.Join(g.Dir, g.Bucket), 0o750); err != nil {
		return nil, fmt.Errorf("registrytest: %w", err)
	}
	var backend string
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		backend = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = g.startProcess(ctx, bin, backend)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortInUse) {
			return nil, fmt.Errorf("registrytest: start versitygw: %w\n--- versitygw log (tail) ---\n%s", err, tail(g.readLog(), logTail))
		}
	}
	if g.proc == nil {
		return nil, fmt.Errorf("registrytest: start versitygw: no free port\n--- versitygw log (tail) ---\n%s", tail(g.readLog(), logTail))
	}
	p, err := newPKI(dir)
	if err != nil {
		return nil, fmt.Errorf("registrytest: %w", err)
	}
	g.CAFile = p.caFile
	if err := g.startProxy(backend, p); err != nil {
		return nil, err
	}
	started = true
	return g, nil
}

// StartS3T starts an S3 gateway for the test t, stopping it when the test
// ends. It fails the test if the gateway cannot start.
func StartS3T(t testing.TB) *S3Gateway {
	t.Helper()
	g, err := StartS3(t.Context())
	if err != nil {
		t.Fatalf("registrytest: cannot start the S3 gateway: %v", err)
	}
	t.Cleanup(g.Stop)
	return g
}

func (g *S3Gateway) startProcess(ctx context.Context, bin, addr string) error {
	logf, err := os.OpenFile(g.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--port", addr, "--region", S3Region, "posix", g.Dir)
	// Credentials go through the environment, not the command line.
	cmd.Env = append(childEnv(), "ROOT_ACCESS_KEY="+g.AccessKey, "ROOT_SECRET_KEY="+g.SecretKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	p, err := startProcess(cmd)
	if err != nil {
		return err
	}
	g.proc = p
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-p.done:
			g.proc = nil
			if strings.Contains(g.readLog(), "address already in use") {
				return errPortInUse
			}
			return fmt.Errorf("versitygw exited during start-up: %w", p.err)
		case <-ctx.Done():
			return fmt.Errorf("versitygw not listening after %v: %w", readyTimeout, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startProxy serves Endpoint, passing every request to the gateway at
// backend unchanged (Host included, which presigned signatures cover) and
// recording it.
func (g *S3Gateway) startProxy(backend string, p *pki) error {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("registrytest: %w", err)
	}
	target := &url.URL{Scheme: "http", Host: backend}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			req := resp.Request
			scheme, _, _ := strings.Cut(req.Header.Get("Authorization"), " ")
			g.mu.Lock()
			g.seen = append(g.seen, S3Request{
				Method:     req.Method,
				Path:       req.URL.Path,
				Presigned:  req.URL.Query().Get("X-Amz-Signature") != "",
				AuthScheme: scheme,
				Status:     resp.StatusCode,
			})
			g.mu.Unlock()
			return nil
		},
	}
	g.proxy = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}}
	go func() { _ = g.proxy.ServeTLS(l, "", "") }()
	g.Endpoint = "https://" + l.Addr().String()
	return nil
}

// Requests returns the requests the gateway received so far.
func (g *S3Gateway) Requests() []S3Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]S3Request(nil), g.seen...)
}

// Stop stops the gateway and removes its data.
func (g *S3Gateway) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	g.stopped = true
	if g.proxy != nil {
		_ = g.proxy.Close()
	}
	if p := g.proc; p != nil {
		g.proc = nil
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = os.RemoveAll(g.dir)
}

func (g *S3Gateway) readLog() string {
	b, err := os.ReadFile(g.logPath)
	if err != nil {
		return ""
	}
	return string(b)
}

// S3Storage is the object storage a registry keeps its data in
// ([Config.S3]).
type S3Storage struct {
	// Gateway is the S3 gateway holding the bucket.
	Gateway *S3Gateway
	// RootDirectory is the key prefix of the registry's data in the bucket
	// ("/registry" when empty). Registries sharing it share their data.
	RootDirectory string
	// NoRedirect makes the registry serve blobs itself instead of
	// redirecting clients to presigned URLs.
	NoRedirect bool
}
