package complete

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

func TestWords(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.StringP("host", "H", "", "")
	fs.Bool("insecure", false, "")
	fs.String("progress", "", "")
	fs.Lookup("progress").NoOptDefVal = "1"
	for _, tc := range []struct {
		before []string
		pos    []string
		wants  string
	}{
		{[]string{"--host", "h", "push-blob", "repo"}, []string{"push-blob", "repo"}, ""},
		{[]string{"push-blob", "-H"}, []string{"push-blob"}, "host"},
		{[]string{"--insecure", "--progress", "ls", "--host=x"}, []string{"ls"}, ""},
		{[]string{"ls", "--", "--host", "r"}, []string{"ls", "--host", "r"}, ""},
	} {
		pos, wants := Words(fs, tc.before)
		if !slices.Equal(pos, tc.pos) || wants != tc.wants {
			t.Errorf("Words(%q) = %q, %q; want %q, %q", tc.before, pos, wants, tc.pos, tc.wants)
		}
	}
	if got := WithPrefix(FlagNames(fs), "--i"); !slices.Equal(got, []string{"--insecure"}) {
		t.Errorf("WithPrefix(FlagNames, --i) = %q", got)
	}
	if got := WithPrefix([]string{"b", "a", "b", "c"}, ""); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("WithPrefix sorts and dedups: %q", got)
	}
}
