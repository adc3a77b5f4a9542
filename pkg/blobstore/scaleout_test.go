package blobstore

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// TestIntegrationScaleOut runs two Distribution instances on one S3 bucket
// with the same http.secret, as a scaled-out registry is deployed: a blob
// pushed through one is pulled (verified, by redirect to the object store)
// through the other; and a chunked upload begun through a load balancer in
// front of both is finished by the second after the first is killed
// mid-upload.
func TestIntegrationScaleOut(t *testing.T) {
	t.Parallel()
	g := registrytest.StartS3T(t)
	cfg := registrytest.Config{Secret: "scale-out-shared-secret",
		S3: &registrytest.S3Storage{Gateway: g, RootDirectory: "/scale-out-test"}}
	a := registrytest.StartT(t, cfg)
	b := registrytest.StartT(t, cfg)
	repo := func(host string) *Repository {
		r, err := New(host, "scale/out", WithInsecure(true), WithKeychain(nil), WithCABundle(g.CAFile), WithDefaultChunkSize(64<<10), WithRetries(3))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// Push through one, pull through the other.
	data := randomBytes(t, 300<<10)
	res := pushBytes(t, repo(a.Host), data)
	if got, err := pullAll(t, repo(b.Host), res.Digest); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pull through the other instance: %v", err)
	}
	if _, err := repo(a.Host).SetAliasBlobs(t.Context(), "latest", res.Blob()); err != nil {
		t.Fatal(err)
	}
	if al, err := repo(b.Host).GetAlias(t.Context(), "latest", ""); err != nil || al.Image().Digests()[0] != res.Digest {
		t.Fatalf("alias through the other instance: %v", err)
	}

	// An upload in 64 KiB chunks through the balancer; the first instance
	// is killed once a chunk has gone through.
	lb, err := registrytest.NewLoadBalancer(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	big := randomBytes(t, 1<<20)
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	var (
		once   sync.Once
		killed atomic.Bool
	)
	kill := func(p Progress) {
		if p.Done >= 64<<10 && !p.Finished {
			once.Do(func() { a.Kill(); killed.Store(true) })
		}
	}
	res, err = repo(lb.Host).PushFile(t.Context(), path, WithProgress(kill))
	if err != nil {
		t.Fatalf("push while an instance dies: %v", err)
	}
	if !killed.Load() {
		t.Fatal("the first instance was not killed during the upload")
	}
	sent := lb.Sent()
	if sent[a.Host] == 0 || sent[b.Host] == 0 {
		t.Fatalf("the upload did not span both instances: %v", sent)
	}
	if got, err := pullAll(t, repo(b.Host), res.Digest); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("pull of the upload: %v", err)
	}
	t.Logf("requests per instance: %v", sent)
}
