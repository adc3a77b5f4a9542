package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; the module version from the build
// information is used when it is not.
var version = "dev"

// environmentHelp is "dxf help environment": every variable and the flags
// that apply to every command.
const environmentHelp = `Environment (each variable has the flag named beside it; a flag wins):
  DXF_HOST             --host             registry host[:port] (required; a leading
                                          http:// means DXF_INSECURE=1, https:// is the default);
                                          or oci:DIR for OCI image layouts on disk, no registry:
                                          repository fred is then the layout DIR/fred
  DXF_INSECURE=1       --insecure         plain HTTP instead of HTTPS
  DXF_USERNAME         --username         user to log in as (with DXF_PASSWORD)
  DXF_PASSWORD         --password         password (or --password-stdin)
  DXF_AUTHORIZATION    --authorization    Authorization value: "Basic <b64>" or "Bearer <token>"
  DXF_TOKEN            --token            bearer token to use as is (from dxf auth)
  DXF_AUTH_HOST        --auth-host        send token requests to this host[:port]
  DXF_PROGRESS         --progress         progress bars: 1 on, 0 off, else on a terminal only
  DXF_BLOB_INFO=1      --blob-info        pull-blob: "<digest> <size>" line before each blob
  DXF_CHUNK_SIZE       --chunk-size       pull-blob: bytes per read and write (default 1 MiB)
  DXF_SKIPTLSVERIFY=1  --skip-tls-verify  do not verify the registry's certificate
  DXF_TLSVERIFY        --tls-verify       CA bundle (PEM file) to verify the registry with
                                          (also REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE)
  DXF_PLATFORM         --platform         os/arch[/variant] of multi-platform aliases
  DXF_DIGEST_CACHE=0   --no-digest-cache  do not remember digests of pushed files
  DXF_FORMAT           --format           alias manifests: docker (default) or oci (named files)
  DXF_DEBUG=1          -d, --debug        trace HTTP requests and responses on stderr (no secrets)
  DXF_TIMEOUT          --timeout          seconds to wait for a connection, an answer, a
                                          stalled transfer, a credential helper (default 60)
  DXF_MAX_RETRY_WAIT   --max-retry-wait   longest wait a registry's Retry-After gets (default 60)
On/off variables take 1, true or yes for on and 0, false or no for off.
With no credentials set, those of the Docker config file are used
($DOCKER_CONFIG/config.json or ~/.docker/config.json, credential helpers too),
as "dxf login" stores them.

Other flags:
  --jobs N             blobs to transfer or inspect at once (default 8)
  --retries N          retries of a request after a transient failure (default 4)
  -o, --output FILE    pull-blob: write to FILE, replaced only once all is verified
  -h, --help           show help
  --version            show the version

Exit status: 0 success, 2 usage error or not found (404), 13 unauthorized
(401), 130 interrupted, 3 check found problems, 1 any other failure.
`

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
		b.WriteString("\n" + cmd.help + "\n")
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
	var f flagValues
	all := newFlagSet(&f)
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
	help: `Show the help of dxf, of a command, or with "environment" every variable and
the flags every command takes.

Examples:
  dxf help
  dxf help push-blob
  dxf help environment`,
	maxArgs: 1,
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
	help: `Show the version of dxf and how it was built (Go version, module, commit).

Examples:
  dxf version
  dxf --version`,
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
		_, err := io.WriteString(w, environmentHelp)
		return err
	}
	cmd := lookupCommand(args[0])
	if cmd == nil {
		return usagef(helpCommand, "no command '%s'%s", args[0], commandHint(args[0]))
	}
	return writeHelp(w, cmd)
}

// buildVersion is the version to report: the one set at build time, else
// the module version "go install" recorded, else "dev".
func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// writeVersion is "dxf version": the version, then what the build
// information says about how the binary was made.
func writeVersion(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "dxf %s\n", buildVersion())
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
	_, err := io.WriteString(w, b.String())
	return err
}

func joinArgs(args []string) string { return strings.Join(args, " ") }
