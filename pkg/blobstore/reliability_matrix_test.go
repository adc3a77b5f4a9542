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
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

// relOp is one operation of the fault matrix.
type relOp struct {
	// target selects the requests the faults hit (Skip and Times are set by
	// the cell).
	target faultproxy.Rule
	// skip lets that many target requests through before the fault.
	skip int
	opts []Option
	// run sets the registry up directly, runs the operation through the
	// proxy, checks the registry is not left wrong, and returns the
	// operation's error.
	run func(t *testing.T, e *relEnv) error
}

const relBlobSize = 3 << 20 // three 1 MiB chunks

var relOps = map[string]relOp{
	// PushFile in three chunks; faults hit the second chunk's PATCH.
	"push-file": {
		target: faultproxy.Rule{Method: http.MethodPatch, Path: "/blobs/uploads/"}, skip: 1,
		opts: []Option{WithDefaultChunkSize(1 << 20)},
		run:  runPushFile,
	},
	// PushFile; faults hit the commit (PUT ?digest=).
	"push-commit": {
		target: faultproxy.Rule{Method: http.MethodPut, Path: "/blobs/uploads/"},
		opts:   []Option{WithDefaultChunkSize(1 << 20)},
		run:    runPushFile,
	},
	// PushFile; faults hit the POST that opens the upload session.
	"push-start": {
		target: faultproxy.Rule{Method: http.MethodPost, Path: "/blobs/uploads/$"},
		opts:   []Option{WithDefaultChunkSize(1 << 20)},
		run:    runPushFile,
	},
	// PushBlob of a reader that can be read only once; faults hit its PATCH.
	"push-stream": {
		target: faultproxy.Rule{Method: http.MethodPatch, Path: "/blobs/uploads/"},
		run: func(t *testing.T, e *relEnv) error {
			data := randomBytes(t, 1<<20)
			res, err := e.repo.PushBlob(t.Context(), onlyReader{bytes.NewReader(data)})
			if err == nil && res.Blob() != (Blob{Digest: HashBytes(data), Size: int64(len(data))}) {
				t.Errorf("push result %+v", res)
			}
			held := e.checkNoWrongBlob(t, data)
			if err == nil && !held {
				t.Error("push succeeded but the registry lacks the blob")
			}
			if err != nil && held {
				t.Error("push failed but the registry has the blob")
			}
			return err
		},
	},
	// BlobSize (HEAD).
	"blob-size": {
		target: faultproxy.Rule{Method: http.MethodHead, Path: "/blobs/sha256:"},
		run: func(t *testing.T, e *relEnv) error {
			b := e.pushDirect(t, randomBytes(t, 1000))
			size, err := e.repo.BlobSize(t.Context(), b.Digest)
			if err == nil && size != b.Size {
				t.Errorf("size %d, want %d", size, b.Size)
			}
			return err
		},
	},
	// PullBlob of a 3 MiB blob, verified.
	"pull": {
		target: faultproxy.Rule{Method: http.MethodGet, Path: "/blobs/sha256:"},
		run: func(t *testing.T, e *relEnv) error {
			data := randomBytes(t, relBlobSize)
			b := e.pushDirect(t, data)
			got, err := pullAll(t, e.repo, b.Digest)
			if err == nil && !bytes.Equal(got, data) {
				t.Error("pull reported success with wrong data")
			}
			e.checkNoWrongBlob(t, data)
			return err
		},
	},
	// GetManifest of an alias.
	"get-alias": {
		target: faultproxy.Rule{Method: http.MethodGet, Path: "/manifests/"},
		run: func(t *testing.T, e *relEnv) error {
			b := e.pushDirect(t, randomBytes(t, 1000))
			raw, err := rawOf(e.direct.SetAlias(t.Context(), "v1", b.Digest))
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.repo.GetManifest(t.Context(), "v1")
			if err == nil && !bytes.Equal(m.Raw, raw) {
				t.Errorf("GetManifest reported success with\n%s\nwant\n%s", m.Raw, raw)
			}
			return err
		},
	},
	// SetAlias (HEAD of the blob, then PUT of the manifest); faults hit
	// the PUT.
	"set-alias": {
		target: faultproxy.Rule{Method: http.MethodPut, Path: "/manifests/"},
		run: func(t *testing.T, e *relEnv) error {
			b := e.pushDirect(t, randomBytes(t, 1000))
			raw, err := rawOf(e.repo.SetAlias(t.Context(), "v1", b.Digest))
			if err != nil {
				e.checkAliasBlobs(t, "v1")
				return err
			}
			want, _ := MakeManifest(b)
			if !bytes.Equal(raw, want) {
				t.Errorf("SetAlias returned\n%s\nwant\n%s", raw, want)
			}
			e.checkAlias(t, "v1", want)
			return nil
		},
	},
	// ListAliases of five aliases, two per page; faults hit pages 2 and 3.
	"list": {
		target: faultproxy.Rule{Method: http.MethodGet, Path: "/tags/list", Query: "last="},
		opts:   []Option{WithPageSize(2)},
		run: func(t *testing.T, e *relEnv) error {
			b := e.pushDirect(t, randomBytes(t, 100))
			want := []string{"a1", "a2", "a3", "a4", "a5"}
			for _, a := range want {
				if _, err := e.direct.SetAliasBlobs(t.Context(), a, b); err != nil {
					t.Fatal(err)
				}
			}
			got, err := e.repo.ListAliases(t.Context())
			if err == nil && !slices.Equal(got, want) {
				return fmt.Errorf("listed %v, want %v", got, want)
			}
			return err
		},
	},
}

