package blobstore

// Reliability tests: the real Distribution registry behind a fault-injecting
// proxy (pkg/registrytest/faultproxy). Every operation, under every fault,
// must either succeed with the right data or fail with an error that says
// what went wrong — and the registry must never end up holding a wrong blob
// or an alias that points at blobs it does not have. The registry is checked
// directly, bypassing the proxy, after each operation.
//
// docs/reliability.md is the fault matrix these tests measure; keep the two
// in step.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// bigFile writes a file of size bytes, different from any other, and
// returns its path and digest.
func bigFile(t *testing.T, size int64) (string, v1.Hash) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	block := randomBytes(t, 1<<20)
	for off := int64(0); off < size; off += int64(len(block)) {
		block[0]++ // no two blocks alike
		if _, err := f.Write(block[:min(int64(len(block)), size-off)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	d, n, err := HashFile(p)
	if err != nil || n != size {
		t.Fatal(n, err)
	}
	return p, d
}

// pushResume pushes a 256 MiB file in 16 MiB chunks with the request body
// cut once, at 60% of the file, by fault, and checks the blob landed whole.
func pushResume(t *testing.T, fault func(n int64) faultproxy.Fault) *relEnv {
	const (
		size  = 256 << 20
		chunk = 16 << 20
		cut   = size * 6 / 10
	)
	e := newRelEnv(t, WithDefaultChunkSize(chunk))
	path, d := bigFile(t, size)
	inj := e.proxy.Inject(faultproxy.Rule{Method: http.MethodPatch, Path: "/blobs/uploads/", Skip: cut / chunk, Times: 1},
		fault(cut%chunk))
	res, err := e.repo.PushFile(t.Context(), path)
	if err != nil {
		t.Fatalf("push with a request cut at 60%%: %v", err)
	}
	if inj.Hits() != 1 {
		t.Fatalf("the cut was served %d times (is the push chunked?)", inj.Hits())
	}
	if res.Digest != d || res.Size != size {
		t.Fatalf("push result %+v, want %s", res, d)
	}
	if got, err := e.direct.BlobSize(t.Context(), d); err != nil || got != size {
		t.Fatalf("registry: size %d, %v", got, err)
	}
	br, err := e.direct.PullBlob(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	if n, err := io.Copy(io.Discard, br); err != nil || n != size {
		t.Fatalf("pull back (verified): %d bytes, %v", n, err)
	}
	received := e.proxy.BytesReceived()
	t.Logf("sent %d bytes for %d (%.3f×) in %d session(s), %d PATCH requests", received, size,
		float64(received)/size, e.proxy.Count(http.MethodPost, "/blobs/uploads/$"), e.proxy.Count(http.MethodPatch, ""))
	if received >= size*3/2 {
		t.Fatalf("the proxy received %d bytes, not less than 1.5 × %d", received, size)
	}
	return e
}

// TestReliabilityPushResumeBufferedCut: a request-buffering proxy in front
// of the registry loses the client connection 60% into a 256 MiB push. The
// registry never saw the broken chunk; the push resumes at it.
func TestReliabilityPushResumeBufferedCut(t *testing.T) {
	t.Parallel()
	e := pushResume(t, faultproxy.CutRequest)
	// The same session, with the cut chunk sent again: the cut part is all
	// that was sent twice.
	if n := e.proxy.Count(http.MethodPost, "/blobs/uploads/$"); n != 1 {
		t.Errorf("%d upload sessions, want 1", n)
	}
	if got, want := e.proxy.BytesReceived(), int64(256<<20+(256<<20*6/10)%(16<<20)); got != want {
		t.Errorf("the proxy received %d bytes, want %d", got, want)
	}
}

// TestReliabilityPushResumeForwardedCut: the connection breaks 60% into a
// 256 MiB push and the registry receives part of a chunk. It keeps that
// part; the client asks how much it holds and carries on from there.
func TestReliabilityPushResumeForwardedCut(t *testing.T) {
	t.Parallel()
	e := pushResume(t, faultproxy.CutRequestForwarded)
	if n := e.proxy.Count(http.MethodPost, "/blobs/uploads/$"); n != 1 {
		t.Errorf("%d upload sessions, want 1 (the session continues from the registry's offset)", n)
	}
}

// TestReliabilityPushChunkCutAfterOneByte: the registry received exactly
// one byte of the first chunk. Distribution reports that as "Range: 0-0",
// exactly as it reports an empty upload.
func TestReliabilityPushChunkCutAfterOneByte(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t, WithDefaultChunkSize(64<<10), WithRetries(relRetries))
	data := randomBytes(t, 200<<10)
	e.proxy.Inject(faultproxy.Rule{Method: http.MethodPatch, Times: 1}, faultproxy.CutRequestForwarded(1))
	res, err := e.repo.PushFile(t.Context(), writeTemp(t, data))
	if err != nil {
		t.Fatalf("push after the registry kept 1 byte of the first chunk: %v", err)
	}
	if res.Digest != HashBytes(data) || !e.checkNoWrongBlob(t, data) {
		t.Fatalf("push result %+v", res)
	}
}

// TestReliabilityPushRestartsLostSession: a chunk fails and the registry
// then no longer knows the upload session (here: the status request answers
// 404). The push starts over in a new session and succeeds.
func TestReliabilityPushRestartsLostSession(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t, WithDefaultChunkSize(1<<20), WithRetries(relRetries))
	data := randomBytes(t, relBlobSize)
	e.proxy.Inject(faultproxy.Rule{Method: http.MethodPatch, Skip: 1, Times: 1}, faultproxy.CutRequest(100<<10))
	lost := e.proxy.Inject(faultproxy.Rule{Method: http.MethodGet, Path: "/blobs/uploads/", Times: 1}, faultproxy.Status(http.StatusNotFound))
	res, err := e.repo.PushFile(t.Context(), writeTemp(t, data))
	if err != nil || res.Digest != HashBytes(data) {
		t.Fatalf("push: %+v, %v", res, err)
	}
	if lost.Hits() != 1 {
		t.Fatalf("the status request was answered 404 %d times", lost.Hits())
	}
	if n := e.proxy.Count(http.MethodPost, "/blobs/uploads/$"); n != 2 {
		t.Errorf("%d upload sessions, want 2", n)
	}
	if got, want := e.proxy.BytesReceived(), int64(relBlobSize+1<<20+100<<10); got != want {
		t.Errorf("the proxy received %d bytes, want %d (the first chunk again, and the cut part)", got, want)
	}
	if !e.checkNoWrongBlob(t, data) {
		t.Fatal("the registry lacks the blob")
	}
}

// TestReliabilityPushChunkAnsweredEarly: the registry (here the proxy)
// answers 503 to a chunk without reading it, so the HTTP transport may
// still be sending the chunk — reading the file and feeding the hash — when
// the answer arrives. The recovery must not touch the hash or the file
// position until the transport is done with the body (run with -race).
func TestReliabilityPushChunkAnsweredEarly(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t, WithDefaultChunkSize(8<<20), WithRetries(relRetries))
	data := randomBytes(t, 16<<20)
	inj := e.proxy.Inject(faultproxy.Rule{Method: http.MethodPatch, Times: 2}, faultproxy.Status(http.StatusServiceUnavailable))
	res, err := e.repo.PushFile(t.Context(), writeTemp(t, data))
	if err != nil || res.Digest != HashBytes(data) || inj.Hits() != 2 {
		t.Fatalf("push: %+v, %v (503 served %d times)", res, err, inj.Hits())
	}
	if !e.checkNoWrongBlob(t, data) {
		t.Fatal("the registry lacks the blob")
	}
}

