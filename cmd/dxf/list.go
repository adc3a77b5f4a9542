package main

import (
	"bufio"
	"fmt"
	"iter"

	"github.com/dxf-go/dxf/cmd/internal/textfmt"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

var listAliasesCommand = &command{
	name:     "list-aliases",
	synopsis: "<repo>",
	summary:  "list the aliases of a repository",
	run: func(a *app, _ []string) error {
		return writeLines(a, a.repo.Aliases(a.ctx))
	},
}

var listReposCommand = &command{
	name:     "list-repos",
	synopsis: "",
	summary:  "list the repositories of the registry",
	noRepo:   true,
	maxArgs:  -1,
	validate: func(cmd *command, args []string) error {
		if len(args) > 0 {
			// argparse's words: list-repos had no positional argument at all.
			return usagef(cmd, "unrecognized arguments: %s", joinArgs(args))
		}
		return nil
	},
	run: func(a *app, _ []string) error {
		if a.cfg.Layout {
			return writeLines(a, blobstore.LayoutRepositories(a.cfg.LayoutRoot))
		}
		return writeLines(a, a.reg.Repositories(a.ctx))
	},
}

// writeLines prints names as they arrive, page by page, so that a long
// listing starts at once and stays small in memory. A name that is not
// printable ASCII is printed Go-quoted (see listedName).
func writeLines(a *app, names iter.Seq2[string, error]) error {
	w := bufio.NewWriter(a.stdout)
	for name, err := range names {
		if err != nil {
			_ = w.Flush()
			return err
		}
		if _, err := fmt.Fprintln(w, textfmt.ListedName(name)); err != nil {
			return err
		}
	}
	return w.Flush()
}
