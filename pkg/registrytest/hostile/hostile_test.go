package hostile_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest/hostile"
)

func get(t *testing.T, method, url string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, b, err
}

// TestScenarios checks each scenario does what its documentation says, and
// that unmatched requests reach the in-memory registry.
func TestScenarios(t *testing.T) {
	s := hostile.Start(t)
	if resp, _, err := get(t, "GET", s.URL+"/v2/"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ of the in-memory registry: %v %v", resp, err)
	}

	s.Handle("GET", "/v2/r/blobs/nolength", hostile.NoLength([]byte("0123456789")))
	resp, b, err := get(t, "GET", s.URL+"/v2/r/blobs/nolength")
	if err != nil || resp.ContentLength != -1 || string(b) != "0123456789" {
		t.Errorf("NoLength: length %d, body %q, %v", resp.ContentLength, b, err)
	}

	endless := s.Handle("GET", "/v2/r/blobs/endless", hostile.Endless())
	resp, b, err = get(t, "GET", s.URL+"/v2/r/blobs/endless")
	if err != nil || resp.ContentLength != -1 || len(b) != 1<<20 {
		t.Errorf("Endless: length %d, %d bytes read, %v", resp.ContentLength, len(b), err)
	}
	if endless.Hits() != 1 {
		t.Errorf("Endless answered %d requests", endless.Hits())
	}

	s.Handle("GET", "/v2/r/blobs/lying", hostile.LyingLength(100, []byte("short")))
	if _, b, err = get(t, "GET", s.URL+"/v2/r/blobs/lying"); err == nil {
		t.Errorf("LyingLength: a 5-byte body announced as 100 read without error: %q", b)
	}

	s.Handle("GET", "/v2/r/tags/list", hostile.Pages("tags", func(i int) ([]string, bool) { return []string{"t"}, i < 2 }))
	url := s.URL + "/v2/r/tags/list"
	for i := 0; i < 3; i++ {
		resp, b, err = get(t, "GET", url)
		if err != nil || !strings.Contains(string(b), `"tags":["t"]`) {
			t.Fatalf("page %d: %q, %v", i, b, err)
		}
		link := resp.Header.Get("Link")
		if (link != "") != (i < 2) {
			t.Fatalf("page %d: Link %q", i, link)
		}
		if link != "" {
			url = s.URL + strings.TrimPrefix(strings.SplitN(link, ">", 2)[0], "<")
		}
	}

	s.Handle("PUT", "/v2/r/blobs/uploads/.*", hostile.Commit("sha256:other"))
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", s.URL+"/v2/r/blobs/uploads/x?digest=sha256:mine", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated || resp.Header.Get("Docker-Content-Digest") != "sha256:other" {
		t.Errorf("Commit: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	if s.BytesSent() < 1<<20 || s.Requests() < 7 {
		t.Errorf("BytesSent %d, Requests %d", s.BytesSent(), s.Requests())
	}
}
