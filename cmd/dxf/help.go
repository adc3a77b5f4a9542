package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; the module version from the build
// information is used when it is not.
var version = "dev"

const environmentHelp = `Environment (each variable has the flag named beside it; a flag wins):
  DXF_HOST             --host             registry host[:port] (required)
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
With no credentials set, those of the Docker config file are used
($DOCKER_CONFIG/config.json or ~/.docker/config.json, credential helpers too).

Other flags:
  --jobs N             blobs to transfer or inspect at once (default 8)
  --retries N          retries of a request after a transient failure (default 4)
  -o, --output FILE    pull-blob: write to FILE, replaced only once all is verified
  -h, --help           show help
  --version            show the version

Exit status: 0 success, 2 usage error or not found (404), 13 unauthorized
(401), 130 interrupted, 1 any other failure.
`

// writeHelp writes the help of cmd, or the general help for nil.
func writeHelp(w io.Writer, cmd *command) error {
	var b strings.Builder
	if cmd == nil {
		b.WriteString("usage: dxf <command> [flags] <repo> [args...]\n\n")
		b.WriteString("Store arbitrary data in an OCI / Docker v2 registry: files become blobs,\n")
		b.WriteString("addressed by digest, and aliases name sets of blobs.\n\nCommands:\n")
		for _, c := range commands {
			fmt.Fprintf(&b, "  %-13s %s\n", c.name, c.summary)
		}
		b.WriteString("  help          show help of a command: dxf help <command>\n")
		b.WriteString("  version       show the version\n\n")
		b.WriteString(environmentHelp)
	} else {
		writeUsageLine(&b, cmd)
		b.WriteString("\n" + cmd.help + "\n\n")
		b.WriteString(environmentHelp)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeUsageLine writes the one-line usage of cmd (of dxf for nil).
func writeUsageLine(w io.Writer, cmd *command) {
	if cmd == nil {
		fmt.Fprintln(w, "usage: dxf <command> [flags] <repo> [args...]  (dxf help: commands)")
		return
	}
	fmt.Fprintln(w, strings.TrimRight("usage: dxf "+cmd.name+" [flags] "+cmd.synopsis, " "))
}

// runHelp is "dxf help [command]".
func runHelp(w io.Writer, args []string) error {
	switch {
	case len(args) == 0:
		return writeHelp(w, nil)
	case len(args) > 1:
		return usagef(nil, "help: too many arguments")
	}
	cmd := lookupCommand(args[0])
	if cmd == nil {
		return usagef(nil, "help: no command '%s' (choose from %s)", args[0], commandChoices())
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
