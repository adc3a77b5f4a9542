package blobstore

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// traceGolden is the recorded HTTP request sequence of the main public
// calls (method, path with names and digests elided, query keys, status),
// taken through the fault proxy's request log before *Repository gained a
// store backend. The registry's wire behaviour must not drift: regenerate
// with DXF_UPDATE_TRACE=1 only for an intended change, and say why in the
// commit.
const traceGolden = "testdata/trace.golden"

var (
	traceDigest = regexp.MustCompile(`sha256:[0-9a-f]{64}`)
	traceUpload = regexp.MustCompile(`/blobs/uploads/[^/?]+`)
)

// TestRequestTrace records the request sequence of the main public calls on
// a real registry and compares it with the golden trace.
func TestRequestTrace(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	ctx := t.Context()
	var out strings.Builder
	step := func(name string, f func() error) {
		t.Helper()
		before := len(e.proxy.Requests())
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fmt.Fprintf(&out, "# %s\n", name)
		for _, r := range e.proxy.Requests()[before:] {
			p := strings.ReplaceAll(r.Path, "/"+e.name+"/", "/REPO/")
			p = traceUpload.ReplaceAllString(traceDigest.ReplaceAllString(p, "DIGEST"), "/blobs/uploads/UUID")
			var keys []string
			for _, kv := range strings.Split(r.RawQuery, "&") {
				if k, _, _ := strings.Cut(kv, "="); k != "" {
					keys = append(keys, k)
				}
			}
			q := ""
			if len(keys) > 0 {
				q = "?" + strings.Join(keys, "&")
			}
			fmt.Fprintf(&out, "%s %s%s %d\n", r.Method, p, q, r.Status)
		}
	}
	small := bytes.Repeat([]byte("trace"), 1000)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, bytes.Repeat([]byte("file"), 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	var pushed, filed PushResult
	step("PushBlob stream", func() (err error) {
		pushed, err = e.repo.PushBlob(ctx, io.MultiReader(bytes.NewReader(small)))
		return err
	})
	step("PushBlob known digest, exists", func() error {
		_, err := e.repo.PushBlob(ctx, bytes.NewReader(small), WithDigest(pushed.Digest))
		return err
	})
	step("PushFile small", func() (err error) {
		filed, err = e.repo.PushFile(ctx, file)
		return err
	})
	step("SetAlias", func() error { _, err := e.repo.SetAlias(ctx, "week", pushed.Digest, filed.Digest); return err })
	step("SetAliasBlobs", func() error { _, err := e.repo.SetAliasBlobs(ctx, "one", filed.Blob()); return err })
	step("GetManifest", func() error { _, err := e.repo.GetManifest(ctx, "week"); return err })
	step("GetAlias", func() error { _, err := e.repo.GetAlias(ctx, "week", ""); return err })
	step("PullAlias jobs=1", func() error { return e.repo.PullAlias(ctx, io.Discard, "week", WithJobs(1)) })
	step("PullBlob", func() error {
		br, err := e.repo.PullBlob(ctx, pushed.Digest)
		if err != nil {
			return err
		}
		defer br.Close()
		_, err = io.Copy(io.Discard, br)
		return err
	})
	step("BlobSize", func() error { _, err := e.repo.BlobSize(ctx, filed.Digest); return err })
	step("AliasSize", func() error { _, err := e.repo.AliasSize(ctx, "week", ""); return err })
	step("ListAliases", func() error { _, err := e.repo.ListAliases(ctx); return err })
	step("OpenAliasUnverified ReadAt", func() error {
		f, err := e.repo.OpenAliasUnverified(ctx, "one", "")
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.ReadAt(make([]byte, 100), 10)
		return err
	})
	step("PushSplit", func() error {
		_, err := e.repo.PushSplit(ctx, bytes.NewReader(bytes.Repeat([]byte("0123456789abcdef"), 1<<12)), WithJobs(1))
		return err
	})
	step("DeleteAlias", func() error { _, err := e.repo.DeleteAlias(ctx, "one"); return err })
	step("DeleteBlob", func() error { return e.repo.DeleteBlob(ctx, pushed.Digest) })

	if os.Getenv("DXF_UPDATE_TRACE") != "" {
		if err := os.WriteFile(traceGolden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(traceGolden)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("the request sequence changed:\n--- got\n%s\n--- want\n%s", got, want)
	}
}
