package textfmt

import (
	"testing"
	"time"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, é€":    "plain text, é€",
		"a\x1b[2Jb":         `a\x1b[2Jb`,
		"two\nlines":        `two\nlines`,
		"rtl\u202eoverride": `rtl\u202eoverride`,
		"bad\xffbyte":       `bad\xffbyte`,
		"":                  "",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListedName(t *testing.T) {
	for in, want := range map[string]string{
		"latest":     "latest",
		"fred/data":  "fred/data",
		"a\x1bb":     `"a\x1bb"`,
		`quo"te`:     `"quo\"te"`,
		"é":          `"\u00e9"`,
		"two\nlines": `"two\nlines"`,
	} {
		if got := ListedName(in); got != want {
			t.Errorf("ListedName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"ls", "list-repos", "push-blob", "pull-blob", "set-alias"}
	for in, want := range map[string]string{
		"push":       "push-blob",
		"pull-blobs": "pull-blob",
		"lsit-repos": "list-repos",
		"setalias":   "set-alias",
		"x":          "",
		"frobnicate": "",
	} {
		if got := Closest(in, names); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRetryWait(t *testing.T) {
	if got, want := RetryWait(429, 90*time.Second, 60*time.Second), "dxf: the registry asked to wait 1m30s (429 Too Many Requests); waiting 1m0s (--max-retry-wait), then retrying"; got != want {
		t.Errorf("cut wait: %q, want %q", got, want)
	}
	if got, want := RetryWait(503, 2*time.Second, 2*time.Second), "dxf: the registry asked to wait 2s (503 Service Unavailable), retrying"; got != want {
		t.Errorf("wait: %q, want %q", got, want)
	}
}
