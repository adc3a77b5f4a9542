package blobstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxf-go/dxf/internal/testutil"
)

// Hostile registries that hold dxf up: each must fail (or, for a slow but
// moving transfer, succeed) well within a deadline, with timeouts of 1 s.
// See docs/reliability.md#timeouts.

// hostileListener accepts connections and hands each to serve.
func hostileListener(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	return testutil.Serve(t, serve)
}

// within runs f and fails the test if it takes longer than d (generous:
// the point is that it ends at all).
func within(t *testing.T, d time.Duration, f func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*d)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	if ctx.Err() != nil || time.Since(start) > d {
		t.Fatalf("took %s (error %v), want well under %s", time.Since(start), err, d)
	}
	return err
}

func quickRepo(t *testing.T, host string, opts ...Option) *Repository {
	t.Helper()
	opts = append([]Option{WithInsecure(true), WithKeychain(nil), WithRetries(0), WithTimeout(time.Second)}, opts...)
	r, err := New(host, "foo/bar", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTimeoutNeverAnswers: the registry accepts the connection, reads the
// request and never answers.
func TestTimeoutNeverAnswers(t *testing.T) {
	host := hostileListener(t, func(c net.Conn) {
		_, _ = bufio.NewReader(c).ReadString('\n')
		time.Sleep(time.Minute)
	})
	r := quickRepo(t, host)
	err := within(t, 15*time.Second, func(ctx context.Context) error {
		_, err := r.BlobSize(ctx, HashBytes(nil))
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Fatalf("got %v, want a response-header timeout", err)
	}
}

// TestTimeoutTrickledHeaders: the answer's headers come a byte every 300 ms.
func TestTimeoutTrickledHeaders(t *testing.T) {
	host := hostileListener(t, func(c net.Conn) {
		_, _ = bufio.NewReader(c).ReadString('\n')
		for _, b := range []byte("HTTP/1.1 200 OK\r\nX-Slow: " + strings.Repeat("x", 1000)) {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
	})
	r := quickRepo(t, host)
	err := within(t, 15*time.Second, func(ctx context.Context) error {
		_, err := r.BlobSize(ctx, HashBytes(nil))
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("got %v, want a timeout", err)
	}
}

// trickleServer answers /v2/ and then a blob GET with a body sent step
// bytes at a time, every pause.
func trickleServer(t *testing.T, step int, pause time.Duration, total int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(total))
		chunk := []byte(strings.Repeat("z", step))
		for sent := 0; sent < total; sent += step {
			if _, err := w.Write(chunk[:min(step, total-sent)]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(pause):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestTimeoutTrickledBody: a blob body that comes a byte every 100 ms
// stalls (less than StallBytes a second).
func TestTimeoutTrickledBody(t *testing.T) {
	host := trickleServer(t, 1, 100*time.Millisecond, 1<<20)
	r := quickRepo(t, host)
	err := within(t, 15*time.Second, func(ctx context.Context) error {
		_, err := pullAll(t, r, HashBytes([]byte("whatever")))
		return err
	})
	if !errors.Is(err, ErrStalled) {
		t.Fatalf("got %v, want ErrStalled", err)
	}
}

// TestTimeoutSlowTransferCompletes: a body that moves 4 KiB every 400 ms
// for 4 s is slow, not stalled: it arrives whole (here it then fails the
// digest check, which is the point: it was read to the end).
func TestTimeoutSlowTransferCompletes(t *testing.T) {
	const total = 40 << 10
	host := trickleServer(t, 4<<10, 400*time.Millisecond, total)
	r := quickRepo(t, host)
	err := within(t, 30*time.Second, func(ctx context.Context) error {
		_, err := pullAll(t, r, HashBytes([]byte("whatever")))
		return err
	})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("got %v, want the whole body read (then a digest mismatch)", err)
	}
}

// TestTimeoutEndlessPingBody: /v2/ answers 200 with a body that never ends;
// it is read no further than maxPingBody (go-containerregistry drains it).
func TestTimeoutEndlessPingBody(t *testing.T) {
	var written atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/" {
			http.NotFound(w, r)
			return
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := w.Write(buf)
			written.Add(int64(n))
			if err != nil || written.Load() > 1<<30 {
				return
			}
		}
	}))
	defer srv.Close()
	r := quickRepo(t, strings.TrimPrefix(srv.URL, "http://"))
	err := within(t, 15*time.Second, func(ctx context.Context) error {
		_, err := r.BlobSize(ctx, HashBytes(nil))
		return err
	})
	if !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("got %v, want the blob's 404 after the ping", err)
	}
	srv.CloseClientConnections()
	if n := written.Load(); n > 64<<20 {
		t.Fatalf("the server wrote %d MiB of ping body", n>>20)
	}
}

// TestTimeoutUploadStalls: the registry takes an upload's headers and then
// stops reading its body.
func TestTimeoutUploadStalls(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case r.Method == http.MethodHead:
			http.NotFound(w, r)
		case r.Method == http.MethodPost:
			w.Header().Set("Location", "/v2/foo/bar/blobs/uploads/1")
			w.WriteHeader(http.StatusAccepted)
		default:
			select { // reads nothing, answers nothing
			case <-r.Context().Done():
			case <-done:
			}
		}
	}))
	defer srv.Close()
	defer close(done)
	r := quickRepo(t, strings.TrimPrefix(srv.URL, "http://"), WithDefaultChunkSize(0))
	data := strings.Repeat("u", 64<<20)
	err := within(t, 20*time.Second, func(ctx context.Context) error {
		_, err := r.PushBlob(ctx, strings.NewReader(data))
		return err
	})
	if err == nil || (!errors.Is(err, ErrStalled) && !strings.Contains(err.Error(), "timeout")) {
		t.Fatalf("got %v, want a stall", err)
	}
}

// TestRetryAfterCapAndNotice: a 429 asking for a wait of 100000 s waits the
// cap (WithMaxRetryAfter; 60 s by default, silently, before) and says so
// through WithRetryWaitNotify.
func TestRetryAfterCapAndNotice(t *testing.T) {
	srv := newMemServer(t)
	var once atomic.Bool
	srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodHead && once.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "100000")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	var notices []RetryWait
	var mu sync.Mutex
	r := srv.repo(t, "foo/bar", WithMaxRetryAfter(time.Second), WithRetryWaitNotify(func(w RetryWait) {
		mu.Lock()
		notices = append(notices, w)
		mu.Unlock()
	}))
	res := pushBytes(t, r, []byte("patience"))
	once.Store(false)
	err := within(t, 30*time.Second, func(ctx context.Context) error {
		_, err := r.BlobSize(ctx, res.Digest)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := RetryWait{Host: srv.host(), Status: http.StatusTooManyRequests, Asked: 100000 * time.Second, Wait: time.Second}
	if len(notices) != 1 || notices[0] != want {
		t.Fatalf("notices %+v, want one %+v", notices, want)
	}
}
