package blobstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Format is the form of the manifest an alias is written as.
type Format int

const (
	// FormatDocker is the Python tool's form, byte for byte: a Docker
	// schema 2 manifest whose config is the first blob and whose layers
	// are the blobs, with no names (see [MakeManifest]).
	FormatDocker Format = iota
	// FormatOCI is an OCI 1.1 artifact: artifactType
	// [ArtifactTypeData], the empty config, one layer per file titled
	// with its path (see [MakeArtifactManifest] and docs/format.md).
	FormatOCI
)

// String returns "docker" or "oci".
func (f Format) String() string {
	if f == FormatOCI {
		return "oci"
	}
	return "docker"
}

// ParseFormat reads "docker" or "oci" (case-insensitively).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "docker", "":
		return FormatDocker, nil
	case "oci":
		return FormatOCI, nil
	}
	return 0, fmt.Errorf("unknown manifest format %q: want docker or oci", s)
}

// Media types and annotations of the OCI form (docs/format.md).
const (
	// ArtifactTypeData is the artifactType of the manifests dxf writes in
	// the OCI form.
	ArtifactTypeData = MediaType("application/vnd.dxf.data.v1")
	// MediaTypeEmptyJSON is the media type of the OCI empty descriptor.
	MediaTypeEmptyJSON = MediaType("application/vnd.oci.empty.v1+json")
	// MediaTypeOCILayerTarGzip is the media type oras gives a directory
	// it pushed as one tar+gzip layer.
	MediaTypeOCILayerTarGzip = MediaType("application/vnd.oci.image.layer.v1.tar+gzip")

	// AnnotationTitle names a layer's file: its path relative to the
	// top of the data set, with "/" between components.
	AnnotationTitle = "org.opencontainers.image.title"
	// AnnotationMode is a file's permission bits, in octal ("0644").
	AnnotationMode = "vnd.dxf.mode"
	// AnnotationPath names the file a chunk of a split file belongs to
	// (chunks carry no title, so that tools that do not know this form
	// skip them instead of writing the first chunk as the file).
	AnnotationPath = "vnd.dxf.path"
	// AnnotationPart is a chunk's place in its file, from "0".
	AnnotationPart = "vnd.dxf.part"
	// AnnotationFileDigest is the digest of a split file as a whole, on
	// each of its chunks.
	AnnotationFileDigest = "vnd.dxf.file.digest"
	// AnnotationSymlinks, on the manifest, is a JSON object mapping each
	// symbolic link's path to its target.
	AnnotationSymlinks = "vnd.dxf.symlinks"
	// AnnotationDirs, on the manifest, is a JSON array of the paths of
	// the empty directories.
	AnnotationDirs = "vnd.dxf.dirs"
	// AnnotationUnpack marks an oras directory layer (tar+gzip) to unpack.
	AnnotationUnpack = "io.deis.oras.content.unpack"
	// AnnotationUnpackDigest is the digest of an oras directory layer's
	// uncompressed tar.
	AnnotationUnpackDigest = "io.deis.oras.content.digest"
	// annotationModelPath is ModelPack's file path annotation, read too.
	annotationModelPath = "org.cncf.model.filepath"
)

// EmptyJSON is the OCI empty descriptor's blob, "{}".
var EmptyJSON = []byte("{}")

// emptyJSONBlob is the empty descriptor's digest and size.
var emptyJSONBlob = Blob{Digest: HashBytes(EmptyJSON), Size: 2}

// FileKind says what a [File] of a data set is.
type FileKind int

const (
	// KindFile is a regular file: the concatenation of its Parts.
	KindFile FileKind = iota
	// KindSymlink is a symbolic link to Target.
	KindSymlink
	// KindDir is an (empty) directory.
	KindDir
)

// File is one entry of a data set: a file, symbolic link or empty
// directory, named by its path relative to the data set's top.
type File struct {
	// Path is relative, with "/" between components.
	Path string
	// Kind is what the entry is.
	Kind FileKind
	// Mode holds the permission bits if known (0 if not).
	Mode fs.FileMode
	// Size is a regular file's size.
	Size int64
	// Digest is a regular file's digest as a whole; zero when unknown (a
	// split file whose manifest does not record it).
	Digest v1.Hash
	// Parts are the blobs a regular file is made of, in order: one for a
	// whole file, the chunks of a split one.
	Parts []Blob
	// Target is a symbolic link's target.
	Target string
	// Unpack says the one part is a tar+gzip archive of a directory (as
	// oras pushes directories) to unpack at Path.
	Unpack bool
	// UnpackDigest is the digest of the archive's uncompressed tar, if
	// given.
	UnpackDigest string
}

