package blobstore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// ErrAliasShared says an alias cannot be deleted alone: the registry can
// neither delete a tag by name nor re-point it, and other aliases name the
// same manifest, which deleting it by digest would take with it. The error
// names those aliases.
var ErrAliasShared = errors.New("the alias shares its manifest with other aliases")

// ErrBlobInUse says a blob asked to be deleted is used by an alias (as a
// layer or config); the error names the aliases. Deleting it anyway takes
// the force option ([DeleteOptions.Force]).
var ErrBlobInUse = errors.New("the blob is used by an alias")

// DeleteMethod says how an alias was removed.
type DeleteMethod int

const (
	// DeletedNothing means nothing was deleted (a dry run).
	DeletedNothing DeleteMethod = iota
	// DeletedTag means the registry deleted the tag by name; the manifest and
	// every other alias naming it stay.
	DeletedTag
	// DeletedThrowAway means the alias was pointed at a throw-away manifest of
	// its own, which was then deleted by digest (for registries that cannot
	// delete a tag by name).
	DeletedThrowAway
	// DeletedManifest means the manifest was deleted by digest; no other alias
	// named it (or the alias was given as a digest).
	DeletedManifest
)

// String names the method as the documentation does.
func (m DeleteMethod) String() string {
	switch m {
	case DeletedTag:
		return "tag deleted by name"
	case DeletedThrowAway:
		return "tag pointed at a throw-away manifest, which was deleted"
	case DeletedManifest:
		return "manifest deleted by digest"
	}
	return "nothing deleted"
}

// DeleteOptions tunes [Repository.DeleteAliases] and [Repository.DeleteBlobs].
type DeleteOptions struct {
	// Prune (DeleteAliases) also deletes what the deleted aliases reached
	// (their manifests, platform manifests, configs and layers) that no
	// remaining alias reaches.
	Prune bool
	// DryRun deletes nothing and reports what would go.
	DryRun bool
	// Force (DeleteBlobs) restores the Python tool's behaviour: the
	// aliases named are deleted with their manifest (by digest, so every
	// alias naming the same manifest goes too) and every blob named is
	// deleted, whoever uses it.
	Force bool
	// Jobs bounds the manifests read at once; 0 means [DefaultJobs].
	Jobs int
	// MinAge ([Repository.Prune]) keeps blobs stored less than this long
	// ago, which a push under way may be about to point an alias at.
	MinAge time.Duration
}

func (o DeleteOptions) jobs() int {
	if o.Jobs > 0 {
		return o.Jobs
	}
	return DefaultJobs
}

// DeletedAlias is one alias a delete removed (or, in a dry run, would).
type DeletedAlias struct {
	// Alias is the alias's name.
	Alias string
	// Manifest is the manifest it named.
	Manifest *Manifest
	// Method is how it was removed.
	Method DeleteMethod
}

// KeptBlob is a blob (or manifest) a delete left because aliases still
// reach it.
type KeptBlob struct {
	Blob
	// UsedBy are the aliases that reach it, sorted.
	UsedBy []string
}

// DeleteResult reports what a delete did (in a dry run: would do).
type DeleteResult struct {
	// Aliases are the aliases removed, in the order given.
	Aliases []DeletedAlias
	// Deleted are the blobs and manifests deleted, manifests first.
	Deleted []Blob
	// DeletedBytes is their total size: the space freed (for the registry,
	// once its garbage collector has run).
	DeletedBytes int64
	// Kept are the blobs and manifests of the deleted aliases that stayed
	// because other aliases reach them.
	Kept []KeptBlob
}

func (res *DeleteResult) deleted(b Blob) {
	res.Deleted = append(res.Deleted, b)
	res.DeletedBytes += max(b.Size, 0)
}

// DeleteAlias removes alias, and only it: other aliases naming the same
// manifest stay. It returns the manifest the alias named; the blobs stay
// (see [Repository.DeleteAliases] with Prune to delete those no other alias
// uses). The registry is asked to delete the tag by name (the distribution
// spec's tag deletion); a registry that cannot has the tag pointed at a
// throw-away manifest, which is then deleted by digest; if that fails too,
// the manifest is deleted by digest when no other alias names it, and
// otherwise the call fails with [ErrAliasShared] naming the others. An alias
// given as a digest deletes that manifest, and with it every alias naming
// it.
func (r *Repository) DeleteAlias(ctx context.Context, alias string) (*Manifest, error) {
	d, err := r.deleteAlias(ctx, alias, allDeleteMethods, DefaultJobs)
	if err != nil {
		return nil, err
	}
	return d.Manifest, nil
}

