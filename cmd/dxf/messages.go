package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

// shortError is an error reworded for the user, which still unwraps to
// the original (for the exit status).
type shortError struct {
	msg string
	err error
}

func (e *shortError) Error() string { return e.msg }
func (e *shortError) Unwrap() error { return e.err }

// The two failures of go-containerregistry's ping of a registry it may
// reach over HTTPS or plain HTTP, joined by "; ".
var (
	httpsAttempt = regexp.MustCompile(`Get "https://[^"]*": [^;]*; (Get "http://)`)
	plainRefused = regexp.MustCompile(`; Get "http://[^"]*": ` + regexp.QuoteMeta(blobstore.ErrPlainHTTP.Error()) + `[^;]*`)
)

// explain rewords err so that it names what the user asked for (the file,
// alias or digest), not the library's internal steps, and says once what
// went wrong.
func explain(err error, cfg *config, env environment, useToken bool) error {
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
	if cfg != nil && cfg.insecure {
		// Told to use plain HTTP: the HTTPS attempt is noise.
		msg = httpsAttempt.ReplaceAllString(msg, "$1")
	} else {
		msg = plainRefused.ReplaceAllString(msg, " (a registry on plain HTTP needs DXF_INSECURE=1, or DXF_HOST=http://host:port)")
	}
	if cfg != nil && errors.Is(err, blobstore.ErrUnauthorized) {
		msg += "; credentials tried: " + cfg.credentialSource(env, useToken)
	}
	if msg == err.Error() {
		return err
	}
	return &shortError{msg: msg, err: err}
}

// digestHint explains why arg is not a digest, suggesting what was meant.
func digestHint(arg string) error {
	_, err := blobstore.ParseDigest(arg)
	if err == nil {
		return nil
	}
	alg, hex, hasColon := strings.Cut(arg, ":")
	var why string
	switch {
	case !hasColon && isHex(arg) && len(arg) == 64:
		why = "did you mean sha256:" + arg + "?"
	case !hasColon:
		why = "a digest is sha256:<64 hex digits>"
	case alg != "sha256":
		why = "only sha256 digests are supported"
	case len(hex) != 64:
		why = fmt.Sprintf("a sha256 digest has 64 hex digits, not %d", len([]rune(hex)))
	case strings.ToLower(hex) != hex && isHex(strings.ToLower(hex)):
		why = "did you mean sha256:" + strings.ToLower(hex) + "? (hex digits are lowercase)"
	default:
		why = "a sha256 digest is written in hex digits 0-9 and a-f"
	}
	return &shortError{msg: fmt.Sprintf("%q is not a digest: %s", arg, why), err: err}
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}
