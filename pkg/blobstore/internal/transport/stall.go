package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// ErrStalled is returned when a transfer moved less than [StallBytes] in Timeouts.Idle.
var ErrStalled = errors.New("transfer stalled")

// maxPingBody bounds what is read of a GET /v2/ answer (go-containerregistry
// drains the ping's body to reuse the connection; an endless body would
// never end).
const maxPingBody = 64 << 10

// errPingBody ends an over-long /v2/ answer.
var errPingBody = fmt.Errorf("the registry's /v2/ answer is longer than %d KiB", maxPingBody>>10)

// watchdog fails a transfer that stalls: it measures the time the network
// side is waiting (blocked in a response body Read, or not reading the
// request body between two Reads) and the bytes moved, and when a window
// of idle such time has moved less than StallBytes, cancels the request.
type watchdog struct {
	idle   time.Duration
	host   string
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	waited  time.Duration // network wait in this window
	moved   int64         // bytes moved in this window
	timer   *time.Timer
	stalled error
}

func newWatchdog(idle time.Duration, host string, cancel context.CancelCauseFunc) *watchdog {
	return &watchdog{idle: idle, host: host, cancel: cancel}
}

// wait starts a stretch of network wait: if it lasts for the rest of the
// window, the transfer is stalled.
func (w *watchdog) wait() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	left := max(w.idle-w.waited, time.Millisecond)
	if w.timer == nil {
		w.timer = time.AfterFunc(left, w.stall)
	} else {
		w.timer.Reset(left)
	}
	return time.Now()
}

// done ends a stretch of network wait that began at start and moved n
// bytes. It returns the stall error once the transfer is stalled.
func (w *watchdog) done(start time.Time, n int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop() // kept, to be Reset by the next wait
	}
	if w.stalled != nil {
		return w.stalled
	}
	w.waited += time.Since(start)
	w.moved += int64(n)
	switch {
	case w.moved >= StallBytes:
		w.waited, w.moved = 0, 0 // moving: a new window starts
	case w.waited >= w.idle:
		w.stallLocked()
		return w.stalled
	}
	return nil
}

func (w *watchdog) stall() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stallLocked()
}

func (w *watchdog) stallLocked() {
	if w.stalled == nil {
		w.stalled = fmt.Errorf("%w: %s moved less than %d bytes in %s", ErrStalled, w.host, StallBytes, w.idle)
		w.cancel(w.stalled)
	}
}

// stop ends the watch (the body is done).
func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// err returns the stall error, if the transfer stalled.
func (w *watchdog) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stalled
}

// watchedResponse is a response body under a watchdog; closing it releases
// the request's context.
type watchedResponse struct {
	rc     io.ReadCloser
	w      *watchdog
	cancel context.CancelCauseFunc
	limit  int64 // bytes left before errLimit; <0: no limit
	errLim error
}

func (b *watchedResponse) Read(p []byte) (int, error) {
	if b.limit == 0 {
		return 0, b.errLim
	}
	if b.limit > 0 && int64(len(p)) > b.limit {
		p = p[:b.limit]
	}
	var start time.Time
	if b.w != nil {
		start = b.w.wait()
	}
	n, err := b.rc.Read(p)
	if b.limit > 0 {
		b.limit -= int64(n)
	}
	if b.w != nil {
		if serr := b.w.done(start, n); serr != nil {
			return n, serr
		}
		if err != nil && err != io.EOF && b.w.err() != nil {
			return n, b.w.err()
		}
	}
	return n, err
}

func (b *watchedResponse) Close() error {
	if b.w != nil {
		b.w.stop()
	}
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// watchedRequest is a request body under a watchdog: the time between the
// transport's Reads (while it writes to the network) is network wait.
type watchedRequest struct {
	rc    io.ReadCloser
	w     *watchdog
	mu    sync.Mutex
	start time.Time
	armed bool
	last  int
}

func (b *watchedRequest) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.armed {
		if err := b.w.done(b.start, b.last); err != nil {
			b.mu.Unlock()
			return 0, err
		}
		b.armed = false
	}
	b.mu.Unlock()
	n, err := b.rc.Read(p)
	b.mu.Lock()
	if err == nil {
		b.start, b.last, b.armed = b.w.wait(), n, true
	}
	b.mu.Unlock()
	return n, err
}

func (b *watchedRequest) Close() error {
	b.w.stop()
	return b.rc.Close()
}

// watch puts req's body and its answer under the idle timeout, and limits
// a /v2/ answer. It returns the request to send and a function to call
// with its outcome.
func (t *baseTransport) watch(req *http.Request) (*http.Request, func(*http.Response, error) (*http.Response, error)) {
	ctx, cancel := context.WithCancelCause(req.Context())
	req = req.WithContext(ctx)
	var w *watchdog
	if t.idle > 0 {
		w = newWatchdog(t.idle, req.URL.Host, cancel)
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = &watchedRequest{rc: req.Body, w: w}
		}
	}
	return req, func(resp *http.Response, err error) (*http.Response, error) {
		if err != nil {
			if w != nil {
				w.stop()
				if serr := w.err(); serr != nil {
					err = serr
				}
			}
			cancel(nil)
			return nil, err
		}
		if w != nil {
			// A new watch for the answer (the request's is over).
			w.stop()
			w = newWatchdog(t.idle, req.URL.Host, cancel)
		}
		body := &watchedResponse{rc: resp.Body, w: w, cancel: cancel, limit: -1}
		if req.Method == http.MethodGet && req.URL.Path == "/v2/" {
			body.limit, body.errLim = maxPingBody, errPingBody
		}
		resp.Body = body
		return resp, nil
	}
}
