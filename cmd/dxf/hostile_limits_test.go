//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/blobstore"
	"github.com/dxf-go/dxf/pkg/registrytest/hostile"
)

// maxRSS is the peak resident set size dxf may reach on any hostile input.
const maxRSS = 64 << 20

var (
	rssOnce   sync.Once
	plainBin  string // dxf built without -race
	peakRSS   string // testdata/peakrss, which runs a command and reports its peak RSS
	rssBinErr error
)

// rssBinaries builds dxf without the race detector (whose shadow memory
// would dwarf what is measured) and the peakrss runner.
func rssBinaries(t *testing.T) (dxf, runner string) {
	t.Helper()
	rssOnce.Do(func() {
		dir := filepath.Dir(dxfBin)
		plainBin, peakRSS = dxfBin, filepath.Join(dir, "peakrss")
		if raceEnabled {
			plainBin = filepath.Join(dir, "dxf-norace")
			if out, err := exec.Command("go", "build", "-o", plainBin, ".").CombinedOutput(); err != nil {
				rssBinErr = fmt.Errorf("building dxf without -race: %w\n%s", err, out)
				return
			}
		}
		if out, err := exec.Command("go", "build", "-o", peakRSS, "./testdata/peakrss").CombinedOutput(); err != nil {
			rssBinErr = fmt.Errorf("building peakrss: %w\n%s", err, out)
		}
	})
	if rssBinErr != nil {
		t.Fatal(rssBinErr)
	}
	return plainBin, peakRSS
}

// runRSS runs dxf (built without -race) like d.run and returns its result
// and peak RSS in bytes.
func (d *dxf) runRSS(args ...string) (result, int64) {
	d.t.Helper()
	bin, runner := rssBinaries(d.t.(*testing.T))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, runner, append([]string{bin}, args...)...)
	cmd.Env = d.environ()
	cmd.Dir = d.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	rr, rw, err := os.Pipe()
	if err != nil {
		d.t.Fatal(err)
	}
	defer rr.Close()
	cmd.ExtraFiles = []*os.File{rw}
	err = cmd.Run()
	rw.Close()
	res := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		d.t.Fatalf("dxf %s: %v", strings.Join(args, " "), err)
	}
	var kib int64
	if _, err := fmt.Fscan(rr, &kib); err != nil || kib <= 0 {
		d.t.Fatalf("dxf %s: no peak RSS reported (%v); stderr %q", strings.Join(args, " "), err, res.stderr)
	}
	return res, kib << 10
}

// checkRSS fails the test if rss is over maxRSS, and logs it.
func checkRSS(t *testing.T, what string, rss int64) {
	t.Helper()
	t.Logf("%s: peak RSS %.1f MiB", what, float64(rss)/(1<<20))
	if rss > maxRSS {
		t.Errorf("%s: peak RSS %.1f MiB, over %d MiB", what, float64(rss)/(1<<20), maxRSS>>20)
	}
}

