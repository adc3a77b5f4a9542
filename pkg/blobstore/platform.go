package blobstore

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MatchPlatform picks, among the platforms of a multi-platform alias
// ("os/architecture[/variant]"), the one want names, accepting what people
// type: the exact name; else, as go-containerregistry's platform matching
// does, a want without a variant matching any variant ("linux/arm64" for
// "linux/arm64/v8"), with arm64's default variant v8 and arm's v7 counted
// as given or not ("linux/arm64/v8" for "linux/arm64"), and the usual other
// names of architectures (x86_64, aarch64). When several platforms match,
// an exact variant wins, then the default variant; otherwise the choice is
// refused as ambiguous. No match gives a [*PlatformNotFoundError] listing
// the platforms there are.
func MatchPlatform(want string, have []string) (string, error) {
	if slices.Contains(have, want) {
		return want, nil
	}
	notFound := &PlatformNotFoundError{Platform: want, Available: slices.Sorted(slices.Values(have))}
	w, err := v1.ParsePlatform(want)
	if err != nil || w.OS == "" || w.Architecture == "" {
		return "", notFound
	}
	normalizePlatform(w)
	var matches []string
	exact := ""
	for _, h := range have {
		p, err := v1.ParsePlatform(h)
		if err != nil {
			continue
		}
		normalizePlatform(p)
		if !p.Satisfies(v1.Platform{OS: w.OS, Architecture: w.Architecture, Variant: w.Variant}) {
			continue
		}
		matches = append(matches, h)
		if p.Variant == w.Variant {
			exact = h
		}
	}
	slices.Sort(matches)
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) == 0:
		return "", notFound
	case exact != "":
		return exact, nil
	}
	return "", fmt.Errorf("%w: %s matches %s: give the variant too", ErrPlatformNotFound, want, strings.Join(matches, ", "))
}

// normalizePlatform writes p the way registries usually do: amd64, arm64
// (with its default variant v8), arm (default v7), lower case.
func normalizePlatform(p *v1.Platform) {
	p.OS = strings.ToLower(p.OS)
	p.Architecture = strings.ToLower(p.Architecture)
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	}
	switch {
	case p.Architecture == "arm64" && (p.Variant == "" || p.Variant == "8"):
		p.Variant = "v8"
	case p.Architecture == "arm" && p.Variant == "":
		p.Variant = "v7"
	case p.Architecture == "arm" && len(p.Variant) == 1:
		p.Variant = "v" + p.Variant
	}
}
