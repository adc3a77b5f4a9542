package blobstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/jobs"
)

// ProblemKind names what [Repository.Check] found wrong.
type ProblemKind string

// The problems Check reports.
const (
	// ProblemManifestMissing: the alias is listed (or was named) but its
	// manifest, or a platform manifest of its list, cannot be had (404).
	ProblemManifestMissing ProblemKind = "manifest-missing"
	// ProblemManifestInvalid: the manifest does not parse, is of a type we
	// cannot read, or does not hash to its digest; or, in an OCI layout, the
	// index names a manifest the layout does not hold or holds damaged.
	ProblemManifestInvalid ProblemKind = "manifest-invalid"
	// ProblemBlobMissing: a blob the manifest names is not in the store.
	ProblemBlobMissing ProblemKind = "blob-missing"
	// ProblemSizeMismatch: the store's blob is not the size the manifest
	// gives.
	ProblemSizeMismatch ProblemKind = "size-mismatch"
	// ProblemDigestMismatch: the blob's bytes do not hash to its digest
	// (found by a deep check only).
	ProblemDigestMismatch ProblemKind = "digest-mismatch"
)

// Problem is one thing wrong with what an alias names.
type Problem struct {
	// Alias is the alias affected.
	Alias string `json:"alias"`
	// Digest is the manifest or blob at fault; zero when the alias's
	// manifest cannot be had at all.
	Digest v1.Hash `json:"digest"`
	// Kind says what is wrong.
	Kind ProblemKind `json:"problem"`
	// Detail says it in words (sizes, digests).
	Detail string `json:"detail"`
}

// String is "alias digest kind: detail" (a dash for no digest).
func (p Problem) String() string {
	d := "-"
	if p.Digest.Hex != "" {
		d = p.Digest.String()
	}
	return fmt.Sprintf("%s %s %s: %s", p.Alias, d, p.Kind, p.Detail)
}

// CheckOptions tunes [Repository.Check].
type CheckOptions struct {
	// Deep re-reads every blob and hashes it, instead of asking the store
	// for its size only.
	Deep bool
	// Jobs bounds the manifests and blobs inspected at once; 0 means
	// [DefaultJobs].
	Jobs int
	// Progress, if set, receives a deep check's reading of each blob as a
	// pull's (see [Progress]; Index is the blob's place among those
	// checked), from the goroutine reading it.
	Progress ProgressFunc
}

// CheckResult is what [Repository.Check] inspected and found.
type CheckResult struct {
	// Aliases, Manifests and Blobs count what was checked: aliases, distinct
	// manifests (platform manifests included) and distinct blobs.
	Aliases   int `json:"aliases"`
	Manifests int `json:"manifests"`
	Blobs     int `json:"blobs"`
	// Bytes is the total size of the distinct blobs, as the manifests give it.
	Bytes int64 `json:"bytes"`
	// Deep says whether blobs were re-read and hashed.
	Deep bool `json:"deep"`
	// Problems are those found, sorted by alias, then digest.
	Problems []Problem `json:"problems"`
}

// OK reports whether no problem was found.
func (c *CheckResult) OK() bool { return len(c.Problems) == 0 }

// blobUse is a blob to check: the size each alias's manifest gives it.
type blobUse struct {
	digest v1.Hash
	sizes  map[string]int64 // alias → size its manifest gives (-1: none)
}

