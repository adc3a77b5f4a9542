package faultproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// upstreamTimeout bounds how long a forwarded request may wait for the
// upstream's response headers, and how long a forwarded cut waits for the
// upstream to finish with the partial request.
const upstreamTimeout = 30 * time.Second

// Proxy is a running fault-injecting reverse proxy. Its exported fields are
// read-only; its methods are safe for concurrent use.
type Proxy struct {
	// Host is "localhost:<port>", the address clients should use.
	Host string
	// URL is "http://" followed by Host.
	URL string

	upstream  *url.URL
	tlsConfig *tls.Config
	tr        *http.Transport
	srv       *http.Server
	done      sync.WaitGroup

	mu         sync.Mutex
	injections []*Injection
	records    []*Record
	received   map[string]int64
	sent       int64
}

// Record describes one request the proxy received.
type Record struct {
	// Method is the request's method.
	Method string
	// Path is the URL path, without the query.
	Path string
	// RawQuery is the query string, without "?".
	RawQuery string
	// Header holds the request headers as the client sent them.
	Header http.Header
	// Start is when the proxy received the request headers.
	Start time.Time
	// BytesIn is the number of request body bytes read from the client.
	BytesIn int64
	// BytesOut is the number of response body bytes written to the client.
	BytesOut int64
	// Status is the status sent to the client; 0 if the connection was
	// reset before any answer (or the request is still in progress).
	Status int
	// Faults describes the faults applied to the request.
	Faults []string
}

// Option configures a [Proxy].
type Option func(*Proxy)

// WithUpstreamTLS sets the TLS configuration for an https upstream, for
// example [github.com/dxf-go/dxf/pkg/registrytest.Registry.TLSConfig].
func WithUpstreamTLS(c *tls.Config) Option {
	return func(p *Proxy) { p.tlsConfig = c.Clone() }
}

// Start starts a proxy forwarding to upstream, an http:// or https:// URL
// such as [github.com/dxf-go/dxf/pkg/registrytest.Registry.URL]. Stop it
// with [Proxy.Close].
func Start(upstream string, opts ...Option) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: upstream: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q is not an http(s)://host[:port] URL", upstream)
	}
	p := &Proxy{upstream: &url.URL{Scheme: u.Scheme, Host: u.Host}, received: map[string]int64{}}
	for _, o := range opts {
		o(p)
	}
	p.tr = &http.Transport{
		Proxy:                 nil,
		TLSClientConfig:       p.tlsConfig,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: upstreamTimeout,
		DisableCompression:    true,
		WriteBufferSize:       64 << 10,
		ReadBufferSize:        64 << 10,
	}
	ls, err := listenLoopback()
	if err != nil {
		return nil, err
	}
	port := ls[0].Addr().(*net.TCPAddr).Port
	p.Host = net.JoinHostPort("localhost", strconv.Itoa(port))
	p.URL = "http://" + p.Host
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	for _, l := range ls {
		p.done.Add(1)
		go func() {
			defer p.done.Done()
			_ = p.srv.Serve(l)
		}()
	}
	return p, nil
}

// StartT starts a proxy for the test t and closes it when the test ends. It
// fails the test if the proxy cannot start. When the test fails, the
// requests the proxy saw are logged.
func StartT(t testing.TB, upstream string, opts ...Option) *Proxy {
	t.Helper()
	p, err := Start(upstream, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			var b strings.Builder
			for _, r := range p.Requests() {
				fmt.Fprintf(&b, "  %s %s?%s → %d, in %d, out %d %v\n", r.Method, r.Path, r.RawQuery, r.Status, r.BytesIn, r.BytesOut, r.Faults)
			}
			t.Logf("faultproxy %s → %s saw:\n%s", p.Host, p.upstream, b.String())
		}
		p.Close()
	})
	return p
}

