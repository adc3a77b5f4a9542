package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/dxf-go/dxf/internal/cliconfig"
	"github.com/dxf-go/dxf/internal/textfmt"
)

// commandNames lists every command name.
func commandNames() []string {
	var names []string
	for _, c := range allCommands() {
		names = append(names, c.name)
	}
	return names
}

// commandHint ends the message about an unknown command name: the nearest
// command, or where the list is.
func commandHint(name string) string {
	if c := textfmt.Closest(name, commandNames()); c != "" {
		return fmt.Sprintf(" (did you mean %s?)", c)
	}
	return " (dxf help lists the commands)"
}

// flagHint ends pflag's message about an unknown flag with the nearest
// flag's name.
func flagHint(msg string) string {
	fs := cliconfig.NewFlagSet()
	var names []string
	fs.VisitAll(func(fl *pflag.Flag) { names = append(names, fl.Name) })
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		name := strings.TrimPrefix(msg, "unknown flag: --")
		if c, ok := habitFlags[name]; ok {
			return fmt.Sprintf(" (dxf's is --%s)", c)
		}
		if c := textfmt.Closest(name, names); c != "" {
			return fmt.Sprintf(" (did you mean --%s?)", c)
		}
	case strings.HasPrefix(msg, "unknown shorthand flag: 'v'"):
		// crane and regctl trace with -v.
		return " (--debug traces the HTTP exchange, --version shows the version)"
	}
	return ""
}
