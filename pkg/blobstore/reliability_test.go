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
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// relEnv is a repository of the shared registry reached through a fresh
// fault proxy, and the same repository reached directly.
type relEnv struct {
	proxy  *faultproxy.Proxy
	repo   *Repository // through the proxy
	direct *Repository // straight to the registry, to check what it holds
	name   string
}

// relRepoName turns a test's name into a valid repository name.
func relRepoName(testName string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(testName) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return "rel/" + strings.TrimSuffix(b.String(), "-")
}

func newRelEnv(t *testing.T, opts ...Option) *relEnv {
	t.Helper()
	reg := plain(t)
	e := &relEnv{proxy: faultproxy.StartT(t, reg.URL), name: relRepoName(t.Name())}
	base := []Option{WithInsecure(true), WithKeychain(nil)}
	var err error
	if e.repo, err = New(e.proxy.Host, e.name, append(base, opts...)...); err != nil {
		t.Fatal(err)
	}
	if e.direct, err = New(reg.Host, e.name, base...); err != nil {
		t.Fatal(err)
	}
	return e
}

// pushDirect pushes data straight to the registry.
func (e *relEnv) pushDirect(t *testing.T, data []byte) Blob {
	t.Helper()
	res, err := e.direct.PushBlob(t.Context(), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("pushing the fixture: %v", err)
	}
	return res.Blob()
}

// checkNoWrongBlob checks that the registry either lacks the blob with the
// digest of data, or holds exactly data under it; it reports which.
func (e *relEnv) checkNoWrongBlob(t *testing.T, data []byte) bool {
	t.Helper()
	d := HashBytes(data)
	ok, size, err := e.direct.headBlob(t.Context(), d)
	if err != nil {
		t.Fatalf("HEAD %s on the registry: %v", d, err)
	}
	if !ok {
		return false
	}
	if size != int64(len(data)) {
		t.Fatalf("the registry holds %s with %d bytes, want %d", d, size, len(data))
	}
	got, err := pullAll(t, e.direct, d)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the registry holds a wrong blob under %s: %v", d, err)
	}
	return true
}

