package blobstore

// Fuzz targets for every parser of untrusted input: manifests, digests,
// Link headers, aliases and repository names. Each checks properties, not
// just the absence of panics; where possible against an independent,
// hand-written statement of the grammar. Seed corpora live in
// testdata/fuzz/<FuzzName>/; hack/fuzz.sh runs each target for a while.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
)

var knownMediaTypes = []MediaType{
	MediaTypeDockerManifest, MediaTypeDockerManifestList, MediaTypeDockerSchema1,
	MediaTypeDockerSchema1Signed, MediaTypeOCIManifest, MediaTypeOCIIndex,
}

// wellFormed reports whether d is a sha256 digest ParseDigest accepts as is.
func wellFormed(d v1.Hash) bool {
	p, err := ParseDigest(d.String())
	return err == nil && p == d
}

// FuzzParseManifest: any bytes, any Content-Type. A manifest that parses is
// of a known type, keeps its bytes, has the digest of its bytes (of its
// signed payload for signed schema 1), only well-formed digests, a shape
// that matches its type, and parses again the same way; anything else fails
// with ErrInvalidManifest or ErrUnsupportedManifest.
func FuzzParseManifest(f *testing.F) {
	blobs := []Blob{{Digest: HashBytes([]byte("a")), Size: 1}, {Digest: HashBytes([]byte("bb")), Size: 2}}
	dxf, _ := MakeManifest(blobs...)
	f.Add(dxf, "")
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"`+string(MediaTypeOCIIndex)+`","manifests":[{"digest":"`+d1+`","size":9,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}`), "")
	f.Add([]byte(signedSchema1("{\n   \"schemaVersion\": 1,\n   \"fsLayers\": [{\"blobSum\": \""+d2+"\"}]\n}")), string(MediaTypeDockerSchema1Signed))
	f.Add([]byte(`{"schemaVersion":1,"fsLayers":[{"blobSum":"`+d3+`"}],"signatures":[{"protected":"eyJmb3JtYXRMZW5ndGgiOjEwMDAwMDB9"}]}`), "")
	f.Fuzz(func(t *testing.T, raw []byte, contentType string) {
		m, err := ParseManifest(raw, contentType)
		if err != nil {
			if m != nil {
				t.Fatalf("a manifest and an error: %v", err)
			}
			if !errors.Is(err, ErrInvalidManifest) && !errors.Is(err, ErrUnsupportedManifest) {
				t.Fatalf("error matches neither ErrInvalidManifest nor ErrUnsupportedManifest: %v", err)
			}
			return
		}
		if len(raw) > MaxManifestSize {
			t.Fatalf("accepted %d bytes", len(raw))
		}
		if !bytes.Equal(m.Raw, raw) {
			t.Fatal("Raw is not the input")
		}
		if !slices.Contains(knownMediaTypes, m.MediaType) {
			t.Fatalf("unknown media type %q accepted", m.MediaType)
		}
		if !wellFormed(m.Digest) {
			t.Fatalf("malformed digest %#v", m.Digest)
		}
		if m.MediaType != MediaTypeDockerSchema1Signed && m.Digest != HashBytes(raw) {
			t.Fatalf("digest %s is not the hash of the bytes", m.Digest)
		}
		for _, l := range m.Layers {
			if !wellFormed(l.Digest) {
				t.Fatalf("malformed layer digest %#v", l.Digest)
			}
		}
		switch m.MediaType {
		case MediaTypeDockerManifest, MediaTypeOCIManifest:
			if !wellFormed(m.Config.Digest) || m.Config.Size < 0 || m.Manifests != nil {
				t.Fatalf("image manifest with config %+v, %d entries", m.Config, len(m.Manifests))
			}
			for _, l := range m.Layers {
				if l.Size < 0 {
					t.Fatalf("negative layer size %d", l.Size)
				}
			}
		case MediaTypeDockerSchema1, MediaTypeDockerSchema1Signed:
			if m.Config != (Blob{}) || m.Manifests != nil {
				t.Fatalf("schema 1 with config %+v, %d entries", m.Config, len(m.Manifests))
			}
			for _, l := range m.Layers {
				if l.Size != -1 {
					t.Fatalf("schema 1 layer size %d, want -1 (unknown)", l.Size)
				}
			}
		case MediaTypeDockerManifestList, MediaTypeOCIIndex:
			if !m.IsList() || len(m.Layers) != 0 || m.Config != (Blob{}) {
				t.Fatalf("list with %d layers, config %+v", len(m.Layers), m.Config)
			}
			for _, e := range m.Manifests {
				if !wellFormed(e.Digest) {
					t.Fatalf("malformed entry digest %#v", e.Digest)
				}
			}
		}
		// Parsing again, told the type found, gives the same answer.
		again, err := ParseManifest(raw, string(m.MediaType))
		if err != nil || again.MediaType != m.MediaType || again.Digest != m.Digest || !slices.Equal(again.Layers, m.Layers) {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}

// FuzzParseDigest: ParseDigest accepts exactly "sha256:" and 64 lowercase
// hex digits, round-trips through String, agrees with go-containerregistry,
// and says why it refuses.
func FuzzParseDigest(f *testing.F) {
	f.Add(abcDigest)
	f.Add("sha256:")
	f.Add("md5:d41d8cd98f00b204e9800998ecf8427e")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		valid := len(s) == 71 && strings.HasPrefix(s, "sha256:")
		for i := 7; valid && i < len(s); i++ {
			valid = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')
		}
		if valid != (err == nil) {
			t.Fatalf("ParseDigest(%q) = %v, valid by the grammar: %v", s, err, valid)
		}
		if err != nil {
			alg, rest, ok := strings.Cut(s, ":")
			wantMethod := ok && !strings.Contains(rest, ":") && alg != "sha256"
			if wantMethod != errors.Is(err, ErrUnexpectedDigestMethod) || wantMethod == errors.Is(err, ErrInvalidDigest) {
				t.Fatalf("ParseDigest(%q): wrong kind of error: %v", s, err)
			}
			if d != (v1.Hash{}) {
				t.Fatalf("a digest and an error")
			}
			return
		}
		if d.String() != s || d.Algorithm != "sha256" || len(d.Hex) != 64 {
			t.Fatalf("ParseDigest(%q) = %#v", s, d)
		}
		if h, err := v1.NewHash(s); err != nil || h != d {
			t.Fatalf("go-containerregistry disagrees: %v, %v", h, err)
		}
	})
}

// FuzzNextLink: whatever the Link header says, the next page is on the
// same scheme and host as the page it came with — checked on the URL the
// client will actually request, re-parsed from the string. (User info in
// the link is allowed: it can only go back to the registry that sent it.)
func FuzzNextLink(f *testing.F) {
	f.Add("http://localhost:5000/v2/_catalog?n=2", `</v2/_catalog?last=b&n=2>; rel="next"`)
	f.Add("https://r.example/v2/a/tags/list", `<https://r.example@evil.example/x>; rel=next`)
	f.Add("https://r.example/v2/a/tags/list", `<https://evil.example\@r.example/x>; rel=next`)
	f.Fuzz(func(t *testing.T, page, link string) {
		next, err := nextLink(page, []string{link})
		if err != nil || next == "" {
			return
		}
		base, err := url.Parse(page)
		if err != nil {
			t.Fatalf("a next link for an unparsable page %q", page)
		}
		u, err := url.Parse(next)
		if err != nil {
			t.Fatalf("NextLink returned an unparsable URL %q: %v", next, err)
		}
		if !strings.EqualFold(u.Scheme, base.Scheme) || u.Host != base.Host {
			t.Fatalf("page %q, link %q: next page %q leaves %s://%s", page, link, next, base.Scheme, base.Host)
		}
		if again, err := nextLink(page, []string{link}); err != nil || again != next {
			t.Fatalf("not deterministic: %q then %q (%v)", next, again, err)
		}
	})
}

// validTag is the distribution spec's tag grammar, written out by hand.
func validTag(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
		if !alnum && (i == 0 || (c != '.' && c != '-')) {
			return false
		}
	}
	return true
}

