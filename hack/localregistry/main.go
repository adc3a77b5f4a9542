// Command localregistry runs a throw-away registry for demos and benchmarks.
//
// Usage:
//
//	go run ./hack/localregistry [-tls] [-auth none|htpasswd|token] [-env FILE]
//
// (or "make registry"). Authentication needs -tls: dxf never sends
// credentials over plain HTTP, so -auth htpasswd or token without -tls is
// refused.
//
// It starts the CNCF Distribution registry through
// github.com/dxf-go/dxf/pkg/registrytest, prints shell export lines telling
// dxf how to reach it (DXF_HOST, DXF_INSECURE or DXF_TLSVERIFY,
// DXF_USERNAME and DXF_PASSWORD), writes the same lines to FILE if -env is
// given (then the password goes only to FILE), and runs until SIGINT or SIGTERM, when it stops the registry and
// removes its storage and FILE.
//
// FILE appears atomically once the registry answers, so a script can start
// this command in the background, wait for FILE to exist and source it.
// Because "go run" does not pass SIGTERM on to the program it runs, the
// command also stops when its parent process exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "localregistry: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	useTLS := flag.Bool("tls", false, "serve HTTPS with a generated CA")
	authFlag := flag.String("auth", "none", "authentication: none, htpasswd or token")
	envFile := flag.String("env", "", "also write the export lines to this `file`")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	auth, err := registrytest.ParseAuthMode(*authFlag)
	if err != nil {
		return err
	}
	if err := checkFlags(*useTLS, auth); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg, err := registrytest.Start(ctx, registrytest.Config{TLS: *useTLS, Auth: auth})
	if err != nil {
		return err
	}
	defer reg.Stop()

	if *envFile != "" {
		if err := writeAtomic(*envFile, exportLines(reg, "")); err != nil {
			return err
		}
		defer os.Remove(*envFile)
		// Keep the password out of terminal and CI logs; the file has it.
		fmt.Print(exportLines(reg, "see "+*envFile))
	} else {
		fmt.Print(exportLines(reg, ""))
	}
	fmt.Fprintf(os.Stderr, "localregistry: %s registry at %s (storage %s); stop with Ctrl-C\n", *authFlag, reg.URL, reg.RootDir)

	waitForStop(ctx)
	fmt.Fprintln(os.Stderr, "localregistry: stopping")
	return nil
}

// checkFlags refuses combinations that cannot work: dxf (like docker)
// never sends credentials over plain HTTP, so a registry asking for them
// must serve HTTPS.
func checkFlags(useTLS bool, auth registrytest.AuthMode) error {
	if auth != registrytest.AuthNone && !useTLS {
		return fmt.Errorf("-auth %s needs -tls: dxf never sends credentials over plain HTTP (use -tls -auth %s, or -auth none)", auth, auth)
	}
	return nil
}

// exportLines returns the shell commands that point dxf at reg. If
// passwordNote is not empty, the password is replaced by a comment saying
// so.
func exportLines(reg *registrytest.Registry, passwordNote string) string {
	var b strings.Builder
	export := func(name, value string) {
		fmt.Fprintf(&b, "export %s=%s\n", name, shellQuote(value))
	}
	export("DXF_HOST", reg.Host)
	if strings.HasPrefix(reg.URL, "http://") {
		export("DXF_INSECURE", "1")
	}
	if reg.CAFile != "" {
		export("DXF_TLSVERIFY", reg.CAFile)
	}
	if reg.Username != "" {
		export("DXF_USERNAME", reg.Username)
		if passwordNote != "" {
			fmt.Fprintf(&b, "# DXF_PASSWORD: %s\n", passwordNote)
		} else {
			export("DXF_PASSWORD", reg.Password)
		}
	}
	return b.String()
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeAtomic writes data to path through a temporary file and a rename, so
// readers never see a partial file. The file is private: it holds a
// password.
func writeAtomic(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// waitForStop returns when ctx is done or the parent process has exited.
func waitForStop(ctx context.Context) {
	parent := os.Getppid()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if os.Getppid() != parent {
				fmt.Fprintln(os.Stderr, "localregistry: parent process exited")
				return
			}
		}
	}
}