// allDeleteMethods are the ways deleteAlias may remove an alias, in the
// order it tries them; tests narrow them to exercise each.
var allDeleteMethods = []DeleteMethod{DeletedTag, DeletedThrowAway, DeletedManifest}

func (r *Repository) deleteAlias(ctx context.Context, alias string, methods []DeleteMethod, njobs int) (DeletedAlias, error) {
	m, err := r.GetManifest(ctx, alias)
	if err != nil {
		return DeletedAlias{}, err
	}
	return r.removeAlias(ctx, alias, m, methods, njobs)
}

// removeAlias removes alias, which names m.
func (r *Repository) removeAlias(ctx context.Context, alias string, m *Manifest, methods []DeleteMethod, njobs int) (DeletedAlias, error) {
	res := DeletedAlias{Alias: alias, Manifest: m}
	op := "delete alias " + alias
	if _, err := ParseDigest(alias); err == nil {
		res.Method = DeletedManifest
		return res, r.DeleteManifest(ctx, m.Digest)
	}
	var why []string
	if slices.Contains(methods, DeletedTag) {
		ok, err := r.deleteTag(ctx, op, alias)
		if err != nil {
			return res, err
		}
		if ok {
			res.Method = DeletedTag
			return res, nil
		}
		why = append(why, "it cannot delete a tag by name")
	}
	if slices.Contains(methods, DeletedThrowAway) {
		err := r.throwAway(ctx, op, alias, m)
		if err == nil {
			res.Method = DeletedThrowAway
			return res, nil
		}
		if errors.Is(err, errAliasChanged) {
			return res, err
		}
		why = append(why, "re-pointing it at a throw-away manifest failed ("+err.Error()+")")
	}
	if !slices.Contains(methods, DeletedManifest) {
		return res, fmt.Errorf("%s: %w: %s", op, ErrUnsupported, strings.Join(why, "; "))
	}
	u, err := r.inUse(ctx, map[string]bool{alias: true}, njobs)
	if err != nil {
		return res, fmt.Errorf("%s: %w", op, err)
	}
	if others := u.manifests[m.Digest]; len(others) > 0 {
		return res, fmt.Errorf("%s: %w (%s), and the registry offers no way to delete one alias alone (%s): delete those too, or give the manifest's digest %s to delete it with all of them",
			op, ErrAliasShared, strings.Join(others, ", "), strings.Join(why, "; "), m.Digest)
	}
	res.Method = DeletedManifest
	return res, r.DeleteAliasManifest(ctx, alias, m.Digest)
}

// deleteTag asks the store to remove alias alone ([store.Untagger]; a
// registry: delete the tag by name), and checks that it is gone. It
// reports false, with no error, when the store cannot (a registry that
// refuses the request as unsupported or invalid, or answers yes and keeps
// the tag).
func (r *Repository) deleteTag(ctx context.Context, op, alias string) (bool, error) {
	u, ok := r.Store().(store.Untagger)
	if !ok {
		return false, nil
	}
	if err := u.Untag(ctx, alias); err != nil && !tagDeleteRefused(err) {
		return false, withOp(op, err)
	}
	still, herr := r.manifestExists(ctx, op, alias)
	if herr != nil {
		return false, herr
	}
	return !still, nil
}

// tagDeleteRefused reports whether err is how registries that delete
// manifests by digest only refuse a tag: 400 (DIGEST_INVALID), 404, 405
// or 501, or UNSUPPORTED.
func tagDeleteRefused(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		switch e.StatusCode {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			return true
		}
	}
	return errors.Is(err, ErrUnsupported)
}

// errAliasChanged marks a throw-away attempt that left the alias naming the
// throw-away manifest: no other method may be tried.
var errAliasChanged = errors.New("the alias was left pointing at a throw-away manifest")

// throwAway removes alias the way regctl does on registries that cannot
// delete a tag: it points the alias at a manifest of its own (a unique
// small blob, uploaded for the purpose) and deletes that manifest by digest,
// which takes the tag with it and nothing else. If the delete fails, the
// alias is pointed back at m.
func (r *Repository) throwAway(ctx context.Context, op, alias string, m *Manifest) error {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	data := fmt.Appendf(nil, `{"dxf":"throw-away manifest to delete alias %s","nonce":"%s"}`, alias, hex.EncodeToString(nonce[:]))
	pushed, err := r.PushBlob(ctx, bytes.NewReader(data))
	if err != nil {
		return err
	}
	defer func() { _ = r.DeleteBlob(context.WithoutCancel(ctx), pushed.Digest) }()
	tm, err := r.SetAliasBlobs(ctx, alias, pushed.Blob())
	if err != nil {
		return err
	}
	if err := r.DeleteManifest(ctx, tm.Digest); err != nil {
		if _, rerr := r.SetManifest(context.WithoutCancel(ctx), alias, m.Raw); rerr != nil {
			return fmt.Errorf("%s: %w (%s); deleting it failed (%w) and pointing the alias back at %s failed too: %w",
				op, errAliasChanged, tm.Digest, err, m.Digest, rerr)
		}
		return err
	}
	if still, err := r.manifestExists(ctx, op, alias); err != nil || still {
		return cmp.Or(err, fmt.Errorf("%s: %w: the registry keeps the alias after its manifest is deleted, so %w (%s, deleted)", op, ErrUnsupported, errAliasChanged, tm.Digest))
	}
	return nil
}

