package errtext

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

func TestDigestHint(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for arg, want := range map[string]string{
		hex:                                 "did you mean sha256:" + hex + "?",
		"foo":                               "a digest is sha256:<64 hex digits>",
		"md5:" + hex:                        "only sha256 digests are supported",
		"sha256:abc":                        "a sha256 digest has 64 hex digits, not 3",
		"sha256:" + strings.ToUpper(hex):    "did you mean sha256:" + hex + "? (hex digits are lowercase)",
		"sha256:" + strings.Repeat("z", 64): "a sha256 digest is written in hex digits 0-9 and a-f",
	} {
		err := DigestHint(arg)
		if err == nil || !strings.HasSuffix(err.Error(), ": "+want) || errors.Unwrap(err) == nil {
			t.Errorf("DigestHint(%q) = %v, want …: %s", arg, err, want)
		}
	}
	if err := DigestHint("sha256:" + hex); err != nil {
		t.Errorf("DigestHint of a digest: %v", err)
	}
}

func TestExplainAndOneLine(t *testing.T) {
	err := fmt.Errorf("push f: %w", blobstore.ErrUnauthorized)
	got := Explain(err, false, func() string { return "none" })
	if !errors.Is(got, blobstore.ErrUnauthorized) || !strings.HasSuffix(got.Error(), "; credentials tried: none") {
		t.Errorf("Explain = %v", got)
	}
	plain := errors.New("other")
	if got := Explain(plain, true, nil); got.Error() != "other" || !errors.Is(got, plain) {
		t.Error("Explain changed an error it has nothing to say about")
	}
	if got := OneLine(Scrub("a\n  secret\tb", []string{"secret"})); got != "a [redacted] b" {
		t.Errorf("OneLine(Scrub) = %q", got)
	}
	r := &Redacted{Err: plain, Redact: strings.ToUpper}
	if r.Error() != "OTHER" || !errors.Is(r, plain) {
		t.Errorf("Redacted = %v", r)
	}
}
