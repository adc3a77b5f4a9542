package main

import (
	"fmt"
)

var authCommand = &command{
	name:     "auth",
	synopsis: "<repo> [<action>...]",
	summary:  "log in and print a bearer token",
	maxArgs:  -1,
	run:      runAuth,
}

func runAuth(a *app, actions []string) error {
	token, err := a.reg.Authenticate(a.ctx, a.repo.Name(), actions...)
	if err != nil || token == "" {
		return err
	}
	_, err = fmt.Fprintln(a.stdout, token)
	return err
}
