package blobstore

import (
	"errors"
	"strings"
	"testing"
)

// TestMatchPlatform checks that platforms are matched the way people type
// them, and that a miss lists what there is.
func TestMatchPlatform(t *testing.T) {
	have := []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v6", "linux/arm/v7", "windows/amd64"}
	for _, c := range []struct{ want, got string }{
		{"linux/amd64", "linux/amd64"},
		{"linux/arm64", "linux/arm64/v8"},
		{"linux/arm64/v8", "linux/arm64/v8"},
		{"linux/aarch64", "linux/arm64/v8"},
		{"linux/x86_64", "linux/amd64"},
		{"Linux/AMD64", "linux/amd64"},
		{"linux/arm", "linux/arm/v7"}, // arm's default variant
		{"linux/arm/v6", "linux/arm/v6"},
		{"linux/arm/7", "linux/arm/v7"},
	} {
		got, err := MatchPlatform(c.want, have)
		if err != nil || got != c.got {
			t.Errorf("MatchPlatform(%q) = %q, %v; want %q", c.want, got, err, c.got)
		}
	}
	// arm64 listed without its variant matches one typed with it.
	if got, err := MatchPlatform("linux/arm64/v8", []string{"linux/arm64", "linux/amd64"}); err != nil || got != "linux/arm64" {
		t.Errorf("linux/arm64/v8 against linux/arm64: %q, %v", got, err)
	}
	// Several variants, none the default: ambiguous.
	if _, err := MatchPlatform("linux/arm", []string{"linux/arm/v5", "linux/arm/v6"}); !errors.Is(err, ErrPlatformNotFound) || !strings.Contains(err.Error(), "linux/arm/v5, linux/arm/v6") {
		t.Errorf("ambiguous linux/arm: %v", err)
	}
	for _, want := range []string{"linux/s390x", "linux", "", "linux/arm64/v9"} {
		_, err := MatchPlatform(want, have)
		var pe *PlatformNotFoundError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "data not found for platform: "+want) ||
			!strings.Contains(err.Error(), "(the alias has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, windows/amd64)") {
			t.Errorf("MatchPlatform(%q): %v", want, err)
		}
	}
}
