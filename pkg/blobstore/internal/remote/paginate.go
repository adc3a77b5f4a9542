package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
)

// Pages bounds a paginated listing.
type Pages struct {
	// Max is how many pages are followed at most; TooMany the error past it.
	Max     int
	TooMany error
	// PageLimit bounds the bytes of one page; TooBig is the error past it.
	PageLimit int64
	TooBig    error
}

// Paginate GETs u and the pages its Link headers lead to, yielding the
// strings in the JSON array field of each page. It stops with an error at a
// link seen before, at a page that brings nothing new (empty, or the same
// names as the page before) yet links to another, and after MaxPages pages.
func (p Pages) Paginate(ctx context.Context, t *xport.Client, c *http.Client, op string, s Subject, u, field string, yield func(string, error) bool) {
	seen := map[string]bool{}
	var prev map[string]bool // items of a page followed without a Link
	var last pageSummary
	for pages := 0; u != ""; pages++ {
		if seen[u] {
			yield("", opErrorf(op, "pagination loops back to %s", u))
			return
		}
		if pages == p.Max {
			yield("", opErrorf(op, "%w", p.TooMany))
			return
		}
		seen[u] = true
		raw, next, err := p.page(ctx, t, c, op, s, u)
		if err != nil {
			yield("", err)
			return
		}
		// Without a Link, a full page may be followed by asking for what
		// comes after its last item (see continuation): remember its items.
		var items map[string]bool
		if next == "" && pageSizeOf(u) > 0 {
			items = map[string]bool{}
		}
		fresh := 0
		sum, err := eachName(raw, field, func(name string) bool {
			if items != nil {
				items[name] = true
			}
			if prev[name] {
				return true
			}
			fresh++
			return yield(name, nil)
		})
		if err != nil {
			yield("", opErrorf(op, "%w", err))
			return
		}
		if sum.stopped {
			return
		}
		if next != "" && (sum.n == 0 || sum == last) {
			yield("", opErrorf(op, "the registry's pagination makes no progress: page %d has %s, and links to another", pages+1, sum.describe()))
			return
		}
		last = sum
		if next == "" && fresh > 0 {
			// A full page without a Link header: some registries
			// (go-containerregistry's) honour n and last but never link,
			// so ask for what follows the last item. A registry that
			// ignores last answers with items already seen: then stop.
			next, prev = continuation(u, sum, items)
		} else {
			prev = nil
		}
		u = next
	}
}

// pageSizeOf returns the page size n a listing URL asks for, or 0.
func pageSizeOf(page string) int {
	pu, err := url.Parse(page)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(pu.Query().Get("n"))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// continuation returns the URL of the page after a page (sum, with items as
// a set) when it asked for n items and got as many; else "".
func continuation(page string, sum pageSummary, items map[string]bool) (string, map[string]bool) {
	n := pageSizeOf(page)
	if n <= 0 || sum.n < n {
		return "", nil
	}
	pu, err := url.Parse(page)
	if err != nil {
		return "", nil
	}
	q := pu.Query()
	q.Set("last", sum.last)
	pu.RawQuery = q.Encode()
	return pu.String(), items
}

// page GETs one page of a listing: its body and the next page's URL.
func (p Pages) page(ctx context.Context, t *xport.Client, c *http.Client, op string, s Subject, u string) ([]byte, string, error) {
	raw, hdr, err := GetBody(ctx, t, c, op, s, xport.Request{Method: http.MethodGet, URL: u}, p.PageLimit, p.TooBig)
	if err != nil {
		return nil, "", err
	}
	next, err := NextLink(u, hdr.Values("Link"))
	if err != nil {
		return nil, "", opErrorf(op, "%w", err)
	}
	return raw, next, nil
}

// pageSummary is what is needed to tell a page that brings nothing new.
type pageSummary struct {
	n           int
	first, last string
	stopped     bool // the consumer stopped the iteration
}

func (p pageSummary) describe() string {
	if p.n == 0 {
		return "no names"
	}
	return fmt.Sprintf("the same %d names as the page before", p.n)
}

// eachName calls f with each string of the array field of the JSON object
// raw, decoding one at a time (a page is not copied into a map or a slice).
// "field": null, or no such field, means none.
func eachName(raw []byte, field string, f func(string) bool) (pageSummary, error) {
	var sum pageSummary
	dec := json.NewDecoder(bytes.NewReader(raw))
	notJSON := func(err error) (pageSummary, error) {
		return sum, fmt.Errorf("the registry's answer is not JSON (an object): %w", err)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if err == nil {
			err = fmt.Errorf("starts with %v", t)
		}
		return notJSON(err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return notJSON(err)
		}
		if key, _ := t.(string); key != field {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return notJSON(err)
			}
			continue
		}
		t, err = dec.Token()
		if err != nil {
			return notJSON(err)
		}
		if t == nil {
			continue
		}
		if t != json.Delim('[') {
			return sum, fmt.Errorf("%q is not a list of strings", field)
		}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return notJSON(err)
			}
			name, ok := t.(string)
			if !ok {
				return sum, fmt.Errorf("%q is not a list of strings", field)
			}
			if sum.n == 0 {
				sum.first = name
			}
			sum.n++
			sum.last = name
			if !f(name) {
				sum.stopped = true
				return sum, nil
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return notJSON(err)
		}
	}
	return sum, nil
}

// NextLink returns the absolute URL of the rel="next" link among Link header
// values, resolved against the URL of the page they came with, or "" if there
// is none. Like the Python tool (for ACR), a next link that repeats the /v2/
// prefix of an absolute path is tolerated.
func NextLink(page string, links []string) (string, error) {
	for _, v := range links {
		for _, link := range splitLinks(v) {
			target, params, ok := strings.Cut(link, ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			if !hasRelNext(params) {
				continue
			}
			base, err := url.Parse(page)
			if err != nil {
				return "", err
			}
			ref, err := url.Parse(target[1 : len(target)-1])
			if err != nil {
				return "", fmt.Errorf("bad Link header %q: %w", v, err)
			}
			next := base.ResolveReference(ref)
			next.Path = strings.Replace(next.Path, "/v2/v2/", "/v2/", 1)
			if next.Scheme != base.Scheme || next.Host != base.Host {
				return "", fmt.Errorf("the next page link %q leaves %s", next.Redacted(), base.Host)
			}
			return next.String(), nil
		}
	}
	return "", nil
}

// splitLinks splits a Link header value into links at commas outside <…>
// and quoted strings.
func splitLinks(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' && depth == 0:
			quoted = !quoted
		case c == '<' && !quoted:
			depth++
		case c == '>' && !quoted && depth > 0:
			depth--
		case c == ',' && depth == 0 && !quoted:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

func hasRelNext(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
			if strings.EqualFold(rel, "next") {
				return true
			}
		}
	}
	return false
}
