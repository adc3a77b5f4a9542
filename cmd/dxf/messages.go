package main

import (
	"github.com/dxf-go/dxf/cmd/internal/cliconfig"
	"github.com/dxf-go/dxf/cmd/internal/errtext"
)

// explain rewords err for the user (see [errtext.Explain]); cfg is nil
// before the configuration is known.
func explain(err error, cfg *cliconfig.Config, env cliconfig.Env, useToken bool) error {
	if cfg == nil {
		return errtext.Explain(err, false, nil)
	}
	return errtext.Explain(err, cfg.Insecure, func() string { return cfg.CredentialSource(env, useToken) })
}
