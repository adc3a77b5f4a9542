package main

import (
	"fmt"
)

var authCommand = &command{
	name:     "auth",
	synopsis: "<repo> [<action>...]",
	summary:  "log in and print a bearer token",
	help: `Log in with the configured credentials (DXF_USERNAME and DXF_PASSWORD,
DXF_AUTHORIZATION, or the Docker config file; never DXF_TOKEN) for the given
actions on the repository (pull, push, *), and print the bearer token the
registry's token server issued. Print nothing for a registry that needs no
token (no authentication, or Basic authentication). Pass the token to later
commands with DXF_TOKEN, which then need no password.

Examples:
  dxf auth fred/datalogger pull
  export DXF_TOKEN=$(dxf auth fred/datalogger '*')`,
	maxArgs: -1,
	run:     runAuth,
}

func runAuth(a *app, actions []string) error {
	token, err := a.reg.Authenticate(a.ctx, a.repo.Name(), actions...)
	if err != nil || token == "" {
		return err
	}
	_, err = fmt.Fprintln(a.stdout, token)
	return err
}