// runPushFile pushes a 3 MiB file and checks the registry.
func runPushFile(t *testing.T, e *relEnv) error {
	data := randomBytes(t, relBlobSize)
	res, err := e.repo.PushFile(t.Context(), writeTemp(t, data))
	if err == nil && res.Blob() != (Blob{Digest: HashBytes(data), Size: int64(len(data))}) {
		t.Errorf("push result %+v", res)
	}
	if held := e.checkNoWrongBlob(t, data); err == nil && !held {
		t.Error("push succeeded but the registry lacks the blob")
	}
	return err
}

// refetched checks the damaged answer was asked for again, once.
func refetched(t *testing.T, _ *relEnv, inj *faultproxy.Injection) {
	t.Helper()
	if inj.Hits() != 1 || inj.Seen() < 2 {
		t.Errorf("served the fault %d times in %d requests, want once and a new request", inj.Hits(), inj.Seen())
	}
}

// blobBytesSent is how many bytes of blob bodies the proxy sent.
func blobBytesSent(e *relEnv) int64 {
	var n int64
	for _, r := range e.proxy.Requests() {
		if strings.Contains(r.Path, "/blobs/sha256:") {
			n += r.BytesOut
		}
	}
	return n
}

// relCell is one cell of the fault matrix.
type relCell struct {
	op, fault string
	f         faultproxy.Fault
	times     int // how many target requests the fault hits; 0 = all
	want      outcome
	// check, if set, makes further assertions after the operation.
	check func(t *testing.T, e *relEnv, inj *faultproxy.Injection)
}

// relRetries is WithRetries for the matrix: two retries, three attempts.
const relRetries = 2

// attempts checks the fault was served n times.
func attempts(n int) func(*testing.T, *relEnv, *faultproxy.Injection) {
	return func(t *testing.T, _ *relEnv, inj *faultproxy.Injection) {
		t.Helper()
		if inj.Hits() != n {
			t.Errorf("the fault was served %d times, want %d", inj.Hits(), n)
		}
	}
}

