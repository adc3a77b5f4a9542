package main

import "github.com/dxf-go/dxf/cmd/internal/cliconfig"

// commandNames lists every command name.
func commandNames() []string {
	var names []string
	for _, c := range allCommands() {
		names = append(names, c.name)
	}
	return names
}

// flagNames lists every flag name, in the order of the settings.
func flagNames() []string {
	var names []string
	for _, s := range cliconfig.Settings {
		names = append(names, s.Name)
	}
	return names
}