// checkAlias checks what the registry holds under alias: nothing (want
// nil), or exactly want, every blob of which it has.
func (e *relEnv) checkAlias(t *testing.T, alias string, want []byte) {
	t.Helper()
	m, err := e.direct.GetManifest(t.Context(), alias)
	if want == nil {
		if !errors.Is(err, ErrAliasNotFound) {
			t.Fatalf("alias %s should not exist: %v", alias, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("alias %s on the registry: %v", alias, err)
	}
	if !bytes.Equal(m.Raw, want) {
		t.Fatalf("alias %s holds\n%s\nwant\n%s", alias, m.Raw, want)
	}
	for _, b := range append(m.Layers, m.Config) {
		if ok, err := e.direct.HasBlob(t.Context(), b.Digest); !ok || err != nil {
			t.Fatalf("alias %s points at %s, which the registry lacks (%v)", alias, b.Digest, err)
		}
	}
}

// checkAliasBlobs checks that alias, if the registry has it, points only at
// blobs the registry has.
func (e *relEnv) checkAliasBlobs(t *testing.T, alias string) {
	t.Helper()
	m, err := e.direct.GetManifest(t.Context(), alias)
	if errors.Is(err, ErrAliasNotFound) {
		return
	}
	if err != nil {
		t.Fatalf("alias %s on the registry: %v", alias, err)
	}
	e.checkAlias(t, alias, m.Raw)
}

// noAlias checks the operation left no alias v1 behind.
func noAlias(t *testing.T, e *relEnv, _ *faultproxy.Injection) {
	t.Helper()
	e.checkAlias(t, "v1", nil)
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data")
	writeFile(t, p, data)
	return p
}

// onlyReader hides every method but Read, so the data can be read once.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// outcome is what an operation under a fault is expected to do.
type outcome struct {
	ok   bool
	what string           // the expected error, in words
	is   func(error) bool // recognises it
}

var succeeds = outcome{ok: true}

func failsWith(what string, is func(error) bool) outcome { return outcome{what: what, is: is} }

func isStatus(code int) func(error) bool {
	return func(err error) bool {
		var e *Error
		return errors.As(err, &e) && e.StatusCode == code
	}
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// isNetErr recognises a broken connection: a reset, or a response cut short.
func isNetErr(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

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
		opts: []Option{WithChunkSize(1 << 20)},
		run:  runPushFile,
	},
	// PushFile; faults hit the commit (PUT ?digest=).
	"push-commit": {
		target: faultproxy.Rule{Method: http.MethodPut, Path: "/blobs/uploads/"},
		opts:   []Option{WithChunkSize(1 << 20)},
		run:    runPushFile,
	},
	// PushFile; faults hit the POST that opens the upload session.
	"push-start": {
		target: faultproxy.Rule{Method: http.MethodPost, Path: "/blobs/uploads/$"},
		opts:   []Option{WithChunkSize(1 << 20)},
		run:    runPushFile,
	},
	// PushBlob of a reader that can be read only once; faults hit its PATCH.
	"push-stream": {
		target: faultproxy.Rule{Method: http.MethodPatch, Path: "/blobs/uploads/"},
		run: func(t *testing.T, e *relEnv) error {
			data := randomBytes(t, 1<<20)
			res, err := e.repo.PushBlob(t.Context(), onlyReader{bytes.NewReader(data)})
			if err == nil && res.Blob() != (Blob{HashBytes(data), int64(len(data))}) {
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
	if err == nil && res.Blob() != (Blob{HashBytes(data), int64(len(data))}) {
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
		e := newRelEnv(t, WithChunkSize(64<<10))
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
	e := newRelEnv(t, WithChunkSize(chunk))
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
	e := newRelEnv(t, WithChunkSize(64<<10), WithRetries(relRetries))
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
	e := newRelEnv(t, WithChunkSize(1<<20), WithRetries(relRetries))
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
	e := newRelEnv(t, WithChunkSize(8<<20), WithRetries(relRetries))
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
	e := newRelEnv(t, WithChunkSize(1<<20))
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

// TestReliabilityBadInput: bad names, digests, aliases, files and
// registries give clear errors, before any request where the input alone is
// at fault.
func TestReliabilityBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	known := HashBytes([]byte("never pushed"))

	t.Run("repository-names", func(t *testing.T) {
		t.Parallel()
		reg, err := NewRegistry("localhost:5000")
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", "UPPER", "a//b", "a/", "/a", "-a", "a-", "a_", "a b", "a:b", "a@b", "a/../b",
			"a%2fb", "a\x00b", "a..b", "a___b", "é", strings.Repeat("a", 256)} {
			if _, err := reg.Repository(bad); !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), strconv.Quote(bad)) {
				t.Errorf("Repository(%q) = %v, want ErrInvalidName naming it", bad, err)
			}
			if _, err := New("localhost:5000", bad); !errors.Is(err, ErrInvalidName) {
				t.Errorf("New(%q) = %v", bad, err)
			}
		}
		for _, ok := range []string{"a", "a/b", "a-b_c.d/e__f", "a---b", "0/1/2", strings.Repeat("a", 255)} {
			if r, err := reg.Repository(ok); err != nil || r.Name() != ok {
				t.Errorf("Repository(%q) = %v", ok, err)
			}
		}
	})

	t.Run("digests", func(t *testing.T) {
		t.Parallel()
		e := newRelEnv(t)
		for _, tc := range []struct {
			s    string
			want error
		}{
			{"sha256:zzz", ErrInvalidDigest},
			{"sha256:" + strings.Repeat("a", 63), ErrInvalidDigest},
			{"sha256:" + strings.Repeat("a", 65), ErrInvalidDigest},
			{"sha256:" + strings.Repeat("A", 64), ErrInvalidDigest},
			{"sha256:" + strings.Repeat("g", 64), ErrInvalidDigest},
			{"sha256", ErrInvalidDigest},
			{"", ErrInvalidDigest},
			{"sha256:" + strings.Repeat("a", 64) + ":x", ErrInvalidDigest},
			{"md5:" + strings.Repeat("a", 32), ErrUnexpectedDigestMethod},
			{"sha512:" + strings.Repeat("a", 128), ErrUnexpectedDigestMethod},
		} {
			if _, err := ParseDigest(tc.s); !errors.Is(err, tc.want) {
				t.Errorf("ParseDigest(%q) = %v, want %v", tc.s, err, tc.want)
			}
		}
		if _, err := e.repo.PullBlob(ctx, v1.Hash{Algorithm: "sha512", Hex: strings.Repeat("a", 128)}); !errors.Is(err, ErrUnexpectedDigestMethod) {
			t.Errorf("PullBlob(sha512:…) = %v", err)
		}
		if n := len(e.proxy.Requests()); n != 0 {
			t.Errorf("%d requests for malformed input", n)
		}
		// Well-formed, but not in the registry.
		if _, err := e.repo.SetAlias(ctx, "v1", known); !errors.Is(err, ErrBlobNotFound) || !strings.Contains(err.Error(), known.String()) {
			t.Errorf("SetAlias of a missing blob: %v", err)
		}
		e.checkAlias(t, "v1", nil)
	})

	t.Run("aliases", func(t *testing.T) {
		t.Parallel()
		e := newRelEnv(t)
		for _, bad := range []string{"bad alias!", "", ".x", "-x", "a/b", "a:b", strings.Repeat("a", 129), "sha256:zzz"} {
			if err := ValidateAlias(bad); !errors.Is(err, ErrInvalidName) {
				t.Errorf("ValidateAlias(%q) = %v", bad, err)
			}
			if _, err := e.repo.GetManifest(ctx, bad); !errors.Is(err, ErrInvalidName) {
				t.Errorf("GetManifest(%q) = %v", bad, err)
			}
		}
		if n := len(e.proxy.Requests()); n != 0 {
			t.Errorf("%d requests for invalid aliases", n)
		}
		// SetAlias names the bad alias, whatever the blobs, and sends nothing.
		if _, err := e.repo.SetAlias(ctx, "bad alias!", known); !errors.Is(err, ErrInvalidName) {
			t.Errorf(`SetAlias("bad alias!") = %v, want ErrInvalidName`, err)
		}
		if n := len(e.proxy.Requests()); n != 0 {
			t.Errorf("SetAlias with an invalid alias made %d requests first", n)
		}
	})

	t.Run("files", func(t *testing.T) {
		t.Parallel()
		e := newRelEnv(t, WithChunkSize(1<<20))
		dir := t.TempDir()
		notDir := filepath.Join(dir, "file")
		writeFile(t, notDir, []byte("x"))
		// A path through a file: unreadable for every user, root included.
		bad := filepath.Join(notDir, "child")
		if _, err := e.repo.PushFile(ctx, bad); !errors.Is(err, syscall.ENOTDIR) || !strings.Contains(err.Error(), bad) {
			t.Errorf("PushFile(%s) = %v, want ENOTDIR naming the path", bad, err)
		}
		// Permission denied, where the file mode is enforced (not for root).
		locked := filepath.Join(dir, "locked")
		writeFile(t, locked, []byte("secret"))
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		if f, err := os.Open(locked); err == nil {
			f.Close()
			t.Logf("running as a privileged user: mode 000 does not stop reading, the path-through-a-file case stands in")
		} else if _, err := e.repo.PushFile(ctx, locked); !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), locked) {
			t.Errorf("PushFile(mode 000) = %v, want ErrPermission naming the path", err)
		}
		if _, err := e.repo.PushFile(ctx, dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("PushFile(directory) = %v", err)
		}
		if _, err := e.repo.PushFile(ctx, filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("PushFile(missing) = %v", err)
		}
		if n := len(e.proxy.Requests()); n != 0 {
			t.Errorf("%d requests for unreadable files", n)
		}
		// An empty file is a valid blob.
		empty := filepath.Join(dir, "empty")
		writeFile(t, empty, nil)
		res, err := e.repo.PushFile(ctx, empty)
		if err != nil || res.Blob() != (Blob{HashBytes(nil), 0}) {
			t.Fatalf("PushFile(empty) = %+v, %v", res, err)
		}
		if !e.checkNoWrongBlob(t, nil) {
			t.Fatal("the registry lacks the empty blob")
		}
	})

	t.Run("bad-manifests", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name, body, contentType string
			want                    error
		}{
			{"not-json", "this is not JSON", string(MediaTypeDockerManifest), ErrInvalidManifest},
			{"html", "<html><body>oops</body></html>", "text/html", ErrInvalidManifest},
			{"over-4-mib", `{"schemaVersion":2,"x":"` + strings.Repeat("a", MaxManifestSize) + `"}`, string(MediaTypeOCIManifest), ErrInvalidManifest},
			{"unknown-media-type", `{"schemaVersion":2,"mediaType":"application/vnd.example.unknown+json"}`, "application/vnd.example.unknown+json", ErrUnsupportedManifest},
			{"bad-layer-digest", `{"schemaVersion":2,"mediaType":"` + string(MediaTypeDockerManifest) + `","config":{"digest":"sha256:zzz","size":1},"layers":[]}`, string(MediaTypeDockerManifest), ErrInvalidManifest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/v2/" {
						return
					}
					w.Header().Set("Content-Type", tc.contentType)
					_, _ = io.WriteString(w, tc.body)
				}))
				defer srv.Close()
				r, err := New(strings.TrimPrefix(srv.URL, "http://"), "a/b", WithInsecure(true), WithKeychain(nil))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.GetManifest(ctx, "v1"); !errors.Is(err, tc.want) {
					t.Fatalf("GetManifest = %v, want %v", err, tc.want)
				}
				if _, err := r.GetAlias(ctx, "v1", ""); !errors.Is(err, tc.want) {
					t.Fatalf("GetAlias = %v, want %v", err, tc.want)
				}
			})
		}
	})

	// A web server that answers every request with an HTML page, as a
	// mistyped registry address may.
	t.Run("html-page-registry", func(t *testing.T) {
		t.Parallel()
		page := "<html><body>Welcome to nginx!</body></html>"
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, page)
		}))
		defer srv.Close()
		r, err := New(strings.TrimPrefix(srv.URL, "http://"), "a/b", WithInsecure(true), WithKeychain(nil), WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.GetManifest(ctx, "v1"); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("GetManifest = %v", err)
		}
		if _, err := pullAll(t, r, known); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("PullBlob = %v", err)
		}
		if _, err := r.ListAliases(ctx); err == nil || !strings.Contains(err.Error(), "not JSON") {
			t.Errorf("ListAliases = %v", err)
		}
		if _, err := r.PushBlob(ctx, bytes.NewReader([]byte("x"))); !isStatus(http.StatusOK)(err) {
			t.Errorf("PushBlob = %v", err)
		}
		// Never reported as success:
		if ok, err := r.HasBlob(ctx, known); ok && err == nil {
			t.Errorf("HasBlob says an HTML page holds %s", known)
		}
		if res, err := r.PushBlob(ctx, bytes.NewReader([]byte("x")), WithDigest(HashBytes([]byte("x")))); err == nil {
			t.Errorf("PushBlob WithDigest to an HTML page succeeded: %+v", res)
		}
		if _, err := r.SetAlias(ctx, "v1", known); err == nil {
			t.Errorf("SetAlias on an HTML page succeeded")
		}
	})

	t.Run("connection-refused", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		r, err := New(addr, "a/b", WithInsecure(true), WithKeychain(nil), WithRetries(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.HasBlob(ctx, known); !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), addr) {
			t.Errorf("HasBlob = %v, want ECONNREFUSED naming %s", err, addr)
		}
	})

	t.Run("dns-failure", func(t *testing.T) {
		t.Parallel()
		r, err := New("nonexistent.invalid", "a/b", WithKeychain(nil), WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.HasBlob(ctx, known)
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || !strings.Contains(err.Error(), "nonexistent.invalid") {
			t.Errorf("HasBlob = %v, want a *net.DNSError", err)
		}
		if transient(err) && dnsErr != nil && dnsErr.IsNotFound {
			t.Errorf("an unknown host is retried")
		}
	})

	t.Run("tls", func(t *testing.T) {
		t.Parallel()
		// httptest's certificate names example.com, 127.0.0.1 and ::1 —
		// not localhost, which is how we reach it.
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
		srv.StartTLS()
		defer srv.Close()
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		host := net.JoinHostPort("localhost", port)
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		r, err := New(host, "a/b", WithKeychain(nil), WithRetries(0), WithTLSConfig(srv.Client().Transport.(*http.Transport).TLSClientConfig))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.HasBlob(ctx, known)
		var he x509.HostnameError
		if !errors.As(err, &he) || !strings.Contains(err.Error(), "localhost") {
			t.Errorf("name mismatch: %v, want an x509.HostnameError", err)
		}
		// Without the CA, by a name the certificate has: unknown authority.
		r, err = New(srv.Listener.Addr().String(), "a/b", WithKeychain(nil), WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.HasBlob(ctx, known)
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Errorf("unknown CA: %v, want an x509.UnknownAuthorityError", err)
		}
	})
}
