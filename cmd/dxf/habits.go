package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dxf-go/dxf/internal/errtext"
)

// habitCommands maps the commands people type from habit (docker, crane,
// oras) to what dxf does instead, as the end of a one-line message. (ls is
// not here: it is a dxf command of its own.)
var habitCommands = map[string]string{
	"cp":       "dxf copy does that (dxf help copy)",
	"tag":      "dxf set-alias <repo> <alias> <digest>... points an alias (a tag) at blobs",
	"rm":       rmHint,
	"rmi":      rmHint,
	"delete":   rmHint,
	"tags":     "dxf list-aliases <repo> lists the aliases (tags) of a repository",
	"catalog":  "dxf list-repos lists the repositories",
	"manifest": "dxf get-manifest <repo> <alias> prints an alias's manifest",
	"inspect":  "dxf get-manifest <repo> <alias> prints an alias's manifest",
	"digest":   "dxf get-digest <repo> <alias> prints an alias's digest; get-alias its blobs' digests",
}

const rmHint = "dxf del-alias <repo> <alias>... removes aliases (tags), del-blob <repo> <digest>|@<alias>... deletes blobs"

// habitHint is the message for a command name dxf does not have but
// someone used to another tool would type, or "" if name is not one.
func habitHint(name string) string {
	if h, ok := habitCommands[name]; ok {
		return fmt.Sprintf("dxf has no %q command: %s", name, h)
	}
	return ""
}

// habitFlags maps flags of other tools to dxf's.
var habitFlags = map[string]string{
	"plain-http": "insecure", // oras, regctl: plain HTTP
	"ca-file":    "tls-verify",
}

// refInRepo explains a repository argument written as another tool's
// reference, repo:tag or repo@digest: dxf takes the repository alone and
// the alias or digest as an argument of its own. The message is the
// command line meant, e.g. "did you mean `dxf pull-blob fred/eco @week`?".
// A host:port prefix stays in the name (hostInRepo deals with it); oci:
// addresses are left alone.
func refInRepo(cmd *command, repo string, args []string) error {
	if cmd.noRepo || strings.HasPrefix(repo, "oci:") {
		return nil
	}
	name, ref, digest := "", "", false
	if i := strings.Index(repo, "@"); i > 0 {
		name, ref = repo[:i], repo[i+1:]
		digest = strings.Contains(ref, ":")
	} else if j := strings.LastIndex(repo, ":"); j > strings.LastIndex(repo, "/") && j > 0 {
		name, ref = repo[:j], repo[j+1:]
		if !strings.Contains(name, "/") && strings.Trim(ref, "0123456789") == "" {
			return nil // host:port, not a tag
		}
	}
	if name == "" || ref == "" {
		return nil
	}
	arg, what := ref, "the digest"
	if !digest {
		what = "the alias (tag)"
		if cmd.aliases == atAliases || cmd == pushBlobCommand || cmd == mountBlobCommand {
			arg = "@" + ref
		}
	}
	var words []string
	switch {
	case cmd == pushBlobCommand && digest:
		return fmt.Errorf("repository %q: push-blob takes the repository alone (%s) and files; a digest names a blob already pushed", repo, name)
	case cmd == pushBlobCommand || cmd == mountBlobCommand:
		words = append(append(words, args...), arg)
	case cmd.aliases == noAliases:
		words = args
	default:
		words = append([]string{arg}, args...)
	}
	line := strings.TrimSpace("dxf " + cmd.name + " " + name + " " + strings.Join(words, " "))
	return &errtext.Reworded{
		Msg: fmt.Sprintf("repository %q: did you mean `%s`? (dxf takes the repository alone, %s apart)", repo, line, what),
		Err: errors.New("not a repository name"),
	}
}
