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
// Each thing the dxf command does is one call: [Repository.PushFiles] and
// [Repository.PushBlobs] push many files or readers in parallel;
// [Repository.PullAlias] and [Repository.PullBlobs] pull blobs in order,
// verified, into any io.Writer (with read-ahead) or in parallel into a file
// ([Repository.PullBlobsAt] for any io.WriterAt); [Repository.SetAlias],
// [Repository.GetAlias], [Repository.DeleteAlias] and [Repository.Aliases]
// manage aliases. Settings for the connection are [Option]s; settings for
// one call (parallelism, progress, a known digest…) are [TransferOption]s.
// Progress has one shape, [Progress], for pushes and pulls.
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
