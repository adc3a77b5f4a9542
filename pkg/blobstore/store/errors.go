package store

import (
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Sentinel errors shared by every store (and re-exported by package
// blobstore as the same variables, so errors.Is holds across). The
// specific not-found sentinels also match [ErrNotFound].
var (
	// ErrNotFound: the store has no such blob, alias or repository.
	ErrNotFound = errors.New("not found")
	// ErrBlobNotFound: the store does not have the blob.
	ErrBlobNotFound = fmt.Errorf("blob %w", ErrNotFound)
	// ErrAliasNotFound: the repository has no such alias (tag or manifest).
	ErrAliasNotFound = fmt.Errorf("alias %w", ErrNotFound)
	// ErrRepositoryNotFound: the store does not know the repository.
	ErrRepositoryNotFound = fmt.Errorf("repository %w", ErrNotFound)
	// ErrUnsupported: the store does not support the operation.
	ErrUnsupported = errors.New("unsupported by the registry")
	// ErrDigestMismatch: data did not hash to the digest it was fetched
	// or stored by. The error is a [*DigestMismatchError].
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: a blob was longer or shorter than announced.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrInvalidDigest: a string is not a valid sha256 digest.
	ErrInvalidDigest = errors.New("invalid digest")
	// ErrUnexpectedDigestMethod: a digest uses an algorithm other than sha256.
	ErrUnexpectedDigestMethod = errors.New("unexpected digest method")
	// ErrInvalidName: a repository or alias name is not valid.
	ErrInvalidName = errors.New("invalid name")
	// ErrInvalidManifest: a manifest that is not valid JSON of a known
	// shape, or larger than [MaxManifestSize].
	ErrInvalidManifest = errors.New("invalid manifest")
	// ErrInvalidLayout: an OCI image layout whose files contradict each
	// other or the specification (an index naming a blob of another size,
	// a bad digest, a file that is not a regular file…).
	ErrInvalidLayout = errors.New("invalid OCI image layout")
)

// DigestMismatchError reports data whose digest is not the one expected.
type DigestMismatchError struct {
	// Expected is the digest the data was fetched by or announced with.
	Expected v1.Hash
	// Got is the digest of the data actually received.
	Got v1.Hash
}

// Error implements error, in the words of the Python tool.
func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("digest mismatch: expected digest %s, got %s", e.Expected, e.Got)
}

// Is makes errors.Is(err, ErrDigestMismatch) true.
func (e *DigestMismatchError) Is(target error) bool { return target == ErrDigestMismatch }
