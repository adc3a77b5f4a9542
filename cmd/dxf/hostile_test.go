package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/blobstore"
	"github.com/dxf-go/dxf/pkg/registrytest/hostile"
)

// Tests against a registry that lies, floods or never stops
// (pkg/registrytest/hostile). Each is a row of the hostile-registry matrix
// in docs/reliability.md.

func newHostile(t *testing.T) (*hostile.Server, *dxf) {
	t.Helper()
	s := hostile.Start(t)
	return s, newDXFAt(t, s.Host, false)
}

// TestHostileBadAliasNoRequest: an alias that is not a valid tag is a usage
// error before any request, everywhere an alias is taken (push-blob used to
// upload first, then refuse it).
func TestHostileBadAliasNoRequest(t *testing.T) {
	t.Parallel()
	s, d := newHostile(t)
	f, _ := d.file("f", []byte("data"))
	for _, args := range [][]string{
		{"push-blob", "r", f, "@../x"},
		{"push-blob", "r", f, "@a/b"},
		{"mount-blob", "r", "o", "sha256:" + strings.Repeat("0", 64), "@../x"},
		{"pull-blob", "r", "@../x"},
		{"blob-size", "r", "@-x"},
		{"del-blob", "r", "@a b"},
		{"set-alias", "r", "../x", "sha256:" + strings.Repeat("0", 64)},
		{"get-alias", "r", "ok", "bad alias!"},
		{"get-digest", "r", ".x"},
		{"get-manifest", "r", strings.Repeat("a", 129)},
		{"del-alias", "r", "a\x1bb"},
	} {
		r := d.run(args...)
		checkFailure(t, r, exitUsage, args, "invalid alias")
	}
	if n := s.Requests(); n != 0 {
		t.Errorf("%d requests reached the registry, want none", n)
	}
}

// TestHostileBlobSizeOverflow: layer sizes that add up past 2^63-1 are an
// error, not a negative total.
func TestHostileBlobSizeOverflow(t *testing.T) {
	t.Parallel()
	s, d := newHostile(t)
	layer := func(i int) string {
		return fmt.Sprintf(`{"mediaType":"application/octet-stream","digest":"sha256:%064d","size":%d}`, i, int64(math.MaxInt64))
	}
	raw := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
		`"config":` + layer(0) + `,"layers":[` + layer(1) + `,` + layer(2) + `]}`)
	s.Handle("GET", "/v2/r/manifests/big", hostile.Manifest(raw))
	d.fails(1, []string{"blob-size", "r", "@big"}, "add up to more than 9223372036854775807 bytes")
}

// TestHostileCommitNamesOtherDigest: a 201 to the committing PUT naming
// another digest than the one pushed is a failure.
func TestHostileCommitNamesOtherDigest(t *testing.T) {
	t.Parallel()
	s, d := newHostile(t)
	f, dg := d.file("f", []byte("data"))
	other := "sha256:" + strings.Repeat("1", 64)
	s.Handle("PUT", "/v2/r/blobs/uploads/.*", hostile.Commit(other))
	d.fails(1, []string{"push-blob", "r", f}, "digest mismatch", dg, other)
}

// TestHostileCommitStoresNothing: push-blob @alias checks the registry has
// the blobs an alias is about to name, so a 201 that stored nothing, and
// does not name the blob, fails before the alias is set.
func TestHostileCommitStoresNothing(t *testing.T) {
	t.Parallel()
	s, d := newHostile(t)
	f, dg := d.file("f", []byte("data"))
	s.Handle("PUT", "/v2/r/blobs/uploads/.*", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated) // names nothing: no Docker-Content-Digest, no Location
	}))
	put := s.Handle("PUT", "/v2/r/manifests/.*", hostile.Bytes(http.StatusCreated, "", nil))
	d.fails(1, []string{"push-blob", "r", f, "@a"}, dg, "does not have the blob")
	if put.Hits() != 0 {
		t.Errorf("the alias was set (%d manifest PUTs)", put.Hits())
	}
}

// TestHostileControlCharacters: escape sequences and newlines in a
// registry's error message and in tag names are escaped, not printed raw.
func TestHostileControlCharacters(t *testing.T) {
	t.Parallel()
	s, d := newHostile(t)
	s.Handle("GET", "/v2/r/tags/list", hostile.Bytes(http.StatusOK, "application/json",
		[]byte(`{"name":"r","tags":["plain","red\u001b[31m","two\nlines","bidi\u202eexe.txt"]}`)))
	out := d.ok("list-aliases", "r")
	want := lines("plain", `"red\x1b[31m"`, `"two\nlines"`, `"bidi\u202eexe.txt"`)
	if out != want {
		t.Errorf("list-aliases printed %q, want %q", out, want)
	}
	s.Handle("GET", "/v2/r/manifests/x", hostile.Bytes(http.StatusBadRequest, "application/json",
		[]byte(`{"errors":[{"code":"DENIED","message":"\u001b[2J\u001b]0;pwned\u0007cleared\nforged line\u009b"}]}`)))
	r := d.fails(1, []string{"get-alias", "r", "x"}, `\x1b[2J\x1b]0;pwned\acleared forged line\u009b`)
	if strings.ContainsAny(r.stderr, "\x1b\x07\u009b") {
		t.Errorf("stderr has raw control characters: %q", r.stderr)
	}
}

