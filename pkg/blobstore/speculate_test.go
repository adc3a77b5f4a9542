package blobstore

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSpeculativePushCancelsUpload: a file the registry already has, pushed
// without a known digest (no digest cache), is hashed ahead of its upload;
// the HEAD finds the blob, the upload is abandoned (its session deleted,
// never committed) and the push reports the blob as existing. The server
// holds the upload's data back until the HEAD has come, and the HEAD's
// answer until the upload's data comes (the session is known by then), so
// the outcome does not depend on timing.
func TestSpeculativePushCancelsUpload(t *testing.T) {
	t.Parallel()
	srv := newMemServer(t)
	r := srv.repo(t, "spec/cancel")
	ctx := t.Context()
	data := seededBytes(speculateMin+5<<20, 10)
	first, err := r.PushFile(ctx, writeTemp(t, data))
	if err != nil || first.Existed {
		t.Fatalf("first push: %+v, %v", first, err)
	}
	if got, err := pullAll(t, r, first.Digest); err != nil || len(got) != len(data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
	// The HEAD is answered only once a PATCH has come (so the client knows
	// the upload session to delete), the PATCH only once the HEAD has come.
	headed, patched := make(chan struct{}), make(chan struct{})
	var headOnce, patchOnce sync.Once
	srv.setHook(func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.Method == http.MethodHead && strings.HasSuffix(req.URL.Path, first.Digest.String()):
			headOnce.Do(func() { close(headed) })
			select {
			case <-patched:
			case <-time.After(time.Minute):
			}
		case req.Method == http.MethodPatch:
			patchOnce.Do(func() { close(patched) })
			select {
			case <-headed:
			case <-time.After(time.Minute):
			}
		}
		return false
	})
	before := srv.count("PUT", "/blobs/uploads/")
	again, err := r.PushFile(ctx, writeTemp(t, data))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existed || again.Digest != first.Digest || again.Size != int64(len(data)) {
		t.Fatalf("second push: %+v, want the existing %s", again, first.Digest)
	}
	if n := srv.count("PUT", "/blobs/uploads/") - before; n != 0 {
		t.Fatalf("the cancelled upload was committed (%d PUTs)", n)
	}
	if n := srv.count("DELETE", "/blobs/uploads/"); n != 1 {
		t.Fatalf("%d DELETEs of the upload session, want 1", n)
	}
}

// TestSpeculativePushDistribution: on the Distribution registry, a new
// file pushed speculatively lands under its digest, and pushing it again
// under another name (no digest cache) reports it as existing or sends it
// again, whichever wins, leaving the blob intact either way.
func TestSpeculativePushDistribution(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	ctx := t.Context()
	data := seededBytes(speculateMin+3<<20, 11)
	sum := sha256.Sum256(data)
	want := "sha256:" + hex.EncodeToString(sum[:])
	for i := range 2 {
		res, err := r.PushFile(ctx, writeTemp(t, data))
		if err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		if res.Digest.String() != want {
			t.Fatalf("push %d: digest %s", i, res.Digest)
		}
		t.Logf("push %d: existed %v", i, res.Existed)
	}
	got, err := pullAll(t, r, mustDigest(t, want).Digest)
	if err != nil || string(got) != string(data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
}