// FuzzValidateAlias: an alias is valid exactly when it is a tag by the
// grammar or a sha256 digest; a valid alias is one path segment of a URL as
// it stands; an invalid one is named in an ErrInvalidName error.
func FuzzValidateAlias(f *testing.F) {
	f.Add("latest")
	f.Add("bad alias!")
	f.Add(abcDigest)
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateAlias(s)
		_, derr := ParseDigest(s)
		if want := validTag(s) || derr == nil; want != (err == nil) {
			t.Fatalf("ValidateAlias(%q) = %v, valid by the grammar: %v", s, err, want)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ValidateAlias(%q): %v", s, err)
			}
			return
		}
		u, perr := url.Parse("http://localhost:5000/v2/r/manifests/" + s)
		if perr != nil || u.Path != "/v2/r/manifests/"+s || u.RawQuery != "" || u.Fragment != "" || u.EscapedPath() != u.Path {
			t.Fatalf("valid alias %q is not a plain URL path segment (%v)", s, perr)
		}
	})
}

// validRepoName is the distribution spec's repository name grammar
// (path components of lowercase letters and digits joined by ".", "_", "__"
// or runs of "-"), at most 255 characters, written out by hand.
func validRepoName(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for _, comp := range strings.Split(s, "/") {
		alnum := func(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }
		if comp == "" || !alnum(comp[0]) || !alnum(comp[len(comp)-1]) {
			return false
		}
		for i := 0; i < len(comp); {
			if alnum(comp[i]) {
				i++
				continue
			}
			j := i
			for j < len(comp) && !alnum(comp[j]) {
				j++
			}
			sep := comp[i:j]
			if sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
				return false
			}
			i = j
		}
	}
	return true
}

