package blobstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/jobs"
)

// Limits on what [Repository.Reach] walks: a manifest graph a registry
// serves cannot make the walk unbounded in time or memory.
const (
	// MaxReachManifests bounds how many manifests one walk fetches (the
	// root, child manifests of indexes, subjects).
	MaxReachManifests = 4096
	// MaxReachSize bounds the bytes of all the manifests of one walk
	// together (each is also bounded by [MaxManifestSize], and by the
	// size the descriptor naming it gives).
	MaxReachSize = 64 << 20
	// MaxReachDepth bounds how deeply indexes and subjects may nest below
	// the root (an index of indexes of images is depth 2).
	MaxReachDepth = 16
)

// Reach is everything an alias reaches: the manifests and blobs that must
// all be present for the alias to be whole. It is what [Copy] copies; a
// check or a prune starts from it too.
type Reach struct {
	// Root is the manifest the walk started from.
	Root *Manifest
	// Manifests are every manifest reached, each once, in post-order:
	// every manifest comes after the manifests it names (an index after
	// its children, an artifact after its subject), and Root is last.
	// Writing them in this order never writes a manifest that names one
	// not yet written.
	Manifests []*Manifest
	// Blobs are the blobs the manifests name (configs, of any media type,
	// and layers), each once, in the order first named. Their sizes are
	// those the manifests give (-1 for Docker schema 1, which gives none).
	Blobs []Blob
}

// Size is the total size of r's blobs (their known sizes).
func (r *Reach) Size() int64 {
	var n int64
	for _, b := range r.Blobs {
		n += max(b.Size, 0)
	}
	return n
}

// reachWire is what the walk reads from a manifest beyond what
// [ParseManifest] decodes: the OCI 1.1 subject.
type reachWire struct {
	Subject *wireDescriptor `json:"subject"`
}

// Reach fetches the manifest alias names (a tag or a digest) and walks
// everything it reaches: an image manifest leads to its config and layers
// (whatever their media types: dxf's own aliases, split chunks, OCI
// artifacts and container images other tools wrote) and, for an OCI 1.1
// artifact, to its subject manifest; a manifest list or OCI index leads to
// each child manifest, recursively. Each manifest fetched is verified
// against the digest it is named by and held to the size given for it.
// The walk is bounded ([MaxReachManifests], [MaxReachSize],
// [MaxReachDepth]); errors wrap [ErrLimitExceeded] beyond. Up to
// [WithJobs] child manifests are fetched at once.
func (r *Repository) Reach(ctx context.Context, alias string, opts ...TransferOption) (*Reach, error) {
	m, err := r.GetManifest(ctx, alias)
	if err != nil {
		return nil, err
	}
	return r.ReachManifest(ctx, m, opts...)
}

// ReachManifest is [Repository.Reach] from a manifest already in hand.
func (r *Repository) ReachManifest(ctx context.Context, m *Manifest, opts ...TransferOption) (*Reach, error) {
	o := makeTransferOptions(opts)
	return r.reachManifest(ctx, m, o.jobs, nil)
}

// reachManifest walks from m. With lost set, a child manifest that cannot
// be had is passed to it with the error instead of ending the walk: if
// lost returns nil, the walk goes on without that manifest (and what it
// would have reached).
func (r *Repository) reachManifest(ctx context.Context, m *Manifest, njobs int, lost func(reachChild, error) error) (*Reach, error) {
	w := &reachWalk{repo: r, jobs: njobs, lost: lost, got: map[v1.Hash]*Manifest{m.Digest: m}, size: m.Size()}
	// First fetch everything, level by level (the manifests of one level
	// in parallel); then order it.
	level := []*Manifest{m}
	for depth := 0; len(level) > 0; depth++ {
		var err error
		if level, err = w.next(ctx, level, depth); err != nil {
			return nil, err
		}
	}
	res := &Reach{Root: m}
	w.order(m, res, map[v1.Hash]bool{}, map[v1.Hash]bool{})
	return res, nil
}

// reachWalk is the state of one walk.
type reachWalk struct {
	repo *Repository
	jobs int
	lost func(reachChild, error) error // see reachManifest
	got  map[v1.Hash]*Manifest         // every manifest fetched, by digest
	size int64                         // their bytes together
}

// reachChild is a manifest another names: a child of an index, or a subject.
type reachChild struct {
	digest v1.Hash
	size   int64
	what   string // "platform linux/amd64", "subject": for messages
}

