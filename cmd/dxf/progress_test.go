package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

// TestProgress checks the bars on stderr, as the Python tool's
// test_progress does, and that stdout stays exact.
func TestProgress(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("progress")
	data := randomBytes(t, 1<<20)
	f, h := d.file("blob1", data)
	size := strconv.Itoa(len(data))
	on := d.with("DXF_PROGRESS", "1")

	r := on.run("push-blob", repo, f)
	if r.code != 0 || r.stdout != lines(h) {
		t.Fatalf("DXF_PROGRESS=1 push-blob: exit %d, stdout %q", r.code, r.stdout)
	}
	for _, want := range []string{h[:8], " 0%", " 100%", " " + size + "/" + size} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("push-blob progress lacks %q:\n%s", want, r.stderr)
		}
	}
	// The blob is there now: nothing is sent, so no bar.
	if r := on.run("push-blob", repo, f); r.code != 0 || r.stderr != "" {
		t.Errorf("push-blob of an existing blob: exit %d, stderr %q", r.code, r.stderr)
	}

	r = on.run("pull-blob", repo, h)
	if r.code != 0 || r.stdout != string(data) {
		t.Fatalf("DXF_PROGRESS=1 pull-blob: exit %d, stdout of %d bytes", r.code, len(r.stdout))
	}
	for _, want := range []string{h[:8] + ":", " 0%", " 100%", " " + size + "/" + size} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("pull-blob progress lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := d.with("DXF_PROGRESS", "yes").run("pull-blob", "--progress", repo, h); r.stdout != string(data) || !strings.Contains(r.stderr, " 100%") {
		t.Errorf("--progress: stderr %q", r.stderr)
	}

	// Off: 0, and (stderr is not a terminal here) any other value or none.
	for _, v := range []string{"0", "2", ""} {
		if r := d.with("DXF_PROGRESS", v).run("pull-blob", repo, h); r.code != 0 || r.stderr != "" || r.stdout != string(data) {
			t.Errorf("DXF_PROGRESS=%q: exit %d, stderr %q", v, r.code, r.stderr)
		}
	}
	if r := on.run("pull-blob", "--progress=0", repo, h); r.stderr != "" {
		t.Errorf("--progress=0 over DXF_PROGRESS=1: stderr %q", r.stderr)
	}

	// One bar per file when pushing several, named after the file until
	// the digest is known.
	f2, h2 := d.file("second.bin", randomBytes(t, 3000))
	f3, h3 := d.file("third.bin", randomBytes(t, 4000))
	r = on.run("push-blob", repo, f2, f3)
	if r.code != 0 || r.stdout != lines(h2, h3) {
		t.Fatalf("push-blob of 2 files: exit %d, stdout %q", r.code, r.stdout)
	}
	for _, want := range []string{"second.bin:", "third.bin:", h2[:8] + ": 100%", " 3000/3000", " 4000/4000"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("push-blob of 2 files: progress lacks %q:\n%s", want, r.stderr)
		}
	}
}

// blobFaultProxy starts a fault proxy in front of the shared registry whose
// blob downloads suffer f.
func blobFaultProxy(t *testing.T, f faultproxy.Fault) (*faultproxy.Proxy, *faultproxy.Injection) {
	t.Helper()
	p := faultproxy.StartT(t, shared.URL)
	return p, p.Inject(faultproxy.Rule{Method: http.MethodGet, Path: "/blobs/sha256:"}, f)
}

// TestDigestMismatch checks that corrupt data fails the pull with exit
// status 1 naming both digests, although (as in Python) the bytes reached
// stdout; and that --output then leaves nothing behind.
func TestDigestMismatch(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("mismatch")
	data := randomBytes(t, 50000)
	f, h := d.file("blob", data)
	d.ok("push-blob", repo, f, "@a")

	p, _ := blobFaultProxy(t, faultproxy.FlipResponseByte(0))
	bad := d.with("DXF_HOST", p.Host)
	r := bad.run("pull-blob", repo, "@a")
	if r.code != exitFailure {
		t.Fatalf("pull-blob of corrupt data: exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	corrupt := append([]byte{data[0] ^ 1}, data[1:]...)
	if r.stdout != string(corrupt) {
		t.Errorf("pull-blob of corrupt data: stdout is not the %d bytes received", len(corrupt))
	}
	for _, want := range []string{"dxf: ", "expected digest " + h, "got " + digestOf(corrupt)} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	bad.fails(exitFailure, []string{"pull-blob", "-o", out, repo, h}, "expected digest "+h)
	checkDirHolds(t, filepath.Dir(out), 0)
}

// TestInterrupt checks that SIGINT stops a transfer, exits 130 and leaves
// no partial --output file.
func TestInterrupt(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("interrupt")
	f, h := d.file("blob", randomBytes(t, 1<<20))
	d.ok("push-blob", repo, f)

	p, stall := blobFaultProxy(t, faultproxy.StallResponse(256<<10))
	outDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dxfBin, "pull-blob", "-o", filepath.Join(outDir, "out"), repo, h)
	cmd.Env = d.with("DXF_HOST", p.Host).environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupted once the download has started (and stalls).
	for stall.Hits() == 0 {
		if ctx.Err() != nil {
			t.Fatal("the download never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("interrupted pull-blob: %v, want exit 130; stderr %q", err, stderr.String())
	}
	if stderr.String() != "dxf: interrupted\n" {
		t.Errorf("interrupted pull-blob: stderr %q", stderr.String())
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
		t.Errorf("interrupted pull-blob -o left %v", ents)
	}
}
