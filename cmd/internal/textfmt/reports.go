package textfmt

// The text (and JSON) dxf prints of the library's results: the files of
// an alias (ls), a check, a deletion or prune, an alias deleted, and the
// digests of a multi-platform alias.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/cmd/internal/termprogress"
	"github.com/dxf-go/dxf/pkg/blobstore"
)

// Plural is "s" unless n is 1.
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// PluralES is "es" unless n is 1.
func PluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

// Files is the listing of ls: a table of path, size and digest, or with
// asJSON one JSON object a line.
func Files(files []blobstore.File, asJSON bool) (string, error) {
	var b strings.Builder
	if asJSON {
		for _, f := range files {
			e := lsEntry{Path: f.Path, Type: kindName(f), Target: f.Target, Blobs: len(f.Parts)}
			if f.Kind == blobstore.KindFile {
				e.Size = &f.Size
				if f.Digest != (blobstore.Blob{}).Digest {
					e.Digest = f.Digest.String()
				}
			}
			if f.Mode != 0 {
				e.Mode = fmt.Sprintf("%04o", f.Mode)
			}
			j, err := json.Marshal(e)
			if err != nil {
				return "", err
			}
			b.Write(j)
			b.WriteByte('\n')
		}
		return b.String(), nil
	}
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, f := range files {
		switch f.Kind {
		case blobstore.KindSymlink:
			fmt.Fprintf(tw, "%s -> %s\t\t\n", f.Path, f.Target)
		case blobstore.KindDir:
			fmt.Fprintf(tw, "%s/\t\t\n", f.Path)
		default:
			d := "-"
			if f.Digest != (blobstore.Blob{}).Digest {
				d = f.Digest.String()
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\n", f.Path, f.Size, d)
		}
	}
	if err := tw.Flush(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// lsEntry is one line of ls --json.
type lsEntry struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Size   *int64 `json:"size,omitempty"`
	Digest string `json:"digest,omitempty"`
	Mode   string `json:"mode,omitempty"`
	Target string `json:"target,omitempty"`
	Blobs  int    `json:"blobs,omitempty"`
}

func kindName(f blobstore.File) string {
	switch f.Kind {
	case blobstore.KindSymlink:
		return "symlink"
	case blobstore.KindDir:
		return "dir"
	}
	if f.Unpack {
		return "archive"
	}
	return "file"
}

// Check is the report of check: a line per problem and a summary, or with
// asJSON one JSON object.
func Check(res *blobstore.CheckResult, asJSON bool) (string, error) {
	if asJSON {
		type problem struct {
			Alias   string `json:"alias"`
			Digest  string `json:"digest"`
			Problem string `json:"problem"`
			Detail  string `json:"detail"`
		}
		out := struct {
			Aliases   int       `json:"aliases"`
			Manifests int       `json:"manifests"`
			Blobs     int       `json:"blobs"`
			Bytes     int64     `json:"bytes"`
			Deep      bool      `json:"deep"`
			OK        bool      `json:"ok"`
			Problems  []problem `json:"problems"`
		}{res.Aliases, res.Manifests, res.Blobs, res.Bytes, res.Deep, res.OK(), []problem{}}
		for _, p := range res.Problems {
			d := ""
			if p.Digest.Hex != "" {
				d = p.Digest.String()
			}
			out.Problems = append(out.Problems, problem{p.Alias, d, string(p.Kind), p.Detail})
		}
		b, err := json.Marshal(out)
		if err != nil {
			return "", err
		}
		return string(b) + "\n", nil
	}
	var b strings.Builder
	for _, p := range res.Problems {
		b.WriteString(Escape(p.String()))
		b.WriteByte('\n')
	}
	how := "shallow"
	if res.Deep {
		how = "deep"
	}
	fmt.Fprintf(&b, "checked %d alias%s, %d manifest%s, %d blob%s (%s, %s): %d problem%s\n",
		res.Aliases, PluralES(res.Aliases), res.Manifests, Plural(res.Manifests), res.Blobs, Plural(res.Blobs),
		termprogress.HumanBytes(float64(res.Bytes)), how, len(res.Problems), Plural(len(res.Problems)))
	return b.String(), nil
}

// DeleteReport says what a delete kept and, for a prune or a dry run, what
// went (would go): on stderr, but for a dry run's list of what would go,
// which is the output (stdout).
func DeleteReport(stdout, stderr io.Writer, res *blobstore.DeleteResult, o blobstore.DeleteOptions) {
	for _, k := range res.Kept {
		fmt.Fprintf(stderr, "dxf: kept %s: used by %s\n", k.Digest, strings.Join(k.UsedBy, ", "))
	}
	switch {
	case o.DryRun:
		for _, d := range res.Aliases {
			fmt.Fprintf(stdout, "alias %s\n", d.Alias)
		}
		for _, b := range res.Deleted {
			fmt.Fprintf(stdout, "%s %d\n", b.Digest, max(b.Size, 0))
		}
		n := len(res.Deleted)
		fmt.Fprintf(stderr, "dxf: would delete %d alias%s and %d blob%s or manifest%s, freeing %d bytes (%s)\n",
			len(res.Aliases), PluralES(len(res.Aliases)), n, Plural(n), Plural(n), res.DeletedBytes, termprogress.HumanBytes(float64(res.DeletedBytes)))
	case o.Prune:
		n := len(res.Deleted)
		fmt.Fprintf(stderr, "dxf: pruned %d blob%s or manifest%s no remaining alias uses, freeing %d bytes (%s)\n",
			n, Plural(n), Plural(n), res.DeletedBytes, termprogress.HumanBytes(float64(res.DeletedBytes)))
	}
}

// DeletedAlias is what the Python tool printed of an alias it deleted:
// the digests of the alias's blobs, one a line, or for a list the JSON of
// its platforms' manifest digests.
func DeletedAlias(m *blobstore.Manifest) string {
	if m.IsList() {
		children := make(map[string]string, len(m.Manifests))
		for _, e := range m.Manifests {
			children[e.Platform] = e.Digest.String() // later entries win, as in Python
		}
		return PyJSON(children) + "\n"
	}
	out := strings.Join(DigestStrings(m.Digests()), "\n")
	if out != "" {
		out += "\n"
	}
	return out
}

// PerPlatform maps each platform of a multi-platform alias to f of its
// manifest.
func PerPlatform[T any](al *blobstore.Alias, f func(*blobstore.Manifest) T) map[string]T {
	out := make(map[string]T, len(al.Platforms))
	for p, m := range al.Platforms {
		out[p] = f(m)
	}
	return out
}

// PlatformDigests is the Python tool's JSON for the blobs of a
// multi-platform alias: platform → layer digests.
func PlatformDigests(al *blobstore.Alias) string {
	return PyJSON(PerPlatform(al, func(m *blobstore.Manifest) []string { return DigestStrings(m.Digests()) }))
}

// DigestStrings are the digests ds as strings.
func DigestStrings(ds []v1.Hash) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}