// imageManifest returns a valid image manifest of n layers (distinct
// digests, size 1), about 100 bytes per layer.
func imageManifest(seed, n int) []byte {
	var b bytes.Buffer
	desc := func(i int) string {
		return fmt.Sprintf(`{"mediaType":"application/octet-stream","digest":"sha256:%032x%032x","size":1}`, seed, i)
	}
	b.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":` + desc(0) + `,"layers":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(desc(i + 1))
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// listOf returns an OCI index naming the given children (digest and size
// as given) as platforms linux/p0, linux/p1, ….
func listOf(children []blobstore.Blob) []byte {
	var b bytes.Buffer
	b.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`)
	for i, c := range children {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"%s","size":%d,"platform":{"os":"linux","architecture":"p%d"}}`, c.Digest, c.Size, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// TestHostileHugeManifest: a manifest over MaxManifestSize is refused naming
// the limit, whether it announces its size or never ends; memory stays low.
func TestHostileHugeManifest(t *testing.T) {
	t.Parallel()
	s, d := newHostile(t)
	s.Handle("GET", "/v2/r/manifests/endless", hostile.Endless())
	s.Handle("GET", "/v2/r/manifests/announced", hostile.Bytes(http.StatusOK, "application/json", bytes.Repeat([]byte(" "), 5<<20)))
	for _, alias := range []string{"endless", "announced"} {
		before := s.BytesSent()
		args := []string{"get-alias", "r", alias}
		r, rss := d.runRSS(args...)
		checkFailure(t, r, 1, args, "over the limit of 4 MiB (blobstore.MaxManifestSize)")
		checkRSS(t, alias, rss)
		// The 4 MiB read, plus what the socket buffers take in before
		// the client hangs up (Linux lets a receive buffer grow to 32 MiB
		// and a send buffer to 4 MiB): bounded, where an endless read
		// would take gigabytes.
		if n := s.BytesSent() - before; n > 40<<20 {
			t.Errorf("%s: the registry sent %d bytes", alias, n)
		}
	}
}

// TestHostileLargestManifest: the largest manifest allowed (4 MiB, ~31,000
// layers) is read and printed within the memory budget.
func TestHostileLargestManifest(t *testing.T) {
	t.Parallel()
	s, d := newHostile(t)
	per := len(imageManifest(1, 2)) - len(imageManifest(1, 1))
	raw := imageManifest(1, (blobstore.MaxManifestSize-400)/per)
	if len(raw) > blobstore.MaxManifestSize || len(raw) < blobstore.MaxManifestSize-(200<<10) {
		t.Fatalf("test manifest of %d bytes", len(raw))
	}
	s.Handle("GET", "/v2/r/manifests/big", hostile.Manifest(raw))
	r, rss := d.runRSS("get-alias", "r", "big")
	if r.code != 0 || strings.Count(r.stdout, "\n") < 30000 {
		t.Fatalf("get-alias: exit %d, %d lines, stderr %q", r.code, strings.Count(r.stdout, "\n"), r.stderr)
	}
	checkRSS(t, "get-alias of a 4 MiB manifest", rss)
}

// TestHostileManifestList: lists are held to MaxPlatforms and
// MaxPlatformsSize before anything is fetched, each platform manifest to the
// size the list gives; the largest allowed list resolves within the memory
// budget. (A list of 64 platforms of 4 MiB each used to take 519 MiB.)
func TestHostileManifestList(t *testing.T) {
	t.Parallel()
	fake := func(n int, size int64) []blobstore.Blob {
		bs := make([]blobstore.Blob, n)
		for i := range bs {
			d, _ := blobstore.ParseDigest(fmt.Sprintf("sha256:%064x", i+1))
			bs[i] = blobstore.Blob{Digest: d, Size: size}
		}
		return bs
	}
	for _, c := range []struct {
		name     string
		children []blobstore.Blob
		want     string
	}{
		{"64x4MiB", fake(64, 4<<20), "over the limit of 8 MiB (blobstore.MaxPlatformsSize)"},
		{"2000-platforms", fake(2000, 1000), "over the limit of 1000 platforms (blobstore.MaxPlatforms)"},
		{"child-over-4MiB", fake(1, 5<<20), "over the limit of 4 MiB (blobstore.MaxManifestSize)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, d := newHostile(t)
			s.Handle("GET", "/v2/r/manifests/list", hostile.Manifest(listOf(c.children)))
			children := s.Handle("GET", "/v2/r/manifests/sha256:.*", hostile.Endless())
			args := []string{"get-alias", "r", "list"}
			r, rss := d.runRSS(args...)
			checkFailure(t, r, 1, args, c.want)
			checkRSS(t, c.name, rss)
			if children.Hits() != 0 {
				t.Errorf("%d platform manifests fetched", children.Hits())
			}
		})
	}
	t.Run("child-longer-than-listed", func(t *testing.T) {
		t.Parallel()
		s, d := newHostile(t)
		s.Handle("GET", "/v2/r/manifests/list", hostile.Manifest(listOf(fake(3, 1000))))
		s.Handle("GET", "/v2/r/manifests/sha256:.*", hostile.Endless())
		args := []string{"get-alias", "r", "list"}
		r, rss := d.runRSS(args...)
		checkFailure(t, r, 1, args, "size mismatch", "larger than the 1000 bytes the list gives")
		checkRSS(t, "child-longer-than-listed", rss)
		if n := s.BytesSent(); n > 12<<20 {
			t.Errorf("the registry sent %d bytes", n)
		}
	})
	t.Run("largest-allowed", func(t *testing.T) {
		t.Parallel()
		s, d := newHostile(t)
		// 7 platforms of 1.1 MiB each: just under MaxPlatformsSize.
		var kids []blobstore.Blob
		for i := range 7 {
			raw := imageManifest(i+2, 8500)
			b := blobOf(t, raw)
			kids = append(kids, b)
			s.Handle("GET", "/v2/r/manifests/"+b.Digest.String(), hostile.Manifest(raw))
		}
		s.Handle("GET", "/v2/r/manifests/list", hostile.Manifest(listOf(kids)))
		r, rss := d.runRSS("get-alias", "r", "list")
		if r.code != 0 || !strings.Contains(r.stdout, `"linux/p6"`) {
			t.Fatalf("get-alias: exit %d, stderr %q", r.code, r.stderr)
		}
		checkRSS(t, "get-alias of 7 platforms of 1 MiB", rss)
	})
}

// TestHostilePagination: a listing ends with an error naming the cause when
// pages bring nothing new, when there are more than MaxPages, or when a page
// is over MaxPageSize. (Distinct links used to be followed forever.)
func TestHostilePagination(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		pages func(i int) ([]string, bool)
		want  string
		out   int // lines printed
		hits  int // pages fetched
	}{
		{"empty-pages", func(int) ([]string, bool) { return nil, true }, "makes no progress: page 1 has no names", 0, 1},
		{"same-page", func(int) ([]string, bool) { return []string{"a", "b"}, true }, "page 2 has the same 2 names", 4, 2},
		{"endless-new-names", func(i int) ([]string, bool) { return []string{fmt.Sprintf("t%d", i)}, true },
			"over the limit of 10000 pages (blobstore.MaxPages)", blobstore.MaxPages, blobstore.MaxPages},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, d := newHostile(t)
			route := s.Handle("GET", "/v2/r/tags/list", hostile.Pages("tags", c.pages))
			r := d.run("list-aliases", "r")
			if r.code != 1 || !strings.Contains(r.stderr, c.want) || strings.Count(r.stdout, "\n") != c.out {
				t.Errorf("exit %d, %d lines out, stderr %q; want exit 1, %d lines, %q", r.code, strings.Count(r.stdout, "\n"), r.stderr, c.out, c.want)
			}
			if route.Hits() != c.hits {
				t.Errorf("%d pages fetched, want %d", route.Hits(), c.hits)
			}
		})
	}
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"page-9MiB", hostile.Bytes(http.StatusOK, "application/json", []byte(`{"tags":["`+strings.Repeat("a", 9<<20)+`"]}`))},
		{"page-endless", hostile.Endless()},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, d := newHostile(t)
			s.Handle("GET", "/v2/r/tags/list", c.h)
			args := []string{"list-aliases", "r"}
			r, rss := d.runRSS(args...)
			checkFailure(t, r, 1, args, "over the limit of 8 MiB (blobstore.MaxPageSize)")
			checkRSS(t, c.name, rss)
		})
	}
}

