package layout

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
	"github.com/dxf-go/dxf/pkg/blobstore/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return New(filepath.Join(t.TempDir(), "layout")) })
}

// TestConcurrentAliases: many writers in one process setting aliases at once
// keep every one (the same lock guards writers in other processes; the CLI
// tests run two dxf processes).
func TestConcurrentAliases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := New(filepath.Join(t.TempDir(), "layout"))
	b, err := s.Put(ctx, bytes.NewReader([]byte("blob")), store.Blob{Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	m := storetest.Manifest(b)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.PutManifest(ctx, fmt.Sprintf("a%02d", i), m); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, err := range s.Aliases(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 40 {
		t.Fatalf("40 concurrent writers left %d aliases", n)
	}
}
