package main

import (
	"fmt"
)

var mountBlobCommand = &command{
	name:     "mount-blob",
	synopsis: "<repo> <from-repo> <digest> [@alias]",
	summary:  "make a blob of another repository available in this one",
	minArgs:  2,
	maxArgs:  3,
	validate: func(cmd *command, args []string) error {
		if len(args) == 3 {
			return checkAlias(cmd, args[2])
		}
		return nil
	},
	run: runMountBlob,
}

func runMountBlob(a *app, args []string) error {
	d, err := a.digestArg(a.ctx, args[1])
	if err != nil {
		return err
	}
	if err := a.repo.MountBlob(a.ctx, args[0], d); err != nil {
		return err
	}
	if len(args) == 3 {
		if _, err := a.repo.SetAlias(a.ctx, args[2][1:], d); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(a.stdout, d)
	return err
}
