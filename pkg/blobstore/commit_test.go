package blobstore

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

// commitPaths are the ways a blob's upload is committed, each as a push of
// fresh data through e: the monolithic PUT (POST, then one PUT carrying the
// data), the streamed upload (POST, PATCH, PUT), the chunked upload (POST,
// PATCHes, PUT), the speculative upload of a large file, and the chunk
// commits of a split push.
var commitPaths = []struct {
	name string
	push func(t *testing.T, e *relEnv, data []byte, opts ...TransferOption) error
}{
	{"monolithic", func(t *testing.T, e *relEnv, data []byte, opts ...TransferOption) error {
		_, err := e.repo.PushFile(t.Context(), writeTemp(t, data), opts...)
		return err
	}},
	{"stream", func(t *testing.T, e *relEnv, data []byte, opts ...TransferOption) error {
		_, err := e.repo.PushBlob(t.Context(), onlyReader{bytes.NewReader(data)}, opts...)
		return err
	}},
	{"chunked", func(t *testing.T, e *relEnv, data []byte, opts ...TransferOption) error {
		_, err := e.repo.PushFile(t.Context(), writeTemp(t, data), append(opts, WithChunkSize(int64(len(data)/3)))...)
		return err
	}},
	{"speculative", func(t *testing.T, e *relEnv, _ []byte, opts ...TransferOption) error {
		_, err := e.repo.PushFile(t.Context(), writeTemp(t, randomBytes(t, speculateMin)), opts...)
		return err
	}},
	{"split", func(t *testing.T, e *relEnv, data []byte, opts ...TransferOption) error {
		_, err := e.repo.PushSplit(t.Context(), bytes.NewReader(data), append(opts, WithSplitAverage(16<<10))...)
		return err
	}},
}

// TestCommitNamingAnotherDigestFails: a commit answered 201 Created whose
// Docker-Content-Digest names another digest than the one pushed fails the
// push, whichever way the upload was made.
func TestCommitNamingAnotherDigestFails(t *testing.T) {
	t.Parallel()
	other := "sha256:" + strings.Repeat("1", 64)
	for _, p := range commitPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			e := newRelEnv(t)
			e.proxy.Inject(faultproxy.Rule{Method: http.MethodPut, Path: "/blobs/uploads/"},
				faultproxy.ResponseHeader("Docker-Content-Digest", other))
			err := p.push(t, e, randomBytes(t, 256<<10))
			var dm *DigestMismatchError
			if !errors.As(err, &dm) || dm.Got.String() != other {
				t.Fatalf("push whose commit named %s: %v, want a digest mismatch naming it", other, err)
			}
		})
	}
}

// TestVerifyStoredTrustsANamedCommit: with WithVerifyStored, a commit whose
// answer names the blob (Docker-Content-Digest and Location, as
// Distribution answers) costs no HEAD afterwards; one that does not name
// it is followed by a HEAD.
func TestVerifyStoredTrustsANamedCommit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		strip string // response header removed from the commit's answer
		heads int    // HEADs after the commit
	}{
		{"named", "", 0},
		{"no digest", "Docker-Content-Digest", 1},
		{"no location", "Location", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newRelEnv(t)
			if tc.strip != "" {
				e.proxy.Inject(faultproxy.Rule{Method: http.MethodPut, Path: "/blobs/uploads/"},
					faultproxy.ResponseHeader(tc.strip, ""))
			}
			for _, p := range commitPaths[:3] { // the paths of PushBlob/PushFile
				e.proxy.ResetStats()
				if err := p.push(t, e, randomBytes(t, 64<<10), WithVerifyStored(true)); err != nil {
					t.Fatalf("%s: %v", p.name, err)
				}
				reqs := e.proxy.Requests()
				commit := -1
				for i, rq := range reqs {
					if rq.Method == http.MethodPut {
						commit = i
					}
				}
				if commit < 0 {
					t.Fatalf("%s: no commit among %d requests", p.name, len(reqs))
				}
				heads := 0
				for _, rq := range reqs[commit+1:] {
					if rq.Method == http.MethodHead {
						heads++
					}
				}
				if heads != tc.heads {
					t.Errorf("%s: %d HEAD after the commit, want %d", p.name, heads, tc.heads)
				}
			}
		})
	}
}

// TestVerifyStoredCatchesAnUnnamedCommitThatStoredNothing: a commit
// answered 201 that names nothing is checked (HEAD), and a blob the
// registry does not have fails the push.
func TestVerifyStoredCatchesAnUnnamedCommitThatStoredNothing(t *testing.T) {
	t.Parallel()
	e := newRelEnv(t)
	e.proxy.Inject(faultproxy.Rule{Method: http.MethodPut, Path: "/blobs/uploads/"},
		faultproxy.ResponseHeader("Docker-Content-Digest", ""))
	// The HEAD after the commit answers 404, as a registry that stored nothing.
	e.proxy.Inject(faultproxy.Rule{Method: http.MethodHead, Path: "/blobs/sha256:", Skip: 1}, faultproxy.Status(http.StatusNotFound))
	_, err := e.repo.PushFile(t.Context(), writeTemp(t, randomBytes(t, 4<<10)), WithVerifyStored(true))
	if err == nil || !strings.Contains(err.Error(), "does not have the blob") {
		t.Fatalf("push whose commit stored nothing: %v, want %q", err, "does not have the blob")
	}
}
