package hostile

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Server is a hostile registry. Its fields are read-only.
type Server struct {
	// URL is "http://localhost:<port>".
	URL string
	// Host is "localhost:<port>", as a client names the registry.
	Host string

	srv     *httptest.Server
	backend http.Handler
	sent    atomic.Int64
	reqs    atomic.Int64

	mu     sync.Mutex
	routes []*Route
}

// Route is a scenario added with [Server.Handle].
type Route struct {
	method string
	path   *regexp.Regexp
	h      http.Handler
	hits   atomic.Int64
}

// Hits returns how many requests the scenario has answered.
func (r *Route) Hits() int { return int(r.hits.Load()) }

// Start starts a hostile registry and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{backend: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// An endless answer must not outlive the test.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.Start()
	_, port, err := net.SplitHostPort(s.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s.Host = "localhost:" + port
	s.URL = "http://" + s.Host
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, breaking connections still open (endless bodies).
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Handle makes h answer the requests with the given method ("" for any) whose
// URL path matches the regular expression path (anchored at both ends).
// Scenarios added later are tried first.
func (s *Server) Handle(method, path string, h http.Handler) *Route {
	r := &Route{method: method, path: regexp.MustCompile("^(?:" + path + ")$"), h: h}
	s.mu.Lock()
	s.routes = append(s.routes, r)
	s.mu.Unlock()
	return r
}

// BytesSent returns the number of response body bytes written to clients
// so far, by scenarios and by the in-memory registry alike.
func (s *Server) BytesSent() int64 { return s.sent.Load() }

// Requests returns the number of requests received so far.
func (s *Server) Requests() int { return int(s.reqs.Load()) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.reqs.Add(1)
	cw := &countingWriter{ResponseWriter: w, n: &s.sent}
	s.mu.Lock()
	var route *Route
	for i := len(s.routes) - 1; i >= 0; i-- {
		rt := s.routes[i]
		if (rt.method == "" || rt.method == r.Method) && rt.path.MatchString(r.URL.Path) {
			route = rt
			break
		}
	}
	s.mu.Unlock()
	if route == nil {
		s.backend.ServeHTTP(cw, r)
		return
	}
	route.hits.Add(1)
	route.h.ServeHTTP(cw, r)
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *countingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := c.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("hostile: cannot hijack")
	}
	conn, rw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &countingConn{Conn: conn, n: c.n}, rw, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// Digest returns the sha256 digest of b, "sha256:<hex>".
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Bytes answers status with body, of the given Content-Type (none if empty),
// with Content-Length. A HEAD request gets the headers only.
func Bytes(status int, contentType string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}

// Manifest answers 200 with raw, its Content-Type taken from raw's mediaType
// field and its true Docker-Content-Digest.
func Manifest(raw []byte) http.Handler {
	var m struct {
		MediaType string `json:"mediaType"`
	}
	_ = json.Unmarshal(raw, &m)
	return WithHeader(Bytes(http.StatusOK, m.MediaType, raw), "Docker-Content-Digest", Digest(raw))
}

// NoLength answers 200 with body sent chunked: no Content-Length. A HEAD
// request gets no Content-Length either.
func NoLength(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		// Two writes with a flush between: the server cannot know the length.
		half := len(body) / 2
		_, _ = w.Write(body[:half])
		w.(http.Flusher).Flush()
		_, _ = w.Write(body[half:])
	})
}

// Endless answers 200 with a body that never ends (bytes 'x', sent as fast
// as the client reads), without Content-Length. A HEAD request gets the
// headers only.
func Endless() http.Handler { return EndlessWithLength(-1) }

// EndlessWithLength is [Endless] announcing Content-Length n (if n >= 0):
// the body still never ends, so the connection is hijacked to send it.
func EndlessWithLength(n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := []byte(strings.Repeat("x", 32<<10))
		if n < 0 {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodHead {
				return
			}
			for r.Context().Err() == nil {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", n)
		if err := rw.Flush(); err != nil || r.Method == http.MethodHead {
			return
		}
		for {
			// A client that stops reading is dropped, so the handler ends.
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write(buf); err != nil {
				return
			}
		}
	})
}

// LyingLength answers 200 announcing Content-Length n but sending body
// (longer or shorter), then closes the connection.
func LyingLength(n int64, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", n)
		if r.Method != http.MethodHead {
			_, _ = rw.Write(body)
		}
		_ = rw.Flush()
	})
}

// Pages serves a listing: field is "tags" or "repositories"; page(i) gives
// the items of page i (0-based) and whether another page follows. Page i+1
// is linked from page i as "<path>?n=…&page=i+1", so every link is new.
func Pages(field string, page func(i int) (items []string, more bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("page"))
		items, more := page(i)
		body, err := json.Marshal(map[string]any{"name": "hostile", field: items})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if more {
			w.Header().Set("Link", fmt.Sprintf(`<%s?n=%d&page=%d>; rel="next"`, r.URL.Path, len(items), i+1))
		}
		Bytes(http.StatusOK, "application/json", body).ServeHTTP(w, r)
	})
}

// Commit answers an upload's committing PUT with 201 Created and
// Docker-Content-Digest digest (the digest the client asked for, if digest
// is empty) without storing anything. The request body is read and dropped.
func Commit(digest string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		d := digest
		if d == "" {
			d = r.URL.Query().Get("digest")
		}
		w.Header().Set("Docker-Content-Digest", d)
		w.Header().Set("Location", "/v2/hostile/blobs/"+d)
		w.WriteHeader(http.StatusCreated)
	})
}

// WithHeader adds the header k: v to h's answers.
func WithHeader(h http.Handler, k, v string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(k, v)
		h.ServeHTTP(w, r)
	})
}
