package blobstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/dxf-go/dxf/pkg/registrytest"
	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

// pushArtifact stores, as alias, an OCI 1.1 artifact another tool might
// write: a config of a foreign media type, one layer, and subject as its
// subject. It returns the manifest's raw bytes.
func pushArtifact(t *testing.T, r *Repository, alias string, subject *Manifest) []byte {
	t.Helper()
	cfg := pushBytes(t, r, []byte(`{"tool":"other"}`))
	layer := pushBytes(t, r, []byte("signature bytes"))
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeOCIManifest,
		"artifactType":  "application/vnd.example.signature",
		"config":        map[string]any{"mediaType": "application/vnd.example.config+json", "digest": cfg.Digest.String(), "size": cfg.Size},
		"layers":        []map[string]any{{"mediaType": "application/vnd.example.sig", "digest": layer.Digest.String(), "size": layer.Size}},
		"subject":       map[string]any{"mediaType": subject.MediaType, "digest": subject.Digest.String(), "size": subject.Size()},
	}
	raw, _ := json.Marshal(m)
	if _, err := r.SetManifest(t.Context(), alias, raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// blobUploadBytes is how many request body bytes the proxy saw going to
// blob endpoints (uploads), and how many mounts it saw.
func blobUploadBytes(p *faultproxy.Proxy) (n int64, mounts int) {
	for _, r := range p.Requests() {
		if strings.Contains(r.Path, "/blobs/") {
			n += r.BytesIn
		}
		if r.Method == "POST" && strings.Contains(r.RawQuery, "mount=") {
			mounts++
		}
	}
	return n, mounts
}

// TestCopyBetweenRegistries copies from a registry with htpasswd over TLS to
// a plain one: a plain alias, a split alias, a multi-platform index and an
// OCI artifact with a foreign config and a subject, each byte-identical
// and readable on the target; the source's credentials never reach the
// target; a second copy sends no blob byte.
func TestCopyBetweenRegistries(t *testing.T) {
	t.Parallel()
	a := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthHtpasswd})
	src, err := New(a.Host, "copy/src", WithAuth(authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password})), WithCABundle(a.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.StartT(t, plain(t).URL)
	dst, err := New(proxy.Host, "copy/dst", WithInsecure(true), WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	b1, b2 := pushBytes(t, src, []byte("first blob")), pushBytes(t, src, randomBytes(t, 100<<10))
	plainM, err := src.SetAliasBlobs(ctx, "plain", b1.Blob(), b2.Blob())
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 300<<10)
	sp, err := src.PushSplit(ctx, bytes.NewReader(data), WithSplitAverage(16<<10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.SetAliasBlobs(ctx, "split", sp.Chunks...); err != nil {
		t.Fatal(err)
	}
	pushIndex(t, src, MediaTypeOCIIndex)
	sigRaw := pushArtifact(t, src, "sig", plainM)

	for _, alias := range []string{"plain", "split", "multi", "sig"} {
		want, err := src.GetManifest(ctx, alias)
		if err != nil {
			t.Fatal(err)
		}
		var finished atomic.Int64
		res, err := Copy(ctx, src, dst, alias, "", WithJobs(3), WithProgress(func(p Progress) {
			if p.Finished {
				finished.Add(1)
			}
		}))
		if err != nil {
			t.Fatalf("copy %s: %v", alias, err)
		}
		if res.Manifest.Digest != want.Digest || !bytes.Equal(res.Manifest.Raw, want.Raw) {
			t.Fatalf("copy %s: stored %s, the source is %s", alias, res.Manifest.Digest, want.Digest)
		}
		if got, err := dst.GetManifest(ctx, alias); err != nil || !bytes.Equal(got.Raw, want.Raw) {
			t.Fatalf("copy %s: the target's alias: %v", alias, err)
		}
		if int(finished.Load()) != res.Blobs || res.Existed+res.Mounted+res.Copied != res.Blobs || res.Mounted != 0 {
			t.Fatalf("copy %s: %d progress reports, result %+v", alias, finished.Load(), res)
		}
	}
	// Readable on the target: the split alias gives the data back, each
	// platform resolves, the artifact reaches its subject.
	var buf bytes.Buffer
	if err := dst.PullAlias(ctx, &buf, "split"); err != nil || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("pull split from the target: %v", err)
	}
	if al, err := dst.GetAlias(ctx, "multi", ""); err != nil || len(al.Platforms) != 2 {
		t.Fatalf("multi on the target: %+v %v", al, err)
	}
	reach, err := dst.Reach(ctx, "sig")
	if err != nil || len(reach.Manifests) != 2 || reach.Manifests[0].Digest != plainM.Digest || !bytes.Equal(reach.Root.Raw, sigRaw) || len(reach.Blobs) != 4 {
		t.Fatalf("reach sig on the target: %+v %v", reach, err)
	}

	// Neither the password nor any Authorization went to the target.
	for _, r := range proxy.Requests() {
		if r.Header.Get("Authorization") != "" {
			t.Fatalf("%s %s carried Authorization to the target", r.Method, r.Path)
		}
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, a.Password) {
					t.Fatalf("%s %s carried the source's password", r.Method, r.Path)
				}
			}
		}
	}

	// Again: everything is there, nothing is sent but HEADs and manifests.
	proxy.ResetStats()
	res, err := Copy(ctx, src, dst, "split", "split2")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := blobUploadBytes(proxy); n != 0 || res.Existed != res.Blobs || res.Copied != 0 || res.Bytes != 0 {
		t.Fatalf("second copy sent %d blob bytes: %+v", n, res)
	}
}