// DeleteAliases removes each alias as [Repository.DeleteAlias] does. With
// Prune, it then re-reads every remaining alias's manifest and deletes what
// the removed aliases reached (their manifests, platform manifests,
// configs and layers) that no remaining alias reaches: split chunks and
// blobs shared with other aliases stay, and are listed in Kept. With DryRun
// nothing is deleted and the result says what would be. If a manifest of
// the remaining aliases cannot be read (other than gone), nothing is pruned.
func (r *Repository) DeleteAliases(ctx context.Context, aliases []string, o DeleteOptions) (*DeleteResult, error) {
	res := &DeleteResult{}
	var resolved []*Alias
	for _, name := range aliases {
		al, err := r.GetAlias(ctx, name, "")
		if err != nil {
			return res, err
		}
		resolved = append(resolved, al)
		if o.DryRun {
			res.Aliases = append(res.Aliases, DeletedAlias{Alias: name, Manifest: al.Manifest})
			continue
		}
		d, err := r.removeAlias(ctx, name, al.Manifest, allDeleteMethods, o.jobs())
		if err != nil {
			return res, err
		}
		res.Aliases = append(res.Aliases, d)
	}
	if !o.Prune {
		return res, nil
	}
	return res, r.prune(ctx, res, resolved, nil, aliases, o)
}

