// Package remote is a repository of a registry as a store: the requests of
// the distribution API, one file per verb, over the transport package. It
// knows nothing of the operations built on it.
package remote

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
	"github.com/dxf-go/dxf/pkg/internal/retry"
)

// Sentinels of the registry's answers that the store package does not
// define; the blobstore package exports them under the same names.
var (
	// ErrUnauthorized: the registry still answered 401 after authenticating.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrDenied: the registry answered 403.
	ErrDenied = errors.New("denied")
)

// maxErrorMessage bounds the registry's message quoted in an [Error].
const maxErrorMessage = 1 << 10

// Error is an error answer from the registry: the operation that failed, the
// HTTP status and the registry's error codes. It unwraps to the matching
// sentinel (for example store.ErrBlobNotFound) and to the underlying
// [*transport.Error]. The blobstore package exports it as blobstore.Error.
type Error struct {
	// Op says what was being done, e.g. "pull blob sha256:…".
	Op string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Codes are the registry's error codes (BLOB_UNKNOWN, DENIED, …), if any.
	Codes []string
	// Message is the registry's first error message, if any.
	Message string

	kind       error
	err        error
	retryAfter time.Duration // from a Retry-After header, if any
}

// Error implements error. It never contains credentials.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.kind != nil {
		b.WriteString(e.kind.Error())
		b.WriteString(" (")
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Codes) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Codes, ", "))
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
	}
	if e.kind != nil {
		b.WriteString(")")
	}
	return b.String()
}

// Operation is e.Op: the operation e's text starts with.
func (e *Error) Operation() string { return e.Op }

// opError is an error of an operation whose text starts with it, as
// "pull blob sha256:…: …". The operations built on the store name their own
// failures the same way; Operation tells them the name is there already.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string     { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error     { return e.err }
func (e *opError) Operation() string { return e.op }

// opErrorf is fmt.Errorf(format, a...) named as an error of op.
func opErrorf(op, format string, a ...any) error {
	return &opError{op: op, err: fmt.Errorf(format, a...)}
}

// Unwrap gives the sentinel matching the answer and the transport error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.err != nil {
		errs = append(errs, e.err)
	}
	return errs
}

// NotFound is the error for a 404 answer to op (a HEAD, which has no body
// to check), matching kind.
func NotFound(op string, kind error) *Error {
	return &Error{Op: op, StatusCode: http.StatusNotFound, kind: kind}
}

// RetryAfter is the wait the answer behind e asked for with Retry-After, if
// any.
func RetryAfter(e *Error) time.Duration { return e.retryAfter }

// Subject is what a 404 means for the operation at hand.
type Subject int

const (
	// SubjectOther means a 404 is store.ErrNotFound.
	SubjectOther Subject = iota
	// SubjectBlob means a 404 is store.ErrBlobNotFound.
	SubjectBlob
	// SubjectManifest means a 404 is store.ErrAliasNotFound.
	SubjectManifest
	// SubjectRepo means a 404 is store.ErrRepositoryNotFound.
	SubjectRepo
)

// WrapErr turns err (from a transport or CheckError) into an *Error when it
// carries an HTTP status, and otherwise prefixes it with op.
func WrapErr(op string, s Subject, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return opErrorf(op, "%w", err)
	}
	e := &Error{Op: op, StatusCode: terr.StatusCode, err: terr}
	for _, d := range terr.Errors {
		e.Codes = append(e.Codes, string(d.Code))
		if e.Message == "" {
			e.Message = d.Message
			if len(e.Message) > maxErrorMessage {
				e.Message = strings.ToValidUTF8(e.Message[:maxErrorMessage], "") + "…"
			}
		}
	}
	e.kind = classify(terr.StatusCode, e.Codes, s)
	return e
}

func classify(status int, codes []string, s Subject) error {
	for _, c := range codes {
		switch transport.ErrorCode(c) {
		case transport.BlobUnknownErrorCode:
			return store.ErrBlobNotFound
		case transport.ManifestUnknownErrorCode:
			return store.ErrAliasNotFound
		case transport.NameUnknownErrorCode:
			return store.ErrRepositoryNotFound
		case transport.UnauthorizedErrorCode:
			return ErrUnauthorized
		case transport.DeniedErrorCode:
			if status == http.StatusUnauthorized {
				return ErrUnauthorized
			}
			return ErrDenied
		case transport.UnsupportedErrorCode:
			return store.ErrUnsupported
		case transport.NameInvalidErrorCode, transport.TagInvalidErrorCode:
			return store.ErrInvalidName
		case transport.DigestInvalidErrorCode:
			return store.ErrInvalidDigest
		}
	}
	switch status {
	case http.StatusNotFound:
		switch s {
		case SubjectBlob:
			return store.ErrBlobNotFound
		case SubjectManifest:
			return store.ErrAliasNotFound
		case SubjectRepo:
			return store.ErrRepositoryNotFound
		}
		return store.ErrNotFound
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrDenied
	case http.StatusMethodNotAllowed:
		return store.ErrUnsupported
	}
	return nil
}

// CheckResponse returns nil if resp has one of the wanted statuses, and
// otherwise an *Error (closing nothing: the caller closes the body).
func CheckResponse(op string, s Subject, resp *http.Response, want ...int) error {
	err := WrapErr(op, s, transport.CheckError(resp, want...))
	var e *Error
	if errors.As(err, &e) {
		e.retryAfter, _ = retry.After(resp.Header.Get("Retry-After"))
	}
	return err
}
