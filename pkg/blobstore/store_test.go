package blobstore

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
	"github.com/dxf-go/dxf/pkg/blobstore/store/storetest"
)

// TestStoreConformanceRegistry runs the store conformance suite against the
// registry's store, on the real Distribution registry.
func TestStoreConformanceRegistry(t *testing.T) {
	reg := plain(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		r, err := New(reg.Host, fmt.Sprintf("storetest/r%d", n.Add(1)), WithInsecure(true), WithKeychain(nil))
		if err != nil {
			t.Fatal(err)
		}
		return r.Store()
	})
}

// TestStoreConformanceLayout runs it against the layout store a Repository
// opens for oci:DIR.
func TestStoreConformanceLayout(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		r, err := Open(t.Context(), "oci:"+filepath.Join(t.TempDir(), "layout"))
		if err != nil {
			t.Fatal(err)
		}
		return r.Store()
	})
}
