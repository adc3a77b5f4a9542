package dockercfg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKey(t *testing.T) {
	for host, want := range map[string]string{
		"docker.io":            "https://index.docker.io/v1/",
		"registry-1.docker.io": "https://index.docker.io/v1/",
		"localhost:5000":       "localhost:5000",
	} {
		if got := Key(host); got != want {
			t.Errorf("Key(%s) = %s, want %s", host, got, want)
		}
	}
}

// TestStoreErase stores credentials in the file, finds them, and erases
// them; a second erase finds none.
func TestStoreErase(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "DOCKER_CONFIG" {
			return dir
		}
		return ""
	}
	cf, err := Load(env)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "config.json")
	if Has(cf, "h:5000") {
		t.Fatal("an empty configuration has credentials")
	}
	place, err := Store(cf, "h:5000", "fred", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(place, file+" (unencrypted") {
		t.Errorf("stored in %q", place)
	}
	if cf, err = Load(env); err != nil {
		t.Fatal(err)
	}
	if !Has(cf, "h:5000") || Place(cf, "h:5000") != file {
		t.Fatalf("the file %s lacks the credentials", file)
	}
	if had, err := Erase(cf, "h:5000"); !had || err != nil {
		t.Fatalf("Erase = %v, %v", had, err)
	}
	if b, _ := os.ReadFile(file); strings.Contains(string(b), "h:5000") {
		t.Errorf("erased credentials remain: %s", b)
	}
	if had, err := Erase(cf, "h:5000"); had || err != nil {
		t.Errorf("second Erase = %v, %v", had, err)
	}
	cf.CredentialHelpers = map[string]string{"h:5000": "pass"}
	if got := Place(cf, "h:5000"); got != "credential helper docker-credential-pass" {
		t.Errorf("Place with a helper = %q", got)
	}
}
