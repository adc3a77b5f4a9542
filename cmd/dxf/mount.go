package main

import (
	"fmt"
)

var mountBlobCommand = &command{
	name:     "mount-blob",
	synopsis: "<repo> <from-repo> <digest> [@alias]",
	summary:  "make a blob of another repository available in this one",
	help: `Mount the blob with the given digest from <from-repo> into <repo> on the same
registry, without transferring it (a cross-repository mount), and print the
digest. The registry must mount it (201 Created); if it does not, for instance
because the blob is not in <from-repo>, dxf fails (exit status 1). With
@alias, the alias is then pointed at the blob.

Examples:
  dxf mount-blob fred/archive fred/datalogger sha256:9f86d081884c7d65...
  dxf mount-blob fred/archive fred/datalogger sha256:9f86d081884c7d65... @may15`,
	minArgs: 2,
	maxArgs: 3,
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