// listenLoopback listens on 127.0.0.1 on a free port and, where IPv6 is
// available, on [::1] with the same port, because "localhost" may resolve to
// either.
func listenLoopback() ([]net.Listener, error) {
	var err error
	for range 20 {
		var l4, l6 net.Listener
		l4, err = net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("faultproxy: %w", err)
		}
		port := l4.Addr().(*net.TCPAddr).Port
		l6, err = net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
		if err == nil {
			return []net.Listener{l4, l6}, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return []net.Listener{l4}, nil // no IPv6 loopback
		}
		_ = l4.Close()
	}
	return nil, fmt.Errorf("faultproxy: no free loopback port: %w", err)
}

// Close stops the proxy: it stops listening, closes every connection and
// waits for the serving goroutines to end.
func (p *Proxy) Close() {
	_ = p.srv.Close()
	p.done.Wait()
	p.tr.CloseIdleConnections()
}

// Upstream returns the upstream URL (scheme and host).
func (p *Proxy) Upstream() string { return p.upstream.String() }

// Inject adds a fault for the requests rule selects and returns its handle.
// Several injections may select the same request: all apply, in the order
// they were added, except that only the first status fault, the first
// request fault (cut or flip) and the first response fault (drop, truncate,
// flip or lose) of a request take effect; latencies add up. Inject panics if
// the rule's Path or Query is not a valid regular expression.
func (p *Proxy) Inject(rule Rule, f Fault) *Injection {
	i := &Injection{p: p, rule: rule, fault: f}
	if rule.Path != "" {
		i.path = regexp.MustCompile(rule.Path)
	}
	if rule.Query != "" {
		i.query = regexp.MustCompile(rule.Query)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.injections = append(p.injections, i)
	return i
}

// Clear removes every injection.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, i := range p.injections {
		i.removed = true
	}
	p.injections = nil
}

// Requests returns a copy of the records of the requests received so far
// (since the last [Proxy.ResetStats]), oldest first.
func (p *Proxy) Requests() []Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Record, len(p.records))
	for i, r := range p.records {
		out[i] = *r
		out[i].Faults = append([]string(nil), r.Faults...)
	}
	return out
}

// Count returns how many requests with the method ("" for any) and a path
// matching the regular expression path ("" for any) were received. It
// panics if path is not a valid regular expression.
func (p *Proxy) Count(method, path string) int {
	re := regexp.MustCompile(path)
	n := 0
	for _, r := range p.Requests() {
		if (method == "" || r.Method == method) && re.MatchString(r.Path) {
			n++
		}
	}
	return n
}

// BytesReceived returns the number of request body bytes read from clients,
// all requests together (including requests cut by a fault and never
// forwarded).
func (p *Proxy) BytesReceived() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, v := range p.received {
		n += v
	}
	return n
}

// BytesReceivedBy returns the number of request body bytes read from
// clients in requests with the method (e.g. "PATCH").
func (p *Proxy) BytesReceivedBy(method string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.received[method]
}

// BytesSent returns the number of response body bytes written to clients.
func (p *Proxy) BytesSent() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

// ResetStats forgets the recorded requests and zeroes the byte counters.
// Injections keep their counts.
func (p *Proxy) ResetStats() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records = nil
	p.received = map[string]int64{}
	p.sent = 0
}

// plan is what the faults selecting one request do to it.
type plan struct {
	delay        time.Duration
	status       *Fault
	request      *Fault
	response     *Fault
	headers      []Fault
	descriptions []string
}

func (p *Proxy) start(r *http.Request) (*Record, plan) {
	rec := &Record{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Start:    time.Now(),
	}
	var pl plan
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records = append(p.records, rec)
	for _, i := range p.injections {
		if !i.matches(r) {
			continue
		}
		f := i.fault
		switch {
		case f.kind == kindLatency:
			pl.delay += f.delay
		case f.kind == kindResponseHeader:
			pl.headers = append(pl.headers, f)
		case f.kind == kindStatus && pl.status == nil:
			pl.status = &f
		case f.isRequestFault() && pl.request == nil:
			pl.request = &f
		case f.isResponseFault() && pl.response == nil:
			pl.response = &f
		default:
			continue
		}
		pl.descriptions = append(pl.descriptions, f.String())
	}
	rec.Faults = pl.descriptions
	return rec, pl
}

