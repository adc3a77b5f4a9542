package blobstore

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// Sentinel errors. Every error the package returns for these conditions
// satisfies errors.Is with the matching sentinel; the specific not-found
// sentinels also match [ErrNotFound].
var (
	// ErrNotFound: the registry answered 404 (unknown blob, alias or repository).
	ErrNotFound = store.ErrNotFound
	// ErrBlobNotFound: the registry does not have the blob.
	ErrBlobNotFound = store.ErrBlobNotFound
	// ErrAliasNotFound: the repository has no such alias (tag or manifest).
	ErrAliasNotFound = store.ErrAliasNotFound
	// ErrRepositoryNotFound: the registry does not know the repository.
	ErrRepositoryNotFound = store.ErrRepositoryNotFound
	// ErrUnauthorized: the registry still answered 401 after authenticating
	// (bad, missing or expired credentials).
	ErrUnauthorized = remote.ErrUnauthorized
	// ErrDenied: the registry answered 403.
	ErrDenied = remote.ErrDenied
	// ErrUnsupported: the registry does not support the operation (405, UNSUPPORTED).
	ErrUnsupported = store.ErrUnsupported
	// ErrDigestMismatch: data did not hash to the digest it was fetched by.
	// The error is a [*DigestMismatchError].
	ErrDigestMismatch = store.ErrDigestMismatch
	// ErrUnexpectedDigestMethod: a digest uses an algorithm other than sha256.
	ErrUnexpectedDigestMethod = store.ErrUnexpectedDigestMethod
	// ErrInvalidDigest: a string is not a valid sha256 digest.
	ErrInvalidDigest = store.ErrInvalidDigest
	// ErrInvalidName: a repository or alias name is not valid.
	ErrInvalidName = store.ErrInvalidName
	// ErrUnsupportedManifest: a manifest of a media type we cannot read.
	ErrUnsupportedManifest = errors.New("unsupported manifest type")
	// ErrInvalidManifest: a manifest that is not valid JSON of a known shape,
	// or larger than [MaxManifestSize].
	ErrInvalidManifest = store.ErrInvalidManifest
	// ErrPlatformNotFound: a multi-platform alias has no such platform. The
	// error is a [*PlatformNotFoundError].
	ErrPlatformNotFound = errors.New("platform not found")
	// ErrMountFailed: the registry did not mount the blob (it answered
	// anything but 201 Created).
	ErrMountFailed = remote.ErrMountFailed
	// ErrAuthInsecure: the registry asked for credentials over plain HTTP.
	ErrAuthInsecure = xport.ErrAuthInsecure
	// ErrPlainHTTP: a request would have gone over plain HTTP to a registry
	// not made [WithInsecure] (go-containerregistry falls back to plain HTTP
	// for localhost on its own).
	ErrPlainHTTP = xport.ErrPlainHTTP
	// ErrSizeMismatch: a blob's body was longer or shorter than announced.
	ErrSizeMismatch = store.ErrSizeMismatch
	// ErrInvalidLayout: an OCI image layout whose files contradict each
	// other or the specification.
	ErrInvalidLayout = store.ErrInvalidLayout
	// ErrNoBlobs: an alias needs at least one blob.
	ErrNoBlobs = errors.New("an alias needs at least one blob")
)

// Error is an error answer from the registry: the operation that failed, the
// HTTP status and the registry's error codes. It unwraps to the matching
// sentinel (for example [ErrBlobNotFound]) and to the underlying
// [*transport.Error]. Its fields: Op says what was being done (e.g. "pull
// blob sha256:…"); StatusCode is the HTTP status of the answer; Codes are
// the registry's error codes (BLOB_UNKNOWN, DENIED, …), if any; Message is
// the registry's first error message, if any. Its Error method never
// returns credentials.
type Error = remote.Error

// DigestMismatchError reports data whose digest is not the one expected.
type DigestMismatchError = store.DigestMismatchError

// PlatformNotFoundError reports a platform missing from a multi-platform alias.
type PlatformNotFoundError struct {
	// Platform is the platform asked for, os/architecture[/variant].
	Platform string
	// Available lists the platforms the alias has, when known.
	Available []string
}

// Error implements error. It starts as the Python tool's message did.
func (e *PlatformNotFoundError) Error() string {
	if len(e.Available) == 0 {
		return "data not found for platform: " + e.Platform
	}
	return "data not found for platform: " + e.Platform + " (the alias has " + strings.Join(e.Available, ", ") + ")"
}

// Is makes errors.Is(err, ErrPlatformNotFound) true.
func (e *PlatformNotFoundError) Is(target error) bool { return target == ErrPlatformNotFound }

// what a 404 means for the operation at hand.
type subject = remote.Subject

const (
	subjectOther = remote.SubjectOther
	subjectBlob  = remote.SubjectBlob
	subjectRepo  = remote.SubjectRepo
)

// wrapErr turns err (from a transport or CheckError) into an *Error when it
// carries an HTTP status, and otherwise prefixes it with op.
func wrapErr(op string, s subject, err error) error { return remote.WrapErr(op, s, err) }

// registryDown reports whether err says the registry could not be reached,
// or answered that it is unavailable: a connection refused, reset or cut, or
// a 502, 503 or 504 answer — what a registry restarting looks like. It is
// narrower than transient: a recovery that waits for the registry to come
// back asks it, so that other failures are not waited on.
func registryDown(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var e *Error
	if errors.As(err, &e) {
		switch e.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
	}
	return false
}

// transient reports whether err is worth retrying (see [retry.Transient]):
// refusals to talk plain HTTP, or to send credentials over it, are not.
func transient(err error) bool { return xport.Transient(err) }

// ErrRedirectDowngrade is returned when an HTTPS request was redirected to plain HTTP, which
// is refused unless the registry is used insecurely ([WithInsecure]).
var ErrRedirectDowngrade = xport.ErrRedirectDowngrade

// ErrCredentialsOtherHost is returned when a request carrying credentials was about to go to
// a host other than the registry, its token realm or the auth host
// ([WithAuthHost]), for example after a redirect. It was not sent.
var ErrCredentialsOtherHost = xport.ErrCredentialsOtherHost

// ErrStalled is returned when a transfer moved less than [StallBytes] in [Timeouts.Idle].
var ErrStalled = xport.ErrStalled

// ErrCredentialHelper is returned when a credential helper (docker-credential-*) failed or
// did not answer in time. Its output is never quoted: it may hold secrets.
var ErrCredentialHelper = xport.ErrCredentialHelper
