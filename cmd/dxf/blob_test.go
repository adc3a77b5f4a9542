package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestREADMEExample runs the Python tool's README example unchanged.
func TestREADMEExample(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	data := randomBytes(t, 300<<10)
	file, dgst := d.file("logger.dat", data)

	// dxf push-blob fred/datalogger logger.dat @may15-readings
	if got := d.ok("push-blob", "fred/datalogger", file, "@may15-readings"); got != dgst+"\n" {
		t.Fatalf("push-blob printed %q, want %q", got, dgst+"\n")
	}
	// dxf pull-blob fred/datalogger @may15-readings
	if got := d.ok("pull-blob", "fred/datalogger", "@may15-readings"); got != string(data) {
		t.Fatalf("pull-blob @may15-readings: got %d bytes, want the %d of logger.dat", len(got), len(data))
	}
	// dxf set-alias fred/datalogger may15-readings $(dxf push-blob fred/datalogger logger.dat)
	pushed := strings.TrimSpace(d.ok("push-blob", "fred/datalogger", file))
	manifest := d.ok("set-alias", "fred/datalogger", "may15-readings", pushed)
	want := `{"config": {"digest": "` + dgst + `", "mediaType": "application/vnd.docker.container.image.v1+json", "size": ` +
		strconv.Itoa(len(data)) + `}, "layers": [{"digest": "` + dgst + `", "mediaType": "application/octet-stream", "size": ` +
		strconv.Itoa(len(data)) + `}], "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "schemaVersion": 2}`
	if manifest != want {
		t.Fatalf("set-alias printed\n%s\nwant\n%s", manifest, want)
	}
	// dxf pull-blob fred/datalogger $(dxf get-alias fred/datalogger may15-readings)
	digests := strings.Fields(d.ok("get-alias", "fred/datalogger", "may15-readings"))
	if got := d.ok(append([]string{"pull-blob", "fred/datalogger"}, digests...)...); got != string(data) {
		t.Fatalf("pull-blob $(get-alias): got %d bytes, want %d", len(got), len(data))
	}
}

