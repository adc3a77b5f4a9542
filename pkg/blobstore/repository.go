package blobstore

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// Repository is one repository of a registry: the place blobs are pushed to
// and aliases are set in. It is safe for concurrent use.
type Repository struct {
	reg  *Registry
	repo name.Repository
	rs   *remote.Repo // the repository's requests

	// st, when not nil, is the store the repository is kept in instead of
	// a registry (an OCI image layout); lo then holds the options.
	st store.Store
	lo *options
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
// repositories.
func New(host, repo string, opts ...Option) (*Repository, error) {
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
	return &Repository{reg: r, repo: n, rs: remote.New(r.t, n, r.o.pageSize, listPages, r.codec())}, nil
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
// unless err already starts with it: the registry's store names each of its
// operations in its errors with the same words as the operations here
// (its errors then read as before, with no repeated prefix), and the
// layout's store names none.
func withOp(op string, err error) error {
	if err == nil || strings.HasPrefix(err.Error(), op+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// errNotRegistry is what a registry-only path gives on an OCI image layout
// (a safety net: every public call routes layouts through the store).
var errNotRegistry = fmt.Errorf("%w on an OCI image layout: it needs a registry", ErrUnsupported)

// pushClient is the client for writes (pull and push actions). The registry
// may ask for more (delete); go-containerregistry then widens the scope.
func (r *Repository) pushClient(ctx context.Context) (*http.Client, error) {
	if r.reg == nil {
		return nil, errNotRegistry
	}
	return r.rs.PushClient(ctx)
}

func (r *Repository) url(format string, args ...any) string {
	return r.rs.URL(format, args...)
}
