package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

// TestAliasRefusedPrintsDigests: a registry refusing the alias's manifest
// (zot answers 415 to a media type it does not take) after the blobs were
// uploaded. push-blob @alias, plain and --split, still prints every pushed
// digest, then the error, and exits 1; the blobs are there.
func TestAliasRefusedPrintsDigests(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("aliasrefused")
	a, b := randomBytes(t, 300<<10), randomBytes(t, 5000)
	fa, ha := d.file("a.dat", a)
	fb, hb := d.file("b.dat", b)

	p := faultproxy.StartT(t, shared.URL)
	p.Inject(faultproxy.Rule{Method: http.MethodPut, Path: "/manifests/"}, faultproxy.Status(http.StatusUnsupportedMediaType))
	refused := d.with("DXF_HOST", p.Host, "DXF_DIGEST_CACHE", "0")

	r := refused.run("push-blob", repo, fa, fb, "@week")
	if r.code != exitFailure || r.stdout != lines(ha, hb) {
		t.Errorf("push-blob @week refused: exit %d, stdout %q, want 1 and\n%s", r.code, r.stdout, lines(ha, hb))
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasPrefix(r.stderr, "dxf: ") || !strings.Contains(r.stderr, "415") {
		t.Errorf("push-blob @week refused: stderr %q, want one line naming the 415", r.stderr)
	}
	for _, h := range []string{ha, hb} {
		if got := d.ok("pull-blob", repo, h); got != map[string]string{ha: string(a), hb: string(b)}[h] {
			t.Errorf("pushed blob %s: pulled %d bytes", h, len(got))
		}
	}

	chunks := d.ok("push-blob", "--split=64K", repo+"/chunks", fa, fb)
	r = refused.run("push-blob", "--split=64K", repo+"/split", fa, fb, "@split")
	if r.code != exitFailure || r.stdout != chunks {
		t.Errorf("push-blob --split @split refused: exit %d, stdout\n%s\nwant 1 and\n%s", r.code, r.stdout, chunks)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.Contains(r.stderr, "415") {
		t.Errorf("push-blob --split @split refused: stderr %q, want one line naming the 415", r.stderr)
	}
}