// TestReliabilityDistributionUploadOffsets checks, with plain HTTP, the
// registry behaviour chunk recovery relies on: after the registry kept part
// of a chunk, the upload URL it gave before (which signs the old offset)
// is refused, while a GET on it reports the offset it holds and a fresh URL
// with which the upload carries on.
func TestReliabilityDistributionUploadOffsets(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	c := &http.Client{}
	do := func(method, u string, hdr http.Header, body []byte) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	chunk := func(data []byte, off int) http.Header {
		return http.Header{"Content-Type": {"application/octet-stream"},
			"Content-Range": {fmt.Sprintf("%d-%d", off, off+len(data)-1)}}
	}
	data := randomBytes(t, 1000)
	resp := do(http.MethodPost, e.proxy.URL+"/v2/"+e.name+"/blobs/uploads/", nil, nil)
	if resp == nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST: %v", resp)
	}
	old := resp.Header.Get("Location")
	if !strings.HasPrefix(old, e.proxy.URL+"/") {
		t.Fatalf("Location %q does not lead through the proxy", old)
	}
	e.proxy.Inject(faultproxy.Rule{Method: http.MethodPatch, Times: 1}, faultproxy.CutRequestForwarded(300))
	if resp := do(http.MethodPatch, old, chunk(data, 0), data); resp != nil {
		t.Fatalf("the cut PATCH got an answer: %s", resp.Status)
	}
	if resp := do(http.MethodPatch, old, chunk(data[300:], 300), data[300:]); resp == nil || resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("PATCH on the old URL: %v, want 416", resp)
	}
	resp = do(http.MethodGet, old, nil, nil)
	if resp == nil || resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != "0-299" {
		t.Fatalf("upload status: %v", resp)
	}
	fresh := resp.Header.Get("Location")
	if resp := do(http.MethodPatch, fresh, chunk(data[300:], 300), data[300:]); resp == nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PATCH on the fresh URL: %v, want 202", resp)
	}
}

