package blobstore

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// pushIndex pushes two single-platform aliases and an OCI index over them,
// and returns the index's digest string.
func pushIndex(t *testing.T, r *Repository, mediaType MediaType) (amd, arm []byte) {
	t.Helper()
	a := pushBytes(t, r, []byte("amd64 data"))
	b := pushBytes(t, r, []byte("arm64 data"))
	amd, err := rawOf(r.SetAliasBlobs(t.Context(), "amd", a.Blob()))
	if err != nil {
		t.Fatal(err)
	}
	arm, err = rawOf(r.SetAliasBlobs(t.Context(), "arm", b.Blob()))
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaType,
		"manifests": []map[string]any{
			{"mediaType": MediaTypeDockerManifest, "digest": HashBytes(amd).String(), "size": len(amd), "platform": map[string]string{"os": "linux", "architecture": "amd64"}},
			{"mediaType": MediaTypeDockerManifest, "digest": HashBytes(arm).String(), "size": len(arm), "platform": map[string]string{"os": "linux", "architecture": "arm64", "variant": "v8"}},
		},
	}
	raw, _ := json.Marshal(index)
	if _, err := r.SetManifest(t.Context(), "multi", raw); err != nil {
		t.Fatal(err)
	}
	return amd, arm
}

func TestAliasRoundTrip(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	a := pushBytes(t, r, []byte("first"))
	b := pushBytes(t, r, []byte("second"))
	raw, err := rawOf(r.SetAlias(t.Context(), "two", a.Digest, b.Digest))
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.GetManifest(t.Context(), "two")
	if err != nil || string(m.Raw) != string(raw) {
		t.Fatalf("GetManifest gave %s, %v; want exactly what was set", m.Raw, err)
	}
	al, err := r.GetAlias(t.Context(), "two", "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	if img := al.Image(); img == nil || len(img.Layers) != 2 || img.Layers[0] != a.Blob() || img.Layers[1] != b.Blob() || img.Config != a.Blob() || al.Platforms != nil {
		t.Fatalf("alias %+v", al)
	}
	if size, err := r.ManifestSize(t.Context(), al.Image()); err != nil || size != a.Size+b.Size {
		t.Fatalf("AliasSize = %d, %v", size, err)
	}
}

func TestSetAliasErrors(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	if _, err := r.SetAlias(t.Context(), "x"); !errors.Is(err, ErrNoBlobs) {
		t.Fatalf("no digests: %v", err)
	}
	if _, err := r.SetAlias(t.Context(), "x", HashBytes([]byte("missing"))); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("missing blob: %v", err)
	}
	a := pushBytes(t, r, []byte("x"))
	if _, err := r.SetAlias(t.Context(), "bad alias!", a.Digest); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("bad alias: %v", err)
	}
	if _, err := r.GetManifest(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing alias: %v", err)
	}
}

func TestMultiPlatformAlias(t *testing.T) {
	for _, mt := range []MediaType{MediaTypeOCIIndex, MediaTypeDockerManifestList} {
		t.Run(string(mt), func(t *testing.T) {
			r := newMemRepo(t, "foo/bar")
			amd, arm := pushIndex(t, r, mt)
			al, err := r.GetAlias(t.Context(), "multi", "")
			if err != nil {
				t.Fatal(err)
			}
			if !al.Manifest.IsList() || al.Image() != nil || strings.Join(al.PlatformNames(), ",") != "linux/amd64,linux/arm64/v8" {
				t.Fatalf("alias %+v", al)
			}
			if string(al.Platforms["linux/amd64"].Raw) != string(amd) || string(al.Platforms["linux/arm64/v8"].Raw) != string(arm) {
				t.Fatal("children differ from what was pushed")
			}
			one, err := r.GetAlias(t.Context(), "multi", "linux/arm64/v8")
			if err != nil || one.Image() == nil || string(one.Image().Raw) != string(arm) || len(one.Platforms) != 1 {
				t.Fatalf("selected platform: %+v, %v", one, err)
			}
			_, err = r.GetAlias(t.Context(), "multi", "windows/amd64")
			var pe *PlatformNotFoundError
			if !errors.As(err, &pe) || !errors.Is(err, ErrPlatformNotFound) || pe.Platform != "windows/amd64" {
				t.Fatalf("unknown platform: %v", err)
			}
		})
	}
}

