package remote

import (
	"context"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"

	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
)

// Ping checks that the registry reg, reached through t, speaks the v2 API
// (GET /v2/), authenticating if it asks.
func Ping(ctx context.Context, t *xport.Client, reg name.Registry) error {
	op := "ping " + t.Host()
	c, err := t.Client(ctx, reg, func(err error) error {
		return WrapErr("contacting registry "+t.Host(), SubjectOther, err)
	})
	if err != nil {
		return WrapErr(op, SubjectOther, err)
	}
	resp, err := t.Do(ctx, c, xport.Request{Method: http.MethodGet, URL: t.URL("/v2/")})
	if err != nil {
		return WrapErr(op, SubjectOther, err)
	}
	defer resp.Body.Close()
	return CheckResponse(op, SubjectOther, resp, http.StatusOK)
}