// TestHostileEndlessBodies: an endless error body or /v2/ body is cut:
// the command ends (with the registry's status, or normally).
func TestHostileEndlessBodies(t *testing.T) {
	t.Parallel()
	t.Run("error-body", func(t *testing.T) {
		t.Parallel()
		s, d := newHostile(t)
		s.Handle("GET", "/v2/r/manifests/x", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			hostile.Endless().ServeHTTP(&statusIgnorer{w}, r)
		}))
		args := []string{"get-alias", "r", "x"}
		r, rss := d.runRSS(args...)
		checkFailure(t, r, 1, args, "400 Bad Request")
		checkRSS(t, "endless error body", rss)
	})
	t.Run("ping-body", func(t *testing.T) {
		t.Parallel()
		s, d := newHostile(t)
		s.Handle("GET", "/v2/", hostile.Endless())
		s.Handle("GET", "/v2/r/tags/list", hostile.Bytes(http.StatusOK, "application/json", []byte(`{"tags":["a"]}`)))
		r, rss := d.runRSS("list-aliases", "r")
		if r.code != 0 || r.stdout != "a\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		checkRSS(t, "endless /v2/ body", rss)
	})
}

// statusIgnorer drops WriteHeader calls (the status is already sent).
type statusIgnorer struct{ http.ResponseWriter }

func (s *statusIgnorer) WriteHeader(int) {}

func (s *statusIgnorer) Flush() { s.ResponseWriter.(http.Flusher).Flush() }

