package matrix

import (
	"os"
	"strings"
	"testing"
)

// TestModuleVersions keeps Modules in step with go.mod.
func TestModuleVersions(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for path, v := range Modules {
		if !strings.Contains(string(b), "\t"+path+" "+v+"\n") && !strings.Contains(string(b), "\t"+path+" "+v+" //") {
			t.Errorf("go.mod does not require %s %s", path, v)
		}
	}
}
