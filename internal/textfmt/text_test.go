package textfmt

import "testing"

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
