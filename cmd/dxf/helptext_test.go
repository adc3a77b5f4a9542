package main

import (
	"io/fs"
	"strings"
	"testing"
)

// TestHelpTexts checks that every command has a help file and every help
// file is a command's (or the environment topic's).
func TestHelpTexts(t *testing.T) {
	t.Parallel()
	names := map[string]bool{"environment": true}
	for _, c := range allCommands() {
		names[c.name] = true
		if strings.TrimSpace(helpText(c.name)) == "" {
			t.Errorf("help/%s.txt is empty", c.name)
		}
	}
	files, err := fs.Glob(helpFiles, "help/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(strings.TrimPrefix(f, "help/"), ".txt"); !names[name] {
			t.Errorf("%s belongs to no command", f)
		}
	}
	if len(files) != len(names) {
		t.Errorf("%d help files for %d commands and topics", len(files), len(names))
	}
}
