package registrytest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// LoadBalancer spreads requests over several plain-HTTP registries sharing
// storage and http.secret — a scale-out deployment: each request goes to the
// next live registry in turn, so an upload begun on one is continued on
// another. The Host header is passed on, so the registries' Location headers
// point back at the balancer. A registry that refuses connections (killed)
// is skipped.
type LoadBalancer struct {
	// Host is the balancer's 127.0.0.1:<port>.
	Host string
	// URL is "http://" + Host.
	URL string

	backends []*Registry
	next     atomic.Uint64
	srv      *http.Server

	mu   sync.Mutex
	sent map[string]int // requests per backend host
}

// NewLoadBalancer starts a balancer in front of regs (plain HTTP ones).
func NewLoadBalancer(regs ...*Registry) (*LoadBalancer, error) {
	if len(regs) == 0 {
		return nil, errors.New("registrytest: a load balancer needs registries")
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registrytest: %w", err)
	}
	lb := &LoadBalancer{backends: regs, sent: map[string]int{}}
	lb.Host = l.Addr().String()
	lb.URL = "http://" + lb.Host
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = (&net.Dialer{Timeout: 2 * time.Second}).DialContext
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.Host = r.In.Host
		},
		Transport:     &balancingTransport{lb: lb, inner: tr},
		FlushInterval: -1,
	}
	lb.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = lb.srv.Serve(l) }()
	return lb, nil
}

// balancingTransport sends each request to the next backend, trying the
// others when one refuses the connection.
type balancingTransport struct {
	lb    *LoadBalancer
	inner http.RoundTripper
}

func (t *balancingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	n := uint64(len(t.lb.backends))
	first := t.lb.next.Add(1)
	var lastErr error
	for i := range n {
		b := t.lb.backends[(first+i)%n]
		u, err := url.Parse(b.URL)
		if err != nil {
			return nil, err
		}
		out := req.Clone(req.Context())
		out.URL.Scheme, out.URL.Host = u.Scheme, u.Host
		if req.Body != nil && req.Body != http.NoBody {
			// The transport closes the body when the dial fails; the
			// next backend still needs it (nothing of it has been read).
			out.Body = io.NopCloser(req.Body)
		}
		resp, err := t.inner.RoundTrip(out)
		if err == nil {
			t.lb.mu.Lock()
			t.lb.sent[b.Host]++
			t.lb.mu.Unlock()
			return resp, nil
		}
		lastErr = err
		// Only a refused connection is safe to send elsewhere: the request
		// (and its body) never left.
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			return nil, err
		}
	}
	return nil, lastErr
}

// Sent returns how many requests each registry (by Host) has answered.
func (lb *LoadBalancer) Sent() map[string]int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	out := make(map[string]int, len(lb.sent))
	for k, v := range lb.sent {
		out[k] = v
	}
	return out
}

// Close stops the balancer (not the registries).
func (lb *LoadBalancer) Close() { _ = lb.srv.Close() }