// TestSetAliasGolden checks the manifest bytes against the Python tool's
// golden vector: one blob "abc" gives a manifest with a known digest.
func TestSetAliasGolden(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("golden")
	if got := d.okIn("abc", "push-blob", repo, "-"); got != "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n" {
		t.Fatalf("push-blob - of abc printed %q", got)
	}
	out := d.ok("set-alias", repo, "golden", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	want := `{"config": {"digest": "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "mediaType": "application/vnd.docker.container.image.v1+json", "size": 3}, "layers": [{"digest": "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "mediaType": "application/octet-stream", "size": 3}], "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "schemaVersion": 2}`
	if out != want {
		t.Fatalf("set-alias printed\n%q\nwant\n%q", out, want)
	}
	sum := sha256.Sum256([]byte(out))
	if got := hex.EncodeToString(sum[:]); got != "fc164619e222260028d6741aa4a446ecd7042db644322a88b64f6b6d222b5dbf" {
		t.Fatalf("manifest digest sha256:%s, want the golden sha256:fc164619…", got)
	}
	// get-manifest prints the same bytes, no newline: its hash is the
	// manifest digest.
	if got := d.ok("get-manifest", repo, "golden"); got != want {
		t.Fatalf("get-manifest printed %q, want %q", got, want)
	}
	if got := d.ok("get-manifest", repo, "golden", "golden"); got != want+want {
		t.Fatalf("get-manifest of two aliases printed %q, want the manifest twice", got)
	}
}

// TestPushPull covers push-blob (existing blobs, several files, standard
// input), pull-blob (digests, aliases, DXF_BLOB_INFO framing), get-alias and
// blob-size, the way the Python tool's tests do.
func TestPushPull(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("pushpull")
	blob1, blob2, blob3 := randomBytes(t, 1<<20), randomBytes(t, 2<<20), randomBytes(t, 12345)
	f1, h1 := d.file("blob1", blob1)
	f2, h2 := d.file("blob2", blob2)
	f3, h3 := d.file("blob3", blob3)

	d.fails(exitNotFound, []string{"blob-size", repo, h1}, "Not Found")
	d.fails(exitNotFound, []string{"blob-size", repo, "@fooey"}, "Not Found")
	if got := d.ok("push-blob", repo, f1); got != lines(h1) {
		t.Fatalf("push-blob printed %q, want %q", got, lines(h1))
	}
	// Pushing again sends nothing and prints the same.
	if got := d.ok("push-blob", repo, f1); got != lines(h1) {
		t.Fatalf("second push-blob printed %q", got)
	}
	d.fails(exitNotFound, []string{"get-alias", repo, "fooey"}, "Not Found")
	if got := d.ok("push-blob", repo, f1, "@fooey"); got != lines(h1) {
		t.Fatalf("push-blob @fooey printed %q", got)
	}
	if got := d.ok("get-alias", repo, "fooey"); got != lines(h1) {
		t.Fatalf("get-alias fooey printed %q", got)
	}

	// Several files at once, in parallel, printed and aliased in order.
	if got := d.ok("push-blob", "--jobs", "2", repo, f2, f3, f1, "@all"); got != lines(h2, h3, h1) {
		t.Fatalf("push-blob of 3 files printed %q, want %q", got, lines(h2, h3, h1))
	}
	if got := d.ok("get-alias", repo, "all", "fooey"); got != lines(h2, h3, h1, h1) {
		t.Fatalf("get-alias all fooey printed %q", got)
	}
	if got := d.ok("pull-blob", repo, "@all"); got != string(blob2)+string(blob3)+string(blob1) {
		t.Fatalf("pull-blob @all: wrong %d bytes", len(got))
	}

	// DXF_BLOB_INFO frames each blob with "<digest> <size>\n".
	want := h1 + " " + strconv.Itoa(len(blob1)) + "\n" + string(blob1) + h2 + " " + strconv.Itoa(len(blob2)) + "\n" + string(blob2)
	if got := d.with("DXF_BLOB_INFO", "1").ok("pull-blob", repo, h1, h2); got != want {
		t.Fatalf("DXF_BLOB_INFO=1 pull-blob: wrong output (%d bytes, want %d)", len(got), len(want))
	}
	if got := d.ok("pull-blob", "--blob-info", repo, "@fooey"); got != h1+" 1048576\n"+string(blob1) {
		t.Fatalf("--blob-info pull-blob @fooey: wrong output")
	}
	// Switch variables take 1/true/yes as on and 0/false/no as off; "0" is
	// off as in Python, and a value that is neither is refused (exit 2)
	// rather than silently read as off.
	if got := d.with("DXF_BLOB_INFO", "yes").ok("pull-blob", repo, h3); got != h3+" "+strconv.Itoa(len(blob3))+"\n"+string(blob3) {
		t.Fatalf("DXF_BLOB_INFO=yes did not frame the blob")
	}
	if got := d.with("DXF_BLOB_INFO", "0").ok("pull-blob", repo, h3); got != string(blob3) {
		t.Fatalf("DXF_BLOB_INFO=0 framed the blob")
	}

	// blob-size: digests, and the sum of an alias's blobs.
	got := d.ok("blob-size", repo, h1, h2, "@fooey", "@all")
	if want := lines("1048576", "2097152", "1048576", strconv.Itoa(len(blob1)+len(blob2)+len(blob3))); got != want {
		t.Fatalf("blob-size printed %q, want %q", got, want)
	}

	// Standard input, hashed as it streams.
	stdinData := string(randomBytes(t, 70000))
	h4 := digestOf([]byte(stdinData))
	if got := d.okIn(stdinData, "push-blob", repo, "-", "@stdin"); got != lines(h4) {
		t.Fatalf("push-blob - printed %q, want %q", got, lines(h4))
	}
	if got := d.ok("pull-blob", repo, "@stdin"); got != stdinData {
		t.Fatalf("pull-blob @stdin: wrong data")
	}

	// set-alias: several blobs, and paths (hashed locally, not uploaded).
	out := d.ok("set-alias", repo, "there", h1, "./"+f2)
	if !strings.Contains(out, h1) || !strings.Contains(out, h2) || strings.HasSuffix(out, "\n") {
		t.Fatalf("set-alias printed %q", out)
	}
	if got := d.ok("get-alias", repo, "there"); got != lines(h1, h2) {
		t.Fatalf("get-alias there printed %q", got)
	}
	if got := d.ok("get-digest", repo, "there", "fooey", "all"); got != lines(h1, h1, h2) {
		t.Fatalf("get-digest printed %q", got)
	}
	unpushed, _ := d.file("unpushed", []byte("never pushed"))
	d.fails(exitNotFound, []string{"set-alias", repo, "x", "./" + unpushed}, "Not Found")
	d.fails(exitFailure, []string{"set-alias", repo, "x", "./missing-file"}, "missing-file")
	d.fails(exitFailure, []string{"pull-blob", repo, "notadigest"}, "notadigest")
	d.fails(exitFailure, []string{"push-blob", repo, "missing-file", "@x"}, "missing-file")

	// list-aliases: every alias, one per line.
	tags := strings.Fields(d.ok("list-aliases", repo))
	if strings.Join(tags, " ") != "all fooey stdin there" {
		t.Fatalf("list-aliases printed %q", tags)
	}
}

// TestStdinManifest feeds set-alias output to the commands that read a
// manifest from standard input, as the Python tool's test_manifest does.
func TestStdinManifest(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("stdin")
	data := randomBytes(t, 5000)
	f, h := d.file("blob", data)
	d.ok("push-blob", repo, f)
	manifest := d.ok("set-alias", repo, "mani_test", h)

	if got := d.okIn(manifest, "get-alias", repo); got != lines(h) {
		t.Fatalf("get-alias < manifest printed %q", got)
	}
	if got := d.okIn(manifest, "blob-size", repo); got != lines("5000") {
		t.Fatalf("blob-size < manifest printed %q", got)
	}
	if got := d.okIn(manifest, "get-digest", repo); got != lines(h) {
		t.Fatalf("get-digest < manifest printed %q", got)
	}
	if got := d.okIn(manifest, "pull-blob", repo); got != string(data) {
		t.Fatalf("pull-blob < manifest: wrong data")
	}
	// The manifest's blobs are mani_test's: refused, unless forced.
	r0 := d.runIn(manifest, "del-blob", repo)
	checkFailure(t, r0, exitFailure, []string{"del-blob", "<manifest"}, "mani_test")
	if got := d.okIn(manifest, "del-blob", "--force", repo); got != "" {
		t.Fatalf("del-blob < manifest printed %q", got)
	}
	r := d.runIn(manifest, "pull-blob", repo)
	checkFailure(t, r, exitNotFound, []string{"pull-blob", "<manifest"}, "Not Found")

	r = d.runIn("not json", "get-alias", repo)
	checkFailure(t, r, exitFailure, []string{"get-alias", "<garbage"}, "standard input")
}

// TestChunkSize checks that DXF_CHUNK_SIZE works (in Python it crashed):
// the output is right whatever the size, and writes are of that size.
func TestChunkSize(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("chunk")
	data := randomBytes(t, 100003)
	f, h := d.file("blob", data)
	d.ok("push-blob", repo, f)
	for _, size := range []string{"1", "7", "4096", "10000000"} {
		if got := d.with("DXF_CHUNK_SIZE", size).ok("pull-blob", repo, h); got != string(data) {
			t.Errorf("DXF_CHUNK_SIZE=%s: wrong output", size)
		}
	}
	if got := d.ok("pull-blob", "--chunk-size", "333", repo, h); got != string(data) {
		t.Errorf("--chunk-size 333: wrong output")
	}
	d.with("DXF_CHUNK_SIZE", "lots").fails(exitFailure, []string{"pull-blob", repo, h}, "DXF_CHUNK_SIZE")
	d.with("DXF_CHUNK_SIZE", "0").fails(exitFailure, []string{"pull-blob", repo, h}, "DXF_CHUNK_SIZE")
	d.fails(exitUsage, []string{"pull-blob", "--chunk-size", "0", repo, h}, "--chunk-size")

	// In process, to see the writes themselves.
	var w recordingWriter
	var stderr strings.Builder
	code := run(t.Context(), []string{"pull-blob", repo, h}, strings.NewReader(""), &w, &stderr,
		append(d.with("DXF_CHUNK_SIZE", "1000").environ(), "DXF_DIGEST_CACHE=0"))
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr.String())
	}
	if w.buf.String() != string(data) {
		t.Fatalf("run: wrong output")
	}
	for i, n := range w.sizes {
		if n > 1000 || (n != 1000 && i != len(w.sizes)-1) {
			t.Fatalf("write %d of %d was %d bytes; want 1000-byte writes: %v", i, len(w.sizes), n, w.sizes)
		}
	}
}

