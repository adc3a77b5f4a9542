package blobstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dxf-go/dxf/internal/jobs"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// Alias is what an alias names, resolved: its manifest and, for a
// multi-platform alias (manifest list or OCI index), the child manifest of
// each platform.
type Alias struct {
	// Manifest is the manifest the alias names, as stored.
	Manifest *Manifest
	// Platforms maps "os/architecture[/variant]" to that platform's manifest
	// when Manifest is a list; with a platform selected it holds only that
	// one. It is nil for a single-platform alias.
	Platforms map[string]*Manifest
	// Platform is the platform selected, if any.
	Platform string
}

// Image returns the single image manifest the alias stands for: the manifest
// itself, or the selected platform's. It is nil for a list resolved without a
// platform.
func (a *Alias) Image() *Manifest {
	if !a.Manifest.IsList() {
		return a.Manifest
	}
	if a.Platform == "" {
		return nil
	}
	return a.Platforms[a.Platform]
}

// Blobs returns the blobs of the single image the alias stands for (see
// [Alias.Image]), in order. For a multi-platform alias resolved without a
// platform it fails with [ErrPlatformNotFound], naming the platforms there
// are.
func (a *Alias) Blobs() ([]Blob, error) {
	m := a.Image()
	if m == nil {
		return nil, &PlatformNotFoundError{Platform: "(none given; the alias has " + strings.Join(a.PlatformNames(), ", ") + ")"}
	}
	return slices.Clone(m.Layers), nil
}

// PlatformNames returns the keys of Platforms, sorted.
func (a *Alias) PlatformNames() []string {
	names := make([]string, 0, len(a.Platforms))
	for p := range a.Platforms {
		names = append(names, p)
	}
	sort.Strings(names)
	return names
}

// tagPattern is the distribution spec's tag grammar.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidateAlias checks that alias is a valid tag (or digest) to name a manifest by.
func ValidateAlias(alias string) error {
	if _, err := ParseDigest(alias); err == nil {
		return nil
	}
	if !tagPattern.MatchString(alias) {
		return fmt.Errorf("%w: alias %q: must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'", ErrInvalidName, alias)
	}
	return nil
}

// GetManifest fetches the manifest alias names (a tag, or a digest), exactly
// as stored. When the registry sends Docker-Content-Digest, or alias is a
// digest, the bytes are verified against it ([*DigestMismatchError]).
func (r *Repository) GetManifest(ctx context.Context, alias string) (*Manifest, error) {
	return r.getManifest(ctx, alias, limitManifest)
}

