// Package blobstore stores arbitrary data in an OCI / Docker v2 registry.
//
// A blob is any sequence of bytes, addressed by its SHA-256 digest. An alias
// is a tag naming a small synthetic manifest whose layers are blobs, so a set
// of blobs can be fetched by name. This is the Go form of the Python dxf
// module: [Registry] corresponds to DXFBase and [Repository] to DXF.
//
// Everything is streamed: pushing and pulling use fixed-size buffers whatever
// the blob size, and every pulled byte is checked against its digest. A
// mismatch surfaces as a [*DigestMismatchError] from the reader at the end of
// the blob; output that failed verification is never reported as success.
//
// Registry I/O goes through go-containerregistry's authenticated transport
// (ping, Basic and bearer-token auth, token refresh, scope escalation), with
// credentials from an [authn.Authenticator] or an [authn.Keychain] (by default
// [authn.DefaultKeychain], which reads the Docker config file and credential
// helpers).
//
// Errors from the registry are [*Error] values carrying the HTTP status and
// the registry's error codes; test them with errors.Is against the sentinels
// in errors.go ([ErrNotFound], [ErrUnauthorized], …) or with errors.As.
//
// A Registry and the Repositories made from it are safe for concurrent use.
// They cache authenticated transports, so many calls ping the registry and
// exchange a token once.
package blobstore