func (p *Proxy) addIn(rec *Record, method string, n int) {
	p.mu.Lock()
	rec.BytesIn += int64(n)
	p.received[method] += int64(n)
	p.mu.Unlock()
}

func (p *Proxy) addOut(rec *Record, n int) {
	p.mu.Lock()
	rec.BytesOut += int64(n)
	p.sent += int64(n)
	p.mu.Unlock()
}

func (p *Proxy) setStatus(rec *Record, code int) {
	p.mu.Lock()
	rec.Status = code
	p.mu.Unlock()
}

// ServeHTTP implements http.Handler: it applies the faults selecting r and
// forwards what is left of it.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec, pl := p.start(r)
	var body io.Reader = &countingReader{r: r.Body, count: func(n int) { p.addIn(rec, r.Method, n) }}

	if pl.delay > 0 {
		t := time.NewTimer(pl.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f := pl.status; f != nil {
		p.writeStatus(w, r, rec, f)
		return
	}
	if f := pl.request; f != nil {
		switch f.kind {
		case kindCutRequest:
			_, _ = io.CopyN(io.Discard, body, f.n)
			p.reset(w, true)
			return
		case kindCutRequestForwarded:
			p.forwardCut(w, r, body, f.n)
			return
		case kindFlipRequest:
			body = &flipReader{r: body, at: f.n}
		}
	}

	resp, err := p.tr.RoundTrip(p.outRequest(r.Context(), r, body))
	if err != nil {
		if r.Context().Err() != nil {
			return // the client went away
		}
		p.setStatus(rec, http.StatusBadGateway)
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	f := pl.response
	if f != nil && f.kind == kindLoseResponse {
		_, _ = io.Copy(io.Discard, resp.Body)
		p.reset(w, true)
		return
	}

	h := w.Header()
	for k, vs := range resp.Header {
		if isHopByHop(k) {
			continue
		}
		for _, v := range vs {
			if k == "Location" || k == "Link" {
				v = p.rewrite(v)
			}
			h.Add(k, v)
		}
	}
	for _, f := range pl.headers {
		if f.value == "" {
			h.Del(f.key)
		} else {
			h.Set(f.key, f.value)
		}
	}
	p.setStatus(rec, resp.StatusCode)
	w.WriteHeader(resp.StatusCode)
	out := &countingWriter{w: w, count: func(n int) { p.addOut(rec, n) }}
	buf := make([]byte, 64<<10)
	if f == nil {
		_, _ = io.CopyBuffer(out, resp.Body, buf)
		return
	}
	switch f.kind {
	case kindFlipResponse:
		_, _ = io.CopyBuffer(&flipWriter{w: out, at: f.n}, resp.Body, buf)
	case kindDropResponse, kindTruncateResponse:
		_, _ = io.CopyBuffer(out, io.LimitReader(resp.Body, f.n), buf)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		p.reset(w, f.kind == kindDropResponse)
	case kindStallResponse:
		_, _ = io.CopyBuffer(out, io.LimitReader(resp.Body, f.n), buf)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		<-r.Context().Done()
	}
}

// outRequest makes the request to send upstream.
func (p *Proxy) outRequest(ctx context.Context, r *http.Request, body io.Reader) *http.Request {
	out := r.Clone(ctx)
	out.URL.Scheme = p.upstream.Scheme
	out.URL.Host = p.upstream.Host
	out.Host = p.upstream.Host
	out.RequestURI = ""
	out.Close = false
	for k := range out.Header {
		if isHopByHop(k) {
			out.Header.Del(k)
		}
	}
	if r.ContentLength == 0 {
		out.Body = http.NoBody
	} else {
		out.Body = io.NopCloser(body)
	}
	out.GetBody = nil
	return out
}

// writeStatus answers with the status fault f.
func (p *Proxy) writeStatus(w http.ResponseWriter, r *http.Request, rec *Record, f *Fault) {
	code := "UNKNOWN"
	switch f.status {
	case http.StatusServiceUnavailable:
		code = "UNAVAILABLE"
	case http.StatusTooManyRequests:
		code = "TOOMANYREQUESTS"
	}
	msg := fmt.Sprintf(`{"errors":[{"code":%q,"message":"faultproxy: injected %d %s"}]}`+"\n",
		code, f.status, http.StatusText(f.status))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	p.setStatus(rec, f.status)
	w.WriteHeader(f.status)
	if r.Method != http.MethodHead {
		n, _ := io.WriteString(w, msg)
		p.addOut(rec, n)
	}
}

// reset takes over the client connection and closes it, with a TCP reset
// if abort, else cleanly.
func (p *Proxy) reset(w http.ResponseWriter, abort bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, bw, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if !abort {
		_ = bw.Flush()
	}
	if tc, ok := conn.(*net.TCPConn); ok && abort {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// forwardCut sends the request with only the first n bytes of its body
// upstream on a connection of its own, waits for the upstream to be done
// with it, then resets the client connection.
func (p *Proxy) forwardCut(w http.ResponseWriter, r *http.Request, body io.Reader, n int64) {
	defer p.reset(w, true)
	ctx, cancel := context.WithTimeout(r.Context(), upstreamTimeout)
	defer cancel()
	conn, err := p.dialUpstream(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(upstreamTimeout))
	cut := io.MultiReader(io.LimitReader(body, n), errorReader{errCut})
	out := p.outRequest(ctx, r, cut)
	bw := bufio.NewWriterSize(conn, 64<<10)
	_ = out.Write(bw) // fails with errCut once n bytes are written
	_ = bw.Flush()
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	// The upstream closes its end once it has handled (and failed) the
	// partial request.
	_, _ = io.Copy(io.Discard, conn)
}

var errCut = errors.New("faultproxy: request body cut")

type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }

func (p *Proxy) dialUpstream(ctx context.Context) (net.Conn, error) {
	host := p.upstream.Host
	if p.upstream.Port() == "" {
		port := "80"
		if p.upstream.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(p.upstream.Hostname(), port)
	}
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", host)
	if err != nil || p.upstream.Scheme != "https" {
		return conn, err
	}
	cfg := p.tlsConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = p.upstream.Hostname()
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

// rewrite replaces the upstream's origin with the proxy's in a Location or
// Link header value.
func (p *Proxy) rewrite(v string) string {
	return strings.ReplaceAll(v, p.upstream.Scheme+"://"+p.upstream.Host, p.URL)
}

func isHopByHop(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

type countingReader struct {
	r     io.Reader
	count func(int)
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.count(n)
	}
	return n, err
}

type countingWriter struct {
	w     io.Writer
	count func(int)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	if n > 0 {
		c.count(n)
	}
	return n, err
}

// flipReader flips the lowest bit of the byte at offset at.
type flipReader struct {
	r   io.Reader
	at  int64
	off int64
}

func (f *flipReader) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	if i := f.at - f.off; i >= 0 && i < int64(n) {
		b[i] ^= 1
	}
	f.off += int64(n)
	return n, err
}

// flipWriter flips the lowest bit of the byte at offset at.
type flipWriter struct {
	w   io.Writer
	at  int64
	off int64
}

func (f *flipWriter) Write(b []byte) (int, error) {
	if i := f.at - f.off; i >= 0 && i < int64(len(b)) {
		c := make([]byte, len(b))
		copy(c, b)
		c[i] ^= 1
		b = c
	}
	n, err := f.w.Write(b)
	f.off += int64(n)
	return n, err
}
