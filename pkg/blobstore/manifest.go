package blobstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// MediaType is the media type of a manifest or of a blob a manifest lists.
type MediaType string

// Manifest media types this package reads and writes.
const (
	MediaTypeDockerManifest      = MediaType("application/vnd.docker.distribution.manifest.v2+json")
	MediaTypeDockerManifestList  = MediaType("application/vnd.docker.distribution.manifest.list.v2+json")
	MediaTypeDockerSchema1       = MediaType("application/vnd.docker.distribution.manifest.v1+json")
	MediaTypeDockerSchema1Signed = MediaType("application/vnd.docker.distribution.manifest.v1+prettyjws")
	MediaTypeOCIManifest         = MediaType("application/vnd.oci.image.manifest.v1+json")
	MediaTypeOCIIndex            = MediaType("application/vnd.oci.image.index.v1+json")
	// MediaTypeDockerConfig is the config media type of the synthetic manifest.
	MediaTypeDockerConfig = MediaType("application/vnd.docker.container.image.v1+json")
	// MediaTypeBlob is the layer media type of the synthetic manifest.
	MediaTypeBlob = MediaType("application/octet-stream")
)

// acceptManifests is the Accept header for manifest requests, exactly as the
// Python tool sends it. Listing the list types makes Docker-Content-Digest
// name the list itself, which keeps deletes safe.
const acceptManifests = string(MediaTypeDockerSchema1 + ", " + MediaTypeDockerManifest + ", " +
	MediaTypeDockerManifestList + ", " + MediaTypeOCIManifest + ", " + MediaTypeOCIIndex)

// Blob is a blob's digest and size: Digest is its sha256 digest, Size its
// size in bytes, -1 when unknown (Docker schema 1 manifests do not record
// sizes).
type Blob = store.Blob

// PlatformManifest is one entry of a manifest list or index.
type PlatformManifest struct {
	// Platform is "os/architecture[/variant]".
	Platform string
	// Digest is the child manifest's digest.
	Digest v1.Hash
	// Size is the child manifest's size.
	Size int64
	// MediaType is the child manifest's media type.
	MediaType MediaType
}

// Manifest is a manifest as a registry stores it, decoded.
type Manifest struct {
	// Raw is the manifest exactly as stored.
	Raw []byte
	// MediaType is the manifest's media type (from its mediaType field, else
	// the Content-Type it was served with, else inferred from its shape).
	MediaType MediaType
	// Digest is the manifest's digest: the sha256 of Raw (of its signed
	// payload, for a signed schema 1 manifest).
	Digest v1.Hash
	// Config is the config blob; zero for lists and schema 1.
	Config Blob
	// Layers are the layer blobs in order (schema 1: oldest first, as in v2).
	Layers []Blob
	// Manifests are the entries of a list or index, in order.
	Manifests []PlatformManifest
}

// Size is the manifest's size in bytes (of Raw).
func (m *Manifest) Size() int64 { return int64(len(m.Raw)) }

// IsList reports whether m is a manifest list or an OCI index.
func (m *Manifest) IsList() bool {
	return m.MediaType == MediaTypeDockerManifestList || m.MediaType == MediaTypeOCIIndex
}

// Digests returns the digests of m's layers, in order.
func (m *Manifest) Digests() []v1.Hash {
	ds := make([]v1.Hash, len(m.Layers))
	for i, l := range m.Layers {
		ds[i] = l.Digest
	}
	return ds
}

// wireManifest is the union of the manifest shapes we read.
type wireManifest struct {
	SchemaVersion *int             `json:"schemaVersion"`
	MediaType     MediaType        `json:"mediaType"`
	Config        *wireDescriptor  `json:"config"`
	Layers        []wireDescriptor `json:"layers"`
	Manifests     []wireDescriptor `json:"manifests"`
	FSLayers      []struct {
		BlobSum string `json:"blobSum"`
	} `json:"fsLayers"`
	Signatures []struct {
		Protected string `json:"protected"`
	} `json:"signatures"`
}

