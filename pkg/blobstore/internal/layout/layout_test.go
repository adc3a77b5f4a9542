package layout

import (
	"path/filepath"
	"testing"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
	"github.com/dxf-go/dxf/pkg/blobstore/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return New(filepath.Join(t.TempDir(), "layout")) })
}
