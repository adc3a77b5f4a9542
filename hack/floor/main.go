// Command floor does the wire work of three benchmarked jobs with nothing
// else: raw net/http, no retries, no progress, no caches, the best
// concurrency given by -jobs. Its time is the floor any client can reach
// against a registry, beside which hack/bench-copy.sh and
// hack/bench-scale.sh show dxf and its peers.
//
// Usage:
//
//	floor copy -jobs N SRC_HOST/REPO:TAG DST_HOST/REPO:TAG
//	floor push -jobs N [-salt S] DST_HOST/REPO:TAG DIR
//	floor pull -jobs N SRC_HOST/REPO:TAG DIR
//
// copy streams each blob of the source manifest (GET) into a monolithic
// upload to the target (POST, then PUT with the body and the digest),
// hashing it on the way: a blob whose bytes do not match its digest aborts
// its PUT before the registry can commit it. Then it puts the manifest.
// push sends each regular file under DIR as one blob (POST, then a
// monolithic PUT; the file is hashed first), then an OCI manifest naming
// them (org.opencontainers.image.title = the path); -salt S makes every
// blob new to the registry (the first 8 bytes of each file are XORed with
// S in memory, the file is left alone), so that a push of files some
// earlier tool pushed does the work of a first push. pull gets every layer
// of the manifest (GET) into DIR at its title, checking each against its
// digest. Plain HTTP only. It prints the seconds taken and the requests
// sent; with -pids, also the CPU seconds those processes (the registry)
// used meanwhile.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	client   *http.Client
	requests atomic.Int64
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "floor: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return errors.New("usage: floor copy|push|pull [-jobs N] [-pids PID,...] ARGS")
	}
	mode := os.Args[1]
	fset := flag.NewFlagSet(mode, flag.ExitOnError)
	jobs := fset.Int("jobs", 8, "blobs at once")
	pids := fset.String("pids", "", "comma-separated `pids` whose CPU time to report (the registry)")
	salt := fset.Uint64("salt", 0, "push: XOR the first 8 bytes of every file with this (in memory), to push new blobs")
	if err := fset.Parse(os.Args[2:]); err != nil {
		return err
	}
	args := fset.Args()
	if len(args) != 2 {
		return fmt.Errorf("%s takes two arguments", mode)
	}
	client = &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: *jobs + 2,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}}
	ctx := context.Background()
	cpu0 := cpuTime(*pids)
	t0 := time.Now()
	var err error
	switch mode {
	case "copy":
		err = copyRef(ctx, args[0], args[1], *jobs)
	case "push":
		err = push(ctx, args[0], args[1], *jobs, *salt)
	case "pull":
		err = pull(ctx, args[0], args[1], *jobs)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	fmt.Printf("%s: %.3f s, %d requests, jobs %d", mode, secs, requests.Load(), *jobs)
	if *pids != "" {
		fmt.Printf(", registry CPU %.2f s", cpuTime(*pids)-cpu0)
	}
	fmt.Println()
	return nil
}

// cpuTime sums utime+stime of the processes, in seconds.
func cpuTime(pids string) float64 {
	var t float64
	for _, p := range strings.Split(pids, ",") {
		if p == "" {
			continue
		}
		b, err := os.ReadFile("/proc/" + p + "/stat") //nolint:gosec // the registry and directory the command line names
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		u, _ := strconv.ParseFloat(f[11], 64)
		k, _ := strconv.ParseFloat(f[12], 64)
		t += (u + k) / 100 // USER_HZ
	}
	return t
}

// ref is HOST/REPO:TAG split.
type ref struct{ host, repo, tag string }

func parseRef(s string) (ref, error) {
	i := strings.IndexByte(s, '/')
	j := strings.LastIndexByte(s, ':')
	if i < 0 || j < i {
		return ref{}, fmt.Errorf("bad reference %q (HOST/REPO:TAG)", s)
	}
	return ref{s[:i], s[i+1 : j], s[j+1:]}, nil
}

func (r ref) url(p string) string { return "http://" + r.host + "/v2/" + r.repo + p }

func do(req *http.Request, want int) (*http.Response, error) {
	requests.Add(1)
	resp, err := client.Do(req) //nolint:gosec // the registry and directory the command line names
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, b)
	}
	return resp, nil
}

type desc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type manifest struct {
	SchemaVersion int    `json:"schemaVersion"`
	MediaType     string `json:"mediaType"`
	ArtifactType  string `json:"artifactType,omitempty"`
	Config        desc   `json:"config"`
	Layers        []desc `json:"layers"`
}

const accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"

func getManifest(ctx context.Context, r ref) ([]byte, string, *manifest, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url("/manifests/"+r.tag), nil) //nolint:gosec // the registry and directory the command line names
	req.Header.Set("Accept", accept)
	resp, err := do(req, http.StatusOK)
	if err != nil {
		return nil, "", nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", nil, err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, "", nil, err
	}
	return raw, resp.Header.Get("Content-Type"), &m, nil
}

func putManifest(ctx context.Context, r ref, raw []byte, mt string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, r.url("/manifests/"+r.tag), bytes.NewReader(raw)) //nolint:gosec // the registry and directory the command line names
	req.Header.Set("Content-Type", mt)
	resp, err := do(req, http.StatusCreated)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// forEach runs f for 0..n-1, jobs at a time; the first error wins.
