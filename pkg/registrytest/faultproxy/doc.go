// Package faultproxy is a fault-injecting HTTP reverse proxy for tests. It
// is test-only code: it exists to put a real registry (usually one started
// by package registrytest) behind a network that misbehaves on purpose, so
// that tests can check what a client does when requests fail, connections
// break or data arrives damaged. Nothing in it is meant for production use.
//
// [Start] (or [StartT] in tests) listens on a free loopback port, addressed
// as localhost:<port> ([Proxy.Host]), and forwards every request to the
// upstream URL. Location and Link response headers that name the upstream
// are rewritten to name the proxy, so that a registry's absolute upload URLs
// and pagination links lead back through the proxy.
//
// Faults are added at run time with [Proxy.Inject], which takes a [Rule]
// (method, path and query regular expressions, how many matching requests to
// let through first, how many to damage) and a [Fault]:
//
//   - [Status] answers with an HTTP error (500, 503, 429…) and, with
//     [Fault.WithRetryAfter], a Retry-After header, instead of forwarding;
//   - [Latency] delays the request before it is forwarded;
//   - [DropResponse] sends the upstream's status, headers and the first n
//     bytes of its body, then resets the connection (TCP RST);
//   - [TruncateResponse] does the same but closes the connection cleanly
//     (FIN): the client sees a body shorter than its Content-Length;
//   - [FlipResponseByte] flips the lowest bit of one byte of the body;
//   - [ResponseHeader] sets or removes one header of the upstream's answer;
//   - [LoseResponse] forwards the request, lets the upstream answer in full,
//     and resets the client connection without a word: the operation
//     happened but the client never learns it;
//   - [CutRequest] reads the first n bytes of the request body and resets the
//     connection WITHOUT forwarding anything, as a request-buffering proxy
//     (nginx) does when the client connection breaks;
//   - [CutRequestForwarded] streams the first n bytes of the request body to
//     the upstream and then breaks both connections, so that the upstream
//     receives a partial request;
//   - [FlipRequestByte] flips the lowest bit of one byte of the request body
//     on its way upstream.
//
// Every request is recorded ([Proxy.Requests]) with the number of body bytes
// read from the client and written back to it, and the proxy keeps totals
// per method ([Proxy.BytesReceived], [Proxy.BytesReceivedBy]), so tests can
// assert how much data a client re-sent after a fault.
//
// The proxy speaks plain HTTP/1.1 to clients. The upstream may be plain HTTP
// or HTTPS ([WithUpstreamTLS]).
package faultproxy
