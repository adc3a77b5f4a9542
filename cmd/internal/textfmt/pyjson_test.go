package textfmt

import "testing"

// TestPyJSON checks the encoder against what Python's
// json.dumps(v, sort_keys=True) prints for the same values.
func TestPyJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		v    any
		want string
	}{
		{map[string][]string{"linux/arm64/v8": {"sha256:b"}, "linux/amd64": {"sha256:a", "sha256:c"}},
			`{"linux/amd64": ["sha256:a", "sha256:c"], "linux/arm64/v8": ["sha256:b"]}`},
		{map[string]int64{"b": 2, "a": 29533950}, `{"a": 29533950, "b": 2}`},
		{map[string]string{}, `{}`},
		{[]string(nil), `[]`},
		{map[string]any{"k": nil, "t": true, "f": false, "l": []any{1, "x", map[string]int{"z": 0}}},
			`{"f": false, "k": null, "l": [1, "x", {"z": 0}], "t": true}`},
		// json.dumps("a\"b\\c\n\t\x01\x7f/é€😀") with ensure_ascii:
		{"a\"b\\c\n\r\t\b\f\x01\x7f/é€😀", `"a\"b\\c\n\r\t\b\f\u0001\u007f/\u00e9\u20ac\ud83d\ude00"`},
		// Keys sort by code point: "B" < "a" < "é".
		{map[string]int{"é": 3, "a": 2, "B": 1}, `{"B": 1, "a": 2, "\u00e9": 3}`},
		{map[string]string{"m": `{"a": 1}`}, `{"m": "{\"a\": 1}"}`},
	}
	for _, c := range cases {
		if got := PyJSON(c.v); got != c.want {
			t.Errorf("PyJSON(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}