// wireArtifact is the OCI manifest dxf writes (keys in this order).
type wireArtifact struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     MediaType         `json:"mediaType"`
	ArtifactType  MediaType         `json:"artifactType"`
	Config        wireLayer         `json:"config"`
	Layers        []wireLayer       `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type wireLayer struct {
	MediaType   MediaType         `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// MakeArtifactManifest returns the OCI 1.1 manifest of a data set (the
// OCI form, docs/format.md): artifactType [ArtifactTypeData], the empty
// config, a layer per regular file titled with its path (a split file: a
// layer per chunk, untitled, with [AnnotationPath] and [AnnotationPart]),
// symbolic links and empty directories in manifest annotations. The same
// files give the same bytes: nothing records a time. Paths are checked
// with [CheckPath]; a duplicate is refused.
func MakeArtifactManifest(files []File) ([]byte, error) {
	w := wireArtifact{
		SchemaVersion: 2,
		MediaType:     MediaTypeOCIManifest,
		ArtifactType:  ArtifactTypeData,
		Config:        wireLayer{MediaType: MediaTypeEmptyJSON, Digest: emptyJSONBlob.Digest.String(), Size: emptyJSONBlob.Size},
		Layers:        []wireLayer{},
	}
	seen := make(map[string]bool, len(files))
	links := map[string]string{}
	var dirs []string
	for _, f := range files {
		if err := CheckPath(f.Path); err != nil {
			return nil, err
		}
		if seen[f.Path] {
			return nil, fmt.Errorf("%w: %q is named twice", ErrUnsafePath, f.Path)
		}
		seen[f.Path] = true
		switch f.Kind {
		case KindSymlink:
			links[f.Path] = f.Target
		case KindDir:
			dirs = append(dirs, f.Path)
		default:
			if len(f.Parts) == 0 {
				return nil, fmt.Errorf("%s: %w", f.Path, ErrNoBlobs)
			}
			ann := func() map[string]string {
				a := map[string]string{}
				if f.Mode != 0 {
					a[AnnotationMode] = fmt.Sprintf("%04o", f.Mode.Perm())
				}
				return a
			}
			if len(f.Parts) == 1 {
				a := ann()
				a[AnnotationTitle] = f.Path
				w.Layers = append(w.Layers, wireLayer{MediaType: MediaTypeBlob, Digest: f.Parts[0].Digest.String(), Size: f.Parts[0].Size, Annotations: a})
				continue
			}
			for i, p := range f.Parts {
				a := ann()
				a[AnnotationPath] = f.Path
				a[AnnotationPart] = strconv.Itoa(i)
				if f.Digest != (v1.Hash{}) {
					a[AnnotationFileDigest] = f.Digest.String()
				}
				w.Layers = append(w.Layers, wireLayer{MediaType: MediaTypeBlob, Digest: p.Digest.String(), Size: p.Size, Annotations: a})
			}
		}
	}
	if len(links) > 0 || len(dirs) > 0 {
		w.Annotations = map[string]string{}
	}
	if len(links) > 0 {
		j, err := json.Marshal(links)
		if err != nil {
			return nil, err
		}
		w.Annotations[AnnotationSymlinks] = string(j)
	}
	if len(dirs) > 0 {
		sort.Strings(dirs)
		j, err := json.Marshal(dirs)
		if err != nil {
			return nil, err
		}
		w.Annotations[AnnotationDirs] = string(j)
	}
	if len(w.Layers) == 0 {
		// Image-spec: with no content, one layer, the empty descriptor.
		w.Layers = append(w.Layers, w.Config)
	}
	raw, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxManifestSize {
		return nil, fmt.Errorf("%w: the manifest of %d entries would be %d bytes", ErrTooManyChunks, len(files), len(raw))
	}
	return raw, nil
}

// FileBlobs returns the blobs of files in order (their parts), as the
// Docker form lists them.
func FileBlobs(files []File) []Blob {
	var blobs []Blob
	for _, f := range files {
		blobs = append(blobs, f.Parts...)
	}
	return blobs
}

