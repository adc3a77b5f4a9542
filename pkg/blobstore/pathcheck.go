package blobstore

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrUnsafePath says a data set names a file in a way that could write
// outside the directory it is pulled into (or could not be written
// faithfully): an absolute path, "..", a control character, a duplicate…
var ErrUnsafePath = errors.New("unsafe path")

// MaxEntries bounds the entries (files, links, directories) of a data set
// read from a manifest, and the members of an archive unpacked.
const MaxEntries = 100_000

// Bounds of one path of a data set.
const (
	maxPathLen      = 4096
	maxComponentLen = 255
)

// CheckPath refuses a path a data set may not name: it must be relative,
// with "/" between non-empty components none of which is "." or "..", in
// UTF-8 without control characters (NUL included) or backslashes, at most
// 4096 bytes long with components of at most 255. The error wraps
// [ErrUnsafePath] and quotes the path (escaped).
func CheckPath(p string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %q: %s", ErrUnsafePath, p, why)
	}
	switch {
	case p == "":
		return bad("empty")
	case len(p) > maxPathLen:
		return bad(fmt.Sprintf("longer than %d bytes", maxPathLen))
	case !utf8.ValidString(p):
		return bad("not UTF-8")
	case strings.HasPrefix(p, "/"):
		return bad("absolute")
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return bad("control character")
		}
		if c == '\\' {
			return bad("backslash")
		}
	}
	for c := range strings.SplitSeq(p, "/") {
		switch {
		case c == "":
			return bad("empty component")
		case c == "." || c == "..":
			return bad(fmt.Sprintf("%q component", c))
		case len(c) > maxComponentLen:
			return bad(fmt.Sprintf("a component longer than %d bytes", maxComponentLen))
		}
	}
	return nil
}

// checkLinkTarget refuses a symbolic link at path p whose target is
// absolute or leaves the data set's top.
func checkLinkTarget(p, target string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: symbolic link %q -> %q: %s", ErrUnsafePath, p, target, why)
	}
	switch {
	case target == "":
		return bad("empty target")
	case strings.HasPrefix(target, "/"):
		return bad("absolute target")
	case strings.ContainsAny(target, "\x00\\"):
		return bad("NUL or backslash in the target")
	}
	depth := strings.Count(p, "/") // directories above the link
	for c := range strings.SplitSeq(target, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return bad("leaves the directory")
			}
		default:
			depth++
		}
	}
	return nil
}
