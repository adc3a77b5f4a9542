package blobstore

import (
	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest/matrix"
)

// BenchmarkPushInMemoryRegistry pushes a 200 MiB file to the in-process
// registries of the matrix (go-containerregistry's and CUE's keep blobs in
// memory: what they copy per request shows).
func BenchmarkPushInMemoryRegistry(b *testing.B) {
	const size = 200 << 20
	path := filepath.Join(b.TempDir(), "blob")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.ReadFrom(newPatternReader(size)); err != nil {
		b.Fatal(err)
	}
	_ = f.Close()
	for _, name := range []string{matrix.GGCR, matrix.CUE} {
		b.Run(name+"/monolithic-put", func(b *testing.B) {
			s := matrix.Get(b, matrix.Lookup(name))
			b.SetBytes(size)
			defer cpuMetric(b)()
			c := &http.Client{}
			for i := range b.N {
				perturb(b, path)
				f, _ := os.Open(path)
				d, _, _ := v1.SHA256(f)
				f.Close()
				repo := "bench/mono" + string(rune('a'+i%26))
				resp, err := c.Post("http://"+s.Host+"/v2/"+repo+"/blobs/uploads/", "", nil)
				if err != nil || resp.StatusCode != 202 {
					b.Fatal(err)
				}
				loc := resp.Header.Get("Location")
				resp.Body.Close()
				u, _ := url.Parse("http://" + s.Host)
				lu, _ := u.Parse(loc)
				q := lu.Query()
				q.Set("digest", d.String())
				lu.RawQuery = q.Encode()
				f, _ = os.Open(path)
				req, _ := http.NewRequest(http.MethodPut, lu.String(), f)
				req.ContentLength = size
				resp, err = c.Do(req)
				f.Close()
				if err != nil || resp.StatusCode != 201 {
					b.Fatal(err, resp.Status)
				}
				resp.Body.Close()
			}
		})
		b.Run(name+"/default", func(b *testing.B) {
			s := matrix.Get(b, matrix.Lookup(name))
			b.SetBytes(size)
			defer cpuMetric(b)()
			for i := range b.N {
				r := matrixRepo(b, s, fmt.Sprintf("bench/def%d", i))
				perturb(b, path)
				if _, err := r.PushFile(b.Context(), path); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, chunk := range []int64{DefaultChunkSize, 1 << 30} {
			b.Run(fmt.Sprintf("%s/chunk=%dMiB", name, chunk>>20), func(b *testing.B) {
				s := matrix.Get(b, matrix.Lookup(name))
				b.SetBytes(size)
				defer cpuMetric(b)()
				for i := range b.N {
					r := matrixRepo(b, s, fmt.Sprintf("bench/push%d", i), WithDefaultChunkSize(chunk))
					perturb(b, path)
					if _, err := r.PushFile(b.Context(), path, WithCheckExists(false)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// cpuMetric reports the process's CPU time (user + system) per operation:
// client and registry run in this process, and CPU time, unlike wall time,
// barely depends on how busy the machine is.
func cpuMetric(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perturb changes the file's first 8 bytes, so each push is of a new blob.
func perturb(b *testing.B, path string) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(fmt.Sprintf("%08x", time.Now().UnixNano()&0xffffffff)), 0); err != nil {
		b.Fatal(err)
	}
}