// TestHostileDigestCacheUntrusted: a digest cache entry or directory that
// others can write is ignored: a planted digest is not printed.
func TestHostileDigestCacheUntrusted(t *testing.T) {
	t.Parallel()
	_, d := newHostile(t)
	f, dg := d.file("f", []byte("data"))
	if got := d.ok("push-blob", "r", f); got != lines(dg) {
		t.Fatalf("push-blob printed %q", got)
	}
	dir := filepath.Join(d.env["XDG_CACHE_HOME"], "dxf-go", "digests")
	sum := sha256.Sum256([]byte(filepath.Join(d.dir, f)))
	entry := filepath.Join(dir, hex.EncodeToString(sum[:]))
	b, err := os.ReadFile(entry)
	if err != nil {
		t.Fatalf("the first push left no cache entry: %v", err)
	}
	// The planted digest names a blob the registry has, so only the
	// cache can tell.
	e, planted := d.file("e", []byte("evil"))
	d.ok("push-blob", "r", e)
	plant := func(mode os.FileMode) {
		t.Helper()
		id, _, _ := strings.Cut(string(b), " ")
		if err := os.WriteFile(entry, []byte(id+" "+planted+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(entry, mode); err != nil {
			t.Fatal(err)
		}
	}
	// The planted entry works when it is trusted: the test plants well.
	plant(0o600)
	if got := d.ok("push-blob", "r", f); got != lines(planted) {
		t.Fatalf("a trusted planted entry was not used: push-blob printed %q", got)
	}
	plant(0o666)
	if got := d.ok("push-blob", "r", f); got != lines(dg) {
		t.Errorf("with a world-writable entry push-blob printed %q, want %q", got, lines(dg))
	}
	plant(0o600)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	r := d.run("push-blob", "r", f)
	if r.code != 0 || r.stdout != lines(dg) || !strings.Contains(r.stderr, "writable by others") {
		t.Errorf("with a world-writable cache directory: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// aliasOf serves, as alias a of repository r, the manifest dxf would write
// for blobs of the given digests and sizes.
func aliasOf(t *testing.T, s *hostile.Server, a string, blobs ...blobstore.Blob) {
	t.Helper()
	raw, err := blobstore.MakeManifest(blobs...)
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("GET", "/v2/r/manifests/"+a, hostile.Manifest(raw))
}

func blobOf(t *testing.T, data []byte) blobstore.Blob {
	t.Helper()
	d, err := blobstore.ParseDigest(digestOf(data))
	if err != nil {
		t.Fatal(err)
	}
	return blobstore.Blob{Digest: d, Size: int64(len(data))}
}

// TestHostileEndlessBlob: a blob sent without Content-Length is held to the
// size the manifest (or a HEAD request) gives: an endless body ends with a
// size mismatch after at most that many bytes, to a pipe or a file, and a
// blob whose size cannot be had at all is refused.
func TestHostileEndlessBlob(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat("d", 100))
	b := blobOf(t, data)
	const maxSent = 16 << 20 // what the client may read before it stops: buffers, not the stream
	for _, c := range []struct {
		name string
		head http.Handler // answer to HEAD of the blob
		args []string     // after "pull-blob r"
		env  []string
		want string
	}{
		{"alias-pipe", nil, []string{"@a"}, nil, "size mismatch"},
		{"alias-blob-info", nil, []string{"@a"}, []string{"DXF_BLOB_INFO", "1"}, "size mismatch"},
		{"alias-output", nil, []string{"-o", "out", "@a"}, nil, "size mismatch"},
		{"alias-output-blob-info", nil, []string{"-o", "out", "@a"}, []string{"DXF_BLOB_INFO", "1"}, "size mismatch"},
		{"alias-chunk-size", nil, []string{"@a"}, []string{"DXF_CHUNK_SIZE", "7"}, "size mismatch"},
		{"digest-head-size", hostile.WithHeader(hostile.Bytes(http.StatusOK, "", data), "Docker-Content-Digest", b.Digest.String()), []string{b.Digest.String()}, nil, "size mismatch"},
		{"digest-output-head-size", hostile.WithHeader(hostile.Bytes(http.StatusOK, "", data), "Docker-Content-Digest", b.Digest.String()), []string{"-o", "out", b.Digest.String()}, nil, "size mismatch"},
		{"digest-no-size", hostile.Endless(), []string{b.Digest.String()}, nil, "size cannot be had"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, d := newHostile(t)
			aliasOf(t, s, "a", b)
			s.Handle("GET", "/v2/r/blobs/.*", hostile.Endless())
			if c.head != nil {
				s.Handle("HEAD", "/v2/r/blobs/.*", c.head)
			}
			args := append([]string{"pull-blob", "r"}, c.args...)
			r := d.with(c.env...).run(args...)
			if r.code != 1 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("dxf %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(args, " "), r.code, r.stderr, c.want)
			}
			if len(r.stdout) > 100+len(b.Digest.String())+5 {
				t.Errorf("%d bytes reached standard output; the blob is 100", len(r.stdout))
			}
			if n := s.BytesSent(); n > maxSent {
				t.Errorf("the registry sent %d bytes before dxf stopped reading", n)
			}
			if ents, _ := os.ReadDir(d.dir); len(ents) != 0 {
				t.Errorf("files left behind: %v", ents)
			}
		})
	}
}
