package blobstore

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
)

// Defaults of the options, in one place.

// DefaultRetries is how many times an idempotent request is retried after a
// transient failure, a broken download resumed, or a failed upload chunk
// recovered, unless [WithRetries] says otherwise.
const DefaultRetries = 4

// DefaultJobs bounds concurrent blob operations, unless [WithJobs] says otherwise.
const DefaultJobs = 8

// DefaultChunkSize is how much of a file one upload request carries, unless
// [WithChunkSize] (per call) or [WithDefaultChunkSize] (per registry) says
// otherwise.
const DefaultChunkSize = 64 << 20

// defaultUserAgent is sent to the registry unless [WithUserAgent] says
// otherwise.
const defaultUserAgent = "dxf-go"

// DefaultUserAgent is sent on token requests; some registries key behaviour
// on it, and the Python dxf tool sends exactly this value.
const DefaultUserAgent = xport.DefaultUserAgent

// Option configures a [Registry] (and the repositories made from it).
type Option func(*options) error

type options struct {
	auth      authn.Authenticator
	keychain  authn.Keychain
	insecure  bool
	authHost  string
	tlsConfig *tls.Config
	transport http.RoundTripper
	pageSize  int
	timeouts  Timeouts
	// maxRetryAfter caps the wait a Retry-After header may ask for.
	maxRetryAfter time.Duration
	waitNotify    func(RetryWait)
	userAgent     string
	digestCache   string
	retries       int
	chunkSize     int64
	debug         *xport.DebugLog
}

// transportConfig is what the transport of the registry host needs of o.
func (o *options) transportConfig(host string) xport.Config {
	c := xport.Config{
		Auth:          o.auth,
		Keychain:      o.keychain,
		Insecure:      o.insecure,
		AuthHost:      o.authHost,
		TLSConfig:     o.tlsConfig,
		Transport:     o.transport,
		Timeouts:      xport.Timeouts(o.timeouts),
		MaxRetryAfter: o.maxRetryAfter,
		UserAgent:     o.userAgent,
		Retries:       o.retries,
		Debug:         o.debug,
	}
	if f := o.waitNotify; f != nil {
		c.WaitNotify = func(status int, asked, wait time.Duration) {
			f(RetryWait{Host: host, Status: status, Asked: asked, Wait: wait})
		}
	}
	return c
}

func makeOptions(opts []Option) (*options, error) {
	o := &options{
		keychain:      authn.DefaultKeychain,
		timeouts:      DefaultTimeouts,
		maxRetryAfter: DefaultMaxRetryAfter,
		userAgent:     defaultUserAgent,
		retries:       DefaultRetries,
		chunkSize:     DefaultChunkSize,
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithAuth authenticates with auth (for instance [authn.FromConfig] with a
// username and password, or a registry token). It takes precedence over any
// keychain.
func WithAuth(auth authn.Authenticator) Option {
	return func(o *options) error {
		o.auth = auth
		return nil
	}
}

// WithKeychain resolves credentials for the registry from kc. The default is
// [authn.DefaultKeychain] (the Docker config file and credential helpers).
// Pass nil to use anonymous access when no [WithAuth] is given.
func WithKeychain(kc authn.Keychain) Option {
	return func(o *options) error {
		o.keychain = kc
		return nil
	}
}

// WithInsecure talks plain HTTP to the registry. Credentials are never sent
// over plain HTTP: a registry that asks for them fails with [ErrAuthInsecure].
func WithInsecure(insecure bool) Option {
	return func(o *options) error {
		o.insecure = insecure
		return nil
	}
}

// WithAuthHost sends token requests to host (host[:port]) instead of the
// host named by the registry's bearer realm.
func WithAuthHost(host string) Option {
	return func(o *options) error {
		o.authHost = host
		return nil
	}
}

// WithTLSConfig sets the TLS configuration used to reach the registry and
// its token server. It is cloned, not retained.
func WithTLSConfig(c *tls.Config) Option {
	return func(o *options) error {
		o.tlsConfig = c.Clone()
		return nil
	}
}

// WithCABundle verifies the registry's certificate against the PEM
// certificates in file (instead of the system roots).
func WithCABundle(file string) Option {
	return func(o *options) error {
		pem, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("reading CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("CA bundle %s: no PEM certificates found", file)
		}
		if o.tlsConfig == nil {
			o.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		o.tlsConfig.RootCAs = pool
		return nil
	}
}

// WithSkipTLSVerify disables verification of the registry's certificate.
func WithSkipTLSVerify(skip bool) Option {
	return func(o *options) error {
		if o.tlsConfig == nil {
			o.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		o.tlsConfig.InsecureSkipVerify = skip
		return nil
	}
}

// WithTransport replaces the base HTTP transport (below authentication).
// It is mostly useful in tests; TLS options do not apply to it.
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) error {
		o.transport = t
		return nil
	}
}

// WithPageSize sets how many tags or repositories to ask for per page. By
// default listings send no page size, as the Python tool does: the registry
// sends as many as it will per page (Distribution: every tag in one answer,
// 100 repositories or its catalog.maxentries per catalog page) and links to
// the next. A size above what the registry allows fails (Distribution:
// 400 PAGINATION_NUMBER_INVALID).
func WithPageSize(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("page size must be positive, got %d", n)
		}
		o.pageSize = n
		return nil
	}
}

// Timeouts bound how long the library waits on the network and on
// credential helpers. Waiting is bounded everywhere, but a transfer as a
// whole is not: a large, slow one goes on as long as it moves (use a
// context to bound it). A zero field means its [DefaultTimeouts] value; a
// negative one removes that bound.
type Timeouts struct {
	// Connect bounds establishing a TCP connection.
	Connect time.Duration
	// TLSHandshake bounds the TLS handshake.
	TLSHandshake time.Duration
	// ResponseHeader bounds the wait for an answer's status and headers
	// once the request has been sent (a registry that takes the connection
	// and never answers).
	ResponseHeader time.Duration
	// Idle is how long a request or response body may go moving less than
	// [StallBytes] before the transfer counts as stalled and fails with
	// [ErrStalled] (retried like other network failures). Time spent
	// waiting on the caller (a slow reader of a pulled blob, a slow source
	// of a pushed one) does not count.
	Idle time.Duration
	// CredentialHelper bounds resolving credentials from the keychain:
	// a docker-credential-* program that has not answered is killed.
	CredentialHelper time.Duration
}

// DefaultTimeouts are the timeouts unless [WithTimeouts] or [WithTimeout]
// say otherwise.
var DefaultTimeouts = Timeouts{
	Connect:          30 * time.Second,
	TLSHandshake:     30 * time.Second,
	ResponseHeader:   60 * time.Second,
	Idle:             60 * time.Second,
	CredentialHelper: 60 * time.Second,
}

// StallBytes is the stall threshold: a transfer that moves fewer bytes than this in
// [Timeouts.Idle] is stalled (a registry trickling a byte every few seconds
// stalls as surely as a silent one).
const StallBytes = xport.StallBytes

// WithTimeouts sets the timeouts (zero fields: the defaults; negative: none).
func WithTimeouts(t Timeouts) Option {
	return func(o *options) error {
		pick := func(v, def time.Duration) time.Duration {
			switch {
			case v == 0:
				return def
			case v < 0:
				return 0
			}
			return v
		}
		d := DefaultTimeouts
		o.timeouts = Timeouts{
			Connect:          pick(t.Connect, d.Connect),
			TLSHandshake:     pick(t.TLSHandshake, d.TLSHandshake),
			ResponseHeader:   pick(t.ResponseHeader, d.ResponseHeader),
			Idle:             pick(t.Idle, d.Idle),
			CredentialHelper: pick(t.CredentialHelper, d.CredentialHelper),
		}
		return nil
	}
}

// WithTimeout sets every one of the [Timeouts] to d: connecting, the TLS
// handshake, waiting for an answer, a stalled transfer, a credential helper.
// d must be positive.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("timeout must be positive, got %s", d)
		}
		o.timeouts = Timeouts{Connect: d, TLSHandshake: d, ResponseHeader: d, Idle: d, CredentialHelper: d}
		return nil
	}
}

