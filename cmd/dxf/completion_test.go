package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestCompletionBash sources the bash script dxf completion bash prints
// and calls its completion function as bash would on Tab, with COMP_WORDS
// and COMP_CWORD set: commands, flags, flag values, files, and the aliases
// of the repository typed, asked of the registry.
func TestCompletionBash(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("completion")
	f, _ := d.file("day1.dat", []byte("one"))
	d.ok("push-blob", repo, f, "@week")
	d.ok("push-blob", repo, f, "@weekend")
	d.ok("push-blob", repo, f, "@month")
	script := filepath.Join(t.TempDir(), "dxf.bash")
	if err := os.WriteFile(script, []byte(d.ok("completion", "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}

	d.ok("push-blob", "oci:./lay", f, "@week")
	complete := func(words ...string) []string {
		t.Helper()
		// What bash sets on Tab: the line up to the cursor, and the words
		// as bash cuts them (at colons too); the last word is the one
		// being completed (possibly empty).
		line := strings.Join(append([]string{dxfBin}, words...), " ")
		var quoted []string
		for _, w := range strings.FieldsFunc(strings.ReplaceAll(line, ":", " : "), unicode.IsSpace) {
			quoted = append(quoted, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
		}
		quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
		prog := ". " + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
			strconv.Itoa(len(quoted)-1) + "\nCOMP_LINE=" + quote(line) + "\nCOMP_POINT=" + strconv.Itoa(len(line)) +
			"\nCOMP_WORDBREAKS=" + quote("\"'><=;|&(:") + "\n_dxf_complete\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
		cmd.Env = d.environ()
		cmd.Dir = d.dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		// Bash puts each reply in place of what follows the word's last
		// colon.
		cur := words[len(words)-1]
		colon := cur[:strings.LastIndex(cur, ":")+1]
		var got []string
		for _, l := range strings.Split(string(out), "\n") {
			if l != "" {
				got = append(got, colon+l)
			}
		}
		slices.Sort(got)
		return got
	}
	for _, c := range []struct {
		words []string
		want  []string
	}{
		{[]string{"pu"}, []string{"pull-blob", "push-blob"}},
		{[]string{"get-a"}, []string{"get-alias"}},
		{[]string{"lo"}, []string{"login", "logout"}},
		{[]string{"push-blob", "--jo"}, []string{"--jobs"}},
		{[]string{"--deb"}, []string{"--debug"}},
		{[]string{"pull-blob", "--platform", "linux/ar"}, []string{"linux/arm/v7", "linux/arm64"}},
		{[]string{"completion", ""}, []string{"bash", "fish", "zsh"}},
		{[]string{"help", "push"}, []string{"push-blob"}},
		{[]string{"help", "env"}, []string{"environment"}},
		// Aliases, from the registry.
		{[]string{"get-alias", repo, ""}, []string{"month", "week", "weekend"}},
		{[]string{"get-alias", repo, "we"}, []string{"week", "weekend"}},
		{[]string{"--jobs", "2", "del-alias", repo, "mo"}, []string{"month"}},
		{[]string{"pull-blob", repo, "@w"}, []string{"@week", "@weekend"}},
		{[]string{"blob-size", repo, "@"}, []string{"@month", "@week", "@weekend"}},
		{[]string{"set-alias", repo, "m"}, []string{"month"}},
		// Files where files go.
		{[]string{"push-blob", repo, "day"}, []string{"day1.dat"}},
		{[]string{"push-blob", repo, "day1.dat", "@mo"}, []string{"@month"}},
		{[]string{"set-alias", repo, "week", "da"}, []string{"day1.dat"}},
		{[]string{"pull-blob", "-o", "da"}, []string{"day1.dat"}},
		// Repositories written with their registry, and layouts: bash
		// cuts the word at the colon, the script reads the line.
		{[]string{"get-alias", shared.Host + "/" + repo, "we"}, []string{"week", "weekend"}},
		{[]string{"pull-blob", "oci:./lay", "@"}, []string{"@week"}},
		{[]string{"copy", repo + "@w"}, []string{repo + "@week", repo + "@weekend"}},
		{[]string{"copy", "oci:./lay@"}, []string{"oci:./lay@week"}},
		{[]string{"copy", "oci:./lay@week", shared.Host + "/" + repo + "@m"}, []string{shared.Host + "/" + repo + "@month"}},
		// A repository with no aliases, or no registry: nothing, no error.
		{[]string{"get-alias", uniqueRepo("none"), ""}, nil},
	} {
		if got := complete(c.words...); !slices.Equal(got, c.want) {
			t.Errorf("completing dxf %s: got %q, want %q", strings.Join(c.words, " "), got, c.want)
		}
	}
	if got := complete("get-alias", repo, ""); len(got) == 0 {
		t.Error("no aliases completed")
	}
	// With the registry unreachable, completion offers nothing (quickly).
	cmd := exec.Command(dxfBin, "__complete", "get-alias", repo, "")
	cmd.Env = d.with("DXF_HOST", "localhost:1").environ()
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("__complete without a registry: %q, %v", out, err)
	}
}

// TestCompletionScripts checks that every shell's script calls dxf
// __complete and registers itself.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	for shell, want := range map[string]string{
		"bash": "complete -o default -o bashdefault -F _dxf_complete dxf",
		"zsh":  "compdef _dxf dxf",
		"fish": "complete -c dxf",
	} {
		s := d.ok("completion", shell)
		if !strings.Contains(s, want) || !strings.Contains(s, "__complete") {
			t.Errorf("dxf completion %s:\n%s", shell, s)
		}
		if p, err := exec.LookPath(shell); err == nil {
			f := filepath.Join(t.TempDir(), "script")
			if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(p, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		}
	}
	d.fails(exitUsage, []string{"completion", "powershell"}, "bash, zsh or fish")
	d.fails(exitUsage, []string{"completion"}, "too few arguments")
}
