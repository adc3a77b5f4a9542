package main

import (
	"strings"
	"testing"

	"github.com/dxf-go/dxf/pkg/registrytest"
)

// TestHabits: what people type from docker, crane and oras habits gets a
// one-line pointer to the dxf way, never argparse's "invalid choice":
// commands (usage errors, exit 2), flags, and references written
// repo:tag or repo@digest (the command line meant, exit 1 as for any
// repository name dxf cannot use). No registry is needed.
func TestHabits(t *testing.T) {
	t.Parallel()
	d := newDXF(t, shared).with("DXF_HOST", "localhost:1")
	for _, c := range []struct {
		args  []string
		wants []string
	}{
		{[]string{"cp", "a", "b"}, []string{`no "cp" command`, "dxf copy"}},
		{[]string{"tag", "fred/eco", "week", "sha256:x"}, []string{`no "tag" command`, "dxf set-alias <repo> <alias> <digest>"}},
		{[]string{"rm", "fred/eco", "week"}, []string{`no "rm" command`, "dxf del-alias <repo> <alias>", "del-blob"}},
		{[]string{"tags", "fred/eco"}, []string{"dxf list-aliases"}},
		{[]string{"push-blob", "--plain-http", "fred/eco", "x"}, []string{"unknown flag: --plain-http", "--insecure"}},
	} {
		r := d.run(c.args...)
		checkFailure(t, r, exitUsage, c.args, c.wants...)
		if strings.Contains(r.stderr, "invalid choice") {
			t.Errorf("dxf %s: argparse's words: %q", strings.Join(c.args, " "), r.stderr)
		}
	}
	const dg = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pull-blob", "fred/eco:week"}, "`dxf pull-blob fred/eco @week`"},
		{[]string{"pull-blob", "fred/eco@" + dg}, "`dxf pull-blob fred/eco " + dg + "`"},
		{[]string{"get-alias", "fred/eco:week"}, "`dxf get-alias fred/eco week`"},
		{[]string{"get-manifest", "fred/eco@" + dg}, "`dxf get-manifest fred/eco " + dg + "`"},
		{[]string{"push-blob", "fred/eco:week", "day1.dat"}, "`dxf push-blob fred/eco day1.dat @week`"},
		{[]string{"set-alias", "fred/eco:week", dg}, "`dxf set-alias fred/eco week " + dg + "`"},
		{[]string{"list-aliases", "localhost:1/fred/eco:latest"}, "`dxf list-aliases localhost:1/fred/eco`"},
	} {
		d.fails(exitFailure, c.args, "did you mean "+c.want+"?")
	}
	// A host:port is not a tag.
	d.fails(exitFailure, []string{"list-aliases", "eco:5000"}, "invalid name")
}

// TestLoginShortFlags: docker login's -u and -p (and -u with
// --password-stdin) log in.
func TestLoginShortFlags(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartT(t, registrytest.Config{TLS: true, Auth: registrytest.AuthHtpasswd})
	d := newDXF(t, reg).with("DXF_TLSVERIFY", reg.CAFile)
	if out := d.okIn(reg.Password+"\n", "login", "-u", reg.Username, "--password-stdin", reg.Host); !strings.HasPrefix(out, "Login Succeeded") {
		t.Errorf("login -u --password-stdin printed %q", out)
	}
	d.ok("logout", reg.Host)
	if out := d.ok("login", "-u", reg.Username, "-p", reg.Password, reg.Host); !strings.HasPrefix(out, "Login Succeeded") {
		t.Errorf("login -u -p printed %q", out)
	}
	r := d.run("login", "-u", reg.Username, "-p", "wrong", reg.Host)
	checkFailure(t, r, exitUnauthorized, []string{"login", "-u", reg.Username, "-p", "…"}, "unauthorized")
	if strings.Contains(r.stderr, "wrong") {
		t.Errorf("the password leaked: %q", r.stderr)
	}
}