// next fetches the manifests the level names that are not fetched yet,
// within the limits, and returns them: the next level.
func (w *reachWalk) next(ctx context.Context, level []*Manifest, depth int) ([]*Manifest, error) {
	var todo []reachChild
	claimed := map[v1.Hash]bool{}
	for _, m := range level {
		children, err := reachChildren(m)
		if err != nil {
			return nil, fmt.Errorf("reach %s: %w", m.Digest, err)
		}
		if len(children) > 0 && depth >= MaxReachDepth {
			return nil, fmt.Errorf("reach %s: %w", m.Digest, &LimitError{What: "the nesting of indexes and subjects", Limit: MaxReachDepth, Unit: "levels", Name: "MaxReachDepth"})
		}
		for _, c := range children {
			if w.got[c.digest] != nil || claimed[c.digest] {
				continue
			}
			n := c.size
			if n <= 0 {
				n = MaxManifestSize
			}
			if n > MaxManifestSize {
				return nil, fmt.Errorf("reach %s: manifest %s: %w", m.Digest, c.digest, limitManifest)
			}
			if len(w.got)+len(todo)+1 > MaxReachManifests {
				return nil, &LimitError{What: "the number of manifests the alias reaches", Limit: MaxReachManifests, Unit: "manifests", Name: "MaxReachManifests"}
			}
			if w.size+n > MaxReachSize {
				return nil, &LimitError{What: "the size of the manifests the alias reaches together", Limit: MaxReachSize, Unit: "bytes", Name: "MaxReachSize"}
			}
			w.size += n
			claimed[c.digest] = true
			todo = append(todo, c)
		}
	}
	fetched := make([]*Manifest, len(todo))
	err := jobs.ForEach(ctx, w.jobs, len(todo), func(ctx context.Context, i int) error {
		var err error
		fetched[i], err = w.fetch(ctx, todo[i])
		if err != nil && w.lost != nil && ctx.Err() == nil {
			fetched[i], err = nil, w.lost(todo[i], err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	fetched = slices.DeleteFunc(fetched, func(m *Manifest) bool { return m == nil })
	for _, c := range fetched {
		w.got[c.Digest] = c
	}
	return fetched, nil
}

// order appends m's reach to res in post-order: what m names first (in
// the order it names them), then m's blobs, then m.
func (w *reachWalk) order(m *Manifest, res *Reach, done, blobSeen map[v1.Hash]bool) {
	done[m.Digest] = true
	children, _ := reachChildren(m) // parsed without error by next
	for _, c := range children {
		if !done[c.digest] && w.got[c.digest] != nil { // nil: lost
			w.order(w.got[c.digest], res, done, blobSeen)
		}
	}
	blobs := m.Layers
	if m.Config != (Blob{}) {
		blobs = append([]Blob{m.Config}, blobs...)
	}
	for _, b := range blobs {
		if !blobSeen[b.Digest] {
			blobSeen[b.Digest] = true
			res.Blobs = append(res.Blobs, b)
		}
	}
	res.Manifests = append(res.Manifests, m)
}

// fetch gets a child manifest, verified against its digest and read no
// further than the size given for it.
func (w *reachWalk) fetch(ctx context.Context, c reachChild) (*Manifest, error) {
	if c.size <= 0 {
		return w.repo.GetManifest(ctx, c.digest.String())
	}
	limit := &LimitError{What: "manifest " + c.digest.String(), Limit: c.size, Unit: "bytes", Name: "MaxManifestSize"}
	m, err := w.repo.getManifest(ctx, c.digest.String(), limit)
	if errors.Is(err, ErrLimitExceeded) {
		return nil, fmt.Errorf("reach %s: %w: the manifest is larger than the %d bytes its descriptor gives", c.digest, ErrSizeMismatch, c.size)
	}
	if err == nil && m.Size() != c.size {
		return nil, fmt.Errorf("reach %s: %w: the manifest is %d bytes, its descriptor gives %d", c.digest, ErrSizeMismatch, m.Size(), c.size)
	}
	return m, err
}

// reachChildren lists the manifests m names: an index's children, then
// the subject, if any.
func reachChildren(m *Manifest) ([]reachChild, error) {
	var cs []reachChild
	for _, e := range m.Manifests {
		what := "manifest " + e.Digest.String()
		if e.Platform != "" {
			what = "platform " + e.Platform
		}
		cs = append(cs, reachChild{digest: e.Digest, size: e.Size, what: what})
	}
	if m.MediaType == MediaTypeOCIManifest || m.MediaType == MediaTypeOCIIndex {
		var w reachWire
		if err := json.Unmarshal(m.Raw, &w); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
		}
		if w.Subject != nil {
			b, err := w.Subject.blob()
			if err != nil {
				return nil, fmt.Errorf("subject: %w", err)
			}
			cs = append(cs, reachChild{digest: b.Digest, size: b.Size, what: "subject"})
		}
	}
	return slices.CompactFunc(cs, func(a, b reachChild) bool { return a.digest == b.digest }), nil
}
