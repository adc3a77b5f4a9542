// Package complete is the engine of a command's shell completion: it reads
// the words typed before the one being completed against a pflag flag set,
// and filters candidates. The command keeps its command table and decides
// what each position of it takes.
package complete

import (
	"embed"
	"io/fs"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Words splits the words before the current one into positional
// arguments and flags (with their values). wantsValue is the name of the
// flag whose value the current word is, "" if none. Flags given as
// --name=value and the words after "--" are taken as they are.
func Words(fset *pflag.FlagSet, before []string) (pos []string, wantsValue string) {
	for i := 0; i < len(before); i++ {
		w := before[i]
		if w == "--" {
			pos = append(pos, before[i+1:]...)
			break
		}
		if strings.HasPrefix(w, "-") && w != "-" {
			name := strings.TrimLeft(w, "-")
			if strings.Contains(name, "=") {
				continue
			}
			fl := fset.Lookup(name)
			if fl == nil && len(name) == 1 {
				fl = fset.ShorthandLookup(name)
			}
			if fl != nil && fl.NoOptDefVal == "" && fl.Value.Type() != "bool" {
				if i+1 < len(before) {
					i++
				} else {
					wantsValue = fl.Name
				}
			}
			continue
		}
		pos = append(pos, w)
	}
	return pos, wantsValue
}

// FlagNames lists "--name" for every flag of fset, and "-x" for those with
// a short form.
func FlagNames(fset *pflag.FlagSet) []string {
	var names []string
	fset.VisitAll(func(fl *pflag.Flag) {
		names = append(names, "--"+fl.Name)
		if fl.Shorthand != "" {
			names = append(names, "-"+fl.Shorthand)
		}
	})
	return names
}

// WithPrefix returns the candidates that start with prefix, sorted, each
// once.
func WithPrefix(cands []string, prefix string) []string {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// EmbeddedNames lists the names of the files prefix*suffix of files,
// without prefix and suffix.
func EmbeddedNames(files embed.FS, prefix, suffix string) []string {
	paths, _ := fs.Glob(files, prefix+"*"+suffix)
	for i, p := range paths {
		paths[i] = strings.TrimSuffix(strings.TrimPrefix(p, prefix), suffix)
	}
	return paths
}