type wireDescriptor struct {
	MediaType MediaType `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Platform  *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	} `json:"platform"`
}

// ParseManifest decodes raw, a manifest of any supported type: Docker schema
// 2, Docker schema 1 (signed or not), OCI image manifest, Docker manifest
// list or OCI index. contentType, if not empty, is the Content-Type it was
// served with; the manifest's own mediaType field wins over it.
func ParseManifest(raw []byte, contentType string) (*Manifest, error) {
	if len(raw) > MaxManifestSize {
		return nil, limitManifest
	}
	var w wireManifest
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %w", ErrInvalidManifest, err)
	}
	m := &Manifest{Raw: raw, MediaType: w.MediaType, Digest: HashBytes(raw)}
	if m.MediaType == "" {
		m.MediaType = mediaTypeOf(contentType)
	}
	if m.MediaType == "" {
		switch {
		case w.SchemaVersion != nil && *w.SchemaVersion == 1:
			m.MediaType = MediaTypeDockerSchema1
		case w.Manifests != nil:
			m.MediaType = MediaTypeOCIIndex
		case w.Config != nil:
			m.MediaType = MediaTypeOCIManifest
		}
	}
	switch m.MediaType {
	case MediaTypeDockerManifest, MediaTypeOCIManifest:
		if w.Config == nil {
			return nil, fmt.Errorf("%w: %s without a config", ErrInvalidManifest, m.MediaType)
		}
		var err error
		if m.Config, err = w.Config.blob(); err != nil {
			return nil, err
		}
		m.Layers = make([]Blob, 0, len(w.Layers))
		for _, l := range w.Layers {
			b, err := l.blob()
			if err != nil {
				return nil, err
			}
			m.Layers = append(m.Layers, b)
		}
	case MediaTypeDockerManifestList, MediaTypeOCIIndex:
		for _, e := range w.Manifests {
			d, err := ParseDigest(e.Digest)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
			}
			pm := PlatformManifest{Digest: d, Size: e.Size, MediaType: e.MediaType}
			if e.Platform != nil {
				pm.Platform = e.Platform.OS + "/" + e.Platform.Architecture
				if e.Platform.Variant != "" {
					pm.Platform += "/" + e.Platform.Variant
				}
			}
			m.Manifests = append(m.Manifests, pm)
		}
	case MediaTypeDockerSchema1, MediaTypeDockerSchema1Signed:
		// fsLayers lists the newest layer first; we give layers oldest first
		// as schema 2 does. Sizes are not recorded.
		for i := len(w.FSLayers) - 1; i >= 0; i-- {
			d, err := ParseDigest(w.FSLayers[i].BlobSum)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
			}
			m.Layers = append(m.Layers, Blob{Digest: d, Size: -1})
		}
		if len(w.Signatures) > 0 {
			m.MediaType = MediaTypeDockerSchema1Signed
			if p, ok := schema1Payload(raw, w.Signatures[0].Protected); ok {
				m.Digest = HashBytes(p)
			}
		}
	case "":
		return nil, fmt.Errorf("%w: no media type and not a recognisable manifest", ErrUnsupportedManifest)
	default:
		return nil, fmt.Errorf("%w: the mediaType %q is not supported", ErrUnsupportedManifest, m.MediaType)
	}
	return m, nil
}

func (d *wireDescriptor) blob() (Blob, error) {
	h, err := ParseDigest(d.Digest)
	if err != nil {
		return Blob{}, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	if d.Size < 0 {
		return Blob{}, fmt.Errorf("%w: negative size %d", ErrInvalidManifest, d.Size)
	}
	return Blob{Digest: h, Size: d.Size}, nil
}

// mediaTypeOf strips parameters from a Content-Type value.
func mediaTypeOf(contentType string) MediaType {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	if mt == "application/json" || mt == "text/plain" {
		return ""
	}
	return MediaType(mt)
}

// schema1Payload returns the signed payload of a signed schema 1 manifest:
// the bytes its digest is computed over (the JSON without signatures).
func schema1Payload(raw []byte, protected string) ([]byte, bool) {
	hdr, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(protected, "="))
	if err != nil {
		return nil, false
	}
	var p struct {
		FormatLength int    `json:"formatLength"`
		FormatTail   string `json:"formatTail"`
	}
	if json.Unmarshal(hdr, &p) != nil || p.FormatLength < 0 || p.FormatLength > len(raw) {
		return nil, false
	}
	tail, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p.FormatTail, "="))
	if err != nil {
		return nil, false
	}
	out := make([]byte, 0, p.FormatLength+len(tail))
	return append(append(out, raw[:p.FormatLength]...), tail...), true
}

// MakeManifest returns the synthetic manifest an alias of blobs points to,
// byte for byte as the Python tool writes it (json.dumps with sorted keys):
// a Docker schema 2 manifest whose config is the first blob and whose layers
// are all the blobs in order. It fails with [ErrNoBlobs] for no blobs.
func MakeManifest(blobs ...Blob) ([]byte, error) {
	if len(blobs) == 0 {
		return nil, ErrNoBlobs
	}
	var b bytes.Buffer
	b.Grow(256 + 110*len(blobs))
	desc := func(mediaType MediaType, bl Blob) {
		b.WriteString(`{"digest": "`)
		b.WriteString(bl.Digest.String())
		b.WriteString(`", "mediaType": "`)
		b.WriteString(string(mediaType))
		b.WriteString(`", "size": `)
		b.WriteString(strconv.FormatInt(bl.Size, 10))
		b.WriteString(`}`)
	}
	b.WriteString(`{"config": `)
	desc(MediaTypeDockerConfig, blobs[0])
	b.WriteString(`, "layers": [`)
	for i, bl := range blobs {
		if i > 0 {
			b.WriteString(", ")
		}
		desc(MediaTypeBlob, bl)
	}
	b.WriteString(`], "mediaType": "` + string(MediaTypeDockerManifest) + `", "schemaVersion": 2}`)
	return b.Bytes(), nil
}
