package main

import (
	"slices"
	"strings"

	"github.com/dxf-go/dxf/pkg/blobstore"
)

// command is one dxf command: its arguments, its help (help/<name>.txt)
// and what it does.
// Each is defined in the file that implements it.
type command struct {
	name     string
	synopsis string // the arguments after the command name, for usage lines
	summary  string // one line, for the command list
	noRepo   bool   // takes no <repo> argument (list-repos)
	// flags names the flags of this command's own, shown in its help; the
	// flags every command takes are in "dxf help environment".
	flags []string
	// minArgs and maxArgs bound the number of arguments after <repo>;
	// maxArgs < 0 means no limit.
	minArgs, maxArgs int
	// manifestOnStdin: with no arguments, the command reads a manifest
	// from standard input.
	manifestOnStdin bool
	// aliases says which arguments name aliases, checked before any request.
	aliases aliasArgs
	// validate checks the arguments further (alias syntax, …).
	validate func(cmd *command, args []string) error
	run      func(a *app, args []string) error
	// local runs a command that needs no registry (help, version,
	// completion); a.cfg is nil.
	local func(a *app, args []string) error
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

// moreCommands are those the Python tool did not have.
var moreCommands = []*command{
	copyCommand,
	loginCommand,
	logoutCommand,
	lsCommand,
	checkCommand,
	pruneCommand,
	completionCommand,
	helpCommand,
	versionCommand,
}

// allCommands lists every command, the Python tool's first.
func allCommands() []*command {
	return append(slices.Clone(commands), moreCommands...)
}

func lookupCommand(name string) *command {
	if name == completeCommand.name {
		return completeCommand // not listed: the completion scripts call it
	}
	for _, c := range allCommands() {
		if c.name == name {
			return c
		}
	}
	return nil
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
		if err := c.validate(c, args); err != nil {
			return err
		}
	}
	return c.checkAliases(args)
}

// aliasArgs says which of a command's arguments are aliases.
type aliasArgs int

const (
	noAliases    aliasArgs = iota
	atAliases              // the arguments written @alias (blob commands)
	firstIsAlias           // the first argument (set-alias)
	allAliases             // every argument (get-alias, del-alias, …)
)

// checkAliases refuses, as a usage error before any request, an alias that
// is not a valid tag or digest: such a name cannot be stored, and would
// otherwise be refused only after blobs were uploaded (push-blob @../x).
func (c *command) checkAliases(args []string) error {
	for i, arg := range args {
		name := arg
		switch c.aliases {
		case atAliases:
			var ok bool
			if name, ok = aliasArg(arg); !ok {
				continue
			}
		case firstIsAlias:
			if i > 0 {
				return nil
			}
		case allAliases:
		default:
			return nil
		}
		if c.aliases != atAliases && strings.HasPrefix(name, "@") && blobstore.ValidateAlias(name[1:]) == nil {
			// The @ marks aliases among digests, in blob commands only.
			return usagef(c, "invalid alias: %q: %s takes alias names without \"@\": %s", name, c.name, name[1:])
		}
		if err := validAlias(c, name); err != nil {
			return err
		}
	}
	return nil
}

func validAlias(cmd *command, name string) error {
	if blobstore.ValidateAlias(name) != nil {
		return usagef(cmd, "invalid alias: %q (1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'; or a digest)", name)
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
	return validAlias(cmd, arg[1:])
}