// TestReliabilityConcurrentPushSameBlob: eight pushes of the same 4 MiB
// blob into the same repository at once, files in chunks and streams.
func TestReliabilityConcurrentPushSameBlob(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t, WithDefaultChunkSize(1<<20))
	data := randomBytes(t, 4<<20)
	path := writeTemp(t, data)
	var wg sync.WaitGroup
	res := make([]PushResult, 8)
	errs := make([]error, len(res))
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				res[i], errs[i] = e.repo.PushFile(t.Context(), path)
			} else {
				res[i], errs[i] = e.repo.PushBlob(t.Context(), bytes.NewReader(data))
			}
		}()
	}
	wg.Wait()
	want := Blob{Digest: HashBytes(data), Size: int64(len(data))}
	for i := range res {
		if errs[i] != nil || res[i].Blob() != want {
			t.Errorf("push %d: %+v, %v", i, res[i], errs[i])
		}
	}
	if !e.checkNoWrongBlob(t, data) {
		t.Fatal("the registry lacks the blob")
	}
}

// TestReliabilityPushMonolithicPutFaults: a small file goes in one PUT that
// carries the data and commits it. Cut on its way (the registry never hears
// of it, or stores part of it), answered but the answer lost, or a byte
// flipped: the push recovers with the right blob, or fails and the registry
// holds no wrong one.
func TestReliabilityPushMonolithicPutFaults(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		fault faultproxy.Fault
		ok    bool
	}{
		{"cut", faultproxy.CutRequest(100 << 10), true},
		{"cut forwarded", faultproxy.CutRequestForwarded(100 << 10), true},
		{"answer lost", faultproxy.LoseResponse(), true},
		{"byte flipped", faultproxy.FlipRequestByte(1000), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newRelEnv(t, WithRetries(relRetries))
			data := randomBytes(t, 1<<20)
			inj := e.proxy.Inject(faultproxy.Rule{Method: http.MethodPut, Path: "/blobs/uploads/", Times: 1}, c.fault)
			res, err := e.repo.PushFile(t.Context(), writeTemp(t, data))
			if inj.Hits() != 1 {
				t.Fatalf("the fault was served %d times", inj.Hits())
			}
			// Where the registry kept part of the PUT, the rest follows in a
			// PATCH of that session; otherwise the data travels in PUTs only.
			if n := e.proxy.Count(http.MethodPatch, ""); n != 0 && c.name != "cut forwarded" {
				t.Errorf("%d PATCH requests: the data should travel in the PUT", n)
			}
			if got := e.proxy.BytesReceived(); got > 2*int64(len(data)) {
				t.Errorf("the proxy received %d bytes for %d", got, len(data))
			}
			if c.ok && (err != nil || res.Digest != HashBytes(data)) {
				t.Fatalf("push: %+v, %v", res, err)
			}
			if !c.ok && err == nil {
				t.Fatalf("push of a corrupted upload succeeded: %+v", res)
			}
			e.checkNoWrongBlob(t, data)
		})
	}
}