func relCells() []relCell {
	var cells []relCell
	add := func(c ...relCell) { cells = append(cells, c...) }
	s503 := faultproxy.Status(http.StatusServiceUnavailable)
	s500 := faultproxy.Status(http.StatusInternalServerError)
	s429 := faultproxy.Status(http.StatusTooManyRequests).WithRetryAfter("1")
	lat := faultproxy.Latency(50 * time.Millisecond)
	is500 := failsWith("500 after 3 attempts", isStatus(http.StatusInternalServerError))

	// Transient statuses: retried (idempotent requests; file chunks are
	// recovered), within WithRetries.
	for _, op := range []string{"push-file", "push-commit", "blob-size", "pull", "get-alias", "set-alias", "list"} {
		add(relCell{op: op, fault: "503x2", f: s503, times: 2, want: succeeds, check: attempts(2)},
			relCell{op: op, fault: "429-retry-after", f: s429, times: 1, want: succeeds, check: attempts(1)},
			relCell{op: op, fault: "500-always", f: s500, want: is500, check: func(t *testing.T, e *relEnv, inj *faultproxy.Injection) {
				attempts(relRetries+1)(t, e, inj)
				if op == "set-alias" {
					noAlias(t, e, inj)
				}
			}},
			relCell{op: op, fault: "latency", f: lat, want: succeeds})
	}
	// Requests that are not retried: opening an upload session (POST) and
	// a one-shot stream (PATCH).
	add(relCell{op: "push-start", fault: "503x2", f: s503, times: 2,
		want: failsWith("503, not retried", isStatus(http.StatusServiceUnavailable)), check: attempts(1)},
		relCell{op: "push-stream", fault: "503x2", f: s503, times: 2,
			want: failsWith("503, not retried", isStatus(http.StatusServiceUnavailable)), check: attempts(1)},
		relCell{op: "push-stream", fault: "latency", f: lat, want: succeeds},
	)

	// Broken connections.
	lose := faultproxy.LoseResponse()
	for _, op := range []string{"push-file", "blob-size", "pull", "get-alias", "set-alias", "list"} {
		add(relCell{op: op, fault: "lose-response", f: lose, times: 1, want: succeeds, check: attempts(1)})
	}
	add(
		// The registry committed the blob, but the client never heard.
		relCell{op: "push-commit", fault: "lose-response", f: lose, times: 1, want: succeeds},
		relCell{op: "push-stream", fault: "lose-response", f: lose, times: 1, want: failsWith("connection reset", isNetErr)},
		relCell{op: "push-stream", fault: "cut-request", f: faultproxy.CutRequest(300 << 10), times: 1, want: failsWith("connection reset", isNetErr)},
		relCell{op: "push-stream", fault: "cut-request-forwarded", f: faultproxy.CutRequestForwarded(300 << 10), times: 1, want: failsWith("connection reset", isNetErr)},
		relCell{op: "push-file", fault: "cut-request", f: faultproxy.CutRequest(300 << 10), times: 1, want: succeeds,
			check: func(t *testing.T, e *relEnv, _ *faultproxy.Injection) {
				// Only the part of the chunk that was cut is sent twice.
				if got := e.proxy.BytesReceived(); got != relBlobSize+300<<10 {
					t.Errorf("the proxy received %d bytes, want %d", got, relBlobSize+300<<10)
				}
				if n := e.proxy.Count(http.MethodPost, "/blobs/uploads/$"); n != 1 {
					t.Errorf("%d upload sessions, want 1", n)
				}
			}},
		relCell{op: "push-file", fault: "cut-request-forwarded", f: faultproxy.CutRequestForwarded(300 << 10), times: 1, want: succeeds,
			check: func(t *testing.T, e *relEnv, _ *faultproxy.Injection) {
				// The registry kept the 300 KiB it received: nothing is sent twice.
				if got := e.proxy.BytesReceived(); got != relBlobSize {
					t.Errorf("the proxy received %d bytes, want %d", got, relBlobSize)
				}
				if n := e.proxy.Count(http.MethodPost, "/blobs/uploads/$"); n != 1 {
					t.Errorf("%d upload sessions, want 1", n)
				}
			}},
		relCell{op: "set-alias", fault: "cut-request", f: faultproxy.CutRequest(50), times: 1, want: succeeds, check: attempts(1)},
		relCell{op: "set-alias", fault: "cut-request-forwarded", f: faultproxy.CutRequestForwarded(50), times: 1, want: succeeds, check: attempts(1)},
		relCell{op: "pull", fault: "drop-response", f: faultproxy.DropResponse(1 << 20), times: 1, want: succeeds,
			check: func(t *testing.T, e *relEnv, _ *faultproxy.Injection) {
				if n := e.proxy.Count(http.MethodGet, "/blobs/sha256:"); n != 2 {
					t.Errorf("%d blob requests, want the broken one and a resume", n)
				}
				if sent := blobBytesSent(e); sent > relBlobSize*3/2 {
					t.Errorf("the proxy sent %d blob bytes for a %d-byte blob", sent, relBlobSize)
				}
			}},
		// A clean cut (FIN) after exactly 1 MiB: the resume asks for the rest.
		relCell{op: "pull", fault: "truncate-once", f: faultproxy.TruncateResponse(1 << 20), times: 1, want: succeeds,
			check: func(t *testing.T, e *relEnv, _ *faultproxy.Injection) {
				var ranges []string
				for _, r := range e.proxy.Requests() {
					if r.Method == http.MethodGet && strings.Contains(r.Path, "/blobs/sha256:") {
						ranges = append(ranges, r.Header.Get("Range"))
					}
				}
				if want := []string{"", "bytes=1048576-"}; !slices.Equal(ranges, want) {
					t.Errorf("blob requests had ranges %q, want %q", ranges, want)
				}
				if sent := blobBytesSent(e); sent != relBlobSize {
					t.Errorf("the proxy sent %d blob bytes for a %d-byte blob", sent, relBlobSize)
				}
			}},
		// Every answer cut short after 64 KiB: the bounded resumes run out.
		relCell{op: "pull", fault: "truncate-always", f: faultproxy.TruncateResponse(64 << 10),
			want: failsWith("unexpected EOF after the resumes", isErr(io.ErrUnexpectedEOF))},
		// Manifests and listing pages are read whole: a broken body is
		// fetched again.
		relCell{op: "get-alias", fault: "drop-response", f: faultproxy.DropResponse(100), times: 1, want: succeeds, check: refetched},
		relCell{op: "get-alias", fault: "truncate-once", f: faultproxy.TruncateResponse(100), times: 1, want: succeeds, check: refetched},
		relCell{op: "get-alias", fault: "truncate-always", f: faultproxy.TruncateResponse(100),
			want: failsWith("unexpected EOF after 3 attempts", isErr(io.ErrUnexpectedEOF)), check: attempts(relRetries + 1)},
		relCell{op: "list", fault: "drop-response", f: faultproxy.DropResponse(10), times: 1, want: succeeds, check: refetched},
		relCell{op: "list", fault: "truncate-once", f: faultproxy.TruncateResponse(10), times: 1, want: succeeds, check: refetched},
	)

	// Damaged data.
	add(
		// Page 2 is {"name":"<repo>","tags":["a3","a4"]}: a3 becomes a2.
		// Listings carry no digest: nothing can tell. (TLS is the defence.)
		relCell{op: "list", fault: "flip-response", times: 1,
			f:    faultproxy.FlipResponseByte(int64(len(`{"name":"` + relRepoName("TestReliabilityMatrix/list/flip-response") + `","tags":["a`))),
			want: failsWith("a wrong listing, undetected", func(err error) bool { return strings.HasPrefix(err.Error(), "listed [a1 a2 a2 a4 a5]") })},
	)
	add(
		relCell{op: "pull", fault: "flip-response", f: faultproxy.FlipResponseByte(1<<20 + 5), times: 1,
			want: failsWith("*DigestMismatchError", func(err error) bool {
				var dm *DigestMismatchError
				return errors.As(err, &dm) && dm.Expected != dm.Got &&
					strings.Contains(err.Error(), dm.Expected.String()) && strings.Contains(err.Error(), dm.Got.String())
			})},
		// Offset 0 is the manifest's "{": it is no longer JSON.
		relCell{op: "get-alias", fault: "flip-response-syntax", f: faultproxy.FlipResponseByte(0), times: 1,
			want: failsWith("ErrInvalidManifest", isErr(ErrInvalidManifest))},
		// The last digit of the last size: still JSON, but not the bytes
		// Docker-Content-Digest names.
		relCell{op: "get-alias", fault: "flip-response-digit", f: faultproxy.FlipResponseByte(int64(relSizeDigit())), times: 1,
			want: failsWith("*DigestMismatchError", isErr(ErrDigestMismatch))},
		relCell{op: "push-file", fault: "flip-request", f: faultproxy.FlipRequestByte(12345), times: 1,
			want: failsWith("ErrInvalidDigest (DIGEST_INVALID)", isErr(ErrInvalidDigest))},
		relCell{op: "push-stream", fault: "flip-request", f: faultproxy.FlipRequestByte(12345), times: 1,
			want: failsWith("ErrInvalidDigest (DIGEST_INVALID)", isErr(ErrInvalidDigest))},
		// The manifest's "{": no longer JSON, the registry refuses it.
		relCell{op: "set-alias", fault: "flip-request-syntax", f: faultproxy.FlipRequestByte(0), times: 1,
			want: failsWith("400 MANIFEST_INVALID", isStatus(http.StatusBadRequest)), check: noAlias},
		// The layer's size: the registry does not check it, stores the
		// damaged manifest and says so in Docker-Content-Digest.
		relCell{op: "set-alias", fault: "flip-request-layer-size", f: faultproxy.FlipRequestByte(int64(relSizeDigit())), times: 1,
			want: failsWith("*DigestMismatchError", isErr(ErrDigestMismatch))},
		// A letter of the layer media type: the registry stores the damaged
		// manifest and says so in Docker-Content-Digest.
		relCell{op: "set-alias", fault: "flip-request-mediatype", f: faultproxy.FlipRequestByte(int64(relMediaTypeLetter())), times: 1,
			want: failsWith("*DigestMismatchError", isErr(ErrDigestMismatch))},
	)
	return cells
}