// TestOutputSpecialFiles: -o onto standard output, a symbolic link, a FIFO
// or a device writes through it and never replaces it (-o /dev/stdout used
// to replace /dev/stdout with a regular file when run as root, and -o onto a
// link replaced the link).
func TestOutputSpecialFiles(t *testing.T) {
	t.Parallel()
	_, d := newHostile(t)
	data := []byte("blob data for special outputs")
	f, dg := d.file("blob", data)
	d.ok("push-blob", "r", f)
	path := func(name string) string { return filepath.Join(d.dir, name) }

	t.Run("dev-stdout", func(t *testing.T) {
		before, err := os.Lstat("/dev/stdout")
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(path("stdout-file"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		r := d.runTo(out, "", "pull-blob", "-o", "/dev/stdout", "r", dg)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if got, _ := os.ReadFile(path("stdout-file")); string(got) != string(data) {
			t.Errorf("standard output got %q", got)
		}
		after, err := os.Lstat("/dev/stdout")
		if err != nil || after.Mode() != before.Mode() {
			t.Errorf("/dev/stdout was %v, is now %v (%v)", before.Mode(), after.Mode(), err)
		}
	})
	t.Run("symlink", func(t *testing.T) {
		if err := os.WriteFile(path("target"), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("target", path("link")); err != nil {
			t.Fatal(err)
		}
		d.ok("pull-blob", "-o", "link", "r", dg)
		if li, err := os.Lstat(path("link")); err != nil || li.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v %v", li.Mode(), err)
		}
		if got, _ := os.ReadFile(path("target")); string(got) != string(data) {
			t.Errorf("the link's target holds %q", got)
		}
		if fi, _ := os.Stat(path("target")); fi.Mode().Perm() != 0o600 {
			t.Errorf("the target's mode became %v", fi.Mode().Perm())
		}
	})
	t.Run("dangling-symlink", func(t *testing.T) {
		if err := os.Symlink("nowhere/x", path("dangling")); err != nil {
			t.Fatal(err)
		}
		args := []string{"pull-blob", "-o", "dangling", "r", dg}
		d.fails(1, args, "symbolic link")
		if li, err := os.Lstat(path("dangling")); err != nil || li.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v", err)
		}
	})
	t.Run("fifo", func(t *testing.T) {
		fifo := path("fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte, 1)
		go func() {
			b, _ := os.ReadFile(fifo)
			got <- b
		}()
		d.ok("pull-blob", "-o", "fifo", "r", dg)
		if b := <-got; string(b) != string(data) {
			t.Errorf("the FIFO carried %q", b)
		}
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was replaced: %v", err)
		}
	})
	t.Run("dev-null", func(t *testing.T) {
		d.ok("pull-blob", "-o", "/dev/null", "r", dg)
		if fi, err := os.Lstat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("/dev/null is no longer a device: %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if err := os.Mkdir(path("dir"), 0o700); err != nil {
			t.Fatal(err)
		}
		d.fails(1, []string{"pull-blob", "-o", "dir", "r", dg}, "is a directory")
	})
}

// TestHostileEndlessBlobsMemory: eight layers, each sent endless without
// Content-Length, pulled --jobs at a time to a pipe and to a file: each is
// cut at its size, and memory stays within the budget.
func TestHostileEndlessBlobsMemory(t *testing.T) {
	t.Parallel()
	s, d := newHostile(t)
	var blobs []blobstore.Blob
	for i := range 8 {
		blobs = append(blobs, blobOf(t, bytes.Repeat([]byte{byte('a' + i)}, 3<<20)))
	}
	aliasOf(t, s, "a", blobs...)
	s.Handle("GET", "/v2/r/blobs/.*", hostile.Endless())
	for _, args := range [][]string{
		{"pull-blob", "r", "@a"},
		{"pull-blob", "-o", "out", "r", "@a"},
	} {
		r, rss := d.runRSS(args...)
		if r.code != 1 || !strings.Contains(r.stderr, "size mismatch") || len(r.stdout) > 3<<20 {
			t.Errorf("dxf %s: exit %d, %d bytes out, stderr %q", strings.Join(args, " "), r.code, len(r.stdout), r.stderr)
		}
		checkRSS(t, strings.Join(args, " "), rss)
	}
}
