package main

import (
	"strings"
	"testing"
)

// TestMessages checks that mistakes get one short line naming what the
// user typed, with a suggestion where one can be made.
func TestMessages(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared)
	repo := uniqueRepo("messages")
	f, h := d.file("day1.dat", []byte("day one"))
	d.ok("push-blob", repo, f, "@week")
	hex := strings.TrimPrefix(h, "sha256:")

	for _, c := range []struct {
		code int
		args []string
		want string
	}{
		{exitFailure, []string{"pull-blob", repo, "week"}, `"week" is not a digest: did you mean @week?`},
		{exitFailure, []string{"blob-size", repo, "week"}, "did you mean @week?"},
		{exitFailure, []string{"pull-blob", repo, "month"}, `"month" is not a digest: a digest is sha256:<64 hex digits>`},
		{exitUsage, []string{"get-alias", repo, "@week"}, `get-alias takes alias names without "@": week`},
		{exitUsage, []string{"del-alias", repo, "@week"}, `without "@"`},
		{exitFailure, []string{"pull-blob", repo, hex}, "did you mean " + h + "?"},
		{exitFailure, []string{"pull-blob", repo, "sha256:9f86d0"}, `"sha256:9f86d0" is not a digest: a sha256 digest has 64 hex digits, not 6`},
		{exitFailure, []string{"pull-blob", repo, "md5:abc"}, "only sha256"},
		{exitFailure, []string{"pull-blob", repo, "sha256:" + strings.ToUpper(hex)}, "hex digits are lowercase"},
		{exitFailure, []string{"set-alias", repo, "a", "day1.dat"}, `"day1.dat" is a file, not a digest: write ./day1.dat`},
		{exitFailure, []string{"pull-blob", "-o", "sub/none/out.dat", repo, "@week"}, "output sub/none/out.dat: directory sub/none does not exist"},
	} {
		r := d.fails(c.code, c.args, c.want)
		for _, bad := range []string{"invalid digest: ", ".dxf-", "digest \""} {
			if strings.Contains(r.stderr, bad) {
				t.Errorf("dxf %s: %q shows %q", strings.Join(c.args, " "), r.stderr, bad)
			}
		}
	}
	// set-alias with ./day1.dat, as suggested, works.
	if out := d.ok("set-alias", repo, "a", "./day1.dat"); !strings.Contains(out, hex) {
		t.Errorf("set-alias ./day1.dat printed %q", out)
	}

	// Switch variables: 1/true/yes, 0/false/no; anything else refused.
	for _, v := range []string{"true", "yes", "1", "TRUE"} {
		if got := d.with("DXF_INSECURE", v).ok("get-alias", repo, "week"); got != lines(h) {
			t.Errorf("DXF_INSECURE=%s: get-alias printed %q", v, got)
		}
	}
	for _, v := range []string{"false", "no", "0"} {
		d.with("DXF_INSECURE", v).fails(exitFailure, []string{"get-alias", "--retries", "0", repo, "week"}, "")
	}
	d.with("DXF_INSECURE", "maybe").fails(exitFailure, []string{"get-alias", repo, "week"}, `DXF_INSECURE="maybe": want 1, true or yes (on), 0, false or no (off)`)
	d.with("DXF_BLOB_INFO", "2").fails(exitFailure, []string{"pull-blob", repo, "@week"}, "DXF_BLOB_INFO")

	// With DXF_INSECURE=1 a connection error shows the plain-HTTP URL
	// only; without it, a hint at plain HTTP.
	r := d.with("DXF_HOST", "localhost:1").fails(exitFailure, []string{"get-alias", "--retries", "0", repo, "week"}, `Get "http://localhost:1/v2/"`)
	if strings.Contains(r.stderr, "https://") {
		t.Errorf("DXF_INSECURE=1: two URLs: %s", r.stderr)
	}
	r = d.with("DXF_HOST", "localhost:1", "DXF_INSECURE", "").fails(exitFailure, []string{"get-alias", "--retries", "0", repo, "week"}, `Get "https://localhost:1/v2/"`, "DXF_INSECURE=1, or DXF_HOST=http://")
	if strings.Count(r.stderr, "DXF_INSECURE") != 1 {
		t.Errorf("the plain-HTTP hint is repeated: %s", r.stderr)
	}

	// DXF_HOST as a URL: http:// is plain HTTP, https:// the default.
	plain := d.with("DXF_INSECURE", "", "DXF_HOST", "http://"+shared.Host+"/")
	if got := plain.ok("get-alias", repo, "week"); got != lines(h) {
		t.Errorf("DXF_HOST=http://: get-alias printed %q", got)
	}
	d.with("DXF_HOST", "https://"+shared.Host).fails(exitFailure, []string{"get-alias", repo, "week"}, "choose one")

	// host/repo: accepted with DXF_HOST unset or equal; explained otherwise.
	if got := d.with("DXF_HOST", "").ok("get-alias", shared.Host+"/"+repo, "week"); got != lines(h) {
		t.Errorf("host/repo without DXF_HOST: get-alias printed %q", got)
	}
	if got := d.ok("get-alias", shared.Host+"/"+repo, "week"); got != lines(h) {
		t.Errorf("host/repo with the same DXF_HOST: get-alias printed %q", got)
	}
	d.fails(exitUsage, []string{"get-alias", "localhost:1/" + repo, "week"}, `names the registry localhost:1, but DXF_HOST is `+shared.Host)
	d.with("DXF_HOST", "").fails(exitFailure, []string{"get-alias", repo, "week"}, "or give the repository as host[:port]/repo")
}
