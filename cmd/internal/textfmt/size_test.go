package textfmt

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "512": 512, "4k": 4 << 10, "4M": 4 << 20, "1GiB": 1 << 30, " 2MB ": 2 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "1T", "99999999999G"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) took it", in)
		}
	}
}

func TestParseRange(t *testing.T) {
	for in, want := range map[string]ByteRange{"0-99": {0, 99}, "1K-": {1024, -1}, "5-5": {5, 5}} {
		if got, err := ParseRange(in); err != nil || *got != want {
			t.Errorf("ParseRange(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"10":  `want START-END (bytes from 0, END included) or START-, not "10"`,
		"9-3": "END 3 is before START 9",
		"a-3": `not a size: "a"`,
	} {
		if _, err := ParseRange(in); err == nil || err.Error() != msg {
			t.Errorf("ParseRange(%q): %v, want %s", in, err, msg)
		}
	}
}
