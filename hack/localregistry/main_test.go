package main

import (
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// TestCheckFlags checks that settings which cannot work are refused:
// authentication over plain HTTP.
func TestCheckFlags(t *testing.T) {
	for _, c := range []struct {
		tls  bool
		auth registrytest.AuthMode
		ok   bool
	}{
		{false, registrytest.AuthNone, true},
		{true, registrytest.AuthNone, true},
		{true, registrytest.AuthHtpasswd, true},
		{true, registrytest.AuthToken, true},
		{false, registrytest.AuthHtpasswd, false},
		{false, registrytest.AuthToken, false},
	} {
		err := checkFlags(c.tls, c.auth)
		if (err == nil) != c.ok {
			t.Errorf("checkFlags(tls=%v, %s) = %v", c.tls, c.auth, err)
		}
		if err != nil && !strings.Contains(err.Error(), "needs -tls") {
			t.Errorf("checkFlags(tls=%v, %s): %v", c.tls, c.auth, err)
		}
	}
}