// WithUserAgent sets the User-Agent sent to the registry. Token requests
// always carry [DefaultUserAgent].
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		o.userAgent = ua
		return nil
	}
}

// WithDigestCache remembers the digest of each pushed file in dir, keyed by
// path, size, modification time and inode, so pushing an unchanged file again
// needs no read of it: a HEAD request tells whether the registry has it.
// An empty dir disables the cache (the default).
func WithDigestCache(dir string) Option {
	return func(o *options) error {
		o.digestCache = dir
		return nil
	}
}

// WithRetries sets how many times an idempotent request is retried after a
// connection error, 408, 429 or 5xx answer (0 disables retries). The same
// number bounds how often one download resumes after a broken connection
// and how often one upload recovers from a failed chunk.
func WithRetries(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("retries must not be negative, got %d", n)
		}
		o.retries = n
		return nil
	}
}

// WithDefaultChunkSize sets the upload chunk size (see [WithChunkSize]) for
// every push through the registry that does not pass its own [WithChunkSize]
// (default [DefaultChunkSize]). 0 sends each file in one request.
func WithDefaultChunkSize(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("chunk size must not be negative, got %d", n)
		}
		o.chunkSize = n
		return nil
	}
}

// DefaultMaxRetryAfter is the longest wait before a retry that a registry's
// Retry-After header gets, unless [WithMaxRetryAfter] says otherwise.
const DefaultMaxRetryAfter = time.Minute

// WithMaxRetryAfter caps how long the library waits before a retry when the
// registry asks for a wait (Retry-After on a 429 or 503 answer). d must be
// positive.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("the longest Retry-After wait must be positive, got %s", d)
		}
		o.maxRetryAfter = d
		return nil
	}
}

// RetryWait describes a wait before a retry that the registry asked for.
type RetryWait struct {
	// Host is the registry.
	Host string
	// Status is the HTTP status of the answer that asked (429, 503…).
	Status int
	// Asked is the wait the Retry-After header asked for.
	Asked time.Duration
	// Wait is the wait the library makes: Asked, at most the cap of
	// [WithMaxRetryAfter].
	Wait time.Duration
}

// WithRetryWaitNotify calls f before each wait of a second or more that a
// registry asked for with Retry-After, so that a long silence can be
// explained. f may be called from several goroutines at once.
func WithRetryWaitNotify(f func(RetryWait)) Option {
	return func(o *options) error {
		o.waitNotify = f
		return nil
	}
}

// WithDebugLog writes a line to w for each HTTP request sent (to the
// registry, its token server or a storage backend it redirects to) and one
// for each response: method, URL, status, size and time taken. No secret is
// written: credentials in URLs and signed-URL query parameters are
// redacted, and of the Authorization header only the scheme is named.
func WithDebugLog(w io.Writer) Option {
	return func(o *options) error {
		if w != nil {
			o.debug = xport.NewDebugLog(w)
		} else {
			o.debug = nil
		}
		return nil
	}
}