// FuzzRepositoryName: Registry.Repository accepts exactly the names of the
// grammar, keeps them as given, and builds URLs whose path is the name.
func FuzzRepositoryName(f *testing.F) {
	f.Add("fred/datalogger")
	f.Add("a..b")
	f.Add("a/b/c---d__e.f_g")
	reg, err := NewRegistry("localhost:5000")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		r, err := reg.Repository(name)
		if want := validRepoName(name); want != (err == nil) {
			t.Fatalf("Repository(%q) = %v, valid by the grammar: %v", name, err, want)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("Repository(%q): %v, want ErrInvalidName", name, err)
			}
			return
		}
		if r.Name() != name || r.String() != "localhost:5000/"+name {
			t.Fatalf("Repository(%q) is named %q (%s)", name, r.Name(), r)
		}
		u, err := url.Parse(r.Store().(*remote.Repo).URL("/tags/list"))
		if err != nil || u.Host != "localhost:5000" || u.Path != "/v2/"+name+"/tags/list" || u.RawQuery != "" {
			t.Fatalf("Repository(%q) lists tags at %q (%v)", name, r.Store().(*remote.Repo).URL("/tags/list"), err)
		}
	})
}

// FuzzMakeManifest: the manifest an alias points to is JSON that parses
// back to the same blobs — config = first blob, layers = all, in order —
// with the digest of its bytes.
func FuzzMakeManifest(f *testing.F) {
	f.Add([]byte("seed"), uint8(2), int64(12345))
	f.Fuzz(func(t *testing.T, seed []byte, n uint8, size int64) {
		blobs := make([]Blob, 1+int(n%16))
		for i := range blobs {
			var ib [8]byte
			binary.BigEndian.PutUint64(ib[:], uint64(i))
			sum := sha256.Sum256(append(ib[:], seed...))
			blobs[i] = Blob{Digest: HashBytes(sum[:]), Size: (size + int64(i)*int64(len(seed))) & (1<<62 - 1)}
		}
		raw, err := MakeManifest(blobs...)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(raw) {
			t.Fatalf("not JSON: %s", raw)
		}
		m, err := ParseManifest(raw, "")
		if err != nil {
			t.Fatalf("MakeManifest output does not parse: %v\n%s", err, raw)
		}
		if m.MediaType != MediaTypeDockerManifest || m.Config != blobs[0] || !slices.Equal(m.Layers, blobs) || m.Digest != HashBytes(raw) {
			t.Fatalf("parsed back to %s %+v %+v", m.MediaType, m.Config, m.Layers)
		}
	})
}
