package blobstore

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
)

func TestNextLink(t *testing.T) {
	const page = "https://r.example/v2/foo/tags/list?n=2"
	for _, tc := range []struct {
		name  string
		links []string
		want  string
		err   bool
	}{
		{"none", nil, "", false},
		{"relative", []string{`</v2/foo/tags/list?n=2&last=b>; rel="next"`}, "https://r.example/v2/foo/tags/list?n=2&last=b", false},
		{"absolute", []string{`<https://r.example/v2/foo/tags/list?last=b>; rel="next"`}, "https://r.example/v2/foo/tags/list?last=b", false},
		{"acr duplicate v2", []string{`</v2/v2/foo/tags/list?last=b>; rel="next"`}, "https://r.example/v2/foo/tags/list?last=b", false},
		{"unquoted rel", []string{`</v2/x?last=c>; rel=next`}, "https://r.example/v2/x?last=c", false},
		{"prev only", []string{`</v2/x?last=a>; rel="prev"`}, "", false},
		{"several in one", []string{`</v2/p?x=1>; rel="prev", </v2/n?x=2>; rel="next"`}, "https://r.example/v2/n?x=2", false},
		{"several rels", []string{`</v2/n>; rel="last next"`}, "https://r.example/v2/n", false},
		{"comma in url", []string{`</v2/n?a=1,2>; rel="next"`}, "https://r.example/v2/n?a=1,2", false},
		{"other host", []string{`<https://evil.example/v2/x>; rel="next"`}, "", true},
		{"garbage", []string{`garbage; rel="next"`}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := nextLink(page, tc.links)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("nextLink = %q, %v; want %q (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

// pagingServer serves n tags named t000… in pages following the `n` and
// `last` parameters, with Link headers, like Distribution.
func pagingServer(t *testing.T, n int, nullTags bool) *Repository {
	srv := newMemServer(t)
	srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			return false
		}
		size, _ := strconv.Atoi(r.URL.Query().Get("n"))
		last := r.URL.Query().Get("last")
		var tags []string
		for i := 0; i < n && len(tags) < size; i++ {
			if tag := fmt.Sprintf("t%03d", i); tag > last {
				tags = append(tags, tag)
			}
		}
		if len(tags) == size && tags[len(tags)-1] != fmt.Sprintf("t%03d", n-1) {
			w.Header().Set("Link", fmt.Sprintf(`<%s?n=%d&last=%s>; rel="next"`, r.URL.Path, size, tags[len(tags)-1]))
		}
		w.Header().Set("Content-Type", "application/json")
		if nullTags {
			_, _ = w.Write([]byte(`{"name":"foo/bar","tags":null}`))
			return true
		}
		fmt.Fprintf(w, `{"name":"foo/bar","tags":["%s"]}`, strings.Join(tags, `","`))
		return true
	})
	return srv.repo(t, "foo/bar", WithPageSize(3))
}

func TestListAliasesFollowsPages(t *testing.T) {
	r := pagingServer(t, 11, false)
	tags, err := r.ListAliases(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 11 || tags[0] != "t000" || tags[10] != "t010" {
		t.Fatalf("tags %v", tags)
	}
	// Stopping early stops fetching.
	n := 0
	for _, err := range r.Aliases(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 4 {
			break
		}
	}
	if n != 4 {
		t.Fatalf("iterated %d", n)
	}
}

func TestListAliasesNullTags(t *testing.T) {
	r := pagingServer(t, 0, true)
	tags, err := r.ListAliases(t.Context())
	if err != nil || len(tags) != 0 {
		t.Fatalf("tags %v, %v", tags, err)
	}
}

func TestListRepositoriesMem(t *testing.T) {
	srv := newMemServer(t)
	for _, name := range []string{"a/one", "b/two"} {
		r := srv.repo(t, name)
		res := pushBytes(t, r, []byte(name))
		if _, err := r.SetAliasBlobs(t.Context(), "latest", res.Blob()); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := NewRegistry(srv.host(), WithInsecure(true), WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	repos, err := reg.ListRepositories(t.Context())
	sort.Strings(repos) // the in-memory registry lists in map order
	if err != nil || strings.Join(repos, ",") != "a/one,b/two" {
		t.Fatalf("repos %v, %v", repos, err)
	}
}

func TestListNotJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>"))
	}))
	defer srv.Close()
	r, err := New(strings.TrimPrefix(srv.URL, "http://"), "foo", WithInsecure(true), WithKeychain(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ListAliases(t.Context()); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("got %v", err)
	}
}

var nextLink = remote.NextLink
