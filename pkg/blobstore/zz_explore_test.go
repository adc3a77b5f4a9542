package blobstore

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest/faultproxy"
)

func TestZZExplore(t *testing.T) {
	reg := plain(t)
	p := faultproxy.StartT(t, reg.URL)
	r, err := New(p.Host, "explore/x", WithInsecure(true), WithKeychain(nil), WithChunkSize(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(t.TempDir() + "/big")
	io.Copy(f, newPatternReader(256<<20))
	f.Close()
	inj := p.Inject(faultproxy.Rule{Method: "PATCH", Skip: 9, Times: 1}, faultproxy.CutRequestForwarded(int64(256<<20)*6/10-9*16<<20))
	t0 := time.Now()
	res, err := r.PushFile(t.Context(), f.Name())
	t.Logf("push %v %v in %v; hits %d; received %d (%.2f)", res, err, time.Since(t0), inj.Hits(), p.BytesReceived(), float64(p.BytesReceived())/float64(256<<20))
	for _, rec := range p.Requests() {
		t.Logf("%s %s %d in=%d out=%d %v %s", rec.Method, rec.Path, rec.Status, rec.BytesIn, rec.BytesOut, rec.Faults, rec.Header.Get("Content-Range"))
	}
	t0 = time.Now()
	br, err := r.PullBlob(t.Context(), res.Digest)
	if err != nil { t.Fatal(err) }
	n, err := io.Copy(io.Discard, br)
	t.Logf("pull %d %v in %v", n, err, time.Since(t0))
}
