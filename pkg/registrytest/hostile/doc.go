// Package hostile is a registry for tests that misbehaves on purpose. It is
// test-only code: it exists so that tests can check what a client does when
// the registry itself (not the network, see package faultproxy) lies, sends
// too much, or never stops.
//
// [Start] listens on a free loopback port (addressed as localhost:<port>,
// plain HTTP). Requests go to ggcr's in-memory registry
// (github.com/google/go-containerregistry/pkg/registry), so a test can push
// real blobs and manifests through it, unless a scenario added with
// [Server.Handle] matches the request first (method and an anchored regular
// expression on the path; the most recently added scenario wins). Scenarios
// are ordinary http.Handlers; the package provides the hostile ones:
//
//   - [Bytes] answers a fixed status, Content-Type and body (with
//     Content-Length); [Manifest] answers a manifest with its media type
//     and its true Docker-Content-Digest;
//   - [NoLength] sends a body without Content-Length (chunked);
//   - [Endless] sends bytes as fast as the client reads them, forever
//     (until the client goes away or the server is closed), without
//     Content-Length, or with a false one ([EndlessWithLength]);
//   - [LyingLength] announces one Content-Length and sends another number
//     of bytes, over a hijacked connection;
//   - [Pages] serves a listing (tags or catalog) page by page, each page
//     with a distinct rel="next" Link, for as long as the test's function
//     says;
//   - [Commit] answers an upload's committing PUT with 201 Created and a
//     Docker-Content-Digest the test chooses (or the digest the client
//     asked for, with an empty string), storing nothing;
//   - [WithHeader] adds headers to another scenario's answer.
//
// [Server.BytesSent] counts the body bytes written to clients (so a test can
// assert a client stopped reading an endless body), and [Route.Hits] counts
// the requests a scenario answered.
package hostile