// getManifest is GetManifest reading at most limit.Limit bytes.
func (r *Repository) getManifest(ctx context.Context, alias string, limit *LimitError) (*Manifest, error) {
	op := fmt.Sprintf("get alias %s", alias)
	if err := ValidateAlias(alias); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	sm, err := store.GetManifestBounded(ctx, r.Store(), alias, limit.Limit, limit)
	if err != nil {
		return nil, withOp(op, err)
	}
	m, err := ParseManifest(sm.Raw, sm.MediaType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if m.Digest != sm.Digest {
		return nil, fmt.Errorf("%s: %w", op, &DigestMismatchError{Expected: sm.Digest, Got: m.Digest})
	}
	return m, nil
}

// GetAlias fetches and resolves alias. For a multi-platform alias, each
// platform's manifest is fetched too (only platform's, if not empty; a
// platform the list lacks gives [*PlatformNotFoundError]).
func (r *Repository) GetAlias(ctx context.Context, alias, platform string) (*Alias, error) {
	m, err := r.GetManifest(ctx, alias)
	if err != nil {
		return nil, err
	}
	return r.ResolvePlatforms(ctx, m, platform)
}

// ResolvePlatforms makes an [Alias] of a manifest already in hand (for
// instance read from standard input) as [Repository.GetAlias] does: for a
// manifest list or index, it fetches the manifest of each platform (only
// platform's, if not empty; a platform the list lacks gives
// [*PlatformNotFoundError]).
func (r *Repository) ResolvePlatforms(ctx context.Context, m *Manifest, platform string) (*Alias, error) {
	a := &Alias{Manifest: m, Platform: platform}
	if !m.IsList() {
		a.Platform = ""
		return a, nil
	}
	entries := map[string]PlatformManifest{}
	for _, e := range m.Manifests {
		// Later entries win, as in the Python tool.
		entries[e.Platform] = e
	}
	if platform != "" {
		key, err := MatchPlatform(platform, slices.Collect(maps.Keys(entries)))
		if err != nil {
			return nil, err
		}
		a.Platform = key
		entries = map[string]PlatformManifest{key: entries[key]}
	}
	if err := checkPlatformLimits(entries); err != nil {
		return nil, err
	}
	a.Platforms = make(map[string]*Manifest, len(entries))
	// In the order of their names, so that the error reported, if several
	// fail, does not depend on timing.
	keys := slices.Sorted(maps.Keys(entries))
	children := make([]*Manifest, len(keys))
	err := jobs.ForEach(ctx, DefaultJobs, len(keys), func(ctx context.Context, i int) error {
		p := keys[i]
		child, err := r.getPlatformManifest(ctx, p, entries[p])
		if err == nil && child.IsList() {
			err = fmt.Errorf("%w: platform %s is itself a list (%s)", ErrUnsupportedManifest, p, child.MediaType)
		}
		children[i] = child
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, p := range keys {
		a.Platforms[p] = children[i]
	}
	return a, nil
}

// checkPlatformLimits refuses, before anything is fetched, a list whose
// platform manifests are too many or too large together (the sizes the list
// gives; MaxManifestSize for one it gives none): each is then fetched
// reading no more than its size, so a registry cannot make the total larger.
func checkPlatformLimits(entries map[string]PlatformManifest) error {
	if len(entries) > MaxPlatforms {
		return &LimitError{What: fmt.Sprintf("the list's %d platforms", len(entries)), Limit: MaxPlatforms, Unit: "platforms", Name: "MaxPlatforms"}
	}
	var total int64
	for p, e := range entries {
		n := e.Size
		if n <= 0 {
			n = MaxManifestSize
		}
		if n > MaxManifestSize {
			return fmt.Errorf("platform %s: %w", p, limitManifest)
		}
		total += n
	}
	if total > MaxPlatformsSize {
		return &LimitError{What: fmt.Sprintf("the size of the list's platform manifests together (%d bytes)", total), Limit: MaxPlatformsSize, Unit: "bytes", Name: "MaxPlatformsSize"}
	}
	return nil
}

// getPlatformManifest fetches the manifest of platform p of a list, reading
// no more than the size the list gives for it.
func (r *Repository) getPlatformManifest(ctx context.Context, p string, e PlatformManifest) (*Manifest, error) {
	if e.Size <= 0 {
		return r.GetManifest(ctx, e.Digest.String())
	}
	limit := &LimitError{What: "platform " + p + "'s manifest", Limit: e.Size, Unit: "bytes", Name: "MaxManifestSize"}
	m, err := r.getManifest(ctx, e.Digest.String(), limit)
	if errors.Is(err, ErrLimitExceeded) {
		return nil, fmt.Errorf("get alias %s: %w: platform %s's manifest is larger than the %d bytes the list gives", e.Digest, ErrSizeMismatch, p, e.Size)
	}
	return m, err
}

// SetManifest stores raw under alias, with the Content-Type its mediaType
// field names (so lists and OCI manifests can be re-tagged too). Like every
// call that writes an alias, it returns the manifest stored: its digest,
// size, media type and raw bytes (and its blobs, decoded).
func (r *Repository) SetManifest(ctx context.Context, alias string, raw []byte) (*Manifest, error) {
	op := "set alias " + alias
	if err := ValidateAlias(alias); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	m, err := ParseManifest(raw, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if _, err := r.Store().PutManifest(ctx, alias, store.Manifest{Raw: raw, MediaType: string(m.MediaType)}); err != nil {
		return nil, withOp(op, err)
	}
	return m, nil
}

// SetAlias points alias at the blobs with the given digests, in order, and
// returns the manifest it stored (see [MakeManifest]). Each blob's size is
// asked of the registry, so each must already be there ([ErrBlobNotFound]).
func (r *Repository) SetAlias(ctx context.Context, alias string, digests ...v1.Hash) (*Manifest, error) {
	if err := ValidateAlias(alias); err != nil {
		return nil, fmt.Errorf("set alias %s: %w", alias, err)
	}
	if len(digests) == 0 {
		return nil, fmt.Errorf("set alias %s: %w", alias, ErrNoBlobs)
	}
	blobs, err := r.blobSizes(ctx, digests)
	if err != nil {
		return nil, err
	}
	return r.SetAliasBlobs(ctx, alias, blobs...)
}

// SetAliasBlobs is [Repository.SetAlias] for blobs whose sizes are known
// (e.g. just pushed): no request is made but the manifest PUT.
func (r *Repository) SetAliasBlobs(ctx context.Context, alias string, blobs ...Blob) (*Manifest, error) {
	raw, err := MakeManifest(blobs...)
	if err != nil {
		return nil, fmt.Errorf("set alias %s: %w", alias, err)
	}
	return r.SetManifest(ctx, alias, raw)
}

// blobSizes HEADs the blobs concurrently ([DefaultJobs] at a time).
func (r *Repository) blobSizes(ctx context.Context, digests []v1.Hash) ([]Blob, error) {
	blobs := make([]Blob, len(digests))
	err := jobs.ForEach(ctx, DefaultJobs, len(digests), func(ctx context.Context, i int) error {
		size, err := r.BlobSize(ctx, digests[i])
		blobs[i] = Blob{Digest: digests[i], Size: size}
		return err
	})
	if err != nil {
		return nil, err
	}
	return blobs, nil
}

// AliasSize returns the total size of the blobs alias names (for a
// multi-platform alias, those of platform; see [Alias.Blobs]).
func (r *Repository) AliasSize(ctx context.Context, alias, platform string) (int64, error) {
	al, err := r.GetAlias(ctx, alias, platform)
	if err != nil {
		return 0, err
	}
	m := al.Image()
	if m == nil {
		if _, err := al.Blobs(); err != nil {
			return 0, err
		}
	}
	return r.ManifestSize(ctx, m)
}

// ManifestSize returns the total size of the blobs of an image manifest: the
// sum of its layer sizes, asking the registry for sizes the manifest does not
// record (schema 1).
func (r *Repository) ManifestSize(ctx context.Context, m *Manifest) (int64, error) {
	var unknown []v1.Hash
	var total int64
	var err error
	for _, l := range m.Layers {
		if l.Size < 0 {
			unknown = append(unknown, l.Digest)
			continue
		}
		if total, err = addSize(total, l.Size); err != nil {
			return 0, err
		}
	}
	if len(unknown) > 0 {
		blobs, err := r.blobSizes(ctx, unknown)
		if err != nil {
			return 0, err
		}
		for _, b := range blobs {
			if total, err = addSize(total, b.Size); err != nil {
				return 0, err
			}
		}
	}
	return total, nil
}

// addSize adds a blob's size to a total, refusing a sum past the largest
// int64 (a manifest claiming absurd sizes) rather than wrapping round.
func addSize(total, n int64) (int64, error) {
	if n > math.MaxInt64-total {
		return 0, fmt.Errorf("alias size: %w: the blob sizes add up to more than %d bytes", ErrInvalidManifest, int64(math.MaxInt64))
	}
	return total + n, nil
}

// DeleteAliasManifest deletes the manifest with digest d, which alias names,
// and makes sure alias is gone. Registries delete the tags of a manifest
// with it; some (go-containerregistry's in-memory registry) keep them, so
// when alias still resolves afterwards it is deleted by name (the OCI
// distribution spec's tag deletion). If that fails too, the error wraps
// [ErrUnsupported] and says the registry keeps the alias.
func (r *Repository) DeleteAliasManifest(ctx context.Context, alias string, d v1.Hash) error {
	if err := r.DeleteManifest(ctx, d); err != nil {
		return err
	}
	if _, err := ParseDigest(alias); err == nil {
		return nil
	}
	op := "delete alias " + alias
	// The manifest is gone; if the check itself fails, say nothing more.
	if still, err := r.manifestExists(ctx, op, alias); err != nil || !still {
		return nil //nolint:nilerr // the deletion asked for succeeded
	}
	kept := fmt.Sprintf("the registry deleted manifest %s but keeps the alias (it does not delete tags with their manifest)", d)
	if err := r.untag(ctx, alias); err != nil {
		return fmt.Errorf("%s: %w: %s, and deleting the tag by name failed: %w", op, ErrUnsupported, kept, err)
	}
	if still, err := r.manifestExists(ctx, op, alias); err != nil || still {
		return cmp.Or(err, fmt.Errorf("%s: %w: %s, even after deleting the tag by name", op, ErrUnsupported, kept))
	}
	return nil
}

// manifestExists reports whether alias resolves: through the store's
// [store.ManifestChecker] (a registry: HEAD answers 200), else by reading
// the manifest.
func (r *Repository) manifestExists(ctx context.Context, op, alias string) (bool, error) {
	st := r.Store()
	if c, ok := st.(store.ManifestChecker); ok {
		return c.HasManifest(ctx, op, alias)
	}
	_, err := st.GetManifest(ctx, alias)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// untag removes alias alone, if the store can ([store.Untagger]).
func (r *Repository) untag(ctx context.Context, alias string) error {
	u, ok := r.Store().(store.Untagger)
	if !ok {
		return ErrUnsupported
	}
	return u.Untag(ctx, alias)
}

// schema2Hint explains a registry's refusal of a Docker schema-2 manifest
// (415 Unsupported Media Type, or MANIFEST_INVALID): some registries accept
// OCI manifests only unless configured otherwise.
func schema2Hint(err error, mediaType MediaType) error {
	var e *Error
	if mediaType != MediaTypeDockerManifest || !errors.As(err, &e) {
		return err
	}
	if e.StatusCode != http.StatusUnsupportedMediaType && !slices.Contains(e.Codes, string(transport.ManifestInvalidErrorCode)) {
		return err
	}
	return fmt.Errorf("%w; the registry may not accept Docker schema-2 manifests, which dxf writes as the Python tool does "+
		`(zot needs "compat": ["docker2s2"] in its http configuration)`, err)
}