// relManifest is the manifest set-alias and get-alias use, but for the
// digest (same length).
func relManifest() string {
	raw, _ := MakeManifest(Blob{Digest: HashBytes(nil), Size: 1000})
	return string(raw)
}

// relSizeDigit is the offset of the last digit of the last "size" of the
// matrix's manifests.
func relSizeDigit() int {
	m := relManifest()
	return strings.LastIndex(m, `"size": 1000`) + len(`"size": 1000`) - 1
}

// relMediaTypeLetter is the offset of a letter of the layer media type.
func relMediaTypeLetter() int { return strings.LastIndex(relManifest(), "octet-stream") + 3 }

// TestReliabilityMatrix runs each operation under each fault, through the
// proxy, and checks the outcome and the registry. docs/reliability.md is
// its table.
func TestReliabilityMatrix(t *testing.T) {
	t.Parallel()
	for _, c := range relCells() {
		t.Run(c.op+"/"+c.fault, func(t *testing.T) {
			t.Parallel()
			op := relOps[c.op]
			e := newRelEnv(t, append([]Option{WithRetries(relRetries)}, op.opts...)...)
			rule := op.target
			rule.Skip, rule.Times = op.skip, c.times
			inj := e.proxy.Inject(rule, c.f)
			err := op.run(t, e)
			switch {
			case c.want.ok && err != nil:
				t.Fatalf("%s under %s: %v", c.op, c.f, err)
			case !c.want.ok && err == nil:
				t.Fatalf("%s under %s succeeded; want %s", c.op, c.f, c.want.what)
			case !c.want.ok && !c.want.is(err):
				t.Fatalf("%s under %s: %v; want %s", c.op, c.f, err, c.want.what)
			}
			if inj.Hits() == 0 {
				t.Fatalf("the fault never fired (%s)", inj)
			}
			if c.check != nil {
				c.check(t, e, inj)
			}
			if err != nil {
				t.Logf("error, as expected: %v", err)
			}
		})
	}
}

