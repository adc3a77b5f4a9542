package textfmt

import (
	"fmt"
	"strings"
)

// The ends of dxf's messages about a mistyped or unknown command or flag:
// the nearest name (see [Closest]), or what someone used to docker, crane
// or oras meant.

// CommandHint ends the message about an unknown command name: the nearest
// of names, or where the list is.
func CommandHint(name string, names []string) string {
	if c := Closest(name, names); c != "" {
		return fmt.Sprintf(" (did you mean %s?)", c)
	}
	return " (dxf help lists the commands)"
}

// FlagHint ends pflag's message about an unknown flag with the nearest of
// the flag names, or dxf's name of another tool's flag.
func FlagHint(msg string, names []string) string {
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		name := strings.TrimPrefix(msg, "unknown flag: --")
		if c, ok := habitFlags[name]; ok {
			return fmt.Sprintf(" (dxf's is --%s)", c)
		}
		if c := Closest(name, names); c != "" {
			return fmt.Sprintf(" (did you mean --%s?)", c)
		}
	case strings.HasPrefix(msg, "unknown shorthand flag: 'v'"):
		// crane and regctl trace with -v.
		return " (--debug traces the HTTP exchange, --version shows the version)"
	}
	return ""
}

// habitFlags maps flags of other tools to dxf's.
var habitFlags = map[string]string{
	"plain-http": "insecure", // oras, regctl: plain HTTP
	"ca-file":    "tls-verify",
}

// habitCommands maps the commands people type from habit (docker, crane,
// oras) to what dxf does instead, as the end of a one-line message. (ls is
// not here: it is a dxf command of its own.)
var habitCommands = map[string]string{
	"cp":       "dxf copy does that (dxf help copy)",
	"tag":      "dxf set-alias <repo> <alias> <digest>... points an alias (a tag) at blobs",
	"rm":       rmHint,
	"rmi":      rmHint,
	"delete":   rmHint,
	"tags":     "dxf list-aliases <repo> lists the aliases (tags) of a repository",
	"catalog":  "dxf list-repos lists the repositories",
	"manifest": "dxf get-manifest <repo> <alias> prints an alias's manifest",
	"inspect":  "dxf get-manifest <repo> <alias> prints an alias's manifest",
	"digest":   "dxf get-digest <repo> <alias> prints an alias's digest; get-alias its blobs' digests",
}

const rmHint = "dxf del-alias <repo> <alias>... removes aliases (tags), del-blob <repo> <digest>|@<alias>... deletes blobs"

// HabitHint is the message for a command name dxf does not have but
// someone used to another tool would type, or "" if name is not one.
func HabitHint(name string) string {
	if h, ok := habitCommands[name]; ok {
		return fmt.Sprintf("dxf has no %q command: %s", name, h)
	}
	return ""
}
