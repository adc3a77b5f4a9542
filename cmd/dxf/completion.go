package main

import (
	"context"
	"embed"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dxf-go/dxf/cmd/internal/cliconfig"
	comp "github.com/dxf-go/dxf/cmd/internal/complete"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var completionCommand = &command{
	name:     "completion",
	synopsis: "bash|zsh|fish",
	summary:  "print a shell completion script",
	minArgs:  1,
	maxArgs:  1,
	validate: func(cmd *command, args []string) error {
		if completionScript(args[0]) == "" {
			return usagef(cmd, "no completion for %q: bash, zsh or fish", args[0])
		}
		return nil
	},
	local: func(a *app, args []string) error {
		_, err := io.WriteString(a.stdout, completionScript(args[0]))
		return err
	},
}

// completeCommand is what the scripts call: "dxf __complete <words>…"
// prints the candidates for the last word (possibly empty), given the
// words before it (without "dxf"). A first line ":files" asks the shell
// to offer file names too. It is not listed in the help.
var completeCommand = &command{
	name:    "__complete",
	maxArgs: -1,
}

func init() {
	// Set here: complete looks commands up, this one among them.
	completeCommand.local = func(a *app, args []string) error {
		_, err := io.WriteString(a.stdout, strings.Join(complete(a, args), "\n")+"\n")
		return err
	}
}

// filesDirective asks the shell for file names.
const filesDirective = cliconfig.FilesChoice

// completionTimeout bounds the registry request made to complete aliases.
const completionTimeout = 5 * time.Second

// complete returns the candidates for the last of words.
func complete(a *app, words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, before := words[len(words)-1], words[:len(words)-1]
	fs := cliconfig.NewFlagSet()

	// The words before: flags (and their values) and positional arguments.
	pos, wantsValue := comp.Words(fs, before)
	// Flags typed so far (--host, --insecure …) count for the registry
	// request; errors are of no interest here.
	_ = fs.Parse(before)

	if wantsValue != "" {
		if c := cliconfig.LookupSetting(wantsValue).Choices; slices.Equal(c, []string{filesDirective}) {
			return c
		}
		return comp.WithPrefix(cliconfig.LookupSetting(wantsValue).Choices, cur)
	}
	if strings.HasPrefix(cur, "-") {
		return comp.WithPrefix(comp.FlagNames(fs), cur)
	}
	if len(pos) == 0 {
		return comp.WithPrefix(commandNames(), cur)
	}
	cmd := lookupCommand(pos[0])
	if cmd == nil {
		return nil
	}
	args := pos[1:] // the arguments before the current one
	switch cmd {
	case helpCommand:
		if len(args) == 0 {
			return comp.WithPrefix(comp.EmbeddedNames(helpFiles, "help/", ".txt"), cur) // commands and topics
		}
		return nil
	case completionCommand:
		if len(args) == 0 {
			return comp.WithPrefix(comp.EmbeddedNames(completionScripts, "completion/dxf.", ""), cur)
		}
		return nil
	}
	if cmd == copyCommand {
		return locationAliases(a, fs, cur)
	}
	if cmd.local != nil || cmd.noRepo {
		return nil
	}
	if len(args) == 0 {
		return nil // the repository: not listed (the catalog may be huge or closed)
	}
	repo := args[0]
	n := len(args) - 1 // index of the current word among the command's arguments
	switch {
	case cmd == pushBlobCommand:
		if strings.HasPrefix(cur, "@") {
			return atAliasNames(a, fs, repo, cur)
		}
		return []string{filesDirective}
	case cmd.aliases == atAliases:
		return atAliasNames(a, fs, repo, cur)
	case cmd.aliases == firstIsAlias && n == 0, cmd.aliases == allAliases:
		return comp.WithPrefix(aliasNames(a, fs, repo), cur)
	case cmd.aliases == firstIsAlias:
		return []string{filesDirective}
	}
	return nil
}

func atAliasNames(a *app, fs *pflag.FlagSet, repo, cur string) []string {
	var out []string
	for _, n := range aliasNames(a, fs, repo) {
		out = append(out, "@"+n)
	}
	return comp.WithPrefix(out, cur)
}

// locationAliases completes a location of copy written up to its "@":
// fred/data@w, localhost:5000/fred/data@w or oci:./data@w, with the
// aliases there.
func locationAliases(a *app, fs *pflag.FlagSet, cur string) []string {
	i := strings.LastIndex(cur, "@")
	if i < 0 {
		return nil
	}
	loc, err := blobstore.ParseLocation(cur[:i])
	if err != nil {
		return nil
	}
	repo := loc.Repo
	switch {
	case loc.Layout != "":
		repo = blobstore.LayoutPrefix + loc.Layout
	case loc.Host != "":
		_ = fs.Set("host", loc.Host)
		if loc.Insecure {
			_ = fs.Set("insecure", "true")
		}
	}
	var out []string
	for _, n := range aliasNames(a, fs, repo) {
		out = append(out, cur[:i+1]+n)
	}
	return comp.WithPrefix(out, cur)
}

// aliasNames asks the registry for the aliases of repo, within
// completionTimeout; nothing if that fails. The repository is read as run
// reads it: oci:DIR is a layout, and host:port/name names its registry.
func aliasNames(a *app, fs *pflag.FlagSet, repo string) []string {
	_ = fs.Set("password-stdin", "false")
	if strings.HasPrefix(repo, blobstore.LayoutPrefix) {
		_ = fs.Set("host", blobstore.LayoutPrefix) // the layout itself, as in run
	} else if r, err := hostInRepo(fs, a.env, listAliasesCommand, repo); err == nil {
		repo = r
	} else {
		return nil
	}
	cfg, err := loadConfig(fs, a.env, strings.NewReader(""))
	if err != nil {
		return nil
	}
	cfg.Retries = 0
	ctx, cancel := context.WithTimeout(a.ctx, completionTimeout)
	defer cancel()
	c := &app{ctx: ctx, cmd: listAliasesCommand, cfg: cfg}
	if err := c.connect(repo); err != nil {
		return nil
	}
	var names []string
	for name, err := range c.repo.Aliases(ctx) {
		if err != nil {
			return names
		}
		names = append(names, name)
	}
	return names
}

// completionScripts are the scripts "dxf completion" prints,
// completion/dxf.<shell>. Each calls "dxf __complete" with the words of the
// command line, and takes a line ":files" (filesDirective) as asking for
// file names.
//
//go:embed completion/dxf.*
var completionScripts embed.FS

// completionScript is the script for shell, "" if there is none.
func completionScript(shell string) string {
	b, _ := completionScripts.ReadFile("completion/dxf." + shell)
	return string(b)
}
