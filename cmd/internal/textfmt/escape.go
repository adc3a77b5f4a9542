package textfmt

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text that came from the network (a registry's error message, a tag name)
// must not reach a terminal raw: an escape sequence could rewrite the screen,
// a newline could forge a line of output.

// Escape makes s safe to print in a message: control and formatting
// characters (ESC, NUL, DEL, C1 controls, bidirectional overrides,
// zero-width characters) and bytes that are not UTF-8 are written as Go
// escapes (\x1b, \u202e). Printable text, including non-ASCII letters, is
// unchanged.
func Escape(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// ListedName is how list-aliases and list-repos print a name: as it is when
// it is printable ASCII without quotes or backslashes (every valid tag and
// repository name is), and otherwise Go-quoted ("a\x1bb", "two\nlines"), so
// that one name is always one line and nothing reaches the terminal raw.
func ListedName(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return strconv.QuoteToASCII(name)
		}
	}
	return name
}