func forEach(n, jobs int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range min(jobs, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// startUpload opens an upload session and returns its URL.
func startUpload(ctx context.Context, r ref) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.url("/blobs/uploads/"), nil) //nolint:gosec // the registry and directory the command line names
	resp, err := do(req, http.StatusAccepted)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc, err := req.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", err
	}
	return loc.String(), nil
}

// putBlob commits the upload at loc with body, of size bytes, as digest.
func putBlob(ctx context.Context, loc string, body io.Reader, size int64, digest string) error {
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, loc+sep+"digest="+digest, body) //nolint:gosec // the registry and directory the command line names
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := do(req, http.StatusCreated)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// verifying hashes what passes and, at the end, fails instead of io.EOF
// if it was not the digest's bytes.
type verifying struct {
	r      io.Reader
	h      hash.Hash
	digest string
}

func (v *verifying) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); got != v.digest {
			return n, fmt.Errorf("digest mismatch: got %s, want %s", got, v.digest)
		}
	}
	return n, err
}

func getBlob(ctx context.Context, r ref, d string) (io.ReadCloser, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url("/blobs/"+d), nil) //nolint:gosec // the registry and directory the command line names
	resp, err := do(req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func copyRef(ctx context.Context, srcS, dstS string, jobs int) error {
	src, err := parseRef(srcS)
	if err != nil {
		return err
	}
	dst, err := parseRef(dstS)
	if err != nil {
		return err
	}
	raw, mt, m, err := getManifest(ctx, src)
	if err != nil {
		return err
	}
	blobs := append([]desc{m.Config}, m.Layers...)
	err = forEach(len(blobs), jobs, func(i int) error {
		b := blobs[i]
		loc, err := startUpload(ctx, dst)
		if err != nil {
			return err
		}
		body, err := getBlob(ctx, src, b.Digest)
		if err != nil {
			return err
		}
		defer body.Close()
		return putBlob(ctx, loc, &verifying{r: body, h: sha256.New(), digest: b.Digest}, b.Size, b.Digest)
	})
	if err != nil {
		return err
	}
	return putManifest(ctx, dst, raw, mt)
}

func push(ctx context.Context, dstS, dir string, jobs int, salt uint64) error {
	dst, err := parseRef(dstS)
	if err != nil {
		return err
	}
	var paths []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error { //nolint:gosec // the registry and directory the command line names
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	layers := make([]desc, len(paths))
	err = forEach(len(paths), jobs, func(i int) error {
		data, err := os.ReadFile(paths[i])
		if err != nil {
			return err
		}
		var sb [8]byte
		binary.LittleEndian.PutUint64(sb[:], salt)
		for k := 0; k < 8 && k < len(data); k++ {
			data[k] ^= sb[k]
		}
		sum := sha256.Sum256(data)
		d := "sha256:" + hex.EncodeToString(sum[:])
		rel, _ := filepath.Rel(dir, paths[i])
		layers[i] = desc{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: d, Size: int64(len(data)),
			Annotations: map[string]string{"org.opencontainers.image.title": filepath.ToSlash(rel)}}
		loc, err := startUpload(ctx, dst)
		if err != nil {
			return err
		}
		return putBlob(ctx, loc, bytes.NewReader(data), int64(len(data)), d)
	})
	if err != nil {
		return err
	}
	empty := []byte("{}")
	sum := sha256.Sum256(empty)
	cfg := desc{MediaType: "application/vnd.oci.empty.v1+json", Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: 2}
	loc, err := startUpload(ctx, dst)
	if err != nil {
		return err
	}
	if err := putBlob(ctx, loc, bytes.NewReader(empty), 2, cfg.Digest); err != nil {
		return err
	}
	raw, err := json.Marshal(manifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.manifest.v1+json",
		ArtifactType: "application/vnd.unknown.artifact.v1", Config: cfg, Layers: layers})
	if err != nil {
		return err
	}
	return putManifest(ctx, dst, raw, "application/vnd.oci.image.manifest.v1+json")
}

func pull(ctx context.Context, srcS, dir string, jobs int) error {
	src, err := parseRef(srcS)
	if err != nil {
		return err
	}
	_, _, m, err := getManifest(ctx, src)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	made := map[string]bool{}
	return forEach(len(m.Layers), jobs, func(i int) error {
		l := m.Layers[i]
		name := l.Annotations["org.opencontainers.image.title"]
		if name == "" || strings.Contains(name, "..") {
			return fmt.Errorf("layer %d: no usable title", i)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		sub := filepath.Dir(p)
		mu.Lock()
		if !made[sub] {
			if err := os.MkdirAll(sub, 0o750); err != nil { //nolint:gosec // the registry and directory the command line names
				mu.Unlock()
				return err
			}
			made[sub] = true
		}
		mu.Unlock()
		body, err := getBlob(ctx, src, l.Digest)
		if err != nil {
			return err
		}
		defer body.Close()
		f, err := os.Create(p) //nolint:gosec // the registry and directory the command line names
		if err != nil {
			return err
		}
		_, err = io.Copy(f, &verifying{r: body, h: sha256.New(), digest: l.Digest})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}
