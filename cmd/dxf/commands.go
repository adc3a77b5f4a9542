package main

import (
	"slices"
	"strings"
)

// command is one dxf command: its arguments, its help and what it does.
// Each is defined in the file that implements it.
type command struct {
	name     string
	synopsis string // the arguments after the command name, for usage lines
	summary  string // one line, for the command list
	help     string // what it does, in more detail, and examples
	noRepo   bool   // takes no <repo> argument (list-repos)
	// minArgs and maxArgs bound the number of arguments after <repo>;
	// maxArgs < 0 means no limit.
	minArgs, maxArgs int
	// manifestOnStdin: with no arguments, the command reads a manifest
	// from standard input.
	manifestOnStdin bool
	// validate checks the arguments further (alias syntax, …).
	validate func(cmd *command, args []string) error
	run      func(a *app, args []string) error
}

// commands lists the commands in the order the Python tool's help did.
var commands = []*command{
	authCommand,
	pushBlobCommand,
	pullBlobCommand,
	blobSizeCommand,
	mountBlobCommand,
	delBlobCommand,
	setAliasCommand,
	getAliasCommand,
	delAliasCommand,
	getDigestCommand,
	getManifestCommand,
	listAliasesCommand,
	listReposCommand,
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// commandChoices lists the command names as argparse did in its error:
// 'auth', 'push-blob', …
func commandChoices() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = "'" + c.name + "'"
	}
	return strings.Join(names, ", ")
}

// split separates the repository from the command's other arguments.
func (c *command) split(pos []string) (repo string, args []string, err error) {
	if c.noRepo {
		return "", pos, nil
	}
	if len(pos) == 0 {
		return "", nil, usagef(c, "the following arguments are required: repo")
	}
	return pos[0], pos[1:], nil
}

// check validates the arguments after the repository, with the Python
// tool's messages.
func (c *command) check(args []string) error {
	if len(args) < c.minArgs {
		return usagef(c, "too few arguments")
	}
	if c.maxArgs >= 0 && len(args) > c.maxArgs {
		return usagef(c, "too many arguments")
	}
	if c.validate != nil {
		return c.validate(c, args)
	}
	return nil
}

// readsStdin reports whether the command will read standard input for
// itself with these arguments.
func (c *command) readsStdin(args []string) bool {
	return (c.manifestOnStdin && len(args) == 0) || (c == pushBlobCommand && slices.Contains(args, "-"))
}

// checkAlias validates an "@alias" argument.
func checkAlias(cmd *command, arg string) error {
	if !strings.HasPrefix(arg, "@") || len(arg) == 1 {
		return usagef(cmd, "invalid alias: %q (an alias is written @name)", arg)
	}
	return nil
}
