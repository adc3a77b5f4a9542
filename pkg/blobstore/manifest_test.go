package blobstore

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
)

const abcDigest = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

func mustDigest(t testing.TB, s string) Blob {
	t.Helper()
	d, err := ParseDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return Blob{Digest: d}
}

func TestMakeManifestGolden(t *testing.T) {
	b := mustDigest(t, abcDigest)
	b.Size = 3
	raw, err := MakeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"config": {"digest": "` + abcDigest + `", "mediaType": "application/vnd.docker.container.image.v1+json", "size": 3}, "layers": [{"digest": "` + abcDigest + `", "mediaType": "application/octet-stream", "size": 3}], "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "schemaVersion": 2}`
	if string(raw) != want {
		t.Fatalf("manifest:\n got %s\nwant %s", raw, want)
	}
	if got := HashBytes(raw).String(); got != "sha256:fc164619e222260028d6741aa4a446ecd7042db644322a88b64f6b6d222b5dbf" {
		t.Fatalf("manifest digest %s differs from the Python tool's", got)
	}
}

func TestMakeManifestSeveralBlobs(t *testing.T) {
	a := Blob{Digest: HashBytes([]byte("a")), Size: 1}
	b := Blob{Digest: HashBytes([]byte("bb")), Size: 2}
	raw, err := MakeManifest(a, b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != MediaTypeDockerManifest || m.Config != a || len(m.Layers) != 2 || m.Layers[0] != a || m.Layers[1] != b {
		t.Fatalf("round trip: %+v", m)
	}
	if !strings.Contains(string(raw), `"size": 1}, {"digest": "`+b.Digest.String()+`", "mediaType": "application/octet-stream", "size": 2}]`) {
		t.Fatalf("layers not in Python's format: %s", raw)
	}
}

func TestMakeManifestNoBlobs(t *testing.T) {
	if _, err := MakeManifest(); !errors.Is(err, ErrNoBlobs) {
		t.Fatalf("got %v, want ErrNoBlobs", err)
	}
}

func TestParseDigest(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{abcDigest, nil},
		{"sha512:" + strings.Repeat("a", 128), ErrUnexpectedDigestMethod},
		{"md5:abc", ErrUnexpectedDigestMethod},
		{"sha256:zzz", ErrInvalidDigest},
		{"sha256:" + strings.Repeat("a", 63), ErrInvalidDigest},
		{"sha256:" + strings.Repeat("A", 64), ErrInvalidDigest},
		{"sha256:" + strings.Repeat("a", 64) + ":x", ErrInvalidDigest},
		{"notadigest", ErrInvalidDigest},
		{"", ErrInvalidDigest},
	} {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseDigest(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseDigest(%q) = %v, %v; want error %v", tc.in, d, err, tc.want)
			}
			if err == nil && d.String() != tc.in {
				t.Fatalf("round trip gave %s", d)
			}
		})
	}
}

func TestHashFile(t *testing.T) {
	p := t.TempDir() + "/f"
	writeFile(t, p, []byte("abc"))
	d, n, err := HashFile(p)
	if err != nil || d.String() != abcDigest || n != 3 {
		t.Fatalf("HashFile = %s, %d, %v", d, n, err)
	}
	if _, _, err := HashFile(p + "-missing"); err == nil {
		t.Fatal("HashFile of a missing file succeeded")
	}
}

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	d3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

