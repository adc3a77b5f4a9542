package blobstore

import (
	"errors"
	"fmt"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// Limits on what is read from a registry. Nothing a registry sends is read
// without one: a registry that sends more (a huge manifest, a list naming
// thousands of platforms, a listing that never ends) gets an error wrapping
// [ErrLimitExceeded] that names the limit, and memory stays bounded. Blobs
// are streamed and held to their size instead (see [Repository.PullBlob]).
const (
	// MaxManifestSize bounds any manifest read from a registry or from
	// input: larger ones are refused with [ErrInvalidManifest] (and
	// [ErrLimitExceeded]).
	MaxManifestSize = store.MaxManifestSize
	// MaxPlatforms bounds how many platform manifests of one manifest list
	// or index are fetched to resolve it.
	MaxPlatforms = 1000
	// MaxPlatformsSize bounds the bytes of all the platform manifests of
	// one list or index together (each is also bounded by MaxManifestSize,
	// and by the size the list gives for it).
	MaxPlatformsSize = 8 << 20
	// MaxPageSize bounds one page of a listing (tags, catalog).
	MaxPageSize = 8 << 20
	// MaxPages bounds how many pages of one listing are followed.
	MaxPages = 10000
	// MaxErrorBodySize is how much of an error answer's body is read (the
	// rest is dropped): error messages quote only its start.
	MaxErrorBodySize = xport.MaxErrorBodySize
	// MaxPingBodySize is how much of the answer to the GET /v2/ that opens
	// a session is read (its body means nothing; the rest is dropped).
	MaxPingBodySize = xport.MaxPingBodySize
)

// ErrLimitExceeded is matched by errors for something read from a registry
// that is larger than the limit set for it; they are [*LimitError]s.
var ErrLimitExceeded = errors.New("limit exceeded")

// LimitError reports a registry's answer over one of the limits above.
type LimitError struct {
	// What was too large, e.g. "the manifest", "a page of the listing".
	What string
	// Limit is the limit, in Unit.
	Limit int64
	// Unit is "bytes", "pages" or "platforms".
	Unit string
	// Name is the limit's name in this package, e.g. "MaxManifestSize".
	Name string

	kind error // another sentinel the error matches, if any
}

// Error implements error.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: %s is over the limit of %s (blobstore.%s)", ErrLimitExceeded, e.What, formatLimit(e.Limit, e.Unit), e.Name)
}

// Is makes errors.Is(err, ErrLimitExceeded) true, and errors.Is with the
// error's kind (ErrInvalidManifest for a manifest).
func (e *LimitError) Is(target error) bool {
	return target == ErrLimitExceeded || (e.kind != nil && target == e.kind)
}

func formatLimit(n int64, unit string) string {
	if unit == "bytes" {
		switch {
		case n >= 1<<20 && n%(1<<20) == 0:
			return fmt.Sprintf("%d MiB", n>>20)
		case n >= 1<<10 && n%(1<<10) == 0:
			return fmt.Sprintf("%d KiB", n>>10)
		}
	}
	return fmt.Sprintf("%d %s", n, unit)
}

var (
	limitManifest = &LimitError{What: "the manifest", Limit: MaxManifestSize, Unit: "bytes", Name: "MaxManifestSize", kind: ErrInvalidManifest}
	limitPage     = &LimitError{What: "a page of the listing", Limit: MaxPageSize, Unit: "bytes", Name: "MaxPageSize"}
)
