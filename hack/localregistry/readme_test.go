package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// TestReadmeLibrarySnippet compiles the README's library snippet as
// written and runs it against a plain-HTTP registry, with the environment
// `make registry` gives (the export lines this command writes to
// .registry.env): it pushes two files, sets an alias and pulls it back.
func TestReadmeLibrarySnippet(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to compile the snippet: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	snippet := librarySnippet(t, string(readme))

	reg := registrytest.StartT(t, registrytest.Config{})
	env := exportEnv(t, exportLines(reg, ""))
	if env["DXF_HOST"] != reg.Host || env["DXF_INSECURE"] != "1" {
		t.Fatalf("the export lines give %v", env)
	}

	dir := t.TempDir()
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readFile(t, filepath.Join(root, "go.mod")))
	if goVersion == nil {
		t.Fatal("no go directive in go.mod")
	}
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", snippet)
	write("go.mod", "module readme\n\ngo "+goVersion[1]+"\n")
	write("go.work", "go "+goVersion[1]+"\n\nuse (\n\t.\n\t"+root+"\n)\n")
	day1, day2 := []byte("day one\n"), []byte("day two, longer\n")
	write("day1.dat", string(day1))
	write("day2.dat", string(day2))

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-o", "snippet", ".")
	build.Dir = dir
	build.Env = append(withoutDXF(os.Environ()), "GOWORK="+filepath.Join(dir, "go.work"), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the README snippet: %v\n%s", err, out)
	}
	run := func(env map[string]string) {
		t.Helper()
		_ = os.Remove(filepath.Join(dir, "may.dat"))
		cmd := exec.CommandContext(ctx, filepath.Join(dir, "snippet"))
		cmd.Dir = dir
		cmd.Env = append(withoutDXF(os.Environ()), "DOCKER_CONFIG="+t.TempDir())
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the README snippet with %v: %v\n%s", env, err, out)
		}
		want := digestOf(day1) + " " + digestOf(day2) + "\n"
		if !strings.HasSuffix(string(out), want) {
			t.Errorf("the snippet printed %q, want the two digests %q", out, want)
		}
		if got := readFile(t, filepath.Join(dir, "may.dat")); got != string(day1)+string(day2) {
			t.Errorf("may.dat holds %q, want the two files", got)
		}
	}
	run(env)
	// The same program keeps its data on disk with DXF_HOST=oci:ROOT.
	run(map[string]string{"DXF_HOST": "oci:./data"})
	if _, err := os.Stat(filepath.Join(dir, "data", "fred", "datalogger", "oci-layout")); err != nil {
		t.Errorf("DXF_HOST=oci:./data made no layout ./data/fred/datalogger: %v", err)
	}
}

// librarySnippet returns the first Go code block of the README's Library
// section.
func librarySnippet(t *testing.T, readme string) string {
	t.Helper()
	_, sec, ok := strings.Cut(readme, "\n## Library\n")
	if !ok {
		t.Fatal("README.md has no Library section")
	}
	_, code, ok := strings.Cut(sec, "```go\n")
	if !ok {
		t.Fatal("README.md's Library section has no Go code block")
	}
	code, _, ok = strings.Cut(code, "```")
	if !ok || !strings.HasPrefix(code, "package main\n") {
		t.Fatalf("README.md's library snippet is not a whole program:\n%s", code)
	}
	return code
}

// exportEnv reads the shell export lines written by exportLines.
func exportEnv(t *testing.T, lines string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(l, "export "), "=")
		if !ok || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
			t.Fatalf("unexpected export line %q", l)
		}
		env[k] = strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
	}
	return env
}

func withoutDXF(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "DXF_") && !strings.HasPrefix(kv, "GOWORK=") && !strings.HasPrefix(kv, "GOFLAGS=") {
			out = append(out, kv)
		}
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf("sha256:%s", hex.EncodeToString(sum[:]))
}
