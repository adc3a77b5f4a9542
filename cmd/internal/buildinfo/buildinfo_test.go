package buildinfo

import (
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	if v := Version("v1.2.3"); v != "v1.2.3" {
		t.Errorf("Version(v1.2.3) = %q", v)
	}
	if v := Version("dev"); v == "" {
		t.Error("Version(dev) is empty")
	}
	text := Text("prog", "v1.2.3")
	if !strings.HasPrefix(text, "prog v1.2.3\ngo: go") {
		t.Errorf("Text: %q", text)
	}
}
