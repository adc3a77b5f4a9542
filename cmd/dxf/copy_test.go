package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest"
	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

// TestCopy copies an alias from a plain registry (behind a counting proxy,
// named with http://) to DXF_HOST, an htpasswd registry over TLS, then
// into an OCI image layout and back out: the digest printed is the
// source's at each step, the data reads back, and DXF_HOST's credentials
// never reach the other registry.
func TestCopy(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthHtpasswd})
	proxy := faultproxy.StartT(t, shared.URL)
	plainD := newDXFAt(t, proxy.Host, false)
	d := newDXF(t, reg).with("DXF_TLSVERIFY", reg.CAFile, "DXF_USERNAME", reg.Username, "DXF_PASSWORD", reg.Password)
	src := uniqueRepo("copysrc")
	data := randomBytes(t, 300<<10)
	f, _ := plainD.file("data", data)
	plainD.ok("push-blob", "--split=16K", src, f, "@week")
	want := digestOf([]byte(plainD.ok("get-manifest", src, "week")))

	dst := uniqueRepo("copydst")
	got := d.ok("copy", "--jobs", "3", "http://"+proxy.Host+"/"+src+"@week", dst)
	if got != lines(want) {
		t.Fatalf("copy printed %q, want %q", got, want)
	}
	if out := d.ok("pull-blob", dst, "@week"); out != string(data) {
		t.Fatal("pull-blob of the copy: wrong data")
	}
	for _, r := range proxy.Requests() {
		if r.Header.Get("Authorization") != "" || strings.Contains(strings.Join(r.Header.Values("Authorization"), " "), reg.Password) {
			t.Fatalf("%s %s carried credentials to the other registry", r.Method, r.Path)
		}
	}

	// Into a layout and out again, under another alias; then by digest.
	dir := filepath.Join(t.TempDir(), "mirror")
	if out := d.ok("copy", dst+"@week", "oci:"+dir); out != got {
		t.Fatalf("copy into the layout printed %q", out)
	}
	back := uniqueRepo("copyback")
	if out := d.ok("copy", "oci:"+dir+"@week", back+"@restored"); out != got {
		t.Fatalf("copy out of the layout printed %q", out)
	}
	if out := d.ok("pull-blob", back, "@restored"); out != string(data) {
		t.Fatal("pull-blob of the copy back: wrong data")
	}
	digest := strings.TrimSpace(got)
	if out := d.ok("copy", back+"@"+digest, uniqueRepo("bydigest")+"@v1"); out != got {
		t.Fatalf("copy by digest printed %q", out)
	}

	// Layout to layout without DXF_HOST; with DXF_HOST=oci:ROOT, a
	// repository names the layout under ROOT.
	root := t.TempDir()
	if out := d.with("DXF_HOST", "").ok("copy", "oci:"+dir+"@week", "oci:"+filepath.Join(root, "fred", "copy")); out != got {
		t.Fatalf("copy between layouts printed %q", out)
	}
	layD := d.with("DXF_HOST", "oci:"+root)
	if out := layD.ok("copy", "fred/copy@week", "fred/again@w2"); out != got {
		t.Fatalf("copy under DXF_HOST=oci:ROOT printed %q", out)
	}
	if out := layD.ok("pull-blob", "fred/again", "@w2"); out != string(data) {
		t.Fatal("pull-blob of the layout copy: wrong data")
	}

	// Mistakes: no source alias (usage), a missing alias (not found).
	d.fails(exitUsage, []string{"copy", dst, back}, "the source needs an alias")
	d.fails(exitNotFound, []string{"copy", dst + "@nope", back}, "nope")
}

// TestCopyKilled kills a copy (SIGKILL) while its fourth blob is being
// committed; run again, it uploads only the three blobs still missing, and
// only then sets the alias.
func TestCopyKilled(t *testing.T) {
	t.Parallel()
	proxy := faultproxy.StartT(t, shared.URL)
	d := newDXF(t, shared)
	src, dst := uniqueRepo("copykill"), uniqueRepo("copykill")
	var files []string
	for i := range 6 {
		f, _ := d.file("part"+string(rune('a'+i)), randomBytes(t, 50<<10))
		files = append(files, f)
	}
	d.ok(append(append([]string{"push-blob", src}, files...), "@six")...)
	hold := proxy.Inject(faultproxy.Rule{Method: "PUT", Path: "/v2/" + dst + "/blobs/uploads/", Skip: 3}, faultproxy.Latency(2*time.Minute))

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dxfBin, "copy", "--jobs", "1", src+"@six", proxy.Host+"/"+dst)
	cmd.Env = d.environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for hold.Hits() == 0 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatal("the copy never reached its fourth blob")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill() // SIGKILL
	_ = cmd.Wait()
	hold.Remove()
	d.fails(exitNotFound, []string{"get-digest", dst, "six"}, "six")

	proxy.ResetStats()
	d.ok("copy", "--jobs", "1", src+"@six", proxy.Host+"/"+dst)
	if n := proxy.Count("POST", "/v2/"+dst+"/blobs/uploads/"); n != 3 {
		t.Fatalf("the second run uploaded %d blobs, want 3", n)
	}
	if out := d.ok("pull-blob", dst, "@six"); len(out) != 6*50<<10 {
		t.Fatalf("pull-blob of the copy: %d bytes", len(out))
	}
}