// FormatNotice is called with a one-line message when a push changes its
// manifest's form, for instance after a registry refused the Docker form.
type FormatNotice func(msg string)

// WithFormat makes the calls that set an alias ([Repository.SetAliasFiles],
// [Repository.PushDir]) write it in form f (default [FormatDocker]).
func WithFormat(f Format) TransferOption {
	return func(o *transferOptions) { o.format = f }
}

// WithFormatNotice reports to f when a registry refused the Docker form and
// the alias was written in the OCI form instead.
func WithFormatNotice(f FormatNotice) TransferOption {
	return func(o *transferOptions) { o.notice = f }
}

// SetAliasFiles points alias at files in the form [WithFormat] chooses. In
// the Docker form only regular files can be named and the manifest is
// [MakeManifest] of their blobs in order, which records no names; if the
// registry refuses that form (415 Unsupported Media Type or
// MANIFEST_INVALID, as zot does by default), the alias is written once
// more in the OCI form, with the names, and [WithFormatNotice] is told.
func (r *Repository) SetAliasFiles(ctx context.Context, alias string, files []File, opts ...TransferOption) (*Manifest, error) {
	o := makeTransferOptions(opts)
	if err := ValidateAlias(alias); err != nil {
		return nil, fmt.Errorf("set alias %s: %w", alias, err)
	}
	oci := func() (*Manifest, error) {
		raw, err := MakeArtifactManifest(files)
		if err != nil {
			return nil, fmt.Errorf("set alias %s: %w", alias, err)
		}
		if !o.tree.emptyConfig {
			if err := r.ensureEmptyConfig(ctx); err != nil {
				return nil, err
			}
		}
		return r.SetManifest(ctx, alias, raw)
	}
	if o.format == FormatOCI {
		return oci()
	}
	for _, f := range files {
		if f.Kind != KindFile {
			return nil, fmt.Errorf("set alias %s: %s: the Docker form holds only regular files (use the OCI form)", alias, f.Path)
		}
	}
	m, err := r.SetAliasBlobs(ctx, alias, FileBlobs(files)...)
	if err == nil || !dockerRefused(err) {
		return m, err
	}
	m, err2 := oci()
	if err2 != nil {
		return nil, fmt.Errorf("%w (and then in the OCI form: %w)", err, err2)
	}
	if o.notice != nil {
		o.notice(fmt.Sprintf("the registry refused the Docker manifest form; alias %s was written as an OCI artifact instead", alias))
	}
	return m, nil
}

// dockerRefused reports whether err is a registry refusing a Docker
// schema 2 manifest for its form.
func dockerRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.StatusCode == http.StatusUnsupportedMediaType || slices.Contains(e.Codes, string(transport.ManifestInvalidErrorCode))
}

// ensureEmptyConfig pushes the empty config blob "{}" unless the
// repository has it.
func (r *Repository) ensureEmptyConfig(ctx context.Context) error {
	ok, _, err := r.headBlob(ctx, emptyJSONBlob.Digest)
	if err != nil || ok {
		return err
	}
	return r.putBlob(ctx, emptyJSONBlob.Digest, EmptyJSON)
}

