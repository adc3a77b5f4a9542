package blobstore

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest"
	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestReliabilityPushSurvivesRegistryRestart restarts the registry process
// 60% into a 256 MiB push. The chunk in flight breaks and the registry is
// down for a moment; the push retries, asks the restarted registry how much
// of the upload it holds, and carries on from there in the same session.
func TestReliabilityPushSurvivesRegistryRestart(t *testing.T) {
	t.Parallel()
	const (
		size  = 256 << 20
		chunk = 16 << 20
	)
	reg := registrytest.StartT(t, registrytest.Config{})
	proxy := faultproxy.StartT(t, reg.URL)
	r, err := New(proxy.Host, "restart/repo", WithInsecure(true), WithKeychain(nil), WithDefaultChunkSize(chunk))
	if err != nil {
		t.Fatal(err)
	}
	path, d := bigFile(t, size)

	var once sync.Once
	restarted := make(chan error, 1)
	res, err := r.PushFile(t.Context(), path, WithProgress(func(p Progress) {
		if p.Done >= p.Blob.Size*6/10 {
			once.Do(func() {
				go func() { restarted <- reg.Restart(t.Context(), 300*time.Millisecond) }()
			})
		}
	}))
	select {
	case rerr := <-restarted:
		if rerr != nil {
			t.Fatalf("restarting the registry: %v", rerr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the registry was never restarted (no progress reported?)")
	}
	if err != nil {
		t.Fatalf("push across a registry restart: %v", err)
	}
	if res.Digest != d || res.Size != size {
		t.Fatalf("push result %+v, want %s", res, d)
	}
	direct, _ := New(reg.Host, "restart/repo", WithInsecure(true), WithKeychain(nil))
	br, err := direct.PullBlob(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	if n, err := io.Copy(io.Discard, br); err != nil || n != size {
		t.Fatalf("pull back (verified): %d bytes, %v", n, err)
	}
	received := proxy.BytesReceived()
	sessions := proxy.Count(http.MethodPost, "/blobs/uploads/$")
	t.Logf("sent %d bytes for %d (%.3f×) in %d session(s)", received, size, float64(received)/size, sessions)
	if received >= size*3/2 {
		t.Fatalf("the push sent %d bytes for %d: it started over instead of resuming", received, size)
	}
	if sessions != 1 {
		t.Errorf("%d upload sessions, want 1 (resumed, not restarted)", sessions)
	}
}

// restartAt returns a progress callback that, once a transfer has moved
// frac of its bytes, kills reg (at once: the caller's next request finds
// nothing listening) and starts it again after down on the same port with
// the same storage; and a function that waits for the registry to be back
// and reports the restart's error.
func restartAt(t *testing.T, reg *registrytest.Registry, frac float64, down time.Duration) (func(done, size int64), func() error) {
	t.Helper()
	var once sync.Once
	restarted := make(chan error, 1)
	trigger := func(done, size int64) {
		if size > 0 && float64(done) >= frac*float64(size) {
			once.Do(func() {
				reg.Kill()
				go func() { restarted <- reg.Restart(t.Context(), down) }()
			})
		}
	}
	wait := func() error {
		select {
		case err := <-restarted:
			return err
		case <-time.After(2 * time.Minute):
			return errors.New("the registry was never restarted (no progress reported?)")
		}
	}
	return trigger, wait
}

// restartWriter counts what is written through it and calls at with the
// count.
type restartWriter struct {
	n, size int64
	at      func(done, size int64)
}

func (w *restartWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	w.at(w.n, w.size)
	return len(p), nil
}

// TestReliabilityRestartDirect restarts the registry — the process gone for
// over a second, then back on the same port with the same storage — while a
// file is pushed straight to it (no proxy: the client sees connections
// refused and reset, as a user would): as the upload session of a 16 MiB
// file is about to be opened, and 40% into the upload of a 200 MiB one; then
// 40% into pulling that.
// All finish, with the default options and back-off, and the pull is
// verified.
func TestReliabilityRestartDirect(t *testing.T) {
	t.Parallel()
	const size = 200 << 20
	reg := registrytest.StartT(t, registrytest.Config{})
	r, err := New(reg.Host, "restart/direct", WithInsecure(true), WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	var d v1.Hash
	for _, c := range []struct {
		at   float64
		size int64 // (the session is opened before any byte is sent: a big file's way, smaller)
	}{{0, 16 << 20}, {0.4, size}} {
		// A fresh file each time: the registry must not have it already.
		path, fd := bigFile(t, c.size)
		d = fd
		trigger, wait := restartAt(t, reg, c.at, 1500*time.Millisecond)
		res, err := r.PushFile(t.Context(), path, WithProgress(func(p Progress) { trigger(p.Done, p.Blob.Size) }))
		if rerr := wait(); rerr != nil {
			t.Fatalf("restarting the registry: %v", rerr)
		}
		if err != nil {
			t.Fatalf("push across a registry restart at %.0f%%: %v", c.at*100, err)
		}
		if res.Digest != d || res.Size != c.size {
			t.Fatalf("push result %+v, want %s", res, d)
		}
	}

	trigger, wait := restartAt(t, reg, 0.4, 1500*time.Millisecond)
	br, err := r.PullBlob(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(&restartWriter{size: size, at: trigger}, br)
	br.Close()
	if rerr := wait(); rerr != nil {
		t.Fatalf("restarting the registry: %v", rerr)
	}
	if err != nil || n != size {
		t.Fatalf("pull across a registry restart (verified): %d bytes, %v", n, err)
	}
}