// TestCopyMount: between repositories of one registry, blobs are mounted:
// no blob byte goes through the client.
func TestCopyMount(t *testing.T) {
	t.Parallel()
	proxy := faultproxy.StartT(t, plain(t).URL)
	src, _ := New(proxy.Host, "copymount/src", WithInsecure(true), WithKeychain(nil))
	dst, _ := New(proxy.Host, "copymount/dst", WithInsecure(true), WithKeychain(nil))
	var blobs []Blob
	for range 4 {
		blobs = append(blobs, pushBytes(t, src, randomBytes(t, 32<<10)).Blob())
	}
	want, err := src.SetAliasBlobs(t.Context(), "v1", blobs...)
	if err != nil {
		t.Fatal(err)
	}
	proxy.ResetStats()
	var mountedReports atomic.Int64
	res, err := Copy(t.Context(), src, dst, "v1", "promoted", WithProgress(func(p Progress) {
		if p.Mounted && p.Finished {
			mountedReports.Add(1)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	n, mounts := blobUploadBytes(proxy)
	if n != 0 || mounts != 4 || res.Mounted != 4 || res.Bytes != 0 || mountedReports.Load() != 4 || res.Manifest.Digest != want.Digest {
		t.Fatalf("mount copy: %d blob bytes sent, %d mounts, %+v", n, mounts, res)
	}
	var buf bytes.Buffer
	if err := dst.PullAlias(t.Context(), &buf, "promoted"); err != nil || buf.Len() != 4*32<<10 {
		t.Fatalf("pull the copy: %d bytes, %v", buf.Len(), err)
	}
}

// TestCopyResume: a copy cancelled after some blobs leaves no alias; run
// again, it sends only the blobs that are missing.
func TestCopyResume(t *testing.T) {
	t.Parallel()
	src := plainRepo(t)
	proxy := faultproxy.StartT(t, plain(t).URL)
	dst, _ := New(proxy.Host, "copyresume/dst", WithInsecure(true), WithKeychain(nil))
	var blobs []Blob
	for range 6 {
		blobs = append(blobs, pushBytes(t, src, randomBytes(t, 64<<10)).Blob())
	}
	if _, err := src.SetAliasBlobs(t.Context(), "six", blobs...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var done atomic.Int64
	_, err := Copy(ctx, src, dst, "six", "", WithJobs(1), WithProgress(func(p Progress) {
		if p.Finished && done.Add(1) == 3 {
			cancel()
		}
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy: %v", err)
	}
	if _, err := dst.GetManifest(t.Context(), "six"); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("the alias was set by a copy that did not finish: %v", err)
	}
	proxy.ResetStats()
	res, err := Copy(t.Context(), src, dst, "six", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Existed != 3 || res.Copied != 3 || proxy.Count("POST", "/v2/copyresume/dst/blobs/uploads/") != 3 {
		t.Fatalf("re-run: %+v, %d uploads", res, proxy.Count("POST", "/v2/copyresume/dst/blobs/uploads/"))
	}
	if n, _ := blobUploadBytes(proxy); n != 3*64<<10 {
		t.Fatalf("re-run sent %d blob bytes, want %d", n, 3*64<<10)
	}
}

// TestCopyCorruptSource: a source blob whose bytes do not match its digest
// fails the copy, naming both digests, and the alias is not written.
func TestCopyCorruptSource(t *testing.T) {
	t.Parallel()
	reg := plain(t)
	proxy := faultproxy.StartT(t, reg.URL)
	src, _ := New(proxy.Host, "copybad/src", WithInsecure(true), WithKeychain(nil))
	dst, _ := New(reg.Host, "copybad/dst", WithInsecure(true), WithKeychain(nil))
	good := pushBytes(t, src, []byte("good blob"))
	bad := pushBytes(t, src, randomBytes(t, 20<<10))
	if _, err := src.SetAliasBlobs(t.Context(), "v1", good.Blob(), bad.Blob()); err != nil {
		t.Fatal(err)
	}
	proxy.Inject(faultproxy.Rule{Method: "GET", Path: "/blobs/" + bad.Digest.String()}, faultproxy.FlipResponseByte(100))
	_, err := Copy(t.Context(), src, dst, "v1", "")
	var dm *DigestMismatchError
	if !errors.As(err, &dm) || dm.Expected != bad.Digest || !strings.Contains(err.Error(), bad.Digest.String()) || !strings.Contains(err.Error(), dm.Got.String()) {
		t.Fatalf("corrupt source: %v", err)
	}
	if _, err := dst.GetManifest(t.Context(), "v1"); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("alias set despite the corrupt blob: %v", err)
	}
	if ok, err := dst.HasBlob(t.Context(), bad.Digest); ok || err != nil {
		t.Fatalf("the corrupt blob is on the target: %v %v", ok, err)
	}
	// Into a layout: the same, and no file under the digest.
	lay, err := OpenLayout(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err = Copy(t.Context(), src, lay, "v1", ""); !errors.As(err, &dm) || dm.Expected != bad.Digest {
		t.Fatalf("corrupt source into a layout: %v", err)
	}
	if ok, err := lay.HasBlob(t.Context(), bad.Digest); ok || err != nil {
		t.Fatalf("the corrupt blob is in the layout: %v %v", ok, err)
	}
	if _, err := lay.GetManifest(t.Context(), "v1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("alias set in the layout despite the corrupt blob: %v", err)
	}
}

// TestReachWalk: nested indexes, a subject and shared blobs are walked in
// post-order, each once.
func TestReachWalk(t *testing.T) {
	t.Parallel()
	r := newMemRepo(t, "reach/walk")
	ctx := t.Context()
	amd, arm := pushIndex(t, r, MediaTypeOCIIndex)
	inner, err := r.GetManifest(ctx, "multi")
	if err != nil {
		t.Fatal(err)
	}
	outer := map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeOCIIndex,
		"manifests": []map[string]any{
			{"mediaType": MediaTypeOCIIndex, "digest": inner.Digest.String(), "size": inner.Size()},
			{"mediaType": MediaTypeDockerManifest, "digest": HashBytes(amd).String(), "size": len(amd)},
		},
	}
	raw, _ := json.Marshal(outer)
	if _, err := r.SetManifest(ctx, "outer", raw); err != nil {
		t.Fatal(err)
	}
	reach, err := r.Reach(ctx, "outer")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, m := range reach.Manifests {
		order = append(order, m.Digest.String())
	}
	want := []string{HashBytes(amd).String(), HashBytes(arm).String(), inner.Digest.String(), HashBytes(raw).String()}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("manifests %v, want %v", order, want)
	}
	// A dxf alias's config is its first blob: two blobs in all, each once.
	if len(reach.Blobs) != 2 {
		t.Fatalf("blobs %+v", reach.Blobs)
	}
	// A descriptor that understates a child's size is refused.
	bad := strings.Replace(string(raw), `"size":`+strconv.Itoa(len(amd)), `"size":`+strconv.Itoa(len(amd)-1), 1)
	if _, err := r.SetManifest(ctx, "bad", []byte(bad)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reach(ctx, "bad"); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("understated size: %v", err)
	}
}

// TestCopyLayout copies a split alias and a multi-platform index from a
// registry into an OCI image layout and back out to another registry: the
// same digests, readable at each end; a second copy into the layout writes
// no blob.
func TestCopyLayout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := plainRepo(t)
	data := randomBytes(t, 200<<10)
	sp, err := src.PushSplit(ctx, bytes.NewReader(data), WithSplitAverage(16<<10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.SetAliasBlobs(ctx, "split", sp.Chunks...); err != nil {
		t.Fatal(err)
	}
	pushIndex(t, src, MediaTypeDockerManifestList)
	lay, err := Open(ctx, LayoutPrefix+t.TempDir()+"/store")
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.StartT(t, plain(t).URL)
	out, _ := New(proxy.Host, "copylayout/out", WithInsecure(true), WithKeychain(nil))
	for _, alias := range []string{"split", "multi"} {
		want, err := src.GetManifest(ctx, alias)
		if err != nil {
			t.Fatal(err)
		}
		in, err := Copy(ctx, src, lay, alias, "")
		if err != nil || in.Manifest.Digest != want.Digest || in.Copied != in.Blobs {
			t.Fatalf("copy %s into the layout: %+v %v", alias, in, err)
		}
		again, err := Copy(ctx, src, lay, alias, "")
		if err != nil || again.Existed != again.Blobs || again.Bytes != 0 {
			t.Fatalf("copy %s into the layout again: %+v %v", alias, again, err)
		}
		back, err := Copy(ctx, lay, out, alias, "")
		if err != nil || back.Manifest.Digest != want.Digest || back.Copied != back.Blobs {
			t.Fatalf("copy %s out of the layout: %+v %v", alias, back, err)
		}
	}
	for _, r := range []*Repository{lay, out} {
		var buf bytes.Buffer
		if err := r.PullAlias(ctx, &buf, "split"); err != nil || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("%s: pull split: %v", r, err)
		}
		if al, err := r.GetAlias(ctx, "multi", "linux/arm64"); err != nil || al.Image() == nil {
			t.Fatalf("%s: multi: %v", r, err)
		}
	}
}
