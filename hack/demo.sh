#!/usr/bin/env bash
# make demo: run dxf's main job on an OCI image layout on disk first (no
# registry needed, instant), then start a local Distribution registry and run
# it there — push a file with an alias, read the alias, pull the data back
# and check it byte for byte. Needs only Go; the registry is installed with
# `go install` into the user cache on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
DXF=${DXF:-bin/dxf}
work=$(mktemp -d)
reg_pid=
cleanup() {
	[ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "no registry needed: an OCI image layout on disk (oci:DIR)"
echo "layout day one" >"$work/day1.dat"
echo "layout day two" >"$work/day2.dat"
lay="oci:$work/data/fred"
echo "\$ dxf push-blob oci:./data/fred day1.dat day2.dat @week"
"$DXF" push-blob "$lay" "$work/day1.dat" "$work/day2.dat" @week
echo "\$ dxf list-aliases oci:./data/fred"
"$DXF" list-aliases "$lay"
echo "\$ dxf pull-blob oci:./data/fred @week > week.dat (verified while read)"
"$DXF" pull-blob "$lay" @week >"$work/week.dat"
cat "$work/day1.dat" "$work/day2.dat" | cmp - "$work/week.dat"
echo "identical: $(wc -c <"$work/week.dat") bytes"
echo "\$ DXF_HOST=oci:./data dxf get-alias fred week"
DXF_HOST="oci:$work/data" "$DXF" get-alias fred week
echo "the layout is a standard OCI image layout: $(cat "$work/data/fred/oci-layout"); index.json and blobs/sha256/ as oras and crane read them"

step "starting a local Distribution registry (the first run installs it with go install: a few minutes on a cold machine)"
go build -o "$work/localregistry" ./hack/localregistry
"$work/localregistry" -env "$work/env" >"$work/registry.log" 2>&1 &
reg_pid=$!
# Wait as long as the install takes: localregistry exits if it fails, and
# that ends the wait. One line of progress, rewritten every second.
start=$SECONDS
while [ ! -s "$work/env" ]; do
	if ! kill -0 "$reg_pid" 2>/dev/null; then
		printf '\n'
		echo "the registry did not start:"
		cat "$work/registry.log"
		exit 1
	fi
	what="starting the registry"
	grep -q "registrytest: installing" "$work/registry.log" && what="installing the registry (go install, first run only)"
	grep -q "registrytest: installed" "$work/registry.log" && what="installed; starting the registry"
	printf '\r  %s: %ds ' "$what" $((SECONDS - start))
	sleep 1
done
printf '\r\033[K'
# shellcheck disable=SC1091
. "$work/env"
echo "registry at $DXF_HOST"

step "making a 64 MiB file of readings"
head -c $((64 << 20)) /dev/urandom >"$work/logger.dat"
sha256sum "$work/logger.dat" | sed 's/ .*//;s/^/sha256:/'

step "dxf push-blob fred/datalogger logger.dat @may15-readings"
"$DXF" push-blob fred/datalogger "$work/logger.dat" @may15-readings | tee "$work/digest"

step "dxf list-aliases fred/datalogger"
"$DXF" list-aliases fred/datalogger

step "dxf get-alias fred/datalogger may15-readings"
"$DXF" get-alias fred/datalogger may15-readings

step "dxf blob-size fred/datalogger @may15-readings"
"$DXF" blob-size fred/datalogger @may15-readings

step "dxf pull-blob fred/datalogger @may15-readings > pulled.dat (verified while streaming)"
"$DXF" pull-blob fred/datalogger @may15-readings >"$work/pulled.dat"

step "checking the pulled file byte for byte"
cmp "$work/logger.dat" "$work/pulled.dat"
echo "identical: $(wc -c <"$work/pulled.dat") bytes"

step "pushing again: the digest cache and one HEAD request find it already there"
"$DXF" push-blob fred/datalogger "$work/logger.dat"

step "a second file and a two-blob alias, the Python tool's way"
echo "more readings" >"$work/more.dat"
"$DXF" set-alias fred/datalogger may-all "$("$DXF" push-blob fred/datalogger "$work/more.dat")" "$(cat "$work/digest")" >/dev/null
"$DXF" get-alias fred/datalogger may-all

printf '\n\033[1mdemo passed:\033[0m pushed, aliased, pulled and verified on an OCI image layout and against a real registry.\n'