// Check verifies that what aliases name is whole: every manifest can be
// had, parses and matches its digest, and every blob it names (config and
// layers, of each platform for a list) is in the store with the size the
// manifest gives; with Deep, every blob is also read in full and hashed,
// Jobs at a time, each streamed through the verifying reader of
// [Repository.PullBlob] (memory does not grow with blob sizes). With no
// aliases, every alias of the repository is checked.
//
// Problems found are in the result, not the error: the error is for a
// check that could not be made (the repository cannot be listed, the
// registry refuses the credentials, the network fails).
func (r *Repository) Check(ctx context.Context, aliases []string, o CheckOptions) (*CheckResult, error) {
	njobs := cmp.Or(max(o.Jobs, 0), DefaultJobs)
	if len(aliases) == 0 {
		var err error
		if aliases, err = r.ListAliases(ctx); err != nil {
			return nil, err
		}
	}
	aliases = slices.Compact(slices.Sorted(slices.Values(aliases)))
	res := &CheckResult{Aliases: len(aliases), Deep: o.Deep}
	var (
		mu        sync.Mutex
		manifests = map[v1.Hash]bool{}
		blobs     = map[v1.Hash]*blobUse{}
	)
	problem := func(p Problem) {
		mu.Lock()
		defer mu.Unlock()
		res.Problems = append(res.Problems, p)
	}
	use := func(alias string, b Blob) {
		u := blobs[b.Digest]
		if u == nil {
			u = &blobUse{digest: b.Digest, sizes: map[string]int64{}}
			blobs[b.Digest] = u
		}
		u.sizes[alias] = b.Size
	}
	// The aliases share the jobs: one alias's walk fetches its child
	// manifests njobs at a time, many aliases walk one manifest at a time
	// each (never njobs² requests at once).
	walkJobs := max(1, njobs/max(len(aliases), 1))
	err := jobs.ForEach(ctx, njobs, len(aliases), func(ctx context.Context, i int) error {
		name := aliases[i]
		images, err := r.checkManifests(ctx, name, walkJobs, problem)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, m := range images {
			manifests[m.Digest] = true
			if m.Config.Digest.Hex != "" {
				use(name, m.Config)
			}
			for _, l := range m.Layers {
				use(name, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Manifests = len(manifests)
	res.Blobs = len(blobs)
	todo := make([]*blobUse, 0, len(blobs))
	for _, u := range blobs {
		todo = append(todo, u)
		var size int64 = -1
		for _, n := range u.sizes {
			size = max(size, n)
		}
		res.Bytes += max(size, 0)
	}
	err = jobs.ForEach(ctx, njobs, len(todo), func(ctx context.Context, i int) error {
		if o.Progress == nil || !o.Deep {
			return r.checkBlob(ctx, todo[i], o.Deep, io.Discard, problem)
		}
		to := transferOptions{progress: o.Progress}
		pw := &progressWriter{w: io.Discard, o: &to, p: Progress{Index: i, Blob: Blob{Digest: todo[i].digest, Size: -1}}}
		err := r.checkBlob(ctx, todo[i], o.Deep, pw, problem)
		if pw.p.Blob.Size >= 0 { // started: the blob was opened
			pw.finish()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(res.Problems, func(a, b Problem) int {
		return cmp.Or(strings.Compare(a.Alias, b.Alias), strings.Compare(a.Digest.String(), b.Digest.String()), strings.Compare(string(a.Kind), string(b.Kind)))
	})
	return res, nil
}

// manifestProblem turns the failure to get a manifest into a problem, or
// returns the error when it is not one (the check cannot go on).
func manifestProblem(alias string, d v1.Hash, err error) (Problem, error) {
	switch {
	case errors.Is(err, ErrAliasNotFound):
		return Problem{Alias: alias, Digest: d, Kind: ProblemManifestMissing, Detail: "the manifest is not in the store"}, nil
	case errors.Is(err, ErrInvalidManifest), errors.Is(err, ErrUnsupportedManifest), errors.Is(err, ErrDigestMismatch), errors.Is(err, ErrLimitExceeded),
		errors.Is(err, ErrInvalidLayout), errors.Is(err, ErrSizeMismatch):
		// An OCI layout whose index names a manifest its blobs lack says
		// ErrInvalidLayout: the manifest is missing or damaged.
		var dm *DigestMismatchError
		if errors.As(err, &dm) && d.Hex == "" {
			d = dm.Expected
		}
		return Problem{Alias: alias, Digest: d, Kind: ProblemManifestInvalid, Detail: err.Error()}, nil
	}
	return Problem{}, err
}

// checkManifests gets alias's manifest and walks everything it reaches
// (the platform manifests of a list, nested indexes, subjects), reporting
// the manifests that cannot be had as problems, and returns the manifests
// to check the blobs of.
func (r *Repository) checkManifests(ctx context.Context, alias string, njobs int, problem func(Problem)) ([]*Manifest, error) {
	report := func(d v1.Hash, what string, err error) error {
		p, err := manifestProblem(alias, d, err)
		if err != nil {
			return err
		}
		if what != "" {
			p.Detail = what + ": " + p.Detail
		}
		problem(p)
		return nil
	}
	m, err := r.GetManifest(ctx, alias)
	if err != nil {
		return nil, report(v1.Hash{}, "", err)
	}
	reach, err := r.reachManifest(ctx, m, njobs, func(c reachChild, err error) error {
		return report(c.digest, c.what, err)
	})
	if err != nil {
		// A limit of the walk as a whole: the alias cannot be checked.
		return nil, report(m.Digest, "", err)
	}
	return reach.Manifests, nil
}

// checkBlob checks one blob against the size each alias's manifest gives
// it: by HEAD, or with deep by reading and hashing it.
func (r *Repository) checkBlob(ctx context.Context, u *blobUse, deep bool, w io.Writer, problem func(Problem)) error {
	each := func(kind ProblemKind, detail func(size int64) string, when func(size int64) bool) {
		names := make([]string, 0, len(u.sizes))
		for a := range u.sizes {
			names = append(names, a)
		}
		slices.Sort(names)
		for _, a := range names {
			if when(u.sizes[a]) {
				problem(Problem{Alias: a, Digest: u.digest, Kind: kind, Detail: detail(u.sizes[a])})
			}
		}
	}
	always := func(int64) bool { return true }
	missing := func(int64) string { return "the blob is not in the store" }
	var (
		size int64
		err  error
		br   *BlobReader
	)
	if deep {
		br, err = r.PullBlob(ctx, u.digest)
		if err == nil {
			size = br.Size
			defer br.Close()
		}
	} else {
		size, err = r.BlobSize(ctx, u.digest)
	}
	switch {
	case errors.Is(err, ErrBlobNotFound):
		each(ProblemBlobMissing, missing, always)
		return nil
	case err != nil:
		return err
	}
	wrong := false
	each(ProblemSizeMismatch, func(n int64) string {
		return fmt.Sprintf("the manifest gives %d bytes, the store has %d", n, size)
	}, func(n int64) bool {
		bad := n >= 0 && n != size
		wrong = wrong || bad
		return bad
	})
	if !deep {
		return nil
	}
	if pw, ok := w.(*progressWriter); ok {
		pw.p.Blob.Size = size
		pw.start()
	}
	_, err = br.WriteTo(w)
	var dm *DigestMismatchError
	switch {
	case errors.As(err, &dm):
		each(ProblemDigestMismatch, func(int64) string {
			return fmt.Sprintf("the store's bytes hash to %s", dm.Got)
		}, always)
		return nil
	case errors.Is(err, ErrSizeMismatch):
		if !wrong {
			each(ProblemSizeMismatch, func(int64) string { return err.Error() }, always)
		}
		return nil
	}
	return err
}
