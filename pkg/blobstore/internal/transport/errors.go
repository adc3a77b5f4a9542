package transport

import (
	"errors"

	"github.com/dxf-go/dxf/pkg/internal/retry"
)

// Sentinels of the transport; the blobstore package exports them under the
// same names.
var (
	// ErrAuthInsecure: the registry asked for credentials over plain HTTP.
	ErrAuthInsecure = errors.New("auth requires HTTPS")
	// ErrPlainHTTP: a request would have gone over plain HTTP to a registry
	// not made insecure.
	ErrPlainHTTP = errors.New("plain HTTP is not allowed without the insecure option (blobstore.WithInsecure(true), or an http:// host)")
)

// Transient reports whether err is worth retrying (see [retry.Transient]):
// refusals to talk plain HTTP, or to send credentials over it, are not.
func Transient(err error) bool {
	return retry.Transient(err, ErrAuthInsecure, ErrPlainHTTP, ErrRedirectDowngrade, ErrCredentialsOtherHost)
}

// Limits on what is read of answers that mean little.
const (
	// MaxErrorBodySize is how much of an error answer's body is read (the
	// rest is dropped): error messages quote only its start.
	MaxErrorBodySize = 64 << 10
	// MaxPingBodySize is how much of the answer to the GET /v2/ that opens
	// a session is read (its body means nothing; the rest is dropped).
	MaxPingBodySize = 64 << 10
)

// DefaultUserAgent is sent on token requests; some registries key behaviour
// on it, and the Python dxf tool sends exactly this value.
const DefaultUserAgent = "Docker-Client/19.03.2 (linux)"

// StallBytes is the stall threshold: a transfer that moves fewer bytes than
// this in Timeouts.Idle is stalled.
const StallBytes = 1024