func TestParseManifest(t *testing.T) {
	for _, tc := range []struct {
		name, raw, contentType string
		mediaType              MediaType
		layers                 []string
		platforms              []string
		err                    error
	}{
		{name: "docker v2", raw: `{"schemaVersion":2,"mediaType":"` + string(MediaTypeDockerManifest) + `","config":{"digest":"` + d1 + `","size":1},"layers":[{"digest":"` + d2 + `","size":2},{"digest":"` + d3 + `","size":3}]}`,
			mediaType: MediaTypeDockerManifest, layers: []string{d2, d3}},
		{name: "oci without mediaType", raw: `{"schemaVersion":2,"config":{"digest":"` + d1 + `","size":1},"layers":[{"digest":"` + d2 + `","size":2}]}`,
			mediaType: MediaTypeOCIManifest, layers: []string{d2}},
		{name: "oci by content type", raw: `{"schemaVersion":2,"config":{"digest":"` + d1 + `","size":1},"layers":[]}`, contentType: string(MediaTypeOCIManifest) + "; charset=utf-8",
			mediaType: MediaTypeOCIManifest, layers: []string{}},
		{name: "oci index", raw: `{"schemaVersion":2,"mediaType":"` + string(MediaTypeOCIIndex) + `","manifests":[{"digest":"` + d1 + `","size":9,"platform":{"os":"linux","architecture":"amd64"}},{"digest":"` + d2 + `","size":9,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}`,
			mediaType: MediaTypeOCIIndex, platforms: []string{"linux/amd64", "linux/arm64/v8"}},
		{name: "docker list", raw: `{"schemaVersion":2,"mediaType":"` + string(MediaTypeDockerManifestList) + `","manifests":[{"digest":"` + d1 + `","size":9,"platform":{"os":"windows","architecture":"amd64"}}]}`,
			mediaType: MediaTypeDockerManifestList, platforms: []string{"windows/amd64"}},
		{name: "schema 1 oldest last", raw: `{"schemaVersion":1,"name":"r","tag":"t","fsLayers":[{"blobSum":"` + d3 + `"},{"blobSum":"` + d2 + `"}]}`,
			mediaType: MediaTypeDockerSchema1, layers: []string{d2, d3}},
		{name: "unknown type", raw: `{"schemaVersion":2,"mediaType":"application/x-weird"}`, err: ErrUnsupportedManifest},
		{name: "no type no shape", raw: `{"hello":1}`, err: ErrUnsupportedManifest},
		{name: "not json", raw: `<html>nope</html>`, err: ErrInvalidManifest},
		{name: "bad layer digest", raw: `{"mediaType":"` + string(MediaTypeDockerManifest) + `","config":{"digest":"` + d1 + `"},"layers":[{"digest":"sha256:xyz"}]}`, err: ErrInvalidManifest},
		{name: "missing config", raw: `{"mediaType":"` + string(MediaTypeDockerManifest) + `","layers":[]}`, err: ErrInvalidManifest},
		{name: "negative size", raw: `{"mediaType":"` + string(MediaTypeDockerManifest) + `","config":{"digest":"` + d1 + `","size":-1},"layers":[]}`, err: ErrInvalidManifest},
		{name: "too big", raw: `{"x":"` + strings.Repeat("a", MaxManifestSize) + `"}`, err: ErrInvalidManifest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tc.raw), tc.contentType)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != tc.mediaType {
				t.Errorf("media type %q, want %q", m.MediaType, tc.mediaType)
			}
			var got []string
			for _, d := range m.Digests() {
				got = append(got, d.String())
			}
			if strings.Join(got, ",") != strings.Join(tc.layers, ",") {
				t.Errorf("layers %v, want %v", got, tc.layers)
			}
			var plats []string
			for _, e := range m.Manifests {
				plats = append(plats, e.Platform)
			}
			if strings.Join(plats, ",") != strings.Join(tc.platforms, ",") {
				t.Errorf("platforms %v, want %v", plats, tc.platforms)
			}
			if m.Digest != HashBytes([]byte(tc.raw)) {
				t.Errorf("digest %s is not the hash of the bytes", m.Digest)
			}
		})
	}
}

// signedSchema1 builds a signed schema 1 manifest the way libtrust does: the
// payload, with a signatures array spliced in before its final "\n}", and
// the protected header giving where to cut to get the payload back.
func signedSchema1(payload string) string {
	cut := strings.LastIndex(payload, "\n}")
	tail := payload[cut:]
	prot := base64.RawURLEncoding.EncodeToString([]byte(`{"formatLength":` + strconv.Itoa(cut) + `,"formatTail":"` + base64.RawURLEncoding.EncodeToString([]byte(tail)) + `"}`))
	return payload[:cut] + `,
   "signatures": [{"header": {"alg": "ES256"}, "signature": "c2ln", "protected": "` + prot + `"}]` + tail
}

func TestParseManifestSignedSchema1Digest(t *testing.T) {
	payload := "{\n   \"schemaVersion\": 1,\n   \"name\": \"r\",\n   \"fsLayers\": [{\"blobSum\": \"" + d2 + "\"}, {\"blobSum\": \"" + d1 + "\"}]\n}"
	raw := signedSchema1(payload)
	m, err := ParseManifest([]byte(raw), "")
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != MediaTypeDockerSchema1Signed {
		t.Errorf("media type %s", m.MediaType)
	}
	if m.Digest != HashBytes([]byte(payload)) {
		t.Errorf("digest %s is not the payload's %s", m.Digest, HashBytes([]byte(payload)))
	}
	if ds := m.Digests(); len(ds) != 2 || ds[0].String() != d1 || ds[1].String() != d2 || m.Layers[0].Size != -1 {
		t.Errorf("layers %v", m.Layers)
	}
}

func TestValidateAlias(t *testing.T) {
	for _, ok := range []string{"latest", "may15-readings", "v1.2_3", "A", strings.Repeat("a", 128), abcDigest} {
		if err := ValidateAlias(ok); err != nil {
			t.Errorf("ValidateAlias(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "bad alias!", ".hidden", "-x", strings.Repeat("a", 129), "a/b", "a:b", "@x"} {
		if err := ValidateAlias(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateAlias(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}
