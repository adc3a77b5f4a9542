package blobstore

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest"
	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
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
