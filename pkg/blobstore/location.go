package blobstore

import (
	"fmt"
	"strings"
)

// Location is a repository (or an OCI image layout) and possibly an alias
// in it, written as one string as dxf copy takes its source and target:
// [http://|https://][host[:port]/]repository[@alias], or oci:DIR[@alias]
// for a layout on disk.
type Location struct {
	// Layout is DIR of oci:DIR; "" for a repository of a registry.
	Layout string
	// Host is the registry written before the repository, "" for none
	// (the repository is on the caller's default registry). As docker
	// does, a first path component with a dot or a colon, or
	// "localhost", is a host.
	Host string
	// Repo is the repository (without the host).
	Repo string
	// Alias is what follows the last "@", "" for none.
	Alias string
	// Insecure: the location was written with http://, asking for plain
	// HTTP.
	Insecure bool
}

// ParseLocation reads a [Location]. Only the form is checked, not the
// repository or alias names ([ValidateRepository], [ValidateAlias]).
func ParseLocation(s string) (Location, error) {
	var loc Location
	where := s
	if i := strings.LastIndex(s, "@"); i >= 0 {
		where, loc.Alias = s[:i], s[i+1:]
	}
	if where == "" || where == LayoutPrefix {
		return Location{}, fmt.Errorf("%q: want a repository, host[:port]/repository or oci:PATH", s)
	}
	if dir, ok := strings.CutPrefix(where, LayoutPrefix); ok {
		loc.Layout = dir
		return loc, nil
	}
	switch {
	case strings.HasPrefix(where, "http://"):
		loc.Insecure = true
		where = where[len("http://"):]
	case strings.HasPrefix(where, "https://"):
		where = where[len("https://"):]
	}
	loc.Host, loc.Repo = SplitHost(where)
	return loc, nil
}

// SplitHost splits a repository written with its registry, as docker,
// crane and oras take it ("localhost:5000/fred/data"), into the host and
// the repository. As docker does, a first path component with a dot or a
// colon, or "localhost", is a host; otherwise host is "" and repo is s.
func SplitHost(s string) (host, repo string) {
	first, rest, ok := strings.Cut(s, "/")
	if ok && rest != "" && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, rest
	}
	return "", s
}
