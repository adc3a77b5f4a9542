package registrytest

import (
	"context"
	"sync"
)

var (
	sharedMu  sync.Mutex
	sharedReg *Registry
)

// Shared returns the plain-HTTP registry shared by the tests of one test
// binary (one package), starting it on first use; tests keep apart by using
// repositories of their own. The package's TestMain calls [StopShared] once
// the tests have run. A registry that cannot start is an error, never a
// reason to skip.
func Shared(ctx context.Context) (*Registry, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedReg != nil {
		return sharedReg, nil
	}
	r, err := Start(ctx, Config{})
	if err != nil {
		return nil, err
	}
	sharedReg = r
	return r, nil
}

// StopShared stops the registry [Shared] started, if any.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedReg != nil {
		sharedReg.Stop()
		sharedReg = nil
	}
}
