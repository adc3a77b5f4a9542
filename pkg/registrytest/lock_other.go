//go:build !unix

package registrytest

import "context"

// lockFile is a no-op where flock is unavailable: concurrent first-time
// installs then each build the binary, and the last rename wins.
func lockFile(context.Context, string) (func(), error) {
	return func() {}, nil
}
