package blobstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Aliases iterates over the repository's aliases (tags), following the
// registry's pagination. Iteration stops at the first error, which is yielded.
func (r *Repository) Aliases(ctx context.Context) iter.Seq2[string, error] {
	if r.st != nil {
		return r.st.Aliases(ctx)
	}
	return func(yield func(string, error) bool) {
		c, err := r.pullClient(ctx)
		if err != nil {
			yield("", wrapErr("list aliases", subjectRepo, err))
			return
		}
		first := r.url("/tags/list")
		if n := r.reg.o.pageSize; n > 0 {
			first += "?n=" + strconv.Itoa(n)
		}
		r.reg.paginate(ctx, c, "list aliases of "+r.Name(), subjectRepo, first, "tags", yield)
	}
}

// ListAliases returns all the repository's aliases.
func (r *Repository) ListAliases(ctx context.Context) ([]string, error) {
	return collect(r.Aliases(ctx))
}

// Repositories iterates over the registry's repositories (the catalog),
// following pagination. Iteration stops at the first error, which is yielded.
func (r *Registry) Repositories(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		c, err := r.client(ctx, r.reg, "registry:catalog:*")
		if err != nil {
			yield("", wrapErr("list repositories", subjectOther, err))
			return
		}
		// Without a page size the registry picks one (Distribution: 100, or
		// its catalog.maxentries) and links to the next page, as the Python
		// tool relies on: asking for more than catalog.maxentries fails with
		// 400 PAGINATION_NUMBER_INVALID.
		first := r.url("/v2/_catalog")
		if n := r.o.pageSize; n > 0 {
			first += "?n=" + strconv.Itoa(n)
		}
		firstPage := true
		r.paginate(ctx, c, "list repositories", subjectOther, first, "repositories", func(s string, err error) bool {
			if err != nil && firstPage && errors.Is(err, ErrNotFound) {
				err = &noCatalogError{err}
			}
			firstPage = false
			return yield(s, err)
		})
	}
}

// noCatalogError is a 404 for the catalog: some registries (olareg, and
// registries that disable it) have none.
type noCatalogError struct{ err error }

func (e *noCatalogError) Error() string {
	status := "404 Not Found"
	var re *Error
	if errors.As(e.err, &re) && len(re.Codes) > 0 {
		status += ": " + strings.Join(re.Codes, ", ")
	}
	return "list repositories: the registry has no catalog (GET /v2/_catalog answered " + status + ")"
}

func (e *noCatalogError) Unwrap() error { return e.err }

// ListRepositories returns all the registry's repositories.
func (r *Registry) ListRepositories(ctx context.Context) ([]string, error) {
	return collect(r.Repositories(ctx))
}

func collect(seq iter.Seq2[string, error]) ([]string, error) {
	var out []string
	for s, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

// paginate GETs u and the pages its Link headers lead to, yielding the
// strings in the JSON array field of each page. It stops with an error at a
// link seen before, at a page that brings nothing new (empty, or the same
// names as the page before) yet links to another, and after MaxPages pages.
func (r *Registry) paginate(ctx context.Context, c *http.Client, op string, s subject, u, field string, yield func(string, error) bool) {
	seen := map[string]bool{}
	var prev map[string]bool // items of a page followed without a Link
	var last pageSummary
	for pages := 0; u != ""; pages++ {
		if seen[u] {
			yield("", fmt.Errorf("%s: pagination loops back to %s", op, u))
			return
		}
		if pages == maxPages {
			yield("", fmt.Errorf("%s: %w", op, &LimitError{What: "the number of pages", Limit: int64(maxPages), Unit: "pages", Name: "MaxPages"}))
			return
		}
		seen[u] = true
		raw, next, err := r.page(ctx, c, op, s, u)
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
			yield("", fmt.Errorf("%s: %w", op, err))
			return
		}
		if sum.stopped {
			return
		}
		if next != "" && (sum.n == 0 || sum == last) {
			yield("", fmt.Errorf("%s: the registry's pagination makes no progress: page %d has %s, and links to another", op, pages+1, sum.describe()))
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

// maxPages is MaxPages, lowered by tests.
var maxPages = MaxPages

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
func (r *Registry) page(ctx context.Context, c *http.Client, op string, s subject, u string) ([]byte, string, error) {
	raw, hdr, err := r.getBody(ctx, c, op, s, request{method: http.MethodGet, url: u}, limitPage)
	if err != nil {
		return nil, "", err
	}
	next, err := nextLink(u, hdr.Values("Link"))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
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

// nextLink returns the absolute URL of the rel="next" link among Link header
// values, resolved against the URL of the page they came with, or "" if there
// is none. Like the Python tool (for ACR), a next link that repeats the /v2/
// prefix of an absolute path is tolerated.
func nextLink(page string, links []string) (string, error) {
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
