package main

import (
	"embed"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/dxf-go/dxf/cmd/internal/buildinfo"
	"github.com/dxf-go/dxf/cmd/internal/cliconfig"
	"github.com/dxf-go/dxf/cmd/internal/textfmt"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; the module version from the build
// information is used when it is not.
var version = "dev"

// helpFiles holds the help texts: help/<command>.txt, and
// help/environment.txt for "dxf help environment".
//
//go:embed help/*.txt
var helpFiles embed.FS

// helpText is the help text of the named command or topic, without its
// final line end; "" for __complete, which has none (every listed command
// has one: TestHelpTexts).
func helpText(name string) string {
	b, _ := helpFiles.ReadFile("help/" + name + ".txt")
	return strings.TrimSuffix(string(b), "\n")
}

// environmentPointer ends every help text.
const environmentPointer = "Registry, credentials and every variable: dxf help environment\n"

// writeHelp writes the help of cmd, or the general help for nil.
func writeHelp(w io.Writer, cmd *command) error {
	var b strings.Builder
	if cmd == nil {
		b.WriteString("usage: dxf <command> [flags] <repo> [args...]\n\n")
		b.WriteString("Store arbitrary data in an OCI / Docker v2 registry: files become blobs,\n")
		b.WriteString("addressed by digest, and aliases name sets of blobs.\n\nCommands:\n")
		for _, c := range allCommands() {
			fmt.Fprintf(&b, "  %-13s %s\n", c.name, c.summary)
		}
		b.WriteString("\nHelp topics:\n  environment   every variable and flag: dxf help environment\n\n")
		b.WriteString("Start with: export DXF_HOST=localhost:5000; dxf help push-blob\n")
		b.WriteString(environmentPointer)
	} else {
		writeUsageLine(&b, cmd)
		b.WriteString("\n" + helpText(cmd.name) + "\n")
		if fl := commandFlags(cmd); fl != "" {
			b.WriteString("\nFlags:\n" + fl)
		}
		b.WriteString("\n" + environmentPointer)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// commandFlags lists the flags of cmd's own (those of every command are in
// "dxf help environment").
func commandFlags(cmd *command) string {
	if len(cmd.flags) == 0 {
		return ""
	}
	all := cliconfig.NewFlagSet()
	fs := pflag.NewFlagSet(cmd.name, pflag.ContinueOnError)
	fs.SortFlags = false
	for _, name := range cmd.flags {
		fs.AddFlag(all.Lookup(name))
	}
	return fs.FlagUsagesWrapped(80)
}

// writeUsageLine writes the one-line usage of cmd (of dxf for nil).
func writeUsageLine(w io.Writer, cmd *command) {
	if cmd == nil {
		fmt.Fprintln(w, "usage: dxf <command> [flags] <repo> [args...]  (dxf help: commands)")
		return
	}
	fmt.Fprintln(w, strings.TrimRight("usage: dxf "+cmd.name+" [flags] "+cmd.synopsis, " "))
}

var helpCommand = &command{
	name:     "help",
	synopsis: "[<command>|environment]",
	summary:  "show help: of dxf, of a command, or of the environment",
	maxArgs:  1,
}

func init() {
	// Set here: runHelp looks commands up, this one among them.
	helpCommand.local = func(a *app, args []string) error {
		return runHelp(a.stdout, args)
	}
}

var versionCommand = &command{
	name:    "version",
	summary: "show the version",
	local: func(a *app, _ []string) error {
		return writeVersion(a.stdout)
	},
}

// runHelp is "dxf help [command|environment]".
func runHelp(w io.Writer, args []string) error {
	switch {
	case len(args) == 0:
		return writeHelp(w, nil)
	case len(args) > 1:
		return usagef(helpCommand, "too many arguments")
	case args[0] == "environment" || args[0] == "env":
		_, err := io.WriteString(w, helpText("environment")+"\n")
		return err
	}
	cmd := lookupCommand(args[0])
	if cmd == nil {
		return usagef(helpCommand, "no command '%s'%s", args[0], textfmt.CommandHint(args[0], commandNames()))
	}
	return writeHelp(w, cmd)
}

// writeVersion is "dxf version": the version, then what the build
// information says about how the binary was made.
func writeVersion(w io.Writer) error {
	_, err := io.WriteString(w, buildinfo.Text("dxf", version))
	return err
}

func joinArgs(args []string) string { return strings.Join(args, " ") }
