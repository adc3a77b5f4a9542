package blobstore

import "testing"

func TestParseLocation(t *testing.T) {
	for in, want := range map[string]Location{
		"fred/data@v1":                       {Repo: "fred/data", Alias: "v1"},
		"localhost:5000/fred/data":           {Host: "localhost:5000", Repo: "fred/data"},
		"http://reg.example/fred@a@b":        {Host: "reg.example", Repo: "fred@a", Alias: "b", Insecure: true},
		"https://localhost/x":                {Host: "localhost", Repo: "x"},
		"http://localhost:5000":              {Repo: "localhost:5000", Insecure: true},
		"my.dir/x@":                          {Host: "my.dir", Repo: "x"},
		"oci:some/dir@v2":                    {Layout: "some/dir", Alias: "v2"},
		"oci:" + "localhost:5000/fred@x@sha": {Layout: "localhost:5000/fred@x", Alias: "sha"},
	} {
		got, err := ParseLocation(in)
		if err != nil || got != want {
			t.Errorf("ParseLocation(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "@v1", "oci:", "oci:@v1"} {
		if _, err := ParseLocation(in); err == nil {
			t.Errorf("ParseLocation(%q): no error", in)
		}
	}
}

func TestSplitHost(t *testing.T) {
	for in, want := range map[string][2]string{
		"localhost:5000/fred/data": {"localhost:5000", "fred/data"},
		"localhost/x":              {"localhost", "x"},
		"reg.example/fred":         {"reg.example", "fred"},
		"fred/data":                {"", "fred/data"},
		"reg.example/":             {"", "reg.example/"},
		"reg.example":              {"", "reg.example"},
	} {
		if h, r := SplitHost(in); h != want[0] || r != want[1] {
			t.Errorf("SplitHost(%q) = %q, %q; want %q, %q", in, h, r, want[0], want[1])
		}
	}
}
