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
// The registry is addressed as localhost:<port> (never an IP literal) because
// go-containerregistry refuses token realms on private IP addresses.
//
// The registry binary is built once per machine with "go install" and cached;
// see [Binary]. The first build takes a couple of minutes.
package registrytest
