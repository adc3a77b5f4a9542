// Package registrytest runs the real CNCF Distribution registry
// (github.com/distribution/distribution/v3, pinned to [RegistryVersion]) as a
// child process for integration tests, demos and benchmarks.
//
// [Start] (or [StartT] in tests) writes a registry configuration into a fresh
// temporary directory, starts the registry on a free loopback port and waits
// until GET /v2/ answers. Four set-ups are supported, chosen by [Config]:
//
//   - plain HTTP, no authentication;
//   - HTTPS, with a throw-away certificate authority generated per registry
//     (trust it with [Registry.CAFile] or [Registry.CertPool]);
//   - HTTPS with HTTP Basic authentication from an htpasswd file;
//   - HTTPS with Docker bearer-token authentication, where the token issuer is
//     a [TokenServer] running inside the test process. It grants known users
//     every action they ask for and anonymous callers only what
//     [Config.AnonymousActions] allows, and records every request so tests
//     can assert on what a client sent.
//
// The registry is addressed as localhost:<port> unless [Config.Host] says
// 127.0.0.1, and the token realm likewise ([Config.TokenHost]).
//
// [Config.S3] keeps the data in an S3 bucket of a versitygw gateway
// ([StartS3]); [Config.Secret] lets several registries share upload
// sessions behind a [LoadBalancer]; [Config.Binary] runs another registry
// program, such as Distribution 2.8 ([LegacyBinary]). The registry matrix of
// the integration tests is in the matrix subpackage.
//
// The registry and gateway binaries are built once per machine with "go
// install" and cached; see [Binary]. The first build takes a couple of
// minutes.
package registrytest
