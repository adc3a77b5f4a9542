package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dxf-go/dxf/cmd/internal/errtext"
)

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
