package faultproxy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

// upstream is an httptest server that records what it received and serves
// /data (a fixed body, with Location and Link headers naming itself) and
// /echo (the request body back).
type upstream struct {
	*httptest.Server
	data []byte

	mu       sync.Mutex
	bodies   map[string][]byte // path → request body as received
	bodyErrs map[string]error
	hits     map[string]int
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{data: make([]byte, 256<<10), bodies: map[string][]byte{}, bodyErrs: map[string]error{}, hits: map[string]int{}}
	_, _ = rand.Read(u.data)
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		u.mu.Lock()
		u.bodies[r.URL.Path], u.bodyErrs[r.URL.Path] = b, err
		u.hits[r.URL.Path]++
		u.mu.Unlock()
		switch r.URL.Path {
		case "/data":
			w.Header().Set("Location", u.URL+"/next?x=1")
			w.Header().Set("Link", `<`+u.URL+`/data?page=2>; rel="next"`)
			w.Header().Set("Content-Length", strconv.Itoa(len(u.data)))
			_, _ = w.Write(u.data)
		case "/echo":
			_, _ = w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

// received returns the body the upstream read for path, how many requests
// it saw there, and the error reading the body ended with.
func (u *upstream) received(path string) ([]byte, int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.bodies[path], u.hits[path], u.bodyErrs[path]
}

func get(t *testing.T, url string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // test
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func post(t *testing.T, url string, body []byte) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(body)) //nolint:noctx // test
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestForwardsAndRewritesHeaders(t *testing.T) {
	u := newUpstream(t)
	p := faultproxy.StartT(t, u.URL)
	if !strings.HasPrefix(p.Host, "localhost:") || p.URL != "http://"+p.Host {
		t.Fatalf("Host %q URL %q", p.Host, p.URL)
	}
	resp, b, err := get(t, p.URL+"/data")
	if err != nil || !bytes.Equal(b, u.data) {
		t.Fatalf("GET through the proxy: %v, %d bytes", err, len(b))
	}
	if got := resp.Header.Get("Location"); got != p.URL+"/next?x=1" {
		t.Errorf("Location %q not rewritten to the proxy", got)
	}
	if got := resp.Header.Get("Link"); got != `<`+p.URL+`/data?page=2>; rel="next"` {
		t.Errorf("Link %q not rewritten to the proxy", got)
	}
	body := []byte("hello, upstream")
	if _, b, err := post(t, p.URL+"/echo", body); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("POST: %v %q", err, b)
	}
	if p.BytesReceived() != int64(len(body)) || p.BytesReceivedBy(http.MethodPost) != int64(len(body)) || p.BytesReceivedBy(http.MethodGet) != 0 {
		t.Errorf("received %d (POST %d)", p.BytesReceived(), p.BytesReceivedBy(http.MethodPost))
	}
	if p.BytesSent() != int64(len(u.data)+len(body)) {
		t.Errorf("sent %d", p.BytesSent())
	}
	recs := p.Requests()
	if len(recs) != 2 || recs[0].Method != http.MethodGet || recs[0].Path != "/data" || recs[0].Status != 200 || recs[1].BytesIn != int64(len(body)) {
		t.Errorf("records %+v", recs)
	}
	if p.Count(http.MethodPost, "^/echo$") != 1 || p.Count("", "") != 2 {
		t.Errorf("Count")
	}
	p.ResetStats()
	if p.BytesReceived() != 0 || len(p.Requests()) != 0 {
		t.Errorf("ResetStats left %d bytes, %d records", p.BytesReceived(), len(p.Requests()))
	}
}

func TestStatusSkipTimesRetryAfter(t *testing.T) {
	u := newUpstream(t)
	p := faultproxy.StartT(t, u.URL)
	inj := p.Inject(faultproxy.Rule{Method: http.MethodGet, Path: "^/data$", Skip: 1, Times: 2},
		faultproxy.Status(http.StatusTooManyRequests).WithRetryAfter("7"))
	var codes []int
	for range 4 {
		resp, b, err := get(t, p.URL+"/data")
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			if resp.Header.Get("Retry-After") != "7" || !strings.Contains(string(b), "TOOMANYREQUESTS") {
				t.Errorf("429 answer: %v %s", resp.Header, b)
			}
		}
	}
	if want := []int{200, 429, 429, 200}; !equalInts(codes, want) {
		t.Errorf("statuses %v, want %v", codes, want)
	}
	if inj.Hits() != 2 || inj.Seen() != 4 {
		t.Errorf("hits %d seen %d", inj.Hits(), inj.Seen())
	}
	if _, n, _ := u.received("/data"); n != 2 {
		t.Errorf("upstream saw %d requests, want 2", n)
	}
	// Other methods and paths are not selected; a removed fault is off.
	p.Inject(faultproxy.Rule{Path: "/echo", Query: "fail"}, faultproxy.Status(http.StatusServiceUnavailable))
	if resp, _, _ := post(t, p.URL+"/echo", nil); resp.StatusCode != 200 {
		t.Errorf("query not matched but got %d", resp.StatusCode)
	}
	if resp, _, _ := post(t, p.URL+"/echo?fail=1", nil); resp.StatusCode != 503 {
		t.Errorf("query matched but got %d", resp.StatusCode)
	}
	p.Clear()
	if resp, _, _ := post(t, p.URL+"/echo?fail=1", nil); resp.StatusCode != 200 {
		t.Errorf("after Clear got %d", resp.StatusCode)
	}
	inj = p.Inject(faultproxy.Rule{}, faultproxy.Status(http.StatusInternalServerError))
	inj.Remove()
	if resp, _, _ := get(t, p.URL+"/data"); resp.StatusCode != 200 {
		t.Errorf("after Remove got %d", resp.StatusCode)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestResponseFaults(t *testing.T) {
	u := newUpstream(t)
	p := faultproxy.StartT(t, u.URL)

	p.Inject(faultproxy.Rule{Times: 1}, faultproxy.TruncateResponse(1000))
	resp, b, err := get(t, p.URL+"/data")
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 1000 || !bytes.Equal(b, u.data[:1000]) || resp.ContentLength != int64(len(u.data)) {
		t.Errorf("truncate: %v, %d bytes", err, len(b))
	}

	p.Inject(faultproxy.Rule{Times: 1}, faultproxy.DropResponse(1000))
	_, b, err = get(t, p.URL+"/data")
	if err == nil || len(b) > 1000 {
		t.Errorf("drop: %v, %d bytes", err, len(b))
	}

	p.Inject(faultproxy.Rule{Times: 1}, faultproxy.FlipResponseByte(70000))
	_, b, err = get(t, p.URL+"/data")
	if err != nil || len(b) != len(u.data) || b[70000] != u.data[70000]^1 || !bytes.Equal(b[:70000], u.data[:70000]) || !bytes.Equal(b[70001:], u.data[70001:]) {
		t.Errorf("flip: %v", err)
	}

	p.Inject(faultproxy.Rule{Times: 1}, faultproxy.LoseResponse())
	if _, _, err = post(t, p.URL+"/echo", []byte("lost")); err == nil {
		t.Error("lose: no error")
	}
	if got, n, _ := u.received("/echo"); n != 1 || string(got) != "lost" {
		t.Errorf("lose: upstream saw %d requests, %q", n, got)
	}

	// A stalled answer sends its first bytes, then nothing until the client
	// gives up.
	inj := p.Inject(faultproxy.Rule{Times: 1}, faultproxy.StallResponse(1000))
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/data", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1000)
	if _, err := io.ReadFull(resp.Body, first); err != nil || !bytes.Equal(first, u.data[:1000]) || inj.Hits() != 1 {
		t.Errorf("stall: the first bytes: %v", err)
	}
	cancel()
	if _, err := resp.Body.Read(make([]byte, 1)); err == nil {
		t.Error("stall: more data after the stall")
	}
	resp.Body.Close()

	// Latency changes nothing but the timing.
	p.Inject(faultproxy.Rule{Times: 1}, faultproxy.Latency(10*time.Millisecond))
	if _, b, err = get(t, p.URL+"/data"); err != nil || !bytes.Equal(b, u.data) {
		t.Errorf("latency: %v", err)
	}
}

func TestRequestFaults(t *testing.T) {
	u := newUpstream(t)
	p := faultproxy.StartT(t, u.URL)
	body := make([]byte, 1<<20)
	_, _ = rand.Read(body)

	inj := p.Inject(faultproxy.Rule{Method: http.MethodPost, Times: 1}, faultproxy.CutRequest(300<<10))
	if _, _, err := post(t, p.URL+"/echo", body); err == nil {
		t.Error("cut: no error")
	}
	if _, n, _ := u.received("/echo"); n != 0 {
		t.Errorf("cut (not forwarded): upstream saw %d requests", n)
	}
	if got := p.BytesReceivedBy(http.MethodPost); got != 300<<10 || inj.Hits() != 1 {
		t.Errorf("cut: proxy read %d bytes, want %d", got, 300<<10)
	}

	p.Inject(faultproxy.Rule{Method: http.MethodPost, Times: 1}, faultproxy.CutRequestForwarded(300<<10))
	if _, _, err := post(t, p.URL+"/echo", body); err == nil {
		t.Error("forwarded cut: no error")
	}
	got, n, err := u.received("/echo")
	if n != 1 || err == nil || !bytes.Equal(got, body[:300<<10]) {
		t.Errorf("forwarded cut: upstream saw %d requests, %d bytes (%v)", n, len(got), err)
	}

	p.Inject(faultproxy.Rule{Method: http.MethodPost, Times: 1}, faultproxy.FlipRequestByte(5))
	_, echoed, err := post(t, p.URL+"/echo", body)
	want := bytes.Clone(body)
	want[5] ^= 1
	if err != nil || !bytes.Equal(echoed, want) {
		t.Errorf("request flip: %v", err)
	}
	if recs := p.Requests(); len(recs) != 3 || len(recs[0].Faults) != 1 || recs[0].Status != 0 || recs[2].Status != 200 {
		t.Errorf("records %+v", recs)
	}
}

// TestResponseHeader: a header fault sets or removes a header of the
// upstream's answer, and the body passes untouched.
func TestResponseHeader(t *testing.T) {
	u := newUpstream(t)
	p := faultproxy.StartT(t, u.URL)
	p.Inject(faultproxy.Rule{Path: "^/data$"}, faultproxy.ResponseHeader("Docker-Content-Digest", "sha256:other"))
	p.Inject(faultproxy.Rule{Path: "^/data$"}, faultproxy.ResponseHeader("Location", ""))
	resp, b, err := get(t, p.URL+"/data")
	if err != nil || !bytes.Equal(b, u.data) {
		t.Fatalf("GET through the proxy: %v, %d bytes", err, len(b))
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != "sha256:other" {
		t.Errorf("Docker-Content-Digest %q, want the one set", got)
	}
	if got, ok := resp.Header["Location"]; ok {
		t.Errorf("Location %q not removed", got)
	}
	if got := resp.Header.Get("Link"); got == "" {
		t.Error("another header was lost")
	}
	if recs := p.Requests(); len(recs) != 1 || len(recs[0].Faults) != 2 {
		t.Errorf("records %+v, want one request with both faults", recs)
	}
}