func TestDeleteAliasMem(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	a := pushBytes(t, r, []byte("kept"))
	if _, err := r.SetAlias(t.Context(), "gone", a.Digest); err != nil {
		t.Fatal(err)
	}
	m, err := r.DeleteAlias(t.Context(), "gone")
	if err != nil || len(m.Layers) != 1 || m.Layers[0].Digest != a.Digest {
		t.Fatalf("DeleteAlias = %+v, %v", m, err)
	}
	if _, err := r.GetManifest(t.Context(), "gone"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("alias still there: %v", err)
	}
	if ok, _ := r.HasBlob(t.Context(), a.Digest); !ok {
		t.Fatal("DeleteAlias deleted the blob")
	}
}

// manifestServer answers manifest GETs for alias "x" with raw, the content
// type and Docker-Content-Digest given.
func manifestServer(t *testing.T, raw, contentType, dcd string) *Repository {
	srv := newMemServer(t)
	srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		if dcd != "" {
			w.Header().Set("Docker-Content-Digest", dcd)
		}
		_, _ = w.Write([]byte(raw))
		return true
	})
	return srv.repo(t, "foo/bar")
}

func TestManifestVerifiedAgainstDockerContentDigest(t *testing.T) {
	raw := `{"schemaVersion":2,"mediaType":"` + string(MediaTypeDockerManifest) + `","config":{"digest":"` + d1 + `","size":1},"layers":[{"digest":"` + d1 + `","size":1}]}`
	r := manifestServer(t, raw, string(MediaTypeDockerManifest), HashBytes([]byte(raw)).String())
	if _, err := r.GetManifest(t.Context(), "x"); err != nil {
		t.Fatalf("matching digest: %v", err)
	}
	r = manifestServer(t, raw, string(MediaTypeDockerManifest), d2)
	_, err := r.GetManifest(t.Context(), "x")
	var dm *DigestMismatchError
	if !errors.As(err, &dm) || dm.Expected.String() != d2 || dm.Got != HashBytes([]byte(raw)) {
		t.Fatalf("mismatching digest: %v", err)
	}
	r = manifestServer(t, raw, string(MediaTypeDockerManifest), "sha512:abcd")
	if _, err := r.GetManifest(t.Context(), "x"); !errors.Is(err, ErrUnexpectedDigestMethod) {
		t.Fatalf("sha512 header: %v", err)
	}
	// Fetched by digest, the bytes must match it even without the header.
	r = manifestServer(t, raw, string(MediaTypeDockerManifest), "")
	if _, err := r.GetManifest(t.Context(), d3); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("by wrong digest: %v", err)
	}
}

func TestSchema1Alias(t *testing.T) {
	payload := "{\n   \"schemaVersion\": 1,\n   \"name\": \"foo/bar\",\n   \"tag\": \"old\",\n   \"fsLayers\": [{\"blobSum\": \"" + d2 + "\"}, {\"blobSum\": \"" + d1 + "\"}]\n}"
	raw := signedSchema1(payload)
	r := manifestServer(t, raw, string(MediaTypeDockerSchema1Signed), HashBytes([]byte(payload)).String())
	al, err := r.GetAlias(t.Context(), "old", "")
	if err != nil {
		t.Fatal(err)
	}
	if ds := al.Image().Digests(); len(ds) != 2 || ds[0].String() != d1 || ds[1].String() != d2 {
		t.Fatalf("schema 1 layers %v", ds)
	}
}

func TestManifestErrorsFromServer(t *testing.T) {
	for name, tc := range map[string]struct {
		raw, ct string
		want    error
	}{
		"html":    {"<html><body>Welcome to nginx</body></html>", "text/html", ErrInvalidManifest},
		"unknown": {`{"schemaVersion":2,"mediaType":"application/x-nope"}`, "application/x-nope", ErrUnsupportedManifest},
		"huge":    {`{"a":"` + strings.Repeat("x", MaxManifestSize) + `"}`, "application/json", ErrInvalidManifest},
	} {
		t.Run(name, func(t *testing.T) {
			r := manifestServer(t, tc.raw, tc.ct, "")
			if _, err := r.GetManifest(t.Context(), "x"); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNestedListRefused(t *testing.T) {
	r := newMemRepo(t, "foo/bar")
	pushIndex(t, r, MediaTypeOCIIndex)
	inner, err := r.GetManifest(t.Context(), "multi")
	if err != nil {
		t.Fatal(err)
	}
	outer, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": MediaTypeOCIIndex, "manifests": []map[string]any{
		{"mediaType": MediaTypeOCIIndex, "digest": inner.Digest.String(), "size": len(inner.Raw), "platform": map[string]string{"os": "linux", "architecture": "amd64"}},
	}})
	if _, err := r.SetManifest(t.Context(), "nested", outer); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetAlias(t.Context(), "nested", ""); !errors.Is(err, ErrUnsupportedManifest) {
		t.Fatalf("nested list: %v", err)
	}
}