// TestReliabilityRetryAfterHonoured checks a 429 with Retry-After: 1 makes
// the client wait at least that long before its next request on the same
// resource — a lower bound, which a slow machine cannot break.
func TestReliabilityRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	// gap returns the time between the first request matching method and
	// path (the 429) and the next one to the same path.
	gap := func(t *testing.T, e *relEnv, method, path string) time.Duration {
		t.Helper()
		var first *faultproxy.Record
		for _, r := range e.proxy.Requests() {
			if first == nil && r.Method == method && strings.Contains(r.Path, path) && len(r.Faults) > 0 {
				first = &r
				continue
			}
			if first != nil && r.Path == first.Path {
				return r.Start.Sub(first.Start)
			}
		}
		t.Fatalf("no request after the 429")
		return 0
	}
	retryAfter := faultproxy.Status(http.StatusTooManyRequests).WithRetryAfter("1")

	t.Run("get-manifest", func(t *testing.T) {
		t.Parallel()
		e := newRelEnv(t)
		b := e.pushDirect(t, randomBytes(t, 100))
		if _, err := e.direct.SetAliasBlobs(t.Context(), "v1", b); err != nil {
			t.Fatal(err)
		}
		inj := e.proxy.Inject(faultproxy.Rule{Method: http.MethodGet, Path: "/manifests/v1$", Times: 1}, retryAfter)
		if _, err := e.repo.GetManifest(t.Context(), "v1"); err != nil || inj.Hits() != 1 {
			t.Fatal(err, inj.Hits())
		}
		if g := gap(t, e, http.MethodGet, "/manifests/v1"); g < time.Second {
			t.Fatalf("asked again %v after a 429 with Retry-After: 1", g)
		}
	})

	t.Run("push-chunk", func(t *testing.T) {
		t.Parallel()
		e := newRelEnv(t, WithDefaultChunkSize(64<<10))
		data := randomBytes(t, 200<<10)
		inj := e.proxy.Inject(faultproxy.Rule{Method: http.MethodPatch, Skip: 1, Times: 1}, retryAfter)
		if _, err := e.repo.PushFile(t.Context(), writeTemp(t, data)); err != nil || inj.Hits() != 1 {
			t.Fatal(err, inj.Hits())
		}
		if g := gap(t, e, http.MethodPatch, "/blobs/uploads/"); g < time.Second {
			t.Fatalf("asked again %v after a 429 with Retry-After: 1", g)
		}
	})
}