type recordingWriter struct {
	buf   strings.Builder
	sizes []int
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.buf.Write(p)
}

// TestOutputFile checks --output: the file appears complete or not at all.
func TestOutputFile(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("output")
	a, b := randomBytes(t, 3<<20), randomBytes(t, 1000)
	fa, ha := d.file("a", a)
	fb, hb := d.file("b", b)
	d.ok("push-blob", repo, fa, fb, "@ab")
	out := filepath.Join(t.TempDir(), "out.dat")
	if got := d.ok("pull-blob", repo, "-o", out, "@ab"); got != "" {
		t.Fatalf("pull-blob -o printed %q on stdout", got)
	}
	if got, err := os.ReadFile(out); err != nil || string(got) != string(a)+string(b) {
		t.Fatalf("pull-blob -o wrote %d bytes (%v), want %d", len(got), err, len(a)+len(b))
	}
	// A failure half-way leaves the old file as it was, and no temporary.
	d.fails(exitNotFound, []string{"pull-blob", repo, "--output", out, ha, digestOf([]byte("nope"))}, "Not Found")
	if got, _ := os.ReadFile(out); string(got) != string(a)+string(b) {
		t.Fatalf("failed pull-blob -o changed the file")
	}
	checkDirHolds(t, filepath.Dir(out), 1)
	if got := d.ok("pull-blob", repo, "--output", out, hb); got != "" {
		t.Fatal("stdout not empty")
	}
	if got, _ := os.ReadFile(out); string(got) != string(b) {
		t.Fatalf("pull-blob -o did not replace the file")
	}
	d.fails(exitUsage, []string{"blob-size", repo, "-o", out, hb}, "--output")
}
