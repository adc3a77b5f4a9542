package blobstore

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// Repository is one repository of a registry, or an OCI image layout: the
// place blobs are pushed to and aliases are set in. It is safe for
// concurrent use.
//
// Every operation goes through one [store.Store], the registry's
// repository or the layout, and reaches what only some stores do through
// the optional capabilities package store declares (a registry's HEAD, tag
// deletion by name, one-request puts, mounts; a layout's lock and blob
// listing).
type Repository struct {
	reg  *Registry       // nil for a layout
	repo name.Repository // the registry's name of the repository

	// st is the store the repository is kept in: a registry's repository
	// (a *remote.Repo) or an OCI image layout.
	st store.Store
	// up is st's upload sessions, if it has them (a registry): a push then
	// streams, resumes chunks or speculates instead of making one Put.
	up uploader
	// lo holds the options of a repository made without a Registry.
	lo *options
}

// uploader is the capability of a store that takes blobs through upload
// sessions (a registry, by the distribution API): a push then streams,
// sends chunks it can resume, or speculates (push.go, speculate.go) instead
// of one Put, and asking first whether a small blob is there may be
// skipped (probe.go). Its calls take the transport's types, internal to
// this module, so it is declared here rather than in package store.
type uploader interface {
	PushClient(ctx context.Context) (*http.Client, error)
	StartUpload(ctx context.Context, c *http.Client, op, query string) (string, error)
	PatchStream(ctx context.Context, c *http.Client, op, loc string, body xport.Upload) (string, error)
	PatchChunk(ctx context.Context, c *http.Client, op, loc string, body xport.Upload, off, n int64, readErr func() error) (string, error)
	UploadStatus(ctx context.Context, c *http.Client, loc string, acked int64) (int64, string, error)
	CommitUpload(ctx context.Context, c *http.Client, op, loc string, d v1.Hash, req xport.Request, readErr func() error) (bool, error)
	CancelUpload(ctx context.Context, c *http.Client, loc string)
}

var _ uploader = (*remote.Repo)(nil)

// newRepository returns the repository kept in st.
func newRepository(reg *Registry, n name.Repository, st store.Store, lo *options) *Repository {
	up, _ := st.(uploader)
	return &Repository{reg: reg, repo: n, st: st, up: up, lo: lo}
}

// opts returns the options the repository was made with.
func (r *Repository) opts() *options {
	if r.reg != nil {
		return r.reg.o
	}
	return r.lo
}

// New returns a Repository for repo on host, with a new [Registry] made with
// opts. Use [Registry.Repository] to share one registry connection between
// repositories. A host written oci:ROOT is a directory of OCI image
// layouts, as DXF_HOST=oci:ROOT is to the dxf command: repository repo is
// then the layout ROOT/repo (see [OpenLayout]).
func New(host, repo string, opts ...Option) (*Repository, error) {
	if root, ok := strings.CutPrefix(host, LayoutPrefix); ok {
		if err := ValidateRepository(repo); err != nil {
			return nil, err
		}
		if root == "" {
			return nil, fmt.Errorf("%w: oci: needs a directory (oci:./data)", ErrInvalidName)
		}
		return OpenLayout(filepath.Join(root, filepath.FromSlash(repo)), opts...)
	}
	r, err := NewRegistry(host, opts...)
	if err != nil {
		return nil, err
	}
	return r.Repository(repo)
}

// repoPattern is the distribution spec's repository name grammar.
var repoPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)

// Repository returns the named repository of r. Like the Python tool, on a
// Docker Hub host a single-component name gets the "library/" prefix.
func (r *Registry) Repository(repo string) (*Repository, error) {
	if strings.HasSuffix(r.reg.RegistryStr(), "docker.io") && repo != "" && !strings.Contains(repo, "/") {
		repo = "library/" + repo
	}
	n, err := name.NewRepository(r.reg.RegistryStr()+"/"+repo, name.StrictValidation)
	if err != nil || n.RepositoryStr() != repo || len(repo) > 255 || !repoPattern.MatchString(repo) {
		return nil, fmt.Errorf("%w: repository %q: must be lowercase letters, digits and separators (. _ - /)", ErrInvalidName, repo)
	}
	if r.o.insecure {
		n.Registry = r.reg
	}
	return newRepository(r, n, remote.New(r.t, n, r.o.pageSize, listPages, r.codec()), nil), nil
}

// Registry returns the registry the repository belongs to; nil for a
// repository kept in an OCI image layout (see [Open]).
func (r *Repository) Registry() *Registry { return r.reg }

// Name returns the repository name (without the host); for an OCI image
// layout, its directory.
func (r *Repository) Name() string {
	name, _ := r.describe()
	return name
}

// String returns host/name, or oci:DIR for an OCI image layout.
func (r *Repository) String() string {
	_, full := r.describe()
	return full
}

// describe is what the store says of itself ([store.Describer]).
func (r *Repository) describe() (name, full string) {
	if d, ok := r.Store().(store.Describer); ok {
		return d.Describe()
	}
	return "", ""
}

// withOp is err (nil if nil) prefixed with op, the operation that failed,
// unless err names it already: the registry's store names each of its
// operations in its errors with the same words as the operations here
// (its errors then read as before, with no repeated prefix), and the
// layout's store names none.
func withOp(op string, err error) error {
	if err == nil {
		return nil
	}
	// The error itself, not one it wraps: only then does its text start
	// with the name.
	if named, ok := err.(interface{ Operation() string }); ok && named.Operation() == op {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// pushClient is the client for writes (pull and push actions) of a store
// with upload sessions. The registry may ask for more (delete);
// go-containerregistry then widens the scope.
func (r *Repository) pushClient(ctx context.Context) (*http.Client, error) {
	return r.up.PushClient(ctx)
}