// prune deletes what the aliases reached (and the extra blobs) that no
// alias but those in gone reaches, manifests first, and records it in res.
func (r *Repository) prune(ctx context.Context, res *DeleteResult, aliases []*Alias, extra []Blob, gone []string, o DeleteOptions) error {
	skip := map[string]bool{}
	for _, a := range gone {
		skip[a] = true
	}
	// Listing and reading the remaining aliases comes last, just before
	// deleting, to leave a concurrent push as little time as possible (see
	// docs/deleting.md).
	u, err := r.inUse(ctx, skip, o.jobs())
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	var manifests, blobs []Blob
	seen := map[v1.Hash]bool{}
	named := map[v1.Hash]bool{} // named by digest: must be there
	consider := func(list *[]Blob, b Blob) {
		if seen[b.Digest] {
			return
		}
		seen[b.Digest] = true
		if users := u.users(b.Digest); len(users) > 0 {
			res.Kept = append(res.Kept, KeptBlob{Blob: b, UsedBy: users})
			return
		}
		*list = append(*list, b)
	}
	for _, al := range aliases {
		consider(&manifests, Blob{Digest: al.Manifest.Digest, Size: al.Manifest.Size()})
		if al.Manifest.IsList() {
			for _, p := range al.PlatformNames() {
				pm := al.Platforms[p]
				consider(&manifests, Blob{Digest: pm.Digest, Size: pm.Size()})
			}
		}
		for _, m := range aliasImages(al) {
			if m.Config.Digest.Hex != "" {
				consider(&blobs, m.Config)
			}
			for _, l := range m.Layers {
				consider(&blobs, l)
			}
		}
	}
	for _, b := range extra {
		named[b.Digest] = true
		consider(&blobs, b)
	}
	for _, b := range manifests {
		if !o.DryRun {
			// The registry may have deleted it with the tag.
			if err := r.DeleteManifest(ctx, b.Digest); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		res.deleted(b)
	}
	for _, b := range blobs {
		if !o.DryRun {
			// A layer may be gone already (check reports such damage); a
			// blob named by digest must be there.
			if err := r.DeleteBlob(ctx, b.Digest); err != nil && (named[b.Digest] || !errors.Is(err, ErrBlobNotFound)) {
				return err
			}
		}
		res.deleted(b)
	}
	return nil
}

// DeleteBlobs deletes the blobs refs name: a digest names one blob, an
// alias the layers of its image (of every platform's, for a list).
//
// Without Force it takes only what no other alias uses. Every alias of the
// repository is read first; a digest some alias uses fails the call with
// [ErrBlobInUse], naming the aliases, before anything is deleted. Each
// alias named is then removed as [Repository.DeleteAlias] does (its manifest
// and platform manifests deleted too when no other alias names them), and
// of its layers only those no remaining alias uses are deleted: the others
// are listed in Kept. With DryRun nothing is deleted.
//
// With Force it does what the Python tool did: each alias's manifest is
// deleted by digest (and with it every alias naming it), then its platform
// manifests, then every blob named, whoever uses it. Config blobs are never
// deleted unless named by digest, and a blob named twice is deleted once.
func (r *Repository) DeleteBlobs(ctx context.Context, refs []Ref, o DeleteOptions) (*DeleteResult, error) {
	res := &DeleteResult{}
	var digests []v1.Hash
	var aliases []*Alias
	var names []string
	for _, ref := range refs {
		if ref.Alias == "" {
			digests = append(digests, ref.Digest)
			continue
		}
		al, err := r.GetAlias(ctx, ref.Alias, "")
		if err != nil {
			return res, err
		}
		aliases = append(aliases, al)
		names = append(names, ref.Alias)
	}
	if o.Force {
		return res, r.forceDeleteBlobs(ctx, res, names, aliases, digests, o)
	}
	skip := map[string]bool{}
	for _, n := range names {
		skip[n] = true
	}
	if len(digests) > 0 {
		u, err := r.inUse(ctx, skip, o.jobs())
		if err != nil {
			return res, fmt.Errorf("delete blobs: %w", err)
		}
		for _, d := range digests {
			if users := u.users(d); len(users) > 0 {
				return res, fmt.Errorf("delete blob %s: %w: %s (delete those aliases first, or force it)", d, ErrBlobInUse, strings.Join(users, ", "))
			}
		}
	}
	for i, al := range aliases {
		if o.DryRun {
			res.Aliases = append(res.Aliases, DeletedAlias{Alias: names[i], Manifest: al.Manifest})
			continue
		}
		d, err := r.removeAlias(ctx, names[i], al.Manifest, allDeleteMethods, o.jobs())
		if err != nil {
			return res, err
		}
		res.Aliases = append(res.Aliases, d)
	}
	extra := make([]Blob, len(digests))
	for i, d := range digests {
		extra[i] = Blob{Digest: d, Size: -1}
	}
	// Like the Python tool, del-blob leaves config blobs: prune is given
	// the aliases' layers only.
	layersOnly := make([]*Alias, len(aliases))
	for i, al := range aliases {
		layersOnly[i] = withoutConfigs(al)
	}
	return res, r.prune(ctx, res, layersOnly, extra, names, o)
}

// withoutConfigs returns a copy of al whose image manifests have no config
// (those of a dxf alias are its first layer, which stays a layer).
func withoutConfigs(al *Alias) *Alias {
	strip := func(m *Manifest) *Manifest {
		c := *m
		c.Config = Blob{}
		return &c
	}
	out := &Alias{Manifest: strip(al.Manifest), Platform: al.Platform}
	if al.Platforms != nil {
		out.Platforms = make(map[string]*Manifest, len(al.Platforms))
		for p, m := range al.Platforms {
			out.Platforms[p] = strip(m)
		}
	}
	return out
}

func (r *Repository) forceDeleteBlobs(ctx context.Context, res *DeleteResult, names []string, aliases []*Alias, digests []v1.Hash, o DeleteOptions) error {
	var blobs []Blob
	for i, al := range aliases {
		res.Aliases = append(res.Aliases, DeletedAlias{Alias: names[i], Manifest: al.Manifest, Method: DeletedManifest})
		if !o.DryRun {
			if err := r.DeleteAliasManifest(ctx, names[i], al.Manifest.Digest); err != nil {
				return err
			}
		}
		for _, p := range al.PlatformNames() {
			pm := al.Platforms[p]
			if !o.DryRun {
				if err := r.DeleteManifest(ctx, pm.Digest); err != nil {
					return err
				}
			}
			res.deleted(Blob{Digest: pm.Digest, Size: pm.Size()})
		}
		for _, m := range aliasImages(al) {
			blobs = append(blobs, m.Layers...)
		}
	}
	for _, d := range digests {
		blobs = append(blobs, Blob{Digest: d, Size: -1})
	}
	seen := make(map[v1.Hash]bool, len(blobs))
	for _, b := range blobs {
		if seen[b.Digest] {
			continue
		}
		seen[b.Digest] = true
		if !o.DryRun {
			if err := r.DeleteBlob(ctx, b.Digest); err != nil {
				return err
			}
		}
		res.deleted(b)
	}
	return nil
}