// Files returns the entries of the data set m describes (an image
// manifest; see docs/format.md for how names are found). Layers without
// a name become files named after their digest's hex; if no layer has a
// name (the Docker form, or a split alias), the data set is one file,
// named name, the concatenation of the layers. Every path is checked
// ([CheckPath]): an unsafe or duplicate one fails with [ErrUnsafePath]
// naming it, and more than [MaxEntries] entries fail too.
func Files(m *Manifest, name string) ([]File, error) {
	if m.IsList() {
		return nil, fmt.Errorf("%w: a list names no files; select a platform", ErrUnsupportedManifest)
	}
	if len(m.Layers) > MaxEntries {
		return nil, &LimitError{What: fmt.Sprintf("the manifest's %d layers", len(m.Layers)), Limit: MaxEntries, Unit: "entries", Name: "MaxEntries"}
	}
	var files []File
	index := map[string]int{}
	named := false
	info := func(i int) LayerInfo {
		if i < len(m.LayerInfo) {
			return m.LayerInfo[i]
		}
		return LayerInfo{}
	}
	for i := range m.Layers {
		a := info(i).Annotations
		if a[AnnotationTitle] != "" || a[AnnotationPath] != "" || a[annotationModelPath] != "" {
			named = true
			break
		}
	}
	if !named && m.Annotations[AnnotationSymlinks] == "" && m.Annotations[AnnotationDirs] == "" {
		if len(m.Layers) == 0 {
			return nil, nil
		}
		if err := CheckPath(name); err != nil {
			return nil, err
		}
		f := File{Path: name, Parts: slices.Clone(m.Layers)}
		for _, p := range f.Parts {
			if p.Size < 0 {
				f.Size = -1
				break
			}
			f.Size += p.Size
		}
		if len(f.Parts) == 1 {
			f.Digest = f.Parts[0].Digest
		}
		return []File{f}, nil
	}
	add := func(f File) error {
		if err := CheckPath(f.Path); err != nil {
			return err
		}
		if _, dup := index[f.Path]; dup {
			return fmt.Errorf("%w: %q: named twice in the manifest", ErrUnsafePath, f.Path)
		}
		index[f.Path] = len(files)
		files = append(files, f)
		return nil
	}
	for i, l := range m.Layers {
		li := info(i)
		a := li.Annotations
		mode := parseMode(a[AnnotationMode])
		if p := a[AnnotationPath]; p != "" && a[AnnotationTitle] == "" {
			part, err := strconv.Atoi(a[AnnotationPart])
			if err != nil || part < 0 {
				return nil, fmt.Errorf("%w: %q: chunk without a valid %s", ErrInvalidManifest, p, AnnotationPart)
			}
			j, ok := index[p]
			if part == 0 {
				if ok {
					return nil, fmt.Errorf("%w: %q: named twice in the manifest", ErrUnsafePath, p)
				}
				f := File{Path: p, Mode: mode, Parts: []Blob{l}, Size: l.Size}
				if d, err := ParseDigest(a[AnnotationFileDigest]); err == nil {
					f.Digest = d
				}
				if err := add(f); err != nil {
					return nil, err
				}
				continue
			}
			if !ok || j != len(files)-1 || len(files[j].Parts) != part {
				return nil, fmt.Errorf("%w: %q: chunk %d out of order", ErrInvalidManifest, p, part)
			}
			files[j].Parts = append(files[j].Parts, l)
			files[j].Size += l.Size
			continue
		}
		title := a[AnnotationTitle]
		if title == "" {
			title = a[annotationModelPath]
		}
		if title == "" {
			if li.MediaType == MediaTypeEmptyJSON || l.Digest == emptyJSONBlob.Digest {
				continue // the placeholder of an artifact without content
			}
			title = l.Digest.Hex
			if _, dup := index[title]; dup {
				continue // the same unnamed blob twice: one file
			}
		}
		f := File{Path: strings.TrimSuffix(title, "/"), Mode: mode, Parts: []Blob{l}, Size: l.Size, Digest: l.Digest}
		// oras marks a directory for unpacking; regctl ends its title
		// with "/".
		if a[AnnotationUnpack] == "true" || (strings.HasSuffix(title, "/") && li.MediaType == MediaTypeOCILayerTarGzip) {
			f.Unpack, f.UnpackDigest = true, a[AnnotationUnpackDigest]
		}
		if err := add(f); err != nil {
			return nil, err
		}
	}
	if s := m.Annotations[AnnotationSymlinks]; s != "" {
		var links map[string]string
		if err := json.Unmarshal([]byte(s), &links); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidManifest, AnnotationSymlinks, err)
		}
		paths := make([]string, 0, len(links))
		for p := range links {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			if err := add(File{Path: p, Kind: KindSymlink, Target: links[p]}); err != nil {
				return nil, err
			}
		}
	}
	if s := m.Annotations[AnnotationDirs]; s != "" {
		var dirs []string
		if err := json.Unmarshal([]byte(s), &dirs); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidManifest, AnnotationDirs, err)
		}
		for _, p := range dirs {
			if err := add(File{Path: p, Kind: KindDir}); err != nil {
				return nil, err
			}
		}
	}
	if len(files) > MaxEntries {
		return nil, &LimitError{What: fmt.Sprintf("the manifest's %d entries", len(files)), Limit: MaxEntries, Unit: "entries", Name: "MaxEntries"}
	}
	return files, nil
}

// parseMode reads an octal permission annotation; 0 if absent or not one.
func parseMode(s string) fs.FileMode {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return 0
	}
	return fs.FileMode(n) & fs.ModePerm
}
