// Package buildinfo says which version of a program runs and how its
// binary was made, from the version set at build time and the build
// information the Go toolchain records.
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Version is the version to report: set, the one set at build time
// (-ldflags "-X main.version=v1.2.3"), unless it is "dev"; else the module
// version "go install" recorded; else "dev".
func Version(set string) string {
	if set != "dev" {
		return set
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return set
}

// Text is what "<program> version" prints: the program and its version
// (see [Version]), then what the build information says about how the
// binary was made, a line each.
func Text(program, set string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", program, Version(set))
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(&b, "go: %s\n", bi.GoVersion)
		if bi.Main.Path != "" {
			fmt.Fprintf(&b, "module: %s %s\n", bi.Main.Path, bi.Main.Version)
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH":
				fmt.Fprintf(&b, "%s: %s\n", s.Key, s.Value)
			}
		}
	}
	return b.String()
}
