package main

import "github.com/dxf-go/dxf/internal/errtext"

// explain rewords err for the user (see [errtext.Explain]); cfg is nil
// before the configuration is known.
func explain(err error, cfg *config, env environment, useToken bool) error {
	if cfg == nil {
		return errtext.Explain(err, false, nil)
	}
	return errtext.Explain(err, cfg.insecure, func() string { return cfg.credentialSource(env, useToken) })
}
