// Package errtext words the dxf command's errors for the user: it rewords
// the library's errors so that they name what the user asked for, explains
// malformed digests, and keeps each message on one line and free of
// secrets.
package errtext

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// Reworded is an error reworded for the user, which still unwraps to the
// original (for the exit status).
type Reworded struct {
	Msg string
	Err error
}

func (e *Reworded) Error() string { return e.Msg }

// Unwrap returns the original error.
func (e *Reworded) Unwrap() error { return e.Err }

// Redacted is an error whose message is scrubbed of the secrets the library
// learned (from the Docker config or a credential helper, and the tokens it
// was issued), which the configuration does not know.
type Redacted struct {
	Err    error
	Redact func(string) string
}

func (e *Redacted) Error() string { return e.Redact(e.Err.Error()) }

// Unwrap returns the original error.
func (e *Redacted) Unwrap() error { return e.Err }

// OneLine folds a multi-line message (a registry's error body, say) onto
// one line, so that stderr carries exactly one line per failure, and
// escapes what else could act on a terminal (see [textfmt.Escape]).
func OneLine(s string) string {
	return textfmt.Escape(strings.Join(strings.Fields(s), " "))
}

// Scrub replaces each of secrets in msg by "[redacted]".
func Scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return msg
}

// The two failures of go-containerregistry's ping of a registry it may
// reach over HTTPS or plain HTTP, joined by "; ".
var (
	httpsAttempt = regexp.MustCompile(`Get "https://[^"]*": [^;]*; (Get "http://)`)
	plainRefused = regexp.MustCompile(`; Get "http://[^"]*": ` + regexp.QuoteMeta(blobstore.ErrPlainHTTP.Error()) + `[^;]*`)
)

// Explain rewords err so that it names what the user asked for (the file,
// alias or digest), not the library's internal steps, and says once what
// went wrong. insecure: plain HTTP was asked for. credentials, if not nil,
// names the credentials tried, for an error of authentication.
func Explain(err error, insecure bool, credentials func() string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	// "push day2.dat: blob size sha256:…: unauthorized": the request that
	// failed is the library's business; the file is what the user knows.
	var be *blobstore.Error
	if errors.As(err, &be) {
		if prefix, ok := strings.CutSuffix(msg, be.Error()); ok && prefix != "" {
			msg = prefix + strings.TrimPrefix(be.Error(), be.Op+": ")
		}
	}
	if insecure {
		// Told to use plain HTTP: the HTTPS attempt is noise.
		msg = httpsAttempt.ReplaceAllString(msg, "$1")
	} else {
		msg = plainRefused.ReplaceAllString(msg, " (a registry on plain HTTP needs DXF_INSECURE=1, or DXF_HOST=http://host:port)")
	}
	if credentials != nil && errors.Is(err, blobstore.ErrUnauthorized) {
		msg += "; credentials tried: " + credentials()
	}
	if msg == err.Error() {
		return err
	}
	return &Reworded{Msg: msg, Err: err}
}

// DigestHint explains why arg is not a digest, suggesting what was meant;
// nil if it is one.
func DigestHint(arg string) error {
	_, err := blobstore.ParseDigest(arg)
	if err == nil {
		return nil
	}
	alg, hex, hasColon := strings.Cut(arg, ":")
	var why string
	switch {
	case !hasColon && IsHex(arg) && len(arg) == 64:
		why = "did you mean sha256:" + arg + "?"
	case !hasColon:
		why = "a digest is sha256:<64 hex digits>"
	case alg != "sha256":
		why = "only sha256 digests are supported"
	case len(hex) != 64:
		why = fmt.Sprintf("a sha256 digest has 64 hex digits, not %d", len([]rune(hex)))
	case strings.ToLower(hex) != hex && IsHex(strings.ToLower(hex)):
		why = "did you mean sha256:" + strings.ToLower(hex) + "? (hex digits are lowercase)"
	default:
		why = "a sha256 digest is written in hex digits 0-9 and a-f"
	}
	return &Reworded{Msg: fmt.Sprintf("%q is not a digest: %s", arg, why), Err: err}
}

// IsHex tells whether s is a non-empty string of lowercase hex digits.
func IsHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}
